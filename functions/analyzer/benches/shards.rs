//! Shard benchmark (issue 20, bench/RESULTS.md): the analyzer over 10,000 Auto Scaling groups
//! in 5 member accounts x 2 regions through the per-shard path, every request delayed 20 ms by
//! the emulator's proxy.
//!
//! Each member account is a fresh moto account reached through STS AssumeRole (what moto
//! creates with the role's credentials lives in the role's account); its groups are created in
//! each region. The central account holds the table. Each shard is then analyzed by its own
//! `analyzer::run` with the payload the Step Functions run sends (`accountId`, `region`), so the
//! function assumes the member role (`AwsMembers`) as it does on AWS, `CONCURRENCY` shards at a
//! time, as the Distributed Map's MaxConcurrency would. Prints each shard's wall time, groups,
//! recommendations and AWS calls, and the totals.
//!
//! Run: scripts/emulator start && eval "$(scripts/emulator env)" &&
//!      cargo bench -p analyzer --bench shards [-- ACCOUNTS [GROUPS_PER_SHARD [LATENCY_MS [CONCURRENCY]]]]
//! (defaults 5 accounts, 1,000 groups per shard, 20 ms, 10 shards at once; regions us-east-1
//! and eu-west-1)

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use analyzer::event::Trigger;
use analyzer::lambda::App;
use aws_sdk_cloudwatch::config::Region;
use chrono::Utc;
use common::Bench;
use fleetopt_aws::Clients;
use fleetopt_aws::emulator::{SeedGroup, create_groups, new_account_id, sdk_config_in};
use fleetopt_model::Shard;
use futures::StreamExt;

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// One shard's run.
struct ShardRun {
    shard: Shard,
    wall: Duration,
    groups: usize,
    written: usize,
    calls: BTreeMap<String, u64>,
}

#[tokio::main]
async fn main() {
    let args = common::args();
    let accounts = args.first().copied().unwrap_or(5);
    let per_shard = args.get(1).copied().unwrap_or(1000);
    let latency_ms = args.get(2).copied().unwrap_or(20);
    let concurrency = args.get(3).copied().unwrap_or(10).max(1);
    // The table in the central account; the member accounts' groups, in each region.
    let bench = Bench::start("shards").await;
    let (run, tag) = (&bench.run, &bench.tag);
    let seeding = Instant::now();
    let mut shards = Vec::new();
    let mut seeds = Vec::new();
    for _ in 0..accounts {
        let account = new_account_id();
        let (member, _) = sdk_config_in(&account).await.unwrap();
        for region in REGIONS {
            let config = member
                .to_builder()
                .region(Region::new(region.to_owned()))
                .build();
            let clients = Clients::new(&config);
            for i in 0..per_shard {
                seeds.push((clients.clone(), format!("{run}-{region}-g{i:04}")));
            }
            shards.push(Shard::new(&account, region).unwrap());
        }
    }
    create_groups(seeds.iter().map(|(clients, name)| {
        (
            clients,
            SeedGroup::new(name, (1, 2, 10)).tagged(tag, "true"),
        )
    }))
    .await
    .unwrap();
    let seeded = seeding.elapsed();

    bench.add_latency(latency_ms);
    let config = bench.config();
    let now = Utc::now();
    let started = Instant::now();
    let mut runs: Vec<ShardRun> = futures::stream::iter(shards.iter().cloned())
        .map(|shard| {
            // One function instance per shard, as Lambda runs one per concurrent invocation.
            let app = App::new(config.clone(), &bench.sdk);
            async move {
                let began = Instant::now();
                let trigger = Trigger::Manual {
                    groups: None,
                    dry_run: false,
                    shard: Some(shard.clone()),
                };
                let response = analyzer::run(&app.config, &app.deps, &trigger, now)
                    .await
                    .unwrap_or_else(|e| panic!("{shard}: {e}"));
                ShardRun {
                    shard,
                    wall: began.elapsed(),
                    groups: response.groups.len(),
                    written: response.recommendations_written,
                    calls: app.calls.take(),
                }
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let wall = started.elapsed();
    bench.finish();
    runs.sort_by(|a, b| a.shard.cmp(&b.shard));

    println!(
        "{accounts} accounts x {} regions, {per_shard} groups per shard, {latency_ms} ms added per \
         request, {concurrency} shards at once; seeding {:.1} s (not measured)",
        REGIONS.len(),
        seeded.as_secs_f64()
    );
    println!(
        "{:<28} {:>8} {:>7} {:>8}  AWS calls",
        "shard", "wall s", "groups", "written"
    );
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for r in &runs {
        for (api, n) in &r.calls {
            *totals.entry(api.clone()).or_default() += n;
        }
        let calls: Vec<String> = r.calls.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "{:<28} {:>8.2} {:>7} {:>8}  {}",
            r.shard.to_string(),
            r.wall.as_secs_f64(),
            r.groups,
            r.written,
            calls.join(", ")
        );
    }
    let groups: usize = runs.iter().map(|r| r.groups).sum();
    let written: usize = runs.iter().map(|r| r.written).sum();
    println!(
        "total: {} shards, {groups} groups, {written} recommendations written, wall {:.2} s",
        runs.len(),
        wall.as_secs_f64()
    );
    for (api, n) in &totals {
        println!("  {api:<40} {n}");
    }
    assert_eq!(groups, accounts * REGIONS.len() * per_shard);
    assert!(
        runs.iter()
            .all(|r| r.calls.get("sts:AssumeRole") == Some(&1))
    );
}
