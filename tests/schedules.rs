//! Scheduled scaling end to end on the emulator (issue 21): a group whose last 14 days follow a
//! daily cycle, the cost optimizer's schedule for it with its backtest, a person's approval
//! (`fleetopt approve`, signed with KMS), the engine's scheduled actions (moto stores them), and
//! `fleetopt rollback`, which removes them.

use std::collections::HashMap;

use chrono::{Duration, DurationRound, Timelike, Utc};
use fleetopt_aws::Clients;
use fleetopt_aws::emulator::{SeedGroup, create_group, put_series};
use fleetopt_config::Config;
use fleetopt_model::{RecommendationType, Status};
use fleetopt_ports::fakes::Recorder;
use fleetopt_ports::{FleetDirectory, RecommendationQuery, RecommendationStore};
use optimization_engine::engine::{Deps, Outcome, run};
use optimization_engine::event::Trigger;

use crate::support::{
    approval_key, emulator_config, emulator_endpoint, fleetopt_at, fresh_table, repo, stderr,
    stdout, unique_name,
};

#[tokio::test]
async fn a_daily_cycle_is_scheduled_backtested_approved_put_and_rolled_back() {
    let status = std::process::Command::new(repo().join("scripts/emulator"))
        .arg("seed-costs")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "scripts/emulator seed-costs failed (the prices)"
    );
    let sdk = emulator_config().await;
    let clients = Clients::new(&sdk);
    let (table, store) = fresh_table("e2e-schedule").await;
    let group = unique_name("e2e-nightly");
    create_group(
        &clients,
        &SeedGroup {
            name: group.clone(),
            min_size: 1,
            max_size: 10,
            desired: 6,
            tags: Vec::new(),
            instance_type: "m5.large".into(),
            target_group_arns: Vec::new(),
        },
    )
    .await
    .unwrap();
    // 14 days: 60 % from 07:00 to 20:00 UTC, 10 % at night, on 6 instances.
    let end = Utc::now().duration_trunc(Duration::hours(1)).unwrap();
    let cpu: Vec<_> = (1..=24 * 14)
        .map(|h| {
            let t = end - Duration::hours(h) + Duration::minutes(10);
            (
                t,
                if (7..20).contains(&t.hour()) {
                    60.0
                } else {
                    10.0
                },
            )
        })
        .collect();
    put_series(&clients, "AWS/EC2", "CPUUtilization", &group, &cpu)
        .await
        .unwrap();

    let approvals = approval_key().await;
    let vars: HashMap<String, String> = HashMap::from([
        ("FLEETOPT_ENVIRONMENT".into(), "production".into()),
        ("FLEETOPT_APPLICATION".into(), "schedules".into()),
        ("FLEETOPT_TABLE".into(), table.clone()),
        ("FLEETOPT_TARGET_GROUPS".into(), group.clone()),
        ("FLEETOPT_APPROVAL_KEY".into(), approvals),
        (
            "FLEETOPT_RECOMMENDATION_TOPIC_ARN".into(),
            "arn:aws:sns:us-east-1:123456789012:recommendations".into(),
        ),
    ]);
    let config = Config::from_lookup(&|k| vars.get(k).cloned()).unwrap();

    // The cost optimizer's daily run: one DescribeScheduledActions for every group. (Both
    // runs are at the same time: moto hands queued Cost Explorer results to new request bodies,
    // and another day's bodies would take results the other tests on the emulator expect.)
    let cost = cost_optimizer::lambda::App::new(config.clone(), &sdk);
    let today = Utc::now();
    cost.calls.take();
    cost_optimizer::analysis::run(
        &config,
        &cost.deps,
        &cost_optimizer::event::Trigger::Schedule,
        today,
    )
    .await
    .unwrap();
    let calls = cost.calls.take();
    assert_eq!(
        calls.get("autoscaling:DescribeScheduledActions"),
        Some(&1),
        "{calls:?}"
    );
    let found = store
        .query(&RecommendationQuery {
            kind: Some(RecommendationType::ScheduledScaling),
            ..RecommendationQuery::default()
        })
        .await
        .unwrap();
    let r = found
        .iter()
        .find(|r| r.auto_scaling_group_name == group)
        .unwrap_or_else(|| panic!("no schedule for {group}: {found:#?}"))
        .clone();
    // The night needs ceil(10 x 6 / 70) = 1, but one step (50 % of 6) goes no lower than 3.
    let schedule = r.evidence.schedule.as_ref().unwrap();
    assert_eq!(
        (
            schedule.quiet_from_slot,
            schedule.quiet_hours,
            schedule.quiet_capacity
        ),
        (20, 11, 3),
        "{schedule:#?}"
    );
    // 3 instances x 11 hours x 730 / 24 days x $0.096.
    assert_eq!(r.expected_impact.monthly_savings_usd, Some(96.36));
    let backtest = r.evidence.backtest.as_ref().unwrap();
    // The day's 13 hours at 60 % are the median and the maximum, before and after; the night
    // runs at 10 x 6 / 3 = 20 %, under the target: no hour over it, none over 90 %.
    for b in [&backtest.current, &backtest.proposed] {
        assert_eq!((b.cpu_p50, b.cpu_max), (60.0, 60.0), "{backtest:#?}");
        assert_eq!((b.hours_over_target, b.hours_over_90), (0, 0));
    }

    // The engine asks for approval; a person approves with the CLI (KMS-signed).
    let engine = Deps {
        fleet: clients.fleet(),
        notifier: Recorder::new(),
        metrics: clients.metrics(),
        store: clients.store(&table),
        verifier: clients.keys(),
        members: clients.members(&sdk, &config.member_role_name),
    };
    let sweep = |at| run(&config, &engine, &Trigger::Sweep { dry_run: false }, at);
    // The run's other findings (spot, right-sizing, the account's) are decided beside it.
    let outcome = |response: &optimization_engine::engine::Response| {
        response
            .decisions
            .iter()
            .find(|d| d.recommendation_id.as_deref() == Some(r.id.as_str()))
            .map(|d| d.outcome)
    };
    let asked = sweep(Utc::now()).await.unwrap();
    assert_eq!(outcome(&asked), Some(Outcome::AwaitingApproval));
    let approved = fleetopt_at(
        &emulator_endpoint(),
        &[
            "approve",
            &r.id,
            "--table",
            &table,
            "--note",
            "quiet nights",
        ],
    );
    assert!(approved.status.success(), "{}", stderr(&approved));
    assert!(
        stdout(&approved).contains("Next: the optimization engine puts the scheduled actions"),
        "{}",
        stdout(&approved)
    );

    // The engine puts the two actions in one call.
    clients.calls.take();
    let applied = sweep(Utc::now()).await.unwrap();
    assert_eq!(outcome(&applied), Some(Outcome::Applied), "{applied:#?}");
    let calls = clients.calls.take();
    assert_eq!(
        calls.get("autoscaling:BatchPutScheduledUpdateGroupAction"),
        Some(&1),
        "{calls:?}"
    );
    let names = vec!["fleetopt-quiet".to_owned(), "fleetopt-busy".to_owned()];
    let mut put = clients.fleet().scheduled_actions(&names).await.unwrap();
    put.retain(|a| a.group == group);
    put.sort_by(|a, b| a.name.cmp(&b.name));
    let seen: Vec<_> = put
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.recurrence.as_deref(),
                a.desired_capacity,
                a.min_size,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("fleetopt-busy", Some("0 7 * * *"), Some(6), Some(1)),
            ("fleetopt-quiet", Some("0 20 * * *"), Some(3), Some(1)),
        ]
    );
    assert!(put.iter().all(|a| a.end_time.is_some()), "{put:#?}");
    assert_eq!(
        store.get(&r.id).await.unwrap().unwrap().status,
        Status::Completed
    );

    // `fleetopt scaling` shows it in force.
    let scaling = fleetopt_at(
        &emulator_endpoint(),
        &[
            "scaling", "--group", &group, "--table", &table, "--output", "json",
        ],
    );
    assert!(scaling.status.success(), "{}", stderr(&scaling));
    let v: serde_json::Value = serde_json::from_str(&stdout(&scaling)).unwrap();
    let quiet = v["groups"][0]["scheduledActions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "fleetopt-quiet")
        .unwrap_or_else(|| panic!("no fleetopt-quiet in {v}"));
    assert_eq!(
        (&quiet["recurrence"], &quiet["desiredCapacity"]),
        (&serde_json::json!("0 20 * * *"), &serde_json::json!(3))
    );

    // The next run finds the schedule in force: nothing new to approve.
    let next = cost_optimizer::analysis::run(
        &config,
        &cost.deps,
        &cost_optimizer::event::Trigger::Schedule,
        today,
    )
    .await
    .unwrap();
    let ours = next
        .groups
        .iter()
        .find(|g| g.auto_scaling_group_name == group)
        .unwrap();
    assert_eq!(
        ours.no_schedule.as_deref(),
        Some("the group already runs this schedule")
    );
    let again = store
        .query(&RecommendationQuery {
            kind: Some(RecommendationType::ScheduledScaling),
            ..RecommendationQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        again
            .iter()
            .filter(|x| x.auto_scaling_group_name == group)
            .count(),
        1,
        "{again:#?}"
    );

    // A person rolls it back: the actions are removed, the item ROLLED_BACK.
    let rolled = fleetopt_at(
        &emulator_endpoint(),
        &[
            "rollback",
            &r.id,
            "--table",
            &table,
            "--reason",
            "nights got busy",
        ],
    );
    assert!(rolled.status.success(), "{}", stderr(&rolled));
    assert!(
        stdout(&rolled).contains(&format!(
            "(removed fleetopt-quiet, fleetopt-busy from {group})"
        )),
        "{}",
        stdout(&rolled)
    );
    let left = clients.fleet().scheduled_actions(&names).await.unwrap();
    assert!(left.iter().all(|a| a.group != group), "{left:#?}");
    assert_eq!(
        store.get(&r.id).await.unwrap().unwrap().status,
        Status::RolledBack
    );
    // Twice is refused, naming what it is now.
    let twice = fleetopt_at(
        &emulator_endpoint(),
        &["rollback", &r.id, "--table", &table, "--reason", "again"],
    );
    assert!(!twice.status.success());
    assert!(
        stderr(&twice).contains("is already ROLLED_BACK: only a recommendation that is COMPLETED, a SCHEDULED_SCALING whose scheduled actions the engine put, can be rolled back"),
        "{}",
        stderr(&twice)
    );
}
