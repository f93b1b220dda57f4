//! Bad input (issue 9): random and mutated events through [`decode`], and accepted ones on
//! through [`run`] on in-memory fakes. Each gets an error or a valid result, never a panic.
//! Seeded and deterministic: `FLEETOPT_FUZZ_SEED`, `FLEETOPT_FUZZ_CASES` and
//! `FLEETOPT_FUZZ_CASE` vary, lengthen or replay a run (see `fleetopt_events::fuzz`).

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use fleetopt_config::Config;
use fleetopt_events::fuzz::{self, Rng};
use fleetopt_model::Shard;
use fleetopt_ports::fakes::{FakeFleet, FakeKeys, FakeMembers, InMemoryStore, Recorder, group};
use fleetopt_ports::{
    GroupInfo, MetricDatum, MetricQuery, MetricResults, MetricsPublisher, MetricsSource, Reach,
    ServiceError, TimeWindow,
};
use serde_json::{Map, Value, json};

use crate::analysis::{AnalyzerError, Deps, GroupStatus, run};
use crate::event::{Decision, Trigger, decode};

/// A manual payload of section 12: every group, one, or several, with or without `dryRun`.
fn manual(rng: &mut Rng) -> Value {
    let mut payload = Map::new();
    match rng.below(3) {
        0 => {}
        1 => {
            payload.insert("autoScalingGroupName".into(), json!(fuzz::group_name(rng)));
        }
        _ => {
            let mut names = fuzz::group_names(rng, 5);
            names.push(fuzz::group_name(rng));
            payload.insert("autoScalingGroupNames".into(), json!(names));
        }
    }
    if rng.chance(50) {
        payload.insert("dryRun".into(), json!(rng.chance(50)));
    }
    fuzz::shard_keys(rng, &mut payload, 30);
    Value::Object(payload)
}

/// The functions' own account and region, then a member's: the shards a payload names.
fn shard(i: usize) -> Shard {
    let (account, region) = fuzz::SHARDS[i];
    Shard::new(account, region).unwrap_or_else(|e| panic!("the test's shard: {e}"))
}

/// Any event the analyzer accepts.
fn valid(rng: &mut Rng) -> Value {
    fuzz::shared_event_or(rng, 50, manual)
}

/// What an accepted event must look like once decoded.
fn check(decision: &Decision) {
    let Decision::Run(trigger) = decision else {
        return;
    };
    if let Some(groups) = trigger.groups() {
        assert!(!groups.is_empty(), "{trigger:?}");
    }
    if let Trigger::Manual {
        groups: Some(names),
        ..
    } = trigger
    {
        assert!(
            names.iter().all(|n| !n.trim().is_empty() && n.len() <= 255),
            "{names:?}"
        );
    }
}

#[test]
fn fuzz_decode_gives_an_error_or_a_valid_decision_never_a_panic() {
    fuzz::decode_cases(
        "analyzer fuzz_decode",
        valid,
        decode,
        |e| AnalyzerError::from(e).error_type(),
        check,
    );
}

/// CloudWatch on a test's terms: every query answers three datapoints of one value (picked
/// per invocation, from idle to overloaded), so that groups get scores and recommendations
/// and the whole run (screen, write, supersede, publish, alert) is exercised.
#[derive(Debug, Clone)]
struct Readings {
    level: f64,
    published: Recorder,
}

impl MetricsSource for Readings {
    async fn read(
        &self,
        window: &TimeWindow,
        queries: &[MetricQuery],
    ) -> Result<MetricResults, ServiceError> {
        Ok(queries
            .iter()
            .map(|q| {
                let points = (0..3)
                    .map(|i| (window.start + Duration::minutes(5 * i), self.level))
                    .collect();
                (q.id.clone(), points)
            })
            .collect::<HashMap<_, _>>())
    }
}

impl MetricsPublisher for Readings {
    async fn publish(&self, namespace: &str, data: &[MetricDatum]) -> Result<(), ServiceError> {
        self.published.publish(namespace, data).await
    }
}

fn config(rng: &mut Rng) -> Config {
    let settings = fuzz::settings(
        rng,
        "web,api,batch",
        &["FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN"],
    );
    Config::from_lookup(&settings).unwrap_or_else(|e| panic!("the test's configuration: {e}"))
}

fn deps(
    rng: &mut Rng,
) -> Deps<
    FakeFleet,
    Readings,
    Recorder,
    InMemoryStore,
    FakeKeys,
    FakeMembers<Reach<FakeFleet, Readings>>,
> {
    let desired = rng.between(1, 10) as u32;
    let fleet = FakeFleet::new([
        group("web"),
        GroupInfo {
            desired,
            in_service: desired,
            healthy: desired,
            max_size: 10,
            min_size: 1,
            ..group("api")
        },
        GroupInfo {
            exclusions: fleetopt_model::Exclusions::of_tag(Some("all")),
            ..group("batch")
        },
    ]);
    let metrics = Readings {
        level: *rng.pick(&[0.0, 5.0, 35.0, 72.0, 88.0, 99.9, 100.0, 250.0]),
        published: Recorder::new(),
    };
    Deps {
        // The member account's groups read as the own ones (same names: their items differ
        // by account and region).
        members: FakeMembers::new(Some(shard(0))).with(shard(1), fleet.clone(), metrics.clone()),
        fleet,
        metrics,
        notifier: Recorder::new(),
        store: InMemoryStore::new(),
        signer: FakeKeys::holding(&["alias/app-production-findings"]),
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 5, 0)
        .single()
        .unwrap_or_default()
}

#[tokio::test]
async fn fuzz_handling_on_fakes_gives_a_response_or_an_error_never_a_panic() {
    const TEST: &str = "analyzer fuzz_handling";
    let (mut scored, mut written) = (0usize, 0usize);
    // A fresh fleet and table every 25 cases; between, runs follow each other an hour apart,
    // so that later ones find earlier recommendations (supersede, persistence, anti-churn).
    let mut fleet_of = u64::MAX;
    let mut deps = deps(&mut Rng::for_case(fuzz::seed(), u64::MAX));
    fuzz::handle_cases(TEST, valid, decode, async |rng, case, decision| {
        if case / 25 != fleet_of {
            fleet_of = case / 25;
            deps = self::deps(rng);
        }
        let Decision::Run(trigger) = decision else {
            return;
        };
        let config = config(rng);
        let now = start() + Duration::hours((case % 25) as i64);
        let published_before = deps.metrics.published.published().len();
        match run(&config, &deps, &trigger, now).await {
            Ok(response) => {
                // A member's groups publish under its account and region; the own ones never.
                let published = deps.metrics.published.published();
                if let Some(batch) = published.get(published_before) {
                    let member = trigger.shard() == Some(&shard(1));
                    assert!(batch.iter().all(|d| {
                        d.dimensions.iter().any(|(k, _)| *k == "AccountId") == member
                    }));
                }
                assert_eq!(response.environment, config.environment.as_str());
                assert!(response.groups.iter().all(|g| match g.status {
                    GroupStatus::Scored => g.performance_score.is_some(),
                    _ => g.performance_score.is_none(),
                }));
                scored += response
                    .groups
                    .iter()
                    .filter(|g| g.status == GroupStatus::Scored)
                    .count();
                written += response.recommendations_written;
                assert!(serde_json::to_string(&response).is_ok());
            }
            Err(e) => panic!("the fakes do not fail, yet the run did: {e}"),
        }
    })
    .await;
    eprintln!("{TEST}: {scored} groups scored, {written} recommendations written");
    if fuzz::only_case().is_none() {
        assert!(
            scored > 0 && written > 0,
            "the runs reached scoring and writing"
        );
    }
}
