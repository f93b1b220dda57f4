//! Scale benchmark: the analyzer over 2,000 Auto Scaling groups in the local emulator, every
//! request delayed 20 ms by the emulator's proxy (issue 9, bench/RESULTS.md).
//!
//! Creates the groups (each with a tag of its own run, so discovery pages through
//! DescribeAutoScalingGroups), lets the proxy's metrics generator answer GetMetricData (moto's
//! own GetMetricData scans every stored point per query: seconds per request at this size),
//! then times one analysis with the real adapters and prints the wall time, the peak RSS of
//! the run and the AWS calls per API against the minimum the APIs allow. Then, in the same
//! process, the harness (not the product) reads the same figures the naive way of the original
//! design: one GetMetricStatistics call per metric and group, one after the other, and prints
//! the ratio.
//!
//! Run: scripts/emulator start && eval "$(scripts/emulator env)" &&
//!      cargo bench -p analyzer --bench scale [-- GROUPS [LATENCY_MS [NAIVE_GROUPS]]]
//! (defaults 2000 groups, 20 ms; the naive read covers every group unless NAIVE_GROUPS caps it)

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use analyzer::event::Trigger;
use analyzer::lambda::App;
use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
use aws_sdk_cloudwatch::types::{Dimension, Statistic as CwStatistic};
use chrono::Utc;
use common::{Bench, admin};
use fleetopt_aws::QUERIES_PER_REQUEST;
use fleetopt_aws::emulator::{SeedGroup, create_groups};
use fleetopt_ports::{MetricQuery, TimeWindow};
use fleetopt_snapshot::{Windows, assessment_queries, trend_queries};

/// The process's peak resident set so far, KiB (VmHWM).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS (Linux: 5 in clear_refs), so the next reading is the run's.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The naive read: one GetMetricStatistics call per metric and group (both CPU statistics in
/// one call), sequential, over the same windows. Returns the number of calls and datapoints.
async fn naive_read(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    window: &TimeWindow,
    queries: &[MetricQuery],
) -> (usize, usize) {
    // One call per (metric, dimensions, period), with every statistic asked of it.
    let mut calls: BTreeMap<(String, String, String, u32), Vec<&'static str>> = BTreeMap::new();
    for q in queries {
        let dims = q
            .dimensions
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        calls
            .entry((
                q.namespace.to_string(),
                q.name.into(),
                dims,
                q.period_seconds,
            ))
            .or_default()
            .push(q.statistic.as_str());
    }
    let (mut made, mut points) = (0, 0);
    for ((namespace, name, dims, period), stats) in &calls {
        let mut request = cloudwatch
            .get_metric_statistics()
            .namespace(namespace)
            .metric_name(name)
            .start_time(AwsTime::from_secs(window.start.timestamp()))
            .end_time(AwsTime::from_secs(window.end.timestamp()))
            .period(*period as i32);
        for pair in dims.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap();
            request = request.dimensions(Dimension::builder().name(k).value(v).build());
        }
        for s in stats {
            request = request.statistics(CwStatistic::from(*s));
        }
        let out = request.send().await.unwrap();
        made += 1;
        points += out.datapoints().len();
    }
    (made, points)
}

#[tokio::main]
async fn main() {
    let args = common::args();
    let groups = args.first().copied().unwrap_or(2000);
    let latency_ms = args.get(1).copied().unwrap_or(20);
    let naive_groups = args.get(2).copied().unwrap_or(groups).min(groups);
    let bench = Bench::start("bench").await;
    let Bench {
        sdk,
        clients,
        run,
        tag,
        ..
    } = &bench;

    let seeding = Instant::now();
    let names: Vec<String> = (0..groups).map(|i| format!("{run}-g{i:04}")).collect();
    create_groups(names.iter().map(|name| {
        (
            clients,
            SeedGroup::new(name, (1, 2, 10)).tagged(tag, "true"),
        )
    }))
    .await
    .unwrap();
    let seeded = seeding.elapsed();

    bench.add_latency(latency_ms);
    admin("DELETE", "/_fleetopt/calls", "");
    let config = bench.config();
    let interval = config.settings.analysis_interval_minutes;
    let app = App::new(config, sdk);
    let rss_before = peak_rss_kib();
    let reset = reset_peak_rss();
    let now = Utc::now();
    let started = Instant::now();
    let response = analyzer::run(&app.config, &app.deps, &Trigger::Schedule, now)
        .await
        .unwrap();
    let wall = started.elapsed();
    let rss_peak = peak_rss_kib();
    let calls = app.calls.take();
    let seen = admin("GET", "/_fleetopt/calls", "");

    let assessment = groups * 5;
    let trend = groups * 2;
    let minimum_gmd =
        assessment.div_ceil(QUERIES_PER_REQUEST) + trend.div_ceil(QUERIES_PER_REQUEST);
    let count = |api: &str| calls.get(api).copied().unwrap_or(0) as usize;
    println!("groups analyzed:          {}", response.groups.len());
    println!(
        "recommendations written:  {}",
        response.recommendations_written
    );
    println!("latency added per request: {latency_ms} ms (emulator proxy)");
    println!(
        "seeding took:             {:.1} s (not part of the measurement)",
        seeded.as_secs_f64()
    );
    println!("analysis wall time:       {:.2} s", wall.as_secs_f64());
    println!(
        "peak RSS during the run:  {} KiB{} (process before: {rss_before} KiB)",
        rss_peak,
        if reset {
            ""
        } else {
            " (could not reset VmHWM: process peak)"
        }
    );
    println!("AWS calls per API (the SDK's count; the proxy saw: {seen}):");
    for (api, n) in &calls {
        println!("  {api:<40} {n}");
    }
    println!(
        "minimum: DescribeAutoScalingGroups ceil({groups}/100) = {}, GetMetricData ceil({assessment}/500) + \
         ceil({trend}/500) = {minimum_gmd}, PutMetricData ceil(datums/1000)",
        groups.div_ceil(100)
    );

    // The naive read, over the same windows and queries, through the same proxy and latency.
    let windows = Windows::ending_before(now, interval);
    let infos: Vec<_> = names[..naive_groups]
        .iter()
        .map(|n| fleetopt_ports::fakes::group(n))
        .collect();
    let naive_started = Instant::now();
    let (a_calls, a_points) = naive_read(
        &clients.cloudwatch,
        &windows.assessment,
        &assessment_queries(&infos),
    )
    .await;
    let (t_calls, t_points) =
        naive_read(&clients.cloudwatch, &windows.trend, &trend_queries(&infos)).await;
    let naive = naive_started.elapsed();
    let naive_full = naive.mul_f64(groups as f64 / naive_groups as f64);
    println!(
        "naive read (GetMetricStatistics per metric and group, sequential) over {naive_groups} groups: \
         {} calls, {} datapoints, {:.1} s{}",
        a_calls + t_calls,
        a_points + t_points,
        naive.as_secs_f64(),
        if naive_groups < groups {
            format!(
                " (scaled to {groups} groups: {:.1} s)",
                naive_full.as_secs_f64()
            )
        } else {
            String::new()
        }
    );
    println!(
        "metric reads: {} GetMetricData calls against {} GetMetricStatistics calls ({}x fewer); \
         the whole analysis took {:.2} s against {:.1} s for the naive metric reads alone ({:.0}x)",
        count("cloudwatch:GetMetricData"),
        (a_calls + t_calls) * groups / naive_groups,
        (a_calls + t_calls) * groups / naive_groups / count("cloudwatch:GetMetricData").max(1),
        wall.as_secs_f64(),
        naive_full.as_secs_f64(),
        naive_full.as_secs_f64() / wall.as_secs_f64().max(f64::EPSILON),
    );
    bench.finish();

    assert_eq!(response.groups.len(), groups);
    assert_eq!(
        count("cloudwatch:GetMetricData"),
        minimum_gmd,
        "GetMetricData must be ceil(queries / 500) per window"
    );
}
