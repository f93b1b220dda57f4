//! Scale benchmark: the analyzer over 500 Auto Scaling groups in the local emulator.
//!
//! Seeds 500 groups (tagged with a tag of their own, so discovery pages through
//! DescribeAutoScalingGroups) with an hour of CPU metrics, then times one analysis with the
//! real adapters and prints the wall time and the AWS calls per API against the minimum the
//! APIs allow: GetMetricData must be ceil(queries / 500) per window.
//!
//! Run: scripts/emulator start && cargo bench -p analyzer --bench scale [-- GROUPS]

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::time::Instant;

use analyzer::event::Trigger;
use analyzer::lambda::App;
use chrono::{DurationRound, TimeDelta, Utc};
use fleetopt_aws::emulator::{SeedGroup, create_group, put_load, sdk_config};
use fleetopt_aws::{Clients, QUERIES_PER_REQUEST, create_table};
use fleetopt_config::Config;
use fleetopt_model::recommendations_table;
use futures::StreamExt;

#[tokio::main]
async fn main() {
    let groups: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(500);
    let sdk = sdk_config().await;
    let clients = Clients::new(&sdk);
    let run = format!("bench{}", Utc::now().timestamp());
    let table = format!("{run}-recommendations");
    create_table(&clients.dynamodb, recommendations_table(), &table)
        .await
        .unwrap();
    let now = Utc::now().duration_trunc(TimeDelta::minutes(5)).unwrap();
    let seeding = Instant::now();
    let tag = format!("fleet-optimizer:{run}");
    futures::stream::iter(0..groups)
        .map(|i| {
            let (clients, tag) = (&clients, &tag);
            let name = format!("{run}-g{i:04}");
            async move {
                create_group(
                    clients,
                    &SeedGroup {
                        name: name.clone(),
                        min_size: 1,
                        max_size: 10,
                        desired: 2,
                        tags: vec![(tag.clone(), "true".into())],
                        instance_type: "m5.large".into(),
                        target_group_arns: vec![],
                    },
                )
                .await
                .unwrap();
                // A third of the fleet is overloaded, so the run writes recommendations too.
                let load = if i % 3 == 0 {
                    (85.0, 95.0)
                } else {
                    (65.0, 70.0)
                };
                put_load(clients, ("AWS/EC2", "CPUUtilization"), &name, load, now, 12)
                    .await
                    .unwrap();
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    let seeded = seeding.elapsed();

    let vars = HashMap::from([
        ("FLEETOPT_ENVIRONMENT", "production".to_owned()),
        ("FLEETOPT_APPLICATION", "bench".to_owned()),
        ("FLEETOPT_TABLE", table.clone()),
        ("FLEETOPT_TARGET_TAG", format!("{tag}=true")),
    ]);
    let config = Config::from_lookup(&|k| vars.get(k).cloned()).unwrap();
    let app = App::new(config, &sdk);
    let started = Instant::now();
    let response = analyzer::run(&app.config, &app.deps, &Trigger::Schedule, Utc::now())
        .await
        .unwrap();
    let wall = started.elapsed();
    let calls = app.calls.take();

    let assessment_queries = groups * 5;
    let trend_queries = groups * 2;
    let minimum = assessment_queries.div_ceil(QUERIES_PER_REQUEST)
        + trend_queries.div_ceil(QUERIES_PER_REQUEST);
    println!("groups analyzed:        {}", response.groups.len());
    println!(
        "recommendations written: {}",
        response.recommendations_written
    );
    println!(
        "seeding took:           {:.1} s (not part of the measurement)",
        seeded.as_secs_f64()
    );
    println!("analysis wall time:     {:.2} s", wall.as_secs_f64());
    println!("AWS calls per API:");
    for (api, n) in &calls {
        println!("  {api:<40} {n}");
    }
    println!(
        "GetMetricData: {} calls for {assessment_queries} + {trend_queries} queries; minimum ceil(q/500) per window = {minimum}",
        calls.get("cloudwatch:GetMetricData").copied().unwrap_or(0)
    );
    assert_eq!(response.groups.len(), groups);
    assert_eq!(
        calls.get("cloudwatch:GetMetricData").copied().unwrap_or(0) as usize,
        minimum,
        "GetMetricData must be ceil(queries / 500) per window"
    );
}
