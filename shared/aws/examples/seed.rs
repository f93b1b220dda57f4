//! Seeds the local emulator with a realistic fleet for the demo: four Auto Scaling groups
//! tagged `fleet-optimizer:enabled=true`, each with 14 days of metrics (hourly samples, and
//! 5-minute samples for the last day) following a daily cycle that peaks at the time of day the
//! seed runs (so the demo tells the same story at any hour), with occasional spikes:
//!
//! - `web`: overloaded (CPU around 84 %, spikes to 97 %), 4 of max 10 instances
//! - `api`: idle (CPU around 18 %), 8 instances where 2 would do
//! - `checkout`: healthy (CPU around 68 %, memory 76 %)
//! - `reports`: a deep daily cycle (CPU from about 10 % at night to 70 % at its peak), and no
//!   CloudWatch agent, so no memory metric
//!
//! With them, what group metrics collection and an hourly analyzer would have left behind, so
//! `fleetopt dashboard` and `fleetopt report` have history to draw: the last 3 days of hourly
//! AWS/AutoScaling GroupInServiceInstances, GroupDesiredCapacity and GroupMaxSize (the seeded
//! sizes), and the last day's hourly FleetOptimizer PerformanceScore and EfficiencyRating,
//! scored by `fleetopt-scoring` from those hours' seeded CPU and memory with the production
//! targets (the demo's analyzer then publishes the current hour's itself).
//!
//! Then what a deployed stack and an earlier engine run leave behind: the environment's two
//! signing keys (`alias/app-production-approvals`, `alias/app-production-findings`, ECC
//! NIST P-256, as the stack makes them), and one capacity change the engine completed four
//! hours ago (checkout, 3 -> 4), whose outcome the demo's first sweep measures from the
//! seeded scores.
//!
//! And a member account (`MEMBER_ACCOUNT`, reached as the functions reach one: through a role
//! assumed there, so moto keeps what it creates in that account): `store`, overloaded (CPU
//! around 86 %), 3 of max 8 instances, tagged like the others, with the last day's CPU.
//!
//! The volume stays modest (moto scans every stored point for each query).
//! Usage: cargo run -p fleetopt-aws --features emulator --example seed

// An example: a failed step must stop it with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use fleetopt_aws::emulator::{
    SeedGroup, create_group, put_datapoints, put_series, sdk_config, sdk_config_in, signing_key,
};
use fleetopt_aws::{Clients, DynamoRecommendationStore};
use fleetopt_config::Environment;
use fleetopt_model::{Action, AnalysisWindow, Execution, Status, StatusChange, rfc3339};
use fleetopt_ports::RecommendationStore;
use fleetopt_scoring::{Assessment, ScoreInput};

struct Profile {
    name: &'static str,
    sizes: (i32, i32, i32),
    cpu: (f64, f64),
    memory: Option<f64>,
    spikes: bool,
}

const FLEET: [Profile; 4] = [
    Profile {
        name: "web",
        sizes: (2, 4, 10),
        cpu: (84.0, 6.0),
        memory: Some(78.0),
        spikes: true,
    },
    Profile {
        name: "api",
        sizes: (2, 8, 12),
        cpu: (18.0, 5.0),
        memory: Some(40.0),
        spikes: false,
    },
    Profile {
        name: "checkout",
        sizes: (2, 4, 12),
        cpu: (68.0, 5.0),
        memory: Some(76.0),
        spikes: false,
    },
    Profile {
        name: "reports",
        sizes: (1, 3, 6),
        cpu: (40.0, 30.0),
        memory: None,
        spikes: true,
    },
];

/// The demo's member account (docs/accounts.md): its group is analyzed and scaled through the
/// member role.
const MEMBER_ACCOUNT: &str = "210987654321";

/// A deterministic pseudo-random number in [0, 1) for a sample index.
fn noise(i: u64) -> f64 {
    let x = i
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// The value of a daily cycle around `mean`, with noise and spikes. The cycle peaks every day
/// at `peak`'s time of day: the seed puts the peak at the last hour before it runs, so that the
/// demo's analysis finds the same fleet (web overloaded, api idle) at any hour it is run.
fn sample(
    t: DateTime<Utc>,
    peak: DateTime<Utc>,
    (mean, amplitude): (f64, f64),
    spikes: bool,
    i: u64,
) -> f64 {
    let hours = (t - peak).num_seconds() as f64 / 3600.0;
    let cycle = (hours / 24.0 * std::f64::consts::TAU).cos();
    let mut v = mean + amplitude * cycle + (noise(i) - 0.5) * 4.0;
    if spikes && noise(i ^ 0x9e37) > 0.97 {
        v += 13.0;
    }
    v.clamp(0.5, 99.5)
}

/// Timestamps: hourly for days 2-14, every 150 s for the last 24 h (two samples per 5-minute
/// period, so Average and Maximum differ).
fn timeline(now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let day_ago = now - TimeDelta::hours(24);
    let mut times: Vec<DateTime<Utc>> = (24..24 * 14)
        .rev()
        .map(|h| now - TimeDelta::hours(h))
        .collect();
    let mut t = day_ago;
    while t < now + TimeDelta::minutes(10) {
        times.push(t);
        t += TimeDelta::seconds(150);
    }
    times
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let clients = Clients::new(&sdk_config().await);
    let now = Utc::now().duration_trunc(TimeDelta::minutes(5)).unwrap();
    let times = timeline(now);
    // The daily peak, half an hour before now: inside the hour the demo's analysis reads.
    let peak = now - TimeDelta::minutes(30);
    for profile in &FLEET {
        let (min_size, desired, max_size) = profile.sizes;
        create_group(
            &clients,
            &SeedGroup {
                name: profile.name.to_owned(),
                min_size,
                max_size,
                desired,
                tags: vec![("fleet-optimizer:enabled".into(), "true".into())],
                instance_type: "m5.large".into(),
                target_group_arns: vec![],
            },
        )
        .await
        .unwrap_or_else(|e| panic!("creating {}: {e}", profile.name));
        let cpu: Vec<(DateTime<Utc>, f64)> = times
            .iter()
            .enumerate()
            .map(|(i, t)| (*t, sample(*t, peak, profile.cpu, profile.spikes, i as u64)))
            .collect();
        put_series(&clients, "AWS/EC2", "CPUUtilization", profile.name, &cpu)
            .await
            .unwrap();
        if let Some(memory) = profile.memory {
            let series: Vec<(DateTime<Utc>, f64)> = times
                .iter()
                .enumerate()
                .map(|(i, t)| (*t, sample(*t, peak, (memory, 2.0), false, 7 * i as u64)))
                .collect();
            put_series(
                &clients,
                "CWAgent",
                "mem_used_percent",
                profile.name,
                &series,
            )
            .await
            .unwrap();
        }
        let network: Vec<(DateTime<Utc>, f64)> = cpu
            .iter()
            .map(|(t, c)| (*t, c * 2.0e5 * f64::from(desired)))
            .collect();
        for name in ["NetworkIn", "NetworkOut"] {
            put_series(&clients, "AWS/EC2", name, profile.name, &network)
                .await
                .unwrap();
        }
        let sizes = [
            ("GroupInServiceInstances", desired),
            ("GroupDesiredCapacity", desired),
            ("GroupMaxSize", max_size),
        ];
        let hours: Vec<DateTime<Utc>> = (1..=72).rev().map(|h| now - TimeDelta::hours(h)).collect();
        for (metric, value) in sizes {
            let points: Vec<(DateTime<Utc>, f64)> =
                hours.iter().map(|t| (*t, f64::from(value))).collect();
            put_datapoints(
                &clients,
                ("AWS/AutoScaling", metric, "None"),
                &[("AutoScalingGroupName", profile.name.to_owned())],
                &points,
            )
            .await
            .unwrap();
        }
        let memory: Vec<(DateTime<Utc>, f64)> = match profile.memory {
            Some(m) => times
                .iter()
                .enumerate()
                .map(|(i, t)| (*t, sample(*t, peak, (m, 2.0), false, 7 * i as u64)))
                .collect(),
            None => Vec::new(),
        };
        let targets = Environment::Production.preset().targets;
        let (mut scores, mut ratings) = (Vec::new(), Vec::new());
        for start in &hours[48..] {
            let end = *start + TimeDelta::hours(1);
            let mean = |series: &[(DateTime<Utc>, f64)]| {
                let inside: Vec<f64> = series
                    .iter()
                    .filter(|(t, _)| t >= start && *t < end)
                    .map(|(_, v)| *v)
                    .collect();
                (!inside.is_empty()).then(|| inside.iter().sum::<f64>() / inside.len() as f64)
            };
            let input = ScoreInput {
                cpu_average: mean(&cpu),
                memory_average: mean(&memory),
                in_service: Some(desired as u32),
                max_size: Some(max_size as u32),
                response_time_ms: None,
            };
            if let Assessment::Scored(scored) = Assessment::of(&input, &targets) {
                scores.push((end, scored.performance_score));
                ratings.push((end, scored.efficiency_rating));
            }
        }
        let ours = [
            ("Environment", "production".to_owned()),
            ("AutoScalingGroupName", profile.name.to_owned()),
        ];
        for (metric, points) in [
            ("PerformanceScore", &scores),
            ("EfficiencyRating", &ratings),
        ] {
            put_datapoints(&clients, ("FleetOptimizer", metric, "None"), &ours, points)
                .await
                .unwrap();
        }
        println!(
            "{:<9} {} of max {} instances, {} CPU samples{}",
            profile.name,
            desired,
            max_size,
            cpu.len(),
            if profile.memory.is_some() {
                ", memory, network"
            } else {
                ", network (no memory agent)"
            }
        );
    }
    let (member, _) = sdk_config_in(MEMBER_ACCOUNT).await.unwrap();
    let member = Clients::new(&member);
    create_group(
        &member,
        &SeedGroup {
            name: "store".to_owned(),
            min_size: 2,
            max_size: 8,
            desired: 3,
            tags: vec![("fleet-optimizer:enabled".into(), "true".into())],
            instance_type: "m5.large".into(),
            target_group_arns: vec![],
        },
    )
    .await
    .unwrap_or_else(|e| panic!("creating store in {MEMBER_ACCOUNT}: {e}"));
    let day: Vec<DateTime<Utc>> = times
        .iter()
        .copied()
        .filter(|t| *t > now - TimeDelta::hours(24))
        .collect();
    let cpu: Vec<(DateTime<Utc>, f64)> = day
        .iter()
        .enumerate()
        .map(|(i, t)| (*t, sample(*t, peak, (86.0, 5.0), false, 3 * i as u64)))
        .collect();
    put_series(&member, "AWS/EC2", "CPUUtilization", "store", &cpu)
        .await
        .unwrap();
    println!(
        "store     3 of max 8 instances in member account {MEMBER_ACCOUNT}, {} CPU samples",
        cpu.len()
    );
    for key in ["approvals", "findings"] {
        let alias = format!("alias/app-production-{key}");
        let arn = signing_key(&clients, &alias).await.unwrap();
        println!("signing key {alias}: {arn}");
    }
    let completed = completed_change(now);
    let store = DynamoRecommendationStore::new(
        clients.dynamodb.clone(),
        "app-production-optimization-recommendations",
    );
    store.put_new(&completed).await.unwrap();
    println!(
        "{:<9} SCALE_UP 3 -> 4 completed at {} ({})",
        completed.auto_scaling_group_name, completed.status_history[2].at, completed.id
    );
}

/// checkout's SCALE_UP from 3 to 4, found by the analysis of the hour that ended five hours
/// before `now`, applied by the engine four hours before and completed ten minutes later:
/// history for the sweep's outcome measurement.
fn completed_change(now: DateTime<Utc>) -> fleetopt_model::Recommendation {
    let end = now.duration_trunc(TimeDelta::hours(1)).unwrap() - TimeDelta::hours(4);
    let window = AnalysisWindow {
        start: end - TimeDelta::hours(1),
        end,
    };
    let mut r = fleetopt_ports::fakes::contract::sample_over(
        "checkout",
        window,
        end + TimeDelta::minutes(2),
    );
    r.implementation.action = Some(Action::SetDesiredCapacity { from: 3, to: 4 });
    r.evidence.desired_capacity = Some(3);
    r.evidence.target_desired_capacity = Some(4);
    r.evidence.performance_score = Some(71.0);
    r.evidence.cpu_average = Some(83.0);
    r.description = "Scale up checkout from 3 to 4 instances: CPU average 83.0 % is above the \
                     60-80 % range."
        .to_owned();
    let applied = end + TimeDelta::minutes(5);
    let done = applied + TimeDelta::minutes(10);
    r.execution = Some(Execution {
        previous_capacity: 3,
        new_capacity: 4,
        applied_at: rfc3339(applied),
        activity_id: None,
        target_capacity: None,
        ..Execution::default()
    });
    for (from, to, at, reason) in [
        (
            Status::Pending,
            Status::InProgress,
            applied,
            "desired capacity 3 -> 4",
        ),
        (
            Status::InProgress,
            Status::Completed,
            done,
            "4 instances in service and healthy (was 3)",
        ),
    ] {
        r.status_history.push(StatusChange {
            from: Some(from),
            to,
            at: rfc3339(at),
            by: "optimization-engine".to_owned(),
            reason: Some(reason.to_owned()),
        });
    }
    r.status = Status::Completed;
    r.version = 3;
    r
}
