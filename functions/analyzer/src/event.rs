//! The events the analyzer accepts (docs/design.md), decoded with `aws_lambda_events` types:
//! the EventBridge schedule, EventBridge "CloudWatch Alarm State Change", a CloudWatch alarm's
//! direct Lambda action, and the manual payload of section 12. Anything else is refused with a
//! message naming what is accepted.

use fleetopt_events::{AwsEvent, decode_aws, describe, is_aws, malformed};
use fleetopt_model::Shard;
use serde::Deserialize;
use serde_json::Value;

pub use fleetopt_events::EventError;

/// What the accepted events are, for error messages.
pub const ACCEPTED: &str = "the analyzer accepts an EventBridge \"Scheduled Event\", an \
     EventBridge \"CloudWatch Alarm State Change\", a CloudWatch alarm's Lambda action, or a \
     manual payload {\"autoScalingGroupName\": \"...\"} or {\"autoScalingGroupNames\": [...]} with \
     an optional \"dryRun\": true, or a shard {\"accountId\": \"<12 digits>\", \"region\": \"...\"} \
     with the same optional keys";

/// Why the analyzer runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The EventBridge schedule: every targeted group.
    Schedule,
    /// An alarm in the ALARM state: the groups in its metrics' `AutoScalingGroupName`
    /// dimensions, or every targeted group when it names none.
    Alarm {
        /// The alarm's name.
        name: String,
        /// The groups it names.
        groups: Vec<String>,
    },
    /// A person, a script or the orchestration: these groups (all targeted ones when `None`),
    /// in the shard's account and region when it names one.
    Manual {
        /// The groups asked for.
        groups: Option<Vec<String>>,
        /// Compute and return everything, write nothing.
        dry_run: bool,
        /// The account and region to work in (`None`: the function's own).
        shard: Option<Shard>,
    },
}

impl Trigger {
    /// The groups the trigger asks for; `None` means every targeted group.
    pub fn groups(&self) -> Option<&[String]> {
        match self {
            Trigger::Schedule => None,
            Trigger::Alarm { groups, .. } if groups.is_empty() => None,
            Trigger::Alarm { groups, .. } => Some(groups),
            Trigger::Manual { groups, .. } => groups.as_deref(),
        }
    }

    /// The account and region asked for; `None` means the function's own.
    pub fn shard(&self) -> Option<&Shard> {
        match self {
            Trigger::Manual { shard, .. } => shard.as_ref(),
            _ => None,
        }
    }

    /// Whether the event asked for a dry run.
    pub fn dry_run(&self) -> bool {
        matches!(self, Trigger::Manual { dry_run: true, .. })
    }
}

/// What to do with an accepted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Analyze.
    Run(Trigger),
    /// An accepted event that asks for nothing (an alarm going back to OK).
    Skip {
        /// Why, for the response and the log.
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ManualPayload {
    auto_scaling_group_name: Option<String>,
    auto_scaling_group_names: Option<Vec<String>>,
    #[serde(default)]
    dry_run: bool,
    account_id: Option<String>,
    region: Option<String>,
}

const MANUAL_KEYS: [&str; 5] = [
    "autoScalingGroupName",
    "autoScalingGroupNames",
    "dryRun",
    "accountId",
    "region",
];

fn manual(value: Value) -> Result<Decision, EventError> {
    const KIND: &str = "manual payload";
    let payload: ManualPayload = serde_json::from_value(value).map_err(|e| malformed(KIND, e))?;
    let groups = match (
        payload.auto_scaling_group_name,
        payload.auto_scaling_group_names,
    ) {
        (Some(_), Some(_)) => {
            return Err(malformed(
                KIND,
                "give autoScalingGroupName or autoScalingGroupNames, not both",
            ));
        }
        (Some(name), None) => Some(vec![name]),
        (None, Some(names)) => Some(names),
        (None, None) => None,
    };
    if let Some(names) = &groups {
        if names.is_empty() {
            return Err(malformed(
                KIND,
                "autoScalingGroupNames is empty: leave it out to analyze every targeted group",
            ));
        }
        if let Some(bad) = names.iter().find(|n| n.trim().is_empty() || n.len() > 255) {
            return Err(malformed(
                KIND,
                format!("{bad:?} is not an Auto Scaling group name (1 to 255 characters)"),
            ));
        }
    }
    let shard = Shard::from_parts(payload.account_id.as_deref(), payload.region.as_deref())
        .map_err(|e| malformed(KIND, e))?;
    Ok(Decision::Run(Trigger::Manual {
        groups,
        dry_run: payload.dry_run,
        shard,
    }))
}

/// Decodes an invocation's payload.
pub fn decode(event: Value) -> Result<Decision, EventError> {
    if is_aws(&event) {
        return Ok(match decode_aws(event, ACCEPTED)? {
            AwsEvent::Schedule => Decision::Run(Trigger::Schedule),
            AwsEvent::Alarm { name, groups } => Decision::Run(Trigger::Alarm { name, groups }),
            AwsEvent::NotInAlarm { reason } => Decision::Skip { reason },
        });
    }
    match &event {
        Value::Object(map) if map.keys().all(|k| MANUAL_KEYS.contains(&k.as_str())) => {
            manual(event)
        }
        _ => Err(EventError::Unrecognized {
            found: describe(&event),
            accepts: ACCEPTED,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        // AWS's own shapes live with the shared decoding; the manual payloads here.
        let own = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let shared = format!(
            "{}/../../shared/events/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let path = if std::path::Path::new(&own).exists() {
            own
        } else {
            shared
        };
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn the_eventbridge_schedule_analyzes_every_group() {
        assert_eq!(
            decode(fixture("eventbridge-schedule.json")),
            Ok(Decision::Run(Trigger::Schedule))
        );
    }

    #[test]
    fn an_alarm_state_change_to_alarm_names_its_group() {
        assert_eq!(
            decode(fixture("eventbridge-alarm-state-change.json")),
            Ok(Decision::Run(Trigger::Alarm {
                name: "app-production-high-cpu".into(),
                groups: vec!["web".into()],
            }))
        );
    }

    #[test]
    fn an_alarm_going_back_to_ok_is_skipped() {
        let decision = decode(fixture("eventbridge-alarm-state-change-ok.json")).unwrap();
        assert!(
            matches!(&decision, Decision::Skip { reason } if reason.contains("not ALARM")),
            "{decision:?}"
        );
    }

    #[test]
    fn a_direct_alarm_action_names_its_group() {
        let decision = decode(fixture("cloudwatch-alarm-lambda-action.json")).unwrap();
        assert_eq!(
            decision,
            Decision::Run(Trigger::Alarm {
                name: "app-production-performance-degradation".into(),
                groups: vec!["api".into()],
            })
        );
    }

    #[test]
    fn manual_payloads_name_groups_and_dry_run() {
        let one = decode(fixture("manual-one-group.json")).unwrap();
        assert_eq!(
            one,
            Decision::Run(Trigger::Manual {
                groups: Some(vec!["web".into()]),
                dry_run: true,
                shard: None,
            })
        );
        let Decision::Run(trigger) = decode(fixture("manual-groups.json")).unwrap() else {
            panic!("expected a run");
        };
        assert_eq!(
            trigger.groups(),
            Some(&["web".to_owned(), "api".to_owned()][..])
        );
        assert!(!trigger.dry_run());
        assert_eq!(
            decode(serde_json::json!({})),
            Ok(Decision::Run(Trigger::Manual {
                groups: None,
                dry_run: false,
                shard: None,
            }))
        );
    }

    #[test]
    fn a_shard_payload_names_an_account_and_a_region() {
        let decision = decode(serde_json::json!({
            "accountId": "111122223333",
            "region": "eu-west-1",
            "autoScalingGroupNames": ["web"]
        }))
        .unwrap();
        assert_eq!(
            decision,
            Decision::Run(Trigger::Manual {
                groups: Some(vec!["web".into()]),
                dry_run: false,
                shard: Some(Shard::new("111122223333", "eu-west-1").unwrap()),
            })
        );
        for (event, message) in [
            (
                serde_json::json!({"accountId": "1111", "region": "eu-west-1"}),
                "is not an AWS account id (12 digits",
            ),
            (
                serde_json::json!({"accountId": "111122223333", "region": "Europe"}),
                "is not an AWS region name",
            ),
            (
                serde_json::json!({"accountId": "111122223333"}),
                "accountId is given without region",
            ),
            (
                serde_json::json!({"accountId": 111122223333u64, "region": "eu-west-1"}),
                "invalid type",
            ),
        ] {
            let err = decode(event.clone()).unwrap_err();
            assert!(
                matches!(&err, EventError::Malformed { kind: "manual payload", message: m } if m.contains(message)),
                "{event}: {err}"
            );
        }
    }

    #[test]
    fn other_events_are_refused_naming_what_is_accepted() {
        for (event, found) in [
            (fixture("s3-put.json"), "an object with keys Records"),
            (serde_json::json!([1, 2]), "a JSON array"),
            (serde_json::json!("analyze"), "a JSON string"),
            (
                serde_json::json!({"detail-type": "EC2 Instance State-change Notification", "time": "2026-11-23T09:00:00Z", "resources": []}),
                "detail-type Some(\"EC2 Instance State-change Notification\")",
            ),
        ] {
            let err = decode(event).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(found), "{text}");
            assert!(
                text.contains("Scheduled Event") && text.contains("autoScalingGroupNames"),
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_manual_payloads_say_what_is_wrong() {
        for (event, message) in [
            (
                serde_json::json!({"autoScalingGroupName": 7}),
                "invalid type",
            ),
            (serde_json::json!({"autoScalingGroupNames": []}), "is empty"),
            (
                serde_json::json!({"autoScalingGroupName": "a", "autoScalingGroupNames": ["b"]}),
                "not both",
            ),
            (
                serde_json::json!({"autoScalingGroupName": " "}),
                "not an Auto Scaling group name",
            ),
            (serde_json::json!({"dryRun": "yes"}), "invalid type"),
        ] {
            let err = decode(event.clone()).unwrap_err();
            assert!(
                matches!(&err, EventError::Malformed { kind: "manual payload", message: m } if m.contains(message)),
                "{event}: {err}"
            );
        }
    }

    #[test]
    fn a_broken_alarm_event_is_malformed_not_a_panic() {
        let mut event = fixture("eventbridge-alarm-state-change.json");
        event["detail"]["configuration"] = serde_json::json!("oops");
        assert!(matches!(
            decode(event),
            Err(EventError::Malformed {
                kind: "CloudWatch Alarm State Change detail",
                ..
            })
        ));
    }
}
