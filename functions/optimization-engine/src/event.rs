//! The events the engine accepts (docs/design.md): the recommendations table's DynamoDB
//! stream, the 15-minute EventBridge schedule, and the manual `{"sweep": true}`. Stream records
//! are decoded one by one, so that a record that is not a recommendation fails alone (reported
//! in `batchItemFailures`) and the rest of its batch goes on.

use aws_lambda_events::event::dynamodb::EventRecord;
use fleetopt_events::{AwsEvent, decode_aws, describe, is_aws, malformed};
use fleetopt_model::{Recommendation, Status};
use fleetopt_ports::LOCK_PREFIX;
use serde::Deserialize;
use serde_json::Value;

pub use fleetopt_events::EventError;

/// What the accepted events are, for error messages.
pub const ACCEPTED: &str = "the optimization engine accepts a DynamoDB stream event of the recommendations table, an \
     EventBridge \"Scheduled Event\", or a manual payload {\"sweep\": true} with an optional \
     \"dryRun\": true";

/// Why the engine runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// Stream records, in stream order.
    Stream(Vec<StreamRecord>),
    /// The sweep: every open recommendation.
    Sweep {
        /// Decide and report, change nothing.
        dry_run: bool,
    },
}

impl Trigger {
    /// Whether the event asked for a dry run.
    pub fn dry_run(&self) -> bool {
        matches!(self, Trigger::Sweep { dry_run: true })
    }
}

/// One stream record: its sequence number (the `itemIdentifier` of a batch item failure) and
/// what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// `dynamodb.SequenceNumber`.
    pub sequence_number: String,
    /// What changed, or why the record could not be read.
    pub change: Result<Change, String>,
}

/// What a stream record asks of the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A recommendation the engine acts on: a new PENDING one, one an analysis refreshed, or
    /// one a person just approved. The engine reads the item again before deciding: the
    /// record's image is only a pointer.
    Act(Box<Recommendation>),
    /// A change that needs nothing (the engine's own status changes, a note, a TTL removal,
    /// a group lock).
    Skip(String),
    /// An item that is not a recommendation (another version's, or written by hand): skipped
    /// and counted, never retried.
    Foreign {
        /// Its id, or `<no id>`.
        id: String,
        /// What did not fit.
        problem: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ManualPayload {
    sweep: bool,
    #[serde(default)]
    dry_run: bool,
}

/// A string attribute of a stream image.
fn text<'a>(image: &'a serde_dynamo::Item, name: &str) -> Option<&'a str> {
    match image.get(name) {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s),
        _ => None,
    }
}

/// What a decoded record asks for.
fn change(record: EventRecord) -> Result<Change, String> {
    let key = record
        .change
        .keys
        .get("id")
        .or_else(|| record.change.new_image.get("id"))
        .and_then(|v| match v {
            serde_dynamo::AttributeValue::S(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default();
    if key.starts_with(LOCK_PREFIX) {
        return Ok(Change::Skip(format!(
            "{key}: a group lock, not a recommendation"
        )));
    }
    if record.event_name == "REMOVE" {
        return Ok(Change::Skip("removed (expired by TTL)".to_owned()));
    }
    if !matches!(record.event_name.as_str(), "INSERT" | "MODIFY") {
        return Err(format!(
            "eventName {:?} is not INSERT, MODIFY or REMOVE",
            record.event_name
        ));
    }
    let new = match Recommendation::from_item(record.change.new_image.clone()) {
        Ok(new) => new,
        Err(e) => {
            return Ok(Change::Foreign {
                id: e.id,
                problem: e.message,
            });
        }
    };
    if record.event_name == "INSERT" {
        return Ok(if new.status == Status::Pending {
            Change::Act(Box::new(new))
        } else {
            Change::Skip(format!("inserted as {}, not PENDING", new.status))
        });
    }
    let old = &record.change.old_image;
    let old_status = text(old, "status").and_then(|s| s.parse::<Status>().ok());
    let old_seen = match old.get("seenCount") {
        Some(serde_dynamo::AttributeValue::N(n)) => n.parse::<u32>().ok(),
        _ => None,
    }
    .unwrap_or(1);
    Ok(match old_status {
        // An analysis found a PENDING request again: its persistence may now be enough.
        Some(Status::Pending) if new.status == Status::Pending && new.seen() > old_seen => {
            Change::Act(Box::new(new))
        }
        Some(old) if old == new.status => {
            Change::Skip(format!("{} without a status change", new.status))
        }
        _ if new.status == Status::Approved => Change::Act(Box::new(new)),
        _ => Change::Skip(format!("moved to {}: nothing for the engine", new.status)),
    })
}

/// One record, read on its own: a record that does not decode fails alone.
fn record(value: Value, index: usize) -> Result<StreamRecord, EventError> {
    let sequence_number = value
        .pointer("/dynamodb/SequenceNumber")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            malformed(
                "DynamoDB stream event",
                format!(
                    "record {index} has no dynamodb.SequenceNumber, so its failure could not be \
                     reported alone"
                ),
            )
        })?;
    let change = serde_json::from_value::<EventRecord>(value)
        .map_err(|e| format!("not a DynamoDB stream record: {e}"))
        .and_then(change);
    Ok(StreamRecord {
        sequence_number,
        change,
    })
}

/// Decodes an invocation's payload.
pub fn decode(event: Value) -> Result<Trigger, EventError> {
    let Value::Object(map) = &event else {
        return Err(EventError::Unrecognized {
            found: describe(&event),
            accepts: ACCEPTED,
        });
    };
    if let Some(records) = map.get("Records") {
        const KIND: &str = "DynamoDB stream event";
        let Value::Array(records) = records else {
            return Err(malformed(KIND, "Records is not an array"));
        };
        if let Some(source) = records
            .iter()
            .filter_map(|r| r.get("eventSource").and_then(Value::as_str))
            .find(|s| *s != "aws:dynamodb")
        {
            return Err(EventError::Unrecognized {
                found: format!("records from {source}"),
                accepts: ACCEPTED,
            });
        }
        // Each record is decoded on its own (as `aws_lambda_events`' `EventRecord`), so that
        // one bad record does not take its batch down with it.
        return records
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, r)| record(r, i))
            .collect::<Result<Vec<_>, _>>()
            .map(Trigger::Stream);
    }
    if is_aws(&event) {
        return match decode_aws(event, ACCEPTED)? {
            AwsEvent::Schedule => Ok(Trigger::Sweep { dry_run: false }),
            AwsEvent::Alarm { name, .. } => Err(EventError::Unrecognized {
                found: format!("CloudWatch alarm {name}"),
                accepts: ACCEPTED,
            }),
            AwsEvent::NotInAlarm { reason } => Err(EventError::Unrecognized {
                found: reason,
                accepts: ACCEPTED,
            }),
        };
    }
    if map.contains_key("sweep") {
        const KIND: &str = "manual payload";
        let payload: ManualPayload =
            serde_json::from_value(event).map_err(|e| malformed(KIND, e))?;
        if !payload.sweep {
            return Err(malformed(
                KIND,
                "\"sweep\" must be true: the engine has no other manual action",
            ));
        }
        return Ok(Trigger::Sweep {
            dry_run: payload.dry_run,
        });
    }
    Err(EventError::Unrecognized {
        found: describe(&event),
        accepts: ACCEPTED,
    })
}

/// One item change, as a stream record reports it.
#[derive(Debug, Clone, Copy)]
pub struct ItemChange<'a> {
    /// `INSERT`, `MODIFY` or `REMOVE`.
    pub event_name: &'a str,
    /// The item before (MODIFY, REMOVE).
    pub old: Option<&'a Recommendation>,
    /// The item after (INSERT, MODIFY).
    pub new: Option<&'a Recommendation>,
    /// The record's sequence number.
    pub sequence_number: &'a str,
}

/// The DynamoDB stream event Lambda delivers for these item changes (NEW_AND_OLD_IMAGES):
/// what the tests and local tooling feed the engine where no event source mapping exists.
pub fn stream_event(changes: &[ItemChange<'_>]) -> Result<Value, serde_dynamo::Error> {
    let image = |r: Option<&Recommendation>| -> Result<Value, serde_dynamo::Error> {
        Ok(match r {
            Some(r) => serde_json::to_value(r.to_item()?)
                .map_err(|e| <serde_dynamo::Error as serde::ser::Error>::custom(e.to_string()))?,
            None => Value::Null,
        })
    };
    let mut records = Vec::new();
    for c in changes {
        let key = c.new.or(c.old);
        let mut dynamodb = serde_json::json!({
            "ApproximateCreationDateTime": 1_795_510_800,
            "Keys": key.map(|r| serde_json::json!({
                "id": {"S": r.id},
                "timestamp": {"S": r.timestamp},
            })),
            "SequenceNumber": c.sequence_number,
            "SizeBytes": 1024,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        });
        if c.new.is_some() {
            dynamodb["NewImage"] = image(c.new)?;
        }
        if c.old.is_some() {
            dynamodb["OldImage"] = image(c.old)?;
        }
        records.push(serde_json::json!({
            "eventID": format!("event-{}", c.sequence_number),
            "eventName": c.event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": dynamodb,
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:111122223333:table/app-production-optimization-recommendations/stream/2026-11-01T00:00:00.000",
        }));
    }
    Ok(serde_json::json!({ "Records": records }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleetopt_ports::fakes::contract::{now, sample};

    fn fixture(name: &str) -> Value {
        // AWS's own shapes live with the shared decoding; the stream samples here.
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

    fn one(change: ItemChange<'_>) -> Change {
        match decode(stream_event(&[change]).unwrap()).unwrap() {
            Trigger::Stream(mut records) => records.remove(0).change.unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_new_pending_recommendation_is_acted_on_whole() {
        let r = sample("web", 9);
        let change = one(ItemChange {
            event_name: "INSERT",
            old: None,
            new: Some(&r),
            sequence_number: "1",
        });
        assert_eq!(change, Change::Act(Box::new(r)));
    }

    #[test]
    fn only_a_move_to_approved_is_acted_on_among_modifications() {
        let pending = sample("web", 9);
        let waiting = pending
            .transitioned(Status::AwaitingApproval, now(), "engine", None)
            .unwrap();
        let approved = waiting
            .transitioned(Status::Approved, now(), "alice", None)
            .unwrap();
        let modify = |old, new| ItemChange {
            event_name: "MODIFY",
            old: Some(old),
            new: Some(new),
            sequence_number: "2",
        };
        assert_eq!(
            one(modify(&waiting, &approved)),
            Change::Act(Box::new(approved.clone()))
        );
        assert!(
            matches!(one(modify(&pending, &waiting)), Change::Skip(m) if m.contains("AWAITING_APPROVAL"))
        );
        let mut noted = approved.clone();
        noted.last_check = Some(fleetopt_model::Check {
            at: "2026-11-23T10:00:00Z".into(),
            by: "optimization-engine".into(),
            reason: "cooldown".into(),
        });
        assert!(
            matches!(one(modify(&approved, &noted)), Change::Skip(m) if m.contains("without a status change"))
        );
    }

    #[test]
    fn a_foreign_item_is_skipped_by_id_and_a_ttl_removal_is_skipped() {
        let Trigger::Stream(records) = decode(fixture("dynamodb-stream-ttl-remove.json")).unwrap()
        else {
            panic!("a stream event")
        };
        assert_eq!(records.len(), 2);
        assert!(matches!(&records[0].change, Ok(Change::Skip(m)) if m.contains("TTL")));
        assert_eq!(records[1].sequence_number, "111100000000000000000002");
        assert!(
            matches!(&records[1].change, Ok(Change::Foreign { id, .. }) if id == "rec-ffffffffffffffffffffffff"),
            "{:?}",
            records[1].change
        );
    }

    #[test]
    fn a_refreshed_pending_request_is_acted_on_and_a_lock_is_skipped() {
        let pending = sample("web", 9);
        let refreshed = pending.refreshed(&sample("web", 10), now());
        let modify = |old, new| ItemChange {
            event_name: "MODIFY",
            old: Some(old),
            new: Some(new),
            sequence_number: "3",
        };
        assert_eq!(
            one(modify(&pending, &refreshed)),
            Change::Act(Box::new(refreshed.clone()))
        );
        let mut lock = pending.clone();
        lock.id = fleetopt_ports::lock_id("web");
        assert!(matches!(
            one(ItemChange { event_name: "INSERT", old: None, new: Some(&lock), sequence_number: "4" }),
            Change::Skip(m) if m.contains("group lock")
        ));
    }

    #[test]
    fn the_schedule_and_the_manual_payload_sweep() {
        assert_eq!(
            decode(fixture("eventbridge-schedule.json")),
            Ok(Trigger::Sweep { dry_run: false })
        );
        assert_eq!(
            decode(serde_json::json!({"sweep": true, "dryRun": true})),
            Ok(Trigger::Sweep { dry_run: true })
        );
        assert!(matches!(
            decode(serde_json::json!({"sweep": false})),
            Err(EventError::Malformed { message, .. }) if message.contains("must be true")
        ));
        assert!(matches!(
            decode(serde_json::json!({"sweep": true, "group": "web"})),
            Err(EventError::Malformed { .. })
        ));
    }

    #[test]
    fn anything_else_is_refused_naming_what_is_accepted() {
        for (event, found) in [
            (fixture("sqs-message.json"), "records from aws:sqs"),
            (serde_json::json!({}), "an empty object"),
            (serde_json::json!([1]), "a JSON array"),
            (
                {
                    let mut e = fixture("eventbridge-schedule.json");
                    e["detail-type"] = "EC2 Instance State-change Notification".into();
                    e
                },
                "detail-type Some(\"EC2 Instance State-change Notification\")",
            ),
        ] {
            let err = decode(event).unwrap_err().to_string();
            assert!(err.contains(found), "{err}");
            assert!(
                err.contains("engine accepts a DynamoDB stream event"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_record_without_a_sequence_number_fails_the_invocation() {
        let mut event = fixture("dynamodb-stream-ttl-remove.json");
        event["Records"][0]["dynamodb"]
            .as_object_mut()
            .unwrap()
            .remove("SequenceNumber");
        assert!(matches!(
            decode(event),
            Err(EventError::Malformed { message, .. }) if message.contains("record 0 has no dynamodb.SequenceNumber")
        ));
    }
}
