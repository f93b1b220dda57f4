//! Bad input (issue 9): random and mutated events through [`decode`], and accepted ones on
//! through [`run`] on in-memory fakes (Cost Explorer answering or not). Each gets an error or
//! a valid result, never a panic. Seeded and deterministic: `FLEETOPT_FUZZ_SEED`,
//! `FLEETOPT_FUZZ_CASES` and `FLEETOPT_FUZZ_CASE` vary, lengthen or replay a run (see
//! `fleetopt_events::fuzz`).

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use fleetopt_config::Config;
use fleetopt_events::fuzz::{self, CaseGuard, Origin, Rng, Stats};
use fleetopt_ports::fakes::{FakeCosts, FakeFleet, FakePrices, InMemoryStore, Recorder, group};
use fleetopt_ports::{CostUnavailable, GroupInfo};
use serde_json::{Map, Value, json};

use crate::analysis::{CostError, Deps, run};
use crate::event::{Decision, decode};
use crate::prices::CachedPrices;

/// Events through `decode`.
const DECODE_CASES: u64 = 100_000;
/// One accepted event through `run` on fakes per this many decoded.
const HANDLED_SHARE: u64 = 50;

/// The manual payload: `{}` or `{"dryRun": ...}`.
fn manual(rng: &mut Rng) -> Value {
    let mut payload = Map::new();
    if rng.chance(60) {
        payload.insert("dryRun".into(), json!(rng.chance(50)));
    }
    Value::Object(payload)
}

/// Any event the cost optimizer accepts.
fn valid(rng: &mut Rng) -> Value {
    if rng.chance(70) {
        fuzz::shared_event(rng)
    } else {
        manual(rng)
    }
}

/// Prints a replayed case's input.
#[test]
fn fuzz_decode_gives_an_error_or_a_valid_decision_never_a_panic() {
    const TEST: &str = "cost-optimizer fuzz_decode";
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
                if let Decision::Run(trigger) = &decision
                    && let Some(groups) = trigger.groups()
                {
                    assert!(!groups.is_empty(), "{trigger:?}");
                }
                stats.record(origin, Some(true), started);
            }
            Err(e) => {
                assert_ne!(origin, Origin::Valid, "a valid event was refused: {e}");
                assert!(!e.to_string().is_empty());
                assert_eq!(CostError::from(e).error_type(), "InvalidEvent");
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

fn config(rng: &mut Rng) -> Config {
    let environment = *rng.pick(&["production", "staging", "development"]);
    let dry_run = if rng.chance(10) { "true" } else { "false" };
    let vars: HashMap<&str, &str> = HashMap::from([
        ("FLEETOPT_ENVIRONMENT", environment),
        ("FLEETOPT_APPLICATION", "app"),
        ("FLEETOPT_TARGET_GROUPS", "web,api"),
        ("FLEETOPT_DRY_RUN", dry_run),
        (
            "FLEETOPT_COST_ALERT_TOPIC_ARN",
            "arn:aws:sns:us-east-1:111122223333:cost",
        ),
    ]);
    match Config::from_lookup(&|name| vars.get(name).map(|v| (*v).to_owned())) {
        Ok(config) => config,
        Err(e) => panic!("the test's configuration: {e}"),
    }
}

fn deps(
    rng: &mut Rng,
) -> Deps<FakeFleet, Recorder, FakeCosts, FakePrices, Recorder, InMemoryStore> {
    let costs = if rng.chance(20) {
        FakeCosts::unavailable(CostUnavailable::AccessDenied {
            operation: "ce:GetCostAndUsage",
            message: "Cost Explorer is not enabled".into(),
        })
    } else {
        FakeCosts::new()
    };
    Deps {
        fleet: FakeFleet::new([
            GroupInfo {
                min_size: 1,
                instance_type: Some("m5.xlarge".into()),
                ..group("web")
            },
            GroupInfo {
                instance_type: rng.chance(50).then(|| "m5.large".into()),
                ..group("api")
            },
        ]),
        metrics: Recorder::new(),
        costs,
        prices: CachedPrices::new(FakePrices),
        notifier: Recorder::new(),
        store: InMemoryStore::new(),
        region: "us-east-1".into(),
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 6, 0, 0)
        .single()
        .unwrap_or_default()
}

#[tokio::test]
async fn fuzz_handling_on_fakes_gives_a_response_or_an_error_never_a_panic() {
    const TEST: &str = "cost-optimizer fuzz_handling";
    let seed = fuzz::seed();
    let target = fuzz::cases(DECODE_CASES) / HANDLED_SHARE;
    let mut stats = Stats::default();
    let (mut handled, mut priced, mut written) = (0u64, 0usize, 0usize);
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
        let deps = deps(&mut rng);
        let config = config(&mut rng);
        let now = start() + Duration::days(rng.below(60) as i64);
        match run(&config, &deps, &trigger, now).await {
            Ok(response) => {
                assert_eq!(response.environment, config.environment.as_str());
                assert!(response.cost_explorer_calls <= 5, "{response:?}");
                priced += response
                    .groups
                    .iter()
                    .filter(|g| g.hourly_cost_usd.is_some())
                    .count();
                written += response.recommendations_written;
                assert!(serde_json::to_string(&response).is_ok());
            }
            Err(e) => panic!("the fakes do not fail, yet the run did: {e}"),
        }
        handled += 1;
    }
    eprint!("{}", stats.report(TEST));
    eprintln!("{TEST}: {handled} runs, {priced} groups priced, {written} recommendations written");
    if fuzz::only_case().is_none() {
        assert_eq!(handled, target);
        assert!(priced > 0, "the runs reached pricing");
    }
}
