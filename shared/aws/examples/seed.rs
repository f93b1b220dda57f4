//! Seeds the recommendations table with what the real rules propose for four sample groups,
//! through the real DynamoDB adapter: the demo's stand-in for the analyzer until it lands.
//! The analysis window is the last whole hour, so running it again within the hour writes
//! nothing new (the ids are deterministic and the writes conditional).
//!
//! Usage: cargo run -p fleetopt-aws --example seed -- <table> [production|staging|development]

// An example: a failed step must stop it with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use chrono::{DurationRound, TimeDelta, Utc};
use fleetopt_aws::{DynamoRecommendationStore, load_config};
use fleetopt_config::Environment;
use fleetopt_model::{AnalysisWindow, Origin, Recommendation, Source};
use fleetopt_ports::{PutOutcome, RecommendationStore};
use fleetopt_scoring::{Capacity, Snapshot, analyze};

fn group(
    name: &str,
    (min, desired, in_service, max): (u32, u32, u32, u32),
    (cpu, peak): (f64, f64),
    memory: Option<f64>,
    response_time_ms: Option<f64>,
) -> Snapshot {
    Snapshot {
        group: name.to_owned(),
        capacity: Some(Capacity {
            min_size: min,
            max_size: max,
            desired,
            in_service,
        }),
        cpu_average: Some(cpu),
        cpu_peak: Some(peak),
        memory_average: memory,
        response_time_ms,
        ..Snapshot::default()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let table = args
        .next()
        .expect("usage: seed <table> [production|staging|development]");
    let environment: Environment = args
        .next()
        .as_deref()
        .unwrap_or("production")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let settings = environment.preset();
    let end = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap();
    let window = AnalysisWindow {
        start: end - TimeDelta::hours(1),
        end,
    };
    let fleet = [
        group("web", (2, 4, 4, 10), (86.0, 95.0), Some(78.0), Some(420.0)),
        group("api", (2, 8, 8, 12), (22.0, 35.0), Some(41.0), Some(120.0)),
        group("batch", (1, 6, 6, 6), (91.0, 99.0), None, None),
        group(
            "checkout",
            (2, 3, 3, 8),
            (55.0, 64.0),
            Some(72.0),
            Some(900.0),
        ),
    ];
    let store = DynamoRecommendationStore::from_config(&load_config(None).await, &table);
    let (mut written, mut existing) = (0, 0);
    for snapshot in &fleet {
        let analysis = analyze(snapshot, &settings.targets);
        let score = analysis
            .assessment
            .scored()
            .map(|s| {
                format!(
                    "score {:.1} {}",
                    s.performance_score,
                    s.performance_label.as_str()
                )
            })
            .unwrap_or_else(|| "insufficient data".to_owned());
        println!("{:<9} {score}", snapshot.group);
        for proposal in &analysis.proposals {
            let r = Recommendation::from_proposal(
                proposal,
                &snapshot.group,
                &Origin {
                    source: Source::Manual,
                    environment: environment.as_str(),
                    window,
                    now: Utc::now(),
                    automation_enabled: settings.enable_auto_scaling_optimization,
                },
            );
            let outcome = store.put_new(&r).await.unwrap_or_else(|e| panic!("{e}"));
            match outcome {
                PutOutcome::Written => written += 1,
                PutOutcome::AlreadyExists => existing += 1,
            }
            println!(
                "          {} {:<20} {:<6} {}",
                r.id,
                r.kind.as_str(),
                r.priority.as_str(),
                if outcome == PutOutcome::Written {
                    "written"
                } else {
                    "already there"
                }
            );
        }
    }
    println!("{written} written, {existing} already there (table {table})");
}
