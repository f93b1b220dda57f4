//! Bad input (issue 9): random and mutated events through [`decode`], and accepted ones on
//! through [`run`] on in-memory fakes (Cost Explorer answering or not). Each gets an error or
//! a valid result, never a panic. Seeded and deterministic: `FLEETOPT_FUZZ_SEED`,
//! `FLEETOPT_FUZZ_CASES` and `FLEETOPT_FUZZ_CASE` vary, lengthen or replay a run (see
//! `fleetopt_events::fuzz`).

use chrono::{DateTime, Duration, TimeZone, Utc};
use fleetopt_config::Config;
use fleetopt_events::fuzz::{self, Rng};
use fleetopt_model::Shard;
use fleetopt_ports::fakes::{
    FakeCosts, FakeFleet, FakeMembers, FakePrices, InMemoryStore, Recorder, group,
};
use fleetopt_ports::{CostUnavailable, GroupInfo};
use serde_json::{Map, Value, json};

use crate::analysis::{CostError, Deps, ShardReads, run};
use crate::event::{Decision, decode};
use crate::prices::CachedPrices;

/// The manual payload: `{}` or `{"dryRun": ...}`, in one of the shards or not.
fn manual(rng: &mut Rng) -> Value {
    let mut payload = Map::new();
    if rng.chance(60) {
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

/// Any event the cost optimizer accepts.
fn valid(rng: &mut Rng) -> Value {
    fuzz::shared_event_or(rng, 70, manual)
}

/// What an accepted event must look like once decoded.
fn check(decision: &Decision) {
    if let Decision::Run(trigger) = decision
        && let Some(groups) = trigger.groups()
    {
        assert!(!groups.is_empty(), "{trigger:?}");
    }
}

#[test]
fn fuzz_decode_gives_an_error_or_a_valid_decision_never_a_panic() {
    fuzz::decode_cases(
        "cost-optimizer fuzz_decode",
        valid,
        decode,
        |e| CostError::from(e).error_type(),
        check,
    );
}

fn config(rng: &mut Rng) -> Config {
    let settings = fuzz::settings(rng, "web,api", &["FLEETOPT_COST_ALERT_TOPIC_ARN"]);
    Config::from_lookup(&settings).unwrap_or_else(|e| panic!("the test's configuration: {e}"))
}

/// Shards read through the fakes.
type Shards = FakeMembers<ShardReads<FakeFleet, Recorder, FakeCosts, FakePrices>>;
/// The fakes a fuzz run drives.
type FuzzDeps = Deps<FakeFleet, Recorder, FakeCosts, FakePrices, Recorder, InMemoryStore, Shards>;

fn deps(rng: &mut Rng) -> FuzzDeps {
    let costs = if rng.chance(20) {
        FakeCosts::unavailable(CostUnavailable::AccessDenied {
            operation: "ce:GetCostAndUsage",
            message: "Cost Explorer is not enabled".into(),
        })
    } else {
        FakeCosts::new()
    };
    let fleet = FakeFleet::new([
        GroupInfo {
            min_size: 1,
            instance_type: Some("m5.xlarge".into()),
            ..group("web")
        },
        GroupInfo {
            instance_type: rng.chance(50).then(|| "m5.large".into()),
            ..group("api")
        },
    ]);
    // The member's shard reads the same fakes through the member role.
    let theirs = ShardReads {
        fleet: fleet.clone(),
        metrics: Recorder::new(),
        costs: costs.clone(),
        prices: FakePrices,
        region: shard(1).region().to_owned(),
    };
    Deps {
        fleet,
        metrics: Recorder::new(),
        costs,
        prices: CachedPrices::new(FakePrices),
        notifier: Recorder::new(),
        store: InMemoryStore::new(),
        region: "us-east-1".into(),
        members: FakeMembers::new(Some(shard(0))).reaching(shard(1), theirs),
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
    let (mut priced, mut written) = (0usize, 0usize);
    fuzz::handle_cases(TEST, valid, decode, async |rng, _, decision| {
        let Decision::Run(trigger) = decision else {
            return;
        };
        let deps = deps(rng);
        let config = config(rng);
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
    })
    .await;
    eprintln!("{TEST}: {priced} groups priced, {written} recommendations written");
    if fuzz::only_case().is_none() {
        assert!(priced > 0, "the runs reached pricing");
    }
}
