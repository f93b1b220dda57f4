//! The approval loop over three hourly analyses of the same idle group, in process with the
//! real adapters on the emulator (the analyzer's and the engine's `run`, real DynamoDB, Auto
//! Scaling, CloudWatch and KMS; only SNS is a recorder, to read the messages back): one open
//! request, refreshed twice, and one approval message. Then a signed approval is applied.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use fleetopt_aws::emulator::{SeedGroup, create_group, put_load};
use fleetopt_aws::{Clients, create_table};
use fleetopt_config::Config;
use fleetopt_model::{RecommendationType, Status, recommendations_table};
use fleetopt_ports::fakes::Recorder;
use fleetopt_ports::{RecommendationQuery, RecommendationStore, Transition, sign_approval};
use optimization_engine::engine::{Deps, Outcome, run};
use optimization_engine::event::Trigger;

use crate::support::{emulator_config, signing_keys, unique_name};

/// An aligned hour in the emulator's past (it keeps whatever timestamps it is given).
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 18, 9, 0, 0).unwrap()
}

#[tokio::test]
async fn three_hourly_analyses_of_an_idle_group_send_one_approval_message() {
    let sdk = emulator_config().await;
    let clients = Clients::new(&sdk);
    let prefix = unique_name("e2e-loop");
    let table = format!("{prefix}-recommendations");
    create_table(&clients.dynamodb, recommendations_table(), &table)
        .await
        .unwrap();
    let group = format!("{prefix}-api");
    create_group(
        &clients,
        &SeedGroup {
            name: group.clone(),
            min_size: 2,
            max_size: 10,
            desired: 8,
            tags: vec![],
            instance_type: "m5.large".into(),
            target_group_arns: vec![],
        },
    )
    .await
    .unwrap();
    for hour in 0..3 {
        let end = start() + TimeDelta::hours(hour);
        put_load(
            &clients,
            ("AWS/EC2", "CPUUtilization"),
            &group,
            (18.0, 24.0),
            end,
            12,
        )
        .await
        .unwrap();
    }
    let (approvals, findings) = signing_keys(&clients, &prefix).await;
    let vars: HashMap<String, String> = HashMap::from([
        ("FLEETOPT_ENVIRONMENT".into(), "production".into()),
        ("FLEETOPT_APPLICATION".into(), "loop".into()),
        ("FLEETOPT_TABLE".into(), table.clone()),
        ("FLEETOPT_TARGET_GROUPS".into(), group.clone()),
        ("FLEETOPT_APPROVAL_KEY".into(), approvals.clone()),
        ("FLEETOPT_FINDING_KEY".into(), findings),
        (
            "FLEETOPT_RECOMMENDATION_TOPIC_ARN".into(),
            "arn:aws:sns:us-east-1:123456789012:recommendations".into(),
        ),
    ]);
    let config = Config::from_lookup(&|k| vars.get(k).cloned()).unwrap();
    let analyzer = analyzer::lambda::App::new(config.clone(), &sdk);
    let engine = Deps {
        fleet: clients.fleet(),
        notifier: Recorder::new(),
        metrics: clients.metrics(),
        store: clients.store(&table),
        verifier: clients.keys(),
        members: clients.members(&sdk, &config.member_role_name),
    };

    let mut calls_per_sweep = Vec::new();
    for hour in 0..3 {
        let at = start() + TimeDelta::hours(hour) + TimeDelta::minutes(2);
        let analysis = analyzer::run(
            &config,
            &analyzer.deps,
            &analyzer::event::Trigger::Schedule,
            at,
        )
        .await
        .unwrap();
        assert_eq!(
            (
                analysis.recommendations_written,
                analysis.recommendations_refreshed
            ),
            if hour == 0 { (1, 0) } else { (0, 1) },
            "hour {hour}: {analysis:#?}"
        );
        clients.calls.take();
        let sweep = run(&config, &engine, &Trigger::Sweep { dry_run: false }, at)
            .await
            .unwrap();
        calls_per_sweep.push(clients.calls.take());
        if hour == 0 {
            assert_eq!(sweep.decisions[0].outcome, Outcome::AwaitingApproval);
        }
    }
    let messages: Vec<(String, String, String)> = engine
        .notifier
        .notifications()
        .into_iter()
        .filter(|(_, subject, _)| subject.contains("await approval"))
        .collect();
    for (_, subject, message) in &messages {
        eprintln!("approval message: {subject}\n{message}");
    }
    eprintln!("AWS calls per sweep: {calls_per_sweep:?}");
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let downs = engine
        .store
        .query(&RecommendationQuery {
            kind: Some(RecommendationType::ScaleDown),
            ..RecommendationQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(downs.len(), 1, "{downs:#?}");
    let waiting = downs[0].clone();
    assert_eq!(
        (waiting.status, waiting.seen()),
        (Status::AwaitingApproval, 3)
    );
    assert!(messages[0].2.contains(&waiting.id));

    // A person approves (kms:Sign with the approvals key); the sweep verifies and applies.
    let at = start() + TimeDelta::hours(2) + TimeDelta::minutes(10);
    let approval = sign_approval(
        &engine.verifier,
        &approvals,
        &waiting,
        "arn:aws:sts::123456789012:assumed-role/ops/alice",
        at,
        TimeDelta::hours(6),
    )
    .await
    .unwrap();
    engine
        .store
        .transition(
            &waiting,
            &Transition::new(Status::Approved, at, "alice").approving(&approval),
        )
        .await
        .unwrap();
    clients.calls.take();
    let applied = run(&config, &engine, &Trigger::Sweep { dry_run: false }, at)
        .await
        .unwrap();
    let calls = clients.calls.take();
    eprintln!("AWS calls of the sweep that applied the approval: {calls:?}");
    assert_eq!(applied.actions_applied, 1, "{applied:#?}");
    assert_eq!(applied.signatures_verified, 1);
    assert_eq!(calls.get("kms:Verify"), Some(&1));
}
