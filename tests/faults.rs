//! Fault injection (issue 9): the analyzer and the engine run repeatedly and concurrently over
//! the same fleet while the emulator's proxy throttles, fails, resets and delays their requests
//! at random; then the invariants of docs/design.md are checked:
//!
//! - no duplicate recommendation (one item per source, type, group and window);
//! - no scaling action applied twice (one `Applied` per recommendation across every invocation,
//!   one IN_PROGRESS in its history);
//! - no stream record lost (each is handled or reported back in `batchItemFailures`);
//! - no desired capacity above max or below min, and nothing scaled down without a person;
//! - every group analyzed once the faults stop.
//!
//! The faults apply to this test's own access key only, so other tests running at the same time
//! are not disturbed. The short version runs with every `scripts/test`; `bench/faults` runs a
//! longer one with the rates given on its command line, through these variables:
//! `FLEETOPT_FAULT_ROUNDS` (default 3), `FLEETOPT_FAULT_CONCURRENCY` (invocations of each
//! function at once, default 3), `FLEETOPT_FAULT_GROUPS` (default 6),
//! `FLEETOPT_FAULT_RATES` (default `throttle=0.05,serverError=0.05,reset=0.02`),
//! `FLEETOPT_FAULT_SPIKES` (`rate:ms`, default `0.05:300`) and `FLEETOPT_FAULT_SEED` (default 1).

use std::collections::{BTreeMap, HashMap};

use analyzer::GroupStatus;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use fleetopt_aws::emulator::{SeedGroup, create_group, proxy_admin, put_load};
use fleetopt_aws::{Clients, DynamoRecommendationStore, create_table};
use fleetopt_config::Config;
use fleetopt_model::{Recommendation, RecommendationType, Status, recommendations_table};
use fleetopt_ports::{RecommendationQuery, RecommendationStore};
use optimization_engine::engine::{Outcome, Response as EngineResponse};
use optimization_engine::event::{ItemChange, Trigger as EngineTrigger, decode, stream_event};
use serde_json::{Value, json};

use crate::support::unique_name;

/// What a run is asked to do.
#[derive(Debug, Clone)]
struct Plan {
    rounds: u32,
    concurrency: usize,
    groups: usize,
    rates: BTreeMap<String, f64>,
    spike: (f64, u64),
    seed: u64,
}

impl Plan {
    fn from_env() -> Plan {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let number = |name: &str, default: u64| -> u64 {
            var(name).map_or(default, |v| {
                v.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number"))
            })
        };
        let rates = var("FLEETOPT_FAULT_RATES")
            .unwrap_or_else(|| "throttle=0.05,serverError=0.05,reset=0.02".into())
            .split(',')
            .map(|pair| {
                let (kind, rate) = pair
                    .split_once('=')
                    .unwrap_or_else(|| panic!("FLEETOPT_FAULT_RATES: {pair:?} is not kind=share"));
                let rate: f64 = rate
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("FLEETOPT_FAULT_RATES: {rate:?} is not a share"));
                (kind.trim().to_owned(), rate)
            })
            .collect();
        let spike = var("FLEETOPT_FAULT_SPIKES").unwrap_or_else(|| "0.05:300".into());
        let (rate, ms) = spike
            .split_once(':')
            .unwrap_or_else(|| panic!("FLEETOPT_FAULT_SPIKES={spike:?} is not rate:ms"));
        Plan {
            rounds: number("FLEETOPT_FAULT_ROUNDS", 3) as u32,
            concurrency: number("FLEETOPT_FAULT_CONCURRENCY", 3) as usize,
            groups: number("FLEETOPT_FAULT_GROUPS", 6) as usize,
            rates,
            spike: (
                rate.parse().expect("FLEETOPT_FAULT_SPIKES rate"),
                ms.parse().expect("FLEETOPT_FAULT_SPIKES ms"),
            ),
            seed: number("FLEETOPT_FAULT_SEED", 1),
        }
    }
}

fn admin(method: &str, path: &str, body: &Value) -> Value {
    let (status, answer) = proxy_admin(method, path, &body.to_string());
    assert_eq!(status, 200, "{method} {path}: {answer}");
    serde_json::from_str(&answer).unwrap()
}

/// The group sizes (min, desired, max) at the start: the first half overloaded (SCALE_UP,
/// applied by the engine on its own), the second idle (SCALE_DOWN, which only a person may
/// approve, and nobody does here).
fn sizes() -> (i32, i32, i32) {
    (2, 4, 8)
}

struct Fleet {
    names: Vec<String>,
    table: String,
    functions_config: Config,
    clean: Clients,
    store: DynamoRecommendationStore,
}

impl Fleet {
    async fn new(plan: &Plan) -> Fleet {
        let clean_config = fleetopt_aws::emulator::sdk_config_as("testing").await;
        let clean = Clients::new(&clean_config);
        let table = unique_name("e2e-faults");
        create_table(&clean.dynamodb, recommendations_table(), &table)
            .await
            .unwrap();
        let prefix = unique_name("faults");
        let names: Vec<String> = (0..plan.groups).map(|i| format!("{prefix}-g{i}")).collect();
        let (min, desired, max) = sizes();
        for name in &names {
            create_group(
                &clean,
                &SeedGroup {
                    name: name.clone(),
                    min_size: min,
                    max_size: max,
                    desired,
                    tags: vec![],
                    instance_type: "m5.large".into(),
                    target_group_arns: vec![],
                },
            )
            .await
            .unwrap();
        }
        let (approvals, findings) = crate::support::signing_keys(&clean, &prefix).await;
        let vars: HashMap<String, String> = HashMap::from([
            ("FLEETOPT_ENVIRONMENT".into(), "production".into()),
            ("FLEETOPT_APPLICATION".into(), "faults".into()),
            ("FLEETOPT_TABLE".into(), table.clone()),
            ("FLEETOPT_TARGET_GROUPS".into(), names.join(",")),
            ("FLEETOPT_APPROVAL_KEY".into(), approvals),
            ("FLEETOPT_FINDING_KEY".into(), findings),
        ]);
        let functions_config = Config::from_lookup(&|k| vars.get(k).cloned()).unwrap();
        Fleet {
            names,
            store: DynamoRecommendationStore::from_config(&clean_config, &table),
            table,
            functions_config,
            clean,
        }
    }

    fn overloaded(&self, i: usize) -> bool {
        i < self.names.len() / 2
    }

    /// An hour of CPU samples ending at `end`: overloaded or idle by group.
    async fn metrics(&self, end: DateTime<Utc>) {
        for (i, name) in self.names.iter().enumerate() {
            let load = if self.overloaded(i) {
                (85.0, 95.0)
            } else {
                (15.0, 20.0)
            };
            put_load(
                &self.clean,
                ("AWS/EC2", "CPUUtilization"),
                name,
                load,
                end,
                12,
            )
            .await
            .unwrap();
        }
    }

    /// (min, desired, max) per group, read without faults.
    async fn capacities(&self) -> BTreeMap<String, (i32, i32, i32)> {
        let out = self
            .clean
            .autoscaling
            .describe_auto_scaling_groups()
            .set_auto_scaling_group_names(Some(self.names.clone()))
            .send()
            .await
            .unwrap();
        out.auto_scaling_groups()
            .iter()
            .map(|g| {
                (
                    g.auto_scaling_group_name().unwrap_or_default().to_owned(),
                    (
                        g.min_size().unwrap_or_default(),
                        g.desired_capacity().unwrap_or_default(),
                        g.max_size().unwrap_or_default(),
                    ),
                )
            })
            .collect()
    }

    async fn items(&self) -> Vec<Recommendation> {
        self.store
            .query(&RecommendationQuery::default())
            .await
            .unwrap()
            .into_items()
    }
}

/// What the runs did and what the checks found.
#[derive(Debug, Default)]
struct Tally {
    analyzer_runs: u32,
    analyzer_errors: u32,
    engine_runs: u32,
    engine_errors: u32,
    stream_records: u32,
    records_retried: u32,
    applied: BTreeMap<String, u32>,
    violations: Vec<String>,
}

impl Tally {
    /// Every record of a stream invocation is handled or handed back for a retry.
    fn check_records(&mut self, sequence_numbers: &[String], response: &EngineResponse) {
        for sequence in sequence_numbers {
            let retried = response
                .batch_item_failures
                .iter()
                .any(|f| &f.item_identifier == sequence);
            let handled = response.decisions.iter().any(|d| {
                d.sequence_number.as_deref() == Some(sequence.as_str())
                    && d.outcome != Outcome::Error
            });
            if retried {
                self.records_retried += 1;
            }
            if !retried && !handled {
                self.violations.push(format!(
                    "stream record {sequence} neither handled nor reported back"
                ));
            }
        }
        self.stream_records += sequence_numbers.len() as u32;
    }

    fn count_applied(&mut self, response: &EngineResponse) {
        for d in &response.decisions {
            if d.outcome == Outcome::Applied {
                let id = d.recommendation_id.clone().unwrap_or_default();
                *self.applied.entry(id).or_default() += 1;
            }
        }
    }
}

/// A stream batch of INSERT records for `items`, as DynamoDB Streams would deliver it.
fn inserts(items: &[Recommendation], round: u32) -> (EngineTrigger, Vec<String>) {
    let sequence_numbers: Vec<String> =
        (0..items.len()).map(|i| format!("{round}{i:06}")).collect();
    let changes: Vec<ItemChange<'_>> = items
        .iter()
        .zip(&sequence_numbers)
        .map(|(r, s)| ItemChange {
            event_name: "INSERT",
            old: None,
            new: Some(r),
            sequence_number: s,
        })
        .collect();
    (
        decode(stream_event(&changes).unwrap()).unwrap(),
        sequence_numbers,
    )
}

async fn run_rounds(plan: &Plan, fleet: &Fleet, key: &str, tally: &mut Tally) {
    let faulted = fleetopt_aws::emulator::sdk_config_as(key).await;
    let base = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap()
        - TimeDelta::hours(i64::from(plan.rounds) + 1);
    for round in 0..plan.rounds {
        let at = base + TimeDelta::hours(i64::from(round));
        fleet.metrics(at).await;
        // The analyzer, several times at once over the same window (a schedule and alarms).
        let analyses = (0..plan.concurrency).map(|i| {
            let app = analyzer::lambda::App::new(fleet.functions_config.clone(), &faulted);
            async move {
                analyzer::run(
                    &app.config,
                    &app.deps,
                    &analyzer::event::Trigger::Schedule,
                    at + TimeDelta::seconds(i as i64),
                )
                .await
            }
        });
        for result in futures::future::join_all(analyses).await {
            tally.analyzer_runs += 1;
            if result.is_err() {
                tally.analyzer_errors += 1;
            }
        }
        // The stream delivers the new items, more than once and at the same time as sweeps.
        let fresh: Vec<Recommendation> = fleet
            .items()
            .await
            .into_iter()
            .filter(|r| r.status == Status::Pending)
            .collect();
        let (batch, sequence_numbers) = inserts(&fresh, round);
        let later = at + TimeDelta::minutes(10);
        let engines = (0..plan.concurrency * 2).map(|i| {
            let app =
                optimization_engine::lambda::App::new(fleet.functions_config.clone(), &faulted);
            let trigger = if i % 2 == 0 {
                batch.clone()
            } else {
                EngineTrigger::Sweep { dry_run: false }
            };
            async move {
                let result =
                    optimization_engine::engine::run(&app.config, &app.deps, &trigger, later).await;
                (matches!(trigger, EngineTrigger::Stream(_)), result)
            }
        });
        for (stream, result) in futures::future::join_all(engines).await {
            tally.engine_runs += 1;
            match result {
                Ok(response) => {
                    tally.count_applied(&response);
                    if stream {
                        tally.check_records(&sequence_numbers, &response);
                    }
                }
                Err(_) => {
                    tally.engine_errors += 1;
                    if stream {
                        // A failed invocation: Lambda retries the whole batch; nothing is lost.
                        tally.records_retried += sequence_numbers.len() as u32;
                        tally.stream_records += sequence_numbers.len() as u32;
                    }
                }
            }
        }
        check_capacities(fleet, tally, &format!("after round {round}")).await;
    }
}

async fn check_capacities(fleet: &Fleet, tally: &mut Tally, when: &str) {
    let (_, start_desired, _) = sizes();
    let capacities = fleet.capacities().await;
    for (i, name) in fleet.names.iter().enumerate() {
        let Some(&(min, desired, max)) = capacities.get(name) else {
            tally
                .violations
                .push(format!("{when}: group {name} is gone"));
            continue;
        };
        if desired < min || desired > max {
            tally.violations.push(format!(
                "{when}: {name} desired {desired} outside [{min}, {max}]"
            ));
        }
        if !fleet.overloaded(i) && desired < start_desired {
            tally.violations.push(format!(
                "{when}: idle {name} scaled down to {desired} without approval"
            ));
        }
    }
}

fn check_items(items: &[Recommendation], tally: &mut Tally) {
    let mut per_finding: BTreeMap<(String, String, String, String), Vec<&str>> = BTreeMap::new();
    for r in items {
        per_finding
            .entry((
                r.source.to_string(),
                r.kind.as_str().to_owned(),
                r.auto_scaling_group_name.clone(),
                r.timestamp.clone(),
            ))
            .or_default()
            .push(&r.id);
        let claims = r
            .status_history
            .iter()
            .filter(|c| c.to == Status::InProgress)
            .count();
        if claims > 1 {
            tally
                .violations
                .push(format!("{} went IN_PROGRESS {claims} times", r.id));
        }
        if r.kind == RecommendationType::ScaleDown && r.execution.is_some() {
            tally
                .violations
                .push(format!("{} scaled down without a person", r.id));
        }
    }
    for (finding, ids) in per_finding {
        if ids.len() > 1 {
            tally
                .violations
                .push(format!("duplicate recommendations {ids:?} for {finding:?}"));
        }
    }
    let twice: Vec<String> = tally
        .applied
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, n)| format!("{id} applied {n} times"))
        .collect();
    tally.violations.extend(twice);
}

#[tokio::test]
async fn invariants_hold_while_the_functions_run_concurrently_under_injected_faults() {
    let plan = Plan::from_env();
    let fleet = Fleet::new(&plan).await;
    let key = format!(
        "FAULTS{}",
        unique_name("k").replace(['-', '_'], "").to_uppercase()
    );
    let rule = json!({
        "operation": "*",
        "accessKeyId": key,
        "rates": plan.rates,
        "spikeRate": plan.spike.0,
        "spikeMs": plan.spike.1,
        "seed": plan.seed,
    });
    admin("POST", "/_fleetopt/faults", &rule);
    let mut tally = Tally::default();
    run_rounds(&plan, &fleet, &key, &mut tally).await;
    let state = admin("GET", "/_fleetopt/faults", &json!(null));
    let ours = state["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["accessKeyId"] == json!(key))
        .cloned()
        .unwrap_or_default();
    let (status, _) = proxy_admin(
        "DELETE",
        &format!("/_fleetopt/faults?operation=*&accessKeyId={key}"),
        "",
    );
    assert_eq!(status, 200);

    // The faults stop: one more analysis and sweep, then every group must be analyzed.
    let calm = fleetopt_aws::emulator::sdk_config_as(&key).await;
    let app = analyzer::lambda::App::new(fleet.functions_config.clone(), &calm);
    let last = Utc::now();
    fleet
        .metrics(last.duration_trunc(TimeDelta::minutes(5)).unwrap())
        .await;
    let response = analyzer::run(
        &app.config,
        &app.deps,
        &analyzer::event::Trigger::Schedule,
        last,
    )
    .await
    .expect("without faults the analysis succeeds");
    for name in &fleet.names {
        let analyzed = response
            .groups
            .iter()
            .any(|g| &g.auto_scaling_group_name == name && g.status == GroupStatus::Scored);
        if !analyzed {
            tally
                .violations
                .push(format!("{name} not analyzed once the faults stopped"));
        }
    }
    let engine = optimization_engine::lambda::App::new(fleet.functions_config.clone(), &calm);
    let sweep = optimization_engine::engine::run(
        &engine.config,
        &engine.deps,
        &EngineTrigger::Sweep { dry_run: false },
        last,
    )
    .await
    .expect("without faults the sweep succeeds");
    tally.count_applied(&sweep);
    check_capacities(&fleet, &mut tally, "at the end").await;
    check_items(&fleet.items().await, &mut tally);

    let injected = &ours["injected"];
    println!(
        "faults: table {}, {} groups, {} rounds x {} concurrent; analyzer runs {} ({} failed \
         whole), engine runs {} ({} failed whole); stream records {} ({} handed back for retry); \
         actions applied {}; requests matched {}, faults injected: throttle {}, 5xx {}, error {}, \
         reset {}, latency spikes {}; violations {}",
        fleet.table,
        plan.groups,
        plan.rounds,
        plan.concurrency,
        tally.analyzer_runs,
        tally.analyzer_errors,
        tally.engine_runs,
        tally.engine_errors,
        tally.stream_records,
        tally.records_retried,
        tally.applied.values().sum::<u32>(),
        ours["matched"],
        injected["throttle"],
        injected["serverError"],
        injected["error"],
        injected["reset"],
        ours["spiked"],
        tally.violations.len()
    );
    assert!(
        tally.violations.is_empty(),
        "invariants violated:\n{}",
        tally.violations.join("\n")
    );
    // The run proved something only if faults really fired and the engine really acted.
    let fired: u64 = ["throttle", "serverError", "reset"]
        .iter()
        .map(|k| injected[k].as_u64().unwrap_or(0))
        .sum();
    assert!(fired > 0, "no fault was injected: {ours}");
    assert!(
        tally.applied.values().sum::<u32>() > 0,
        "the engine applied nothing: the overloaded groups should have grown"
    );
}
