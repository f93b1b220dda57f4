//! The AWS events more than one function accepts (docs/design.md), decoded with
//! `aws_lambda_events` types: the EventBridge schedule, EventBridge "CloudWatch Alarm State
//! Change", and a CloudWatch alarm's direct Lambda action. Each function adds its own manual
//! payload and says what it accepts; an event it does not accept is refused with that text.
//! `fixtures/` holds the shapes AWS sends, for every function's tests.

use std::collections::BTreeSet;

use aws_lambda_events::event::cloudwatch_alarms::{
    CloudWatchAlarm, CloudWatchAlarmData, CloudWatchAlarmStateValue,
    CloudWatchMetricAlarmConfiguration,
};
use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use serde_json::Value;

#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;

/// An AWS event a function may accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsEvent {
    /// An EventBridge "Scheduled Event".
    Schedule,
    /// An alarm in the ALARM state, with the groups in its metrics' `AutoScalingGroupName`
    /// dimensions (none: the alarm is not about one group).
    Alarm {
        /// The alarm's name.
        name: String,
        /// The groups it names.
        groups: Vec<String>,
    },
    /// An alarm that changed to a state other than ALARM: nothing to do.
    NotInAlarm {
        /// Why nothing is done.
        reason: String,
    },
}

/// An event a function refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not one of the accepted kinds.
    #[error("unrecognized event ({found}): {accepts}")]
    Unrecognized {
        /// What was received, briefly.
        found: String,
        /// What the function accepts, as a sentence ("the analyzer accepts ...").
        accepts: &'static str,
    },
    /// One of the accepted kinds, but not well formed.
    #[error("malformed {kind}: {message}")]
    Malformed {
        /// Which kind it looked like.
        kind: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// A [`EventError::Malformed`] for `kind`.
pub fn malformed(kind: &'static str, e: impl std::fmt::Display) -> EventError {
    EventError::Malformed {
        kind,
        message: e.to_string(),
    }
}

/// What a payload is, briefly, for a refusal.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Object(map) if map.is_empty() => "an empty object".to_owned(),
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().map(String::as_str).take(5).collect();
            format!("an object with keys {}", keys.join(", "))
        }
        Value::Array(_) => "a JSON array".to_owned(),
        Value::String(_) => "a JSON string".to_owned(),
        Value::Number(_) => "a JSON number".to_owned(),
        Value::Bool(_) => "a JSON boolean".to_owned(),
        Value::Null => "null".to_owned(),
    }
}

/// Whether `event` is an EventBridge event or an alarm's Lambda action, for [`decode_aws`].
pub fn is_aws(event: &Value) -> bool {
    event
        .as_object()
        .is_some_and(|map| map.contains_key("detail-type") || map.contains_key("alarmData"))
}

fn alarm(data: CloudWatchAlarmData<CloudWatchMetricAlarmConfiguration, Value>) -> AwsEvent {
    let state = data.state.map(|s| s.value).unwrap_or_default();
    if state != CloudWatchAlarmStateValue::Alarm {
        return AwsEvent::NotInAlarm {
            reason: format!(
                "alarm {} is {:?}, not ALARM: nothing to do",
                data.alarm_name, state
            ),
        };
    }
    let groups: BTreeSet<String> = data
        .configuration
        .metrics
        .iter()
        .filter_map(|m| m.metric_stat.metric.dimensions.get("AutoScalingGroupName"))
        .cloned()
        .collect();
    AwsEvent::Alarm {
        name: data.alarm_name,
        groups: groups.into_iter().collect(),
    }
}

/// Decodes an event [`is_aws`] recognized; `accepts` words the refusal of any other
/// EventBridge event.
pub fn decode_aws(event: Value, accepts: &'static str) -> Result<AwsEvent, EventError> {
    if event.get("detail-type").is_some() {
        let envelope: CloudWatchEvent<Value> =
            serde_json::from_value(event).map_err(|e| malformed("EventBridge event", e))?;
        return match envelope.detail_type.as_deref() {
            Some("Scheduled Event") => Ok(AwsEvent::Schedule),
            Some("CloudWatch Alarm State Change") => {
                let detail = envelope.detail.unwrap_or(Value::Null);
                let data = serde_json::from_value(detail)
                    .map_err(|e| malformed("CloudWatch Alarm State Change detail", e))?;
                Ok(alarm(data))
            }
            other => Err(EventError::Unrecognized {
                found: format!("an EventBridge event with detail-type {other:?}"),
                accepts,
            }),
        };
    }
    let event: CloudWatchAlarm<CloudWatchMetricAlarmConfiguration, Value> =
        serde_json::from_value(event).map_err(|e| malformed("CloudWatch alarm action", e))?;
    Ok(alarm(event.alarm_data))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ACCEPTS: &str = "the test accepts schedules";

    fn fixture(name: &str) -> Value {
        let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn decode(name: &str) -> Result<AwsEvent, EventError> {
        let event = fixture(name);
        assert!(is_aws(&event), "{name}");
        decode_aws(event, ACCEPTS)
    }

    #[test]
    fn the_schedule_and_alarms_decode_with_their_groups() {
        assert_eq!(decode("eventbridge-schedule.json"), Ok(AwsEvent::Schedule));
        assert_eq!(
            decode("eventbridge-alarm-state-change.json"),
            Ok(AwsEvent::Alarm {
                name: "app-production-high-cpu".into(),
                groups: vec!["web".into()],
            })
        );
        assert_eq!(
            decode("cloudwatch-alarm-lambda-action.json"),
            Ok(AwsEvent::Alarm {
                name: "app-production-performance-degradation".into(),
                groups: vec!["api".into()],
            })
        );
        assert!(matches!(
            decode("eventbridge-alarm-state-change-ok.json"),
            Ok(AwsEvent::NotInAlarm { reason }) if reason.contains("not ALARM")
        ));
    }

    #[test]
    fn other_events_are_not_aws_events_or_are_refused() {
        for name in ["s3-put.json", "sqs-message.json"] {
            assert!(!is_aws(&fixture(name)), "{name}");
        }
        let mut ec2 = fixture("eventbridge-schedule.json");
        ec2["detail-type"] = "EC2 Instance State-change Notification".into();
        let err = decode_aws(ec2, ACCEPTS).unwrap_err().to_string();
        assert_eq!(
            err,
            "unrecognized event (an EventBridge event with detail-type Some(\"EC2 Instance \
             State-change Notification\")): the test accepts schedules"
        );
        let mut broken = fixture("eventbridge-alarm-state-change.json");
        broken["detail"]["configuration"] = "oops".into();
        assert!(matches!(
            decode_aws(broken, ACCEPTS),
            Err(EventError::Malformed {
                kind: "CloudWatch Alarm State Change detail",
                ..
            })
        ));
        assert_eq!(describe(&serde_json::json!([1])), "a JSON array");
    }
}
