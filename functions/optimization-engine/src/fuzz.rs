//! Bad input (issue 9): random and mutated events through [`decode`] (DynamoDB stream events
//! with INSERT, MODIFY and REMOVE records whose images carry odd recommendations, the
//! schedule, `{"sweep": true}`), and accepted ones on through [`run`] on in-memory fakes, with
//! odd recommendations in the table for the sweep. Each gets an error or a valid result, never
//! a panic, and no group is ever set outside its bounds. Seeded and deterministic:
//! `FLEETOPT_FUZZ_SEED`, `FLEETOPT_FUZZ_CASES` and `FLEETOPT_FUZZ_CASE` vary, lengthen or
//! replay a run (see `fleetopt_events::fuzz`).

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use fleetopt_config::Config;
use fleetopt_events::fuzz::{self, Rng};
use fleetopt_model::{
    Action, Check, Execution, Persistence, Priority, Recommendation, RecommendationType, Snooze,
    Status, rfc3339,
};
use fleetopt_ports::fakes::contract::sample;
use fleetopt_ports::fakes::{FakeFleet, InMemoryStore, Recorder, group};
use fleetopt_ports::{ActivityStatus, GroupInfo, RecommendationStore, ScalingActivity};
use serde_json::{Value, json};

use crate::engine::{Deps, EngineError, Outcome, run};
use crate::event::{ItemChange, Trigger, decode, stream_event};

/// The run's clock: an hour after the samples' analysis window began.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 5, 0)
        .single()
        .unwrap_or_default()
}

/// A time: near `now` mostly, sometimes at the ends of what chrono can hold.
fn time(rng: &mut Rng) -> DateTime<Utc> {
    match rng.below(10) {
        0 => DateTime::<Utc>::MAX_UTC,
        1 => DateTime::<Utc>::MIN_UTC,
        2 => DateTime::UNIX_EPOCH,
        _ => now() + Duration::minutes(rng.between(0, 600) as i64 - 300),
    }
}

/// A time as a recommendation stores it: usually RFC 3339, sometimes not a time at all.
fn time_text(rng: &mut Rng) -> String {
    if rng.chance(25) {
        fuzz::string(rng)
    } else {
        rfc3339(time(rng))
    }
}

/// A capacity: small mostly, sometimes at the ends of `u32`.
fn capacity(rng: &mut Rng) -> u32 {
    *rng.pick(&[
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        9,
        10,
        11,
        1_000,
        u32::MAX - 1,
        u32::MAX,
    ])
}

/// A recommendation that decodes but whose fields go wherever the types allow: any status,
/// type and priority, versions and capacities at the ends of their types, times from the
/// year -262143 to +262142 or not times at all, snoozes, executions and persistence counts
/// of every kind.
fn recommendation(rng: &mut Rng) -> Recommendation {
    let name = match rng.below(8) {
        0 => "account:reserved-instances".to_owned(),
        1 => fuzz::string(rng),
        _ => fuzz::group_name(rng),
    };
    let mut r = sample(&name, rng.between(0, 23) as u32);
    r.status = *rng.pick(&Status::ALL);
    if rng.chance(50) {
        r.status = *rng.pick(&[Status::Pending, Status::Approved, Status::InProgress]);
    }
    r.kind = *rng.pick(&RecommendationType::ALL);
    if rng.chance(50) {
        r.kind = *rng.pick(&[RecommendationType::ScaleUp, RecommendationType::ScaleDown]);
    }
    r.priority = *rng.pick(&Priority::ALL);
    let any = rng.next_u64();
    r.version = *rng.pick(&[1, 2, 3, 0, u64::MAX - 1, u64::MAX, any]);
    r.implementation.automated = rng.chance(70);
    r.implementation.action = match rng.below(5) {
        0 => None,
        _ => Some(Action::SetDesiredCapacity {
            from: capacity(rng),
            to: capacity(rng),
        }),
    };
    if rng.chance(30) {
        r.analysis_window.end = time(rng);
    }
    if rng.chance(20) {
        r.analysis_window.start = time(rng);
    }
    if rng.chance(20) {
        r.timestamp = time_text(rng);
    }
    if rng.chance(20) {
        r.created_at = time_text(rng);
    }
    if rng.chance(20) {
        let any = rng.next_u64() as i64;
        r.ttl = *rng.pick(&[0, -1, i64::MIN, i64::MAX, any]);
    }
    if rng.chance(40) {
        r.execution = Some(Execution {
            previous_capacity: capacity(rng),
            new_capacity: capacity(rng),
            applied_at: time_text(rng),
            activity_id: rng.chance(50).then(|| fuzz::string(rng)),
            target_capacity: rng.chance(30).then(|| capacity(rng)),
            ..Execution::default()
        });
    }
    if rng.chance(20) {
        r.last_check = Some(Check {
            at: time_text(rng),
            by: fuzz::string(rng),
            reason: fuzz::string(rng),
        });
    }
    if rng.chance(20) || r.status == Status::Snoozed {
        r.snooze = Some(Snooze {
            until: time_text(rng),
            previous_status: *rng.pick(&Status::ALL),
        });
    }
    if rng.chance(40) {
        r.persistence = Some(Persistence {
            consecutive_analyses: *rng.pick(&[0, 1, 2, 3, u32::MAX]),
            required: *rng.pick(&[0, 1, 3, u32::MAX]),
        });
    }
    if rng.chance(10) {
        r.description = fuzz::string(rng);
        r.implementation.steps = vec![fuzz::string(rng); rng.below(4)];
    }
    r
}

/// One stream record about an odd recommendation: INSERT, MODIFY or REMOVE.
fn full_record(rng: &mut Rng) -> Value {
    let new = recommendation(rng);
    let mut old = new.clone();
    old.status = *rng.pick(&Status::ALL);
    old.version = new.version.wrapping_sub(1);
    let (event_name, old, new) = match rng.below(4) {
        0 | 1 => ("INSERT", None, Some(&new)),
        2 => ("MODIFY", Some(&old), Some(&new)),
        _ => ("REMOVE", Some(&old), None),
    };
    let change = ItemChange {
        event_name,
        old,
        new,
        sequence_number: "0",
    };
    match stream_event(&[change]) {
        Ok(mut event) => event["Records"][0].take(),
        Err(e) => panic!("every recommendation has an item: {e}"),
    }
}

/// Records with whole recommendations, built once: `serde_dynamo` in a debug build takes
/// half a millisecond per item, too slow to build one per case for 100,000 cases.
fn pool() -> &'static [Value] {
    static POOL: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let seed = fuzz::seed() ^ 0x9001;
        (0..512)
            .map(|i| full_record(&mut Rng::for_case(seed, i)))
            .collect()
    })
}

/// A small record: a TTL removal with keys only, or an image that is not a recommendation.
fn small_record(rng: &mut Rng) -> Value {
    let sample = fixture_stream();
    let mut record = sample["Records"][rng.below(2)].clone();
    if rng.chance(30) {
        record["dynamodb"]["NewImage"]["status"] = json!({"S": rng.pick(&Status::ALL).as_str()});
    }
    record
}

/// A DynamoDB stream event: one record mostly, a few often, a hundred now and then (one in eight
/// with a whole recommendation, the rest small), each with its own sequence number.
fn stream(rng: &mut Rng) -> Value {
    let count = match rng.below(2000) {
        0 => 100,
        1..=80 => 4 + rng.below(5),
        81..=700 => 2 + rng.below(2),
        _ => 1,
    };
    let records: Vec<Value> = (0..count)
        .map(|i| {
            let mut record = if rng.chance(12) {
                rng.pick(pool()).clone()
            } else {
                small_record(rng)
            };
            record["dynamodb"]["SequenceNumber"] = json!(format!(
                "{:021}{i:03}",
                rng.next_u64() % 1_000_000_000_000_000_000
            ));
            record
        })
        .collect();
    json!({ "Records": records })
}

/// The stream sample of `fixtures/` (a TTL removal and a record that is not a
/// recommendation).
fn fixture_stream() -> Value {
    serde_json::from_str(include_str!("../fixtures/dynamodb-stream-ttl-remove.json"))
        .unwrap_or(Value::Null)
}

/// Any event the engine accepts.
fn valid(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0 => fuzz::schedule(rng),
        1 => {
            if rng.chance(50) {
                json!({"sweep": true})
            } else {
                json!({"sweep": true, "dryRun": rng.chance(50)})
            }
        }
        _ => stream(rng),
    }
}

/// What an accepted event must look like once decoded: a record's failure carries its own
/// sequence number.
fn check(trigger: &Trigger) {
    if let Trigger::Stream(records) = trigger {
        for record in records {
            if let Err(problem) = &record.change {
                assert!(!problem.is_empty(), "{record:?}");
            }
        }
    }
}

#[test]
fn fuzz_decode_gives_an_error_or_a_valid_trigger_never_a_panic() {
    const TEST: &str = "optimization-engine fuzz_decode";
    let mut records = 0usize;
    fuzz::decode_cases(
        TEST,
        valid,
        decode,
        |e| EngineError::from(e).error_type(),
        |trigger| {
            check(trigger);
            if let Trigger::Stream(r) = trigger {
                records += r.len();
            }
        },
    );
    eprintln!("{TEST}: {records} stream records decoded");
}

fn config(rng: &mut Rng) -> Config {
    let persistence = *rng.pick(&["1", "2"]);
    let topics = [
        "FLEETOPT_RECOMMENDATION_TOPIC_ARN",
        "FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN",
    ];
    let settings = fuzz::settings(rng, "web,api", &topics);
    let lookup = |name: &str| match name {
        "FLEETOPT_PERSISTENCE_ANALYSES" => Some(persistence.to_owned()),
        _ => settings(name),
    };
    Config::from_lookup(&lookup).unwrap_or_else(|e| panic!("the test's configuration: {e}"))
}

/// Two targeted groups of random (valid) sizes and last activities.
fn fleet(rng: &mut Rng) -> FakeFleet {
    let fleet = FakeFleet::new(["web", "api"].map(|name| {
        let min_size = rng.between(0, 3) as u32;
        let max_size = min_size + rng.between(0, 10) as u32;
        let desired = rng.between(u64::from(min_size), u64::from(max_size)) as u32;
        let in_service = rng.between(0, u64::from(desired)) as u32;
        GroupInfo {
            min_size,
            max_size,
            desired,
            in_service,
            healthy: rng.between(0, u64::from(in_service)) as u32,
            default_cooldown_seconds: *rng.pick(&[0, 300, 3600]),
            ..group(name)
        }
    }));
    for name in ["web", "api"] {
        if rng.chance(50) {
            let start = now() - Duration::minutes(rng.between(0, 120) as i64);
            fleet.set_activity(
                name,
                ScalingActivity {
                    id: format!("activity-{}", rng.below(100)),
                    status: *rng.pick(&[
                        ActivityStatus::InProgress,
                        ActivityStatus::Successful,
                        ActivityStatus::Failed,
                        ActivityStatus::Cancelled,
                    ]),
                    start,
                    end: rng
                        .chance(70)
                        .then(|| start + Duration::minutes(rng.between(0, 30) as i64)),
                    description: fuzz::string(rng),
                },
            );
        }
    }
    fleet
}

#[tokio::test]
async fn fuzz_handling_on_fakes_gives_a_response_or_an_error_never_a_panic() {
    const TEST: &str = "optimization-engine fuzz_handling";
    let (mut decisions, mut applied) = (0usize, 0u32);
    let mut outcomes: HashSet<String> = HashSet::new();
    fuzz::handle_cases(TEST, valid, decode, async |rng, _, trigger| {
        let deps = Deps {
            fleet: fleet(rng),
            notifier: Recorder::new(),
            metrics: Recorder::new(),
            store: InMemoryStore::new(),
            verifier: fleetopt_ports::fakes::FakeKeys::default(),
            members: fleetopt_ports::fakes::FakeMembers::new(None),
        };
        // The table holds what the stream says (mostly), and for the sweep a few odd
        // recommendations of every status.
        let mut stored = Vec::new();
        if let Trigger::Stream(records) = &trigger {
            for record in records {
                if let Ok(crate::event::Change::Act(r)) = &record.change
                    && rng.chance(80)
                {
                    stored.push((**r).clone());
                }
            }
        }
        for _ in 0..rng.below(6) {
            stored.push(recommendation(rng));
        }
        let config = config(rng);
        // Most items carry the proofs the analyzer and an approver give; the rest are forged
        // (written to the table by someone else) and must never move a group.
        let keys = fleetopt_ports::fakes::FakeKeys::holding(&[
            &config.approvals.finding_key,
            &config.approvals.approval_key,
        ]);
        for r in &mut stored {
            if !rng.chance(80) {
                continue;
            }
            if r.implementation.automated {
                let _ = fleetopt_ports::attest(&keys, &config.approvals.finding_key, r).await;
            }
            if r.status == fleetopt_model::Status::Approved
                && let Ok(approval) = fleetopt_ports::sign_approval(
                    &keys,
                    &config.approvals.approval_key,
                    r,
                    "arn:aws:iam::111122223333:user/ops",
                    now() - chrono::Duration::minutes(1),
                    chrono::Duration::hours(6),
                )
                .await
            {
                r.approval = Some(approval);
            }
        }
        for r in &stored {
            if let Err(e) = deps.store.put_new(r).await {
                panic!("the in-memory store refused an item: {e}");
            }
        }
        let sizes_before: Vec<Option<GroupInfo>> =
            ["web", "api"].map(|g| deps.fleet.group(g)).into();
        match run(&config, &deps, &trigger, now()).await {
            Ok(response) => {
                if let Trigger::Stream(records) = &trigger {
                    let sequence_numbers: HashSet<&str> =
                        records.iter().map(|r| r.sequence_number.as_str()).collect();
                    assert!(
                        response
                            .batch_item_failures
                            .iter()
                            .all(|f| sequence_numbers.contains(f.item_identifier.as_str())),
                        "only records of the batch are retried"
                    );
                }
                decisions += response.decisions.len();
                applied += response.actions_applied;
                for d in &response.decisions {
                    outcomes.insert(format!("{:?}", d.outcome));
                    if d.outcome == Outcome::Applied && !response.dry_run {
                        assert!(d.desired_capacity.is_some(), "{d:?}");
                    }
                }
                assert!(serde_json::to_string(&response).is_ok());
            }
            Err(e) => panic!("the fakes do not fail, yet the run did: {e}"),
        }
        for (name, before) in ["web", "api"].iter().zip(sizes_before) {
            let (Some(before), Some(after)) = (before, deps.fleet.group(name)) else {
                continue;
            };
            assert!(
                (after.min_size..=after.max_size).contains(&after.desired)
                    || after.desired == before.desired,
                "{name} set outside its bounds: {after:?}"
            );
        }
    })
    .await;
    let mut outcomes: Vec<String> = outcomes.into_iter().collect();
    outcomes.sort();
    eprintln!(
        "{TEST}: {decisions} decisions, {applied} changes applied; outcomes seen: {outcomes:?}"
    );
    if fuzz::only_case().is_none() {
        assert!(applied > 0, "the runs reached SetDesiredCapacity");
    }
}
