//! Bad input (issue 9): random and mutated events through [`decode`], and accepted ones on
//! through [`run`] on in-memory fakes. Each gets an error or a valid result, never a panic.
//! Seeded and deterministic: `FLEETOPT_FUZZ_SEED`, `FLEETOPT_FUZZ_CASES` and
//! `FLEETOPT_FUZZ_CASE` vary, lengthen or replay a run (see `fleetopt_events::fuzz`).

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use fleetopt_config::Config;
use fleetopt_events::fuzz::{self, CaseGuard, Origin, Rng, Stats};
use fleetopt_ports::fakes::{FakeFleet, FakeKeys, InMemoryStore, Recorder, group};
use fleetopt_ports::{
    GroupInfo, MetricDatum, MetricQuery, MetricResults, MetricsPublisher, MetricsSource,
    ServiceError, TimeWindow,
};
use serde_json::{Map, Value, json};

use crate::analysis::{AnalyzerError, Deps, GroupStatus, run};
use crate::event::{Decision, Trigger, decode};

/// Events through `decode`.
const DECODE_CASES: u64 = 100_000;
/// One accepted event through `run` on fakes per this many decoded.
const HANDLED_SHARE: u64 = 50;

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
    Value::Object(payload)
}

/// Any event the analyzer accepts.
fn valid(rng: &mut Rng) -> Value {
    if rng.chance(50) {
        fuzz::shared_event(rng)
    } else {
        manual(rng)
    }
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
    const TEST: &str = "analyzer fuzz_decode";
    let seed = fuzz::seed();
    let mut stats = Stats::default();
    for case in fuzz::case_numbers(DECODE_CASES) {
        let _guard = CaseGuard {
            test: TEST,
            seed,
            case,
        };
        let started = std::time::Instant::now();
        let mut rng = Rng::for_case(seed, case);
        let (origin, input) = fuzz::input(&mut rng, &mut valid);
        fuzz::replay(TEST, &input);
        let Some(event) = input else {
            stats.record(origin, None, started);
            continue;
        };
        match decode(event) {
            Ok(decision) => {
                check(&decision);
                stats.record(origin, Some(true), started);
            }
            Err(e) => {
                assert_ne!(origin, Origin::Valid, "a valid event was refused: {e}");
                assert!(!e.to_string().is_empty());
                assert_eq!(AnalyzerError::from(e).error_type(), "InvalidEvent");
                stats.record(origin, Some(false), started);
            }
        }
    }
    eprint!("{}", stats.report(TEST));
    if fuzz::only_case().is_none() {
        assert_eq!(stats.cases(), fuzz::cases(DECODE_CASES));
        assert_eq!(
            stats.by_origin.len(),
            6,
            "every kind of input was generated"
        );
        assert!(stats.accepted() > 0 && stats.refused() > 0);
    }
}

/// CloudWatch on a test's terms: every query answers three datapoints of one value (picked
/// per invocation, from idle to overloaded), so that groups get scores and recommendations
/// and the whole run (screen, write, supersede, publish, alert) is exercised.
#[derive(Debug)]
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
    let environment = *rng.pick(&["production", "staging", "development"]);
    let dry_run = if rng.chance(10) { "true" } else { "false" };
    let vars: HashMap<&str, &str> = HashMap::from([
        ("FLEETOPT_ENVIRONMENT", environment),
        ("FLEETOPT_APPLICATION", "app"),
        ("FLEETOPT_TARGET_GROUPS", "web,api,batch"),
        ("FLEETOPT_DRY_RUN", dry_run),
        (
            "FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN",
            "arn:aws:sns:us-east-1:111122223333:alerts",
        ),
    ]);
    match Config::from_lookup(&|name| vars.get(name).map(|v| (*v).to_owned())) {
        Ok(config) => config,
        Err(e) => panic!("the test's configuration: {e}"),
    }
}

fn deps(rng: &mut Rng) -> Deps<FakeFleet, Readings, Recorder, InMemoryStore, FakeKeys> {
    let desired = rng.between(1, 10) as u32;
    Deps {
        fleet: FakeFleet::new([
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
        ]),
        metrics: Readings {
            level: *rng.pick(&[0.0, 5.0, 35.0, 72.0, 88.0, 99.9, 100.0, 250.0]),
            published: Recorder::new(),
        },
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
    let seed = fuzz::seed();
    let target = fuzz::cases(DECODE_CASES) / HANDLED_SHARE;
    let mut stats = Stats::default();
    let (mut handled, mut scored, mut written) = (0u64, 0usize, 0usize);
    let mut deps = deps(&mut Rng::for_case(seed, u64::MAX));
    let mut case = 0;
    while handled < target {
        let _guard = CaseGuard {
            test: TEST,
            seed,
            case,
        };
        let started = std::time::Instant::now();
        let mut rng = Rng::for_case(seed ^ 0x4A4E, case);
        case += 1;
        // A fresh fleet and table now and then; between, runs follow each other an hour
        // apart, so that later ones find earlier recommendations (supersede, persistence,
        // anti-churn).
        if case % 25 == 0 {
            deps = self::deps(&mut rng);
        }
        let (origin, input) = fuzz::input(&mut rng, &mut valid);
        match fuzz::only_case() {
            Some(only) if case - 1 < only => continue,
            Some(only) if case - 1 > only => break,
            _ => {}
        }
        fuzz::replay(TEST, &input);
        let Some(Ok(decision)) = input.map(decode) else {
            stats.record(origin, Some(false), started);
            continue;
        };
        stats.record(origin, Some(true), started);
        let Decision::Run(trigger) = decision else {
            handled += 1;
            continue;
        };
        let config = config(&mut rng);
        let now = start() + Duration::hours((case % 25) as i64);
        match run(&config, &deps, &trigger, now).await {
            Ok(response) => {
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
        handled += 1;
    }
    eprint!("{}", stats.report(TEST));
    eprintln!("{TEST}: {handled} runs, {scored} groups scored, {written} recommendations written");
    assert_eq!(handled, target);
    assert!(
        scored > 0 && written > 0,
        "the runs reached scoring and writing"
    );
}
