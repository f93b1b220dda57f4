//! The events the cost optimizer accepts (docs/design.md): the daily EventBridge schedule,
//! the low-CPU alarm (EventBridge state change or the alarm's Lambda action) and the manual
//! `{}` / `{"dryRun": true}`, with a shard's `accountId` and `region` when the orchestration
//! runs it for another account or region. Anything else is refused with a message naming what
//! is accepted.

use fleetopt_events::{AwsEvent, decode_aws, describe, is_aws, malformed};
use fleetopt_model::Shard;
use serde::Deserialize;
use serde_json::Value;

pub use fleetopt_events::EventError;

/// What the accepted events are, for error messages.
pub const ACCEPTED: &str = "the cost optimizer accepts an EventBridge \"Scheduled Event\", the \
     low-CPU alarm (an EventBridge \"CloudWatch Alarm State Change\" or the alarm's Lambda \
     action), or a manual payload {} with an optional \"dryRun\": true, or a shard \
     {\"accountId\": \"<12 digits>\", \"region\": \"...\"} with the same optional key";

/// Why the cost optimizer runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The daily schedule: every targeted group.
    Schedule,
    /// The low-CPU alarm: the groups it names (every targeted group when none).
    Alarm {
        /// The alarm's name.
        name: String,
        /// The groups it names.
        groups: Vec<String>,
    },
    /// A person, a script or the orchestration, in the shard's account and region when it
    /// names one.
    Manual {
        /// Compute and return everything, write nothing.
        dry_run: bool,
        /// The account and region to work in (`None`: the function's own).
        shard: Option<Shard>,
    },
}

impl Trigger {
    /// The groups asked for; `None` means every targeted group.
    pub fn groups(&self) -> Option<&[String]> {
        match self {
            Trigger::Alarm { groups, .. } if !groups.is_empty() => Some(groups),
            _ => None,
        }
    }

    /// Whether the event asked for a dry run.
    pub fn dry_run(&self) -> bool {
        matches!(self, Trigger::Manual { dry_run: true, .. })
    }

    /// The account and region asked for; `None` means the function's own.
    pub fn shard(&self) -> Option<&Shard> {
        match self {
            Trigger::Manual { shard, .. } => shard.as_ref(),
            _ => None,
        }
    }
}

/// What to do with an accepted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Analyze costs.
    Run(Trigger),
    /// An accepted event that asks for nothing (an alarm going back to OK).
    Skip {
        /// Why.
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ManualPayload {
    #[serde(default)]
    dry_run: bool,
    account_id: Option<String>,
    region: Option<String>,
}

const MANUAL_KEYS: [&str; 3] = ["dryRun", "accountId", "region"];

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
            const KIND: &str = "manual payload";
            let payload: ManualPayload =
                serde_json::from_value(event).map_err(|e| malformed(KIND, e))?;
            let shard = Shard::from_parts(payload.account_id.as_deref(), payload.region.as_deref())
                .map_err(|e| malformed(KIND, e))?;
            Ok(Decision::Run(Trigger::Manual {
                dry_run: payload.dry_run,
                shard,
            }))
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
        let path = format!(
            "{}/../../shared/events/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn the_schedule_the_alarm_and_the_manual_payload_run() {
        assert_eq!(
            decode(fixture("eventbridge-schedule.json")),
            Ok(Decision::Run(Trigger::Schedule))
        );
        let Ok(Decision::Run(alarm)) = decode(fixture("eventbridge-alarm-state-change.json"))
        else {
            panic!("the alarm runs")
        };
        assert_eq!(alarm.groups(), Some(&["web".to_owned()][..]));
        assert!(matches!(
            decode(fixture("eventbridge-alarm-state-change-ok.json")),
            Ok(Decision::Skip { .. })
        ));
        assert_eq!(
            decode(serde_json::json!({})),
            Ok(Decision::Run(Trigger::Manual {
                dry_run: false,
                shard: None
            }))
        );
        let Ok(Decision::Run(dry)) = decode(serde_json::json!({"dryRun": true})) else {
            panic!("a dry run")
        };
        assert!(dry.dry_run() && dry.groups().is_none() && dry.shard().is_none());
        let Ok(Decision::Run(shard)) =
            decode(serde_json::json!({"accountId": "210987654321", "region": "eu-west-1"}))
        else {
            panic!("a shard runs")
        };
        assert_eq!(
            shard.shard(),
            Some(&Shard::new("210987654321", "eu-west-1").unwrap())
        );
        assert!(!shard.dry_run());
    }

    #[test]
    fn a_malformed_shard_is_refused_naming_what_is_wrong() {
        for (payload, says) in [
            (
                serde_json::json!({"accountId": "21098765432", "region": "eu-west-1"}),
                "12 digits",
            ),
            (
                serde_json::json!({"accountId": "210987654321", "region": "Europe"}),
                "region",
            ),
            (serde_json::json!({"accountId": "210987654321"}), "region"),
        ] {
            let err = decode(payload.clone()).unwrap_err().to_string();
            assert!(
                err.contains("manual payload") && err.contains(says),
                "{payload}: {err}"
            );
        }
    }

    #[test]
    fn anything_else_is_refused_naming_what_is_accepted() {
        let err = decode(fixture("s3-put.json")).unwrap_err().to_string();
        assert!(err.contains("the cost optimizer accepts"), "{err}");
        assert!(matches!(
            decode(serde_json::json!({"dryRun": "yes"})),
            Err(EventError::Malformed {
                kind: "manual payload",
                ..
            })
        ));
        assert!(matches!(
            decode(serde_json::json!({"autoScalingGroupName": "web"})),
            Err(EventError::Unrecognized { .. })
        ));
    }
}
