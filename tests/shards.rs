//! A fleet in another account (issue 20), in process with the real adapters on the emulator:
//! the analyzer, invoked with a shard payload, reads the member account's group and metrics
//! through the member role (STS AssumeRole; moto keeps what the role's credentials create in
//! the role's account) and writes to the central table; the engine scales the group in the
//! member account, and a same-named group in the central account is never touched. The cost
//! optimizer, given the same payload, prices the member's group and writes its findings, marked
//! with the member's account, to the central table.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use fleetopt_aws::Clients;
use fleetopt_aws::emulator::{SeedGroup, create_group, new_account_id, put_load, sdk_config_in};
use fleetopt_config::Config;
use fleetopt_model::{RecommendationType, Shard, Status};
use fleetopt_ports::{FleetDirectory, GroupSelector, RecommendationQuery, RecommendationStore};
use optimization_engine::engine::Outcome;
use optimization_engine::event::Trigger as EngineTrigger;
use serde_json::json;

use crate::support::{
    emulator_config, emulator_endpoint, fleetopt_at, fresh_table, signing_keys, unique_name,
};

/// An aligned hour in the emulator's past (it keeps whatever timestamps it is given).
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 18, 9, 0, 0).unwrap()
}

async fn desired(clients: &Clients, name: &str) -> u32 {
    let groups = clients
        .fleet()
        .groups(&GroupSelector::Names(vec![name.to_owned()]))
        .await
        .unwrap();
    groups[0].desired
}

/// A new member account holding `<prefix>-web` at `member_desired` instances (of 1..=10), and
/// the central account a `<prefix>-web` of its own at `central_desired`: the account, the
/// member's clients and the name.
async fn same_named_webs(
    central: &Clients,
    prefix: &str,
    (member_desired, central_desired): (i32, i32),
) -> (String, Clients, String) {
    let account = new_account_id();
    let (member_sdk, _) = sdk_config_in(&account).await.unwrap();
    let member = Clients::new(&member_sdk);
    let name = format!("{prefix}-web");
    create_group(&member, &SeedGroup::new(&name, (1, member_desired, 10)))
        .await
        .unwrap();
    create_group(central, &SeedGroup::new(&name, (1, central_desired, 10)))
        .await
        .unwrap();
    (account, member, name)
}

#[tokio::test]
async fn a_member_accounts_group_is_analyzed_and_scaled_through_the_member_role() {
    let sdk = emulator_config().await;
    let central = Clients::new(&sdk);
    let (table, store) = fresh_table("e2e-shard").await;
    let prefix = unique_name("e2e-shard");
    let (approvals, findings) = signing_keys(&central, &prefix).await;

    // The member account: an overloaded web. The central account has a quiet web of the
    // same name, which must stay as it is.
    let (account, member, name) = same_named_webs(&central, &prefix, (4, 4)).await;
    let end = start() + TimeDelta::hours(1);
    put_load(
        &member,
        ("AWS/EC2", "CPUUtilization"),
        &name,
        (88.0, 96.0),
        end,
        12,
    )
    .await
    .unwrap();

    let vars: HashMap<String, String> = HashMap::from([
        ("FLEETOPT_ENVIRONMENT".into(), "production".into()),
        ("FLEETOPT_APPLICATION".into(), "shards".into()),
        ("FLEETOPT_TABLE".into(), table.clone()),
        ("FLEETOPT_TARGET_GROUPS".into(), name.clone()),
        ("FLEETOPT_APPROVAL_KEY".into(), approvals),
        ("FLEETOPT_FINDING_KEY".into(), findings),
        ("FLEETOPT_PERSISTENCE_ANALYSES".into(), "1".into()),
    ]);
    let config = Config::from_lookup(&|k| vars.get(k).cloned()).unwrap();
    let analyzer = analyzer::lambda::App::new(config.clone(), &sdk);
    let shard = Shard::new(&account, "us-east-1").unwrap();

    // The payload the orchestration sends, decoded as the function decodes it.
    let analyzer::event::Decision::Run(trigger) =
        analyzer::event::decode(json!({"accountId": account, "region": "us-east-1"})).unwrap()
    else {
        panic!("a shard payload is a run");
    };
    analyzer.calls.take();
    let at = end + TimeDelta::minutes(2);
    let analysis = analyzer::run(&config, &analyzer.deps, &trigger, at)
        .await
        .unwrap();
    let calls = analyzer.calls.take();
    eprintln!("the member shard's analysis: calls {calls:?}");
    assert_eq!(analysis.groups.len(), 1, "{analysis:#?}");
    assert_eq!(analysis.groups[0].status, analyzer::GroupStatus::Scored);
    assert_eq!(analysis.recommendations_written, 1, "{analysis:#?}");
    assert_eq!(calls.get("sts:AssumeRole"), Some(&1), "{calls:?}");

    let ups = store
        .query(&RecommendationQuery {
            kind: Some(RecommendationType::ScaleUp),
            ..RecommendationQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ups.len(), 1, "{ups:#?}");
    let up = &ups[0];
    assert_eq!(up.shard(), Ok(Some(shard.clone())));
    assert!(up.attestation.is_some(), "an automated change is signed");

    // The engine's sweep scales the member account's web, through the same role.
    let engine = optimization_engine::lambda::App::new(config.clone(), &sdk);
    let sweep = optimization_engine::engine::run(
        &config,
        &engine.deps,
        &EngineTrigger::Sweep { dry_run: false },
        at + TimeDelta::minutes(1),
    )
    .await
    .unwrap();
    let decision = sweep
        .decisions
        .iter()
        .find(|d| d.recommendation_id.as_deref() == Some(up.id.as_str()))
        .unwrap();
    assert_eq!(decision.outcome, Outcome::Applied, "{sweep:#?}");
    assert_eq!(decision.account_id.as_deref(), Some(account.as_str()));
    let (from, to) = up.scale_change().unwrap();
    assert_eq!((from, desired(&member, &name).await), (4, to));
    assert!(to > 4);
    assert_eq!(
        desired(&central, &name).await,
        4,
        "the central web is untouched"
    );
    let applied = store.get(&up.id).await.unwrap().unwrap();
    assert_eq!(applied.status, Status::InProgress);

    // fleetopt filters by account and region (JSON: the items as stored).
    let listed = |extra: &[&str]| -> Vec<(String, String)> {
        let mut args = vec![
            "recommendations",
            "--output",
            "json",
            "--table",
            table.as_str(),
        ];
        args.extend_from_slice(extra);
        let out = fleetopt_at(&emulator_endpoint(), &args);
        assert!(out.status.success(), "{out:?}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let account = r["accountId"].as_str().unwrap_or("own").to_owned();
                (r["id"].as_str().unwrap().to_owned(), account)
            })
            .collect()
    };
    assert_eq!(
        listed(&["--account", &account]),
        vec![(up.id.clone(), account.clone())]
    );
    assert_eq!(
        listed(&["--account", &account, "--group-region", "us-east-1"]).len(),
        1
    );
    assert!(listed(&["--account", &account, "--group-region", "eu-west-1"]).is_empty());
    assert!(listed(&["--account", "123456789012"]).is_empty());

    // The dashboard shows the central web (its own account's) and counts the member's items
    // under the member's account.
    let out = fleetopt_at(
        &emulator_endpoint(),
        &[
            "dashboard",
            "--group",
            &name,
            "--table",
            &table,
            "--output",
            "json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let dashboard: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(dashboard["groups"][0]["capacity"]["desiredCapacity"], 4);
    let place = format!("{account}/us-east-1");
    assert_eq!(
        dashboard["recommendations"]["byAccount"][&place]["total"], 1,
        "{dashboard}"
    );

    // The central account's own analysis of the same name sees its own quiet group and never
    // touches the member's item.
    let own = analyzer::run(
        &config,
        &analyzer.deps,
        &analyzer::event::Trigger::Schedule,
        at,
    )
    .await
    .unwrap();
    assert_eq!(own.groups.len(), 1);
    assert_ne!(own.groups[0].status, analyzer::GroupStatus::Scored);
    assert_eq!(
        store.get(&up.id).await.unwrap().unwrap().version,
        applied.version
    );
}

#[tokio::test]
async fn a_malformed_shard_is_refused_and_the_own_account_needs_no_role() {
    let sdk = emulator_config().await;
    let vars: HashMap<String, String> = HashMap::from([
        ("FLEETOPT_ENVIRONMENT".into(), "production".into()),
        ("FLEETOPT_APPLICATION".into(), "shards".into()),
        ("FLEETOPT_TARGET_GROUPS".into(), "web".into()),
    ]);
    let config = Config::from_lookup(&|k| vars.get(k).cloned()).unwrap();
    let analyzer = analyzer::lambda::App::new(config.clone(), &sdk);
    let err =
        analyzer::event::decode(json!({"accountId": "12345", "region": "us-east-1"})).unwrap_err();
    assert!(err.to_string().contains("12 digits"), "{err}");
    // The own account as a shard: no role is assumed, the own adapters serve it.
    let own = Shard::new("123456789012", "us-east-1").unwrap();
    analyzer.calls.take();
    let run = analyzer::run(
        &config,
        &analyzer.deps,
        &analyzer::event::Trigger::Manual {
            groups: None,
            dry_run: true,
            shard: Some(own),
        },
        start(),
    )
    .await
    .unwrap();
    assert!(run.dry_run);
    let calls = analyzer.calls.take();
    assert_eq!(calls.get("sts:AssumeRole"), None, "{calls:?}");
    assert_eq!(calls.get("sts:GetCallerIdentity"), Some(&1), "{calls:?}");
}

#[tokio::test]
async fn the_cost_optimizer_prices_a_member_accounts_group_through_the_member_role() {
    let sdk = emulator_config().await;
    let central = Clients::new(&sdk);
    let (table, store) = fresh_table("e2e-shard-cost").await;
    let prefix = unique_name("e2e-shard-cost");
    // The member's web runs 6 instances, the central web of the same name 2.
    let (account, _, name) = same_named_webs(&central, &prefix, (6, 2)).await;
    let vars: HashMap<String, String> = HashMap::from([
        ("FLEETOPT_ENVIRONMENT".into(), "production".into()),
        ("FLEETOPT_APPLICATION".into(), "shards".into()),
        ("FLEETOPT_TABLE".into(), table.clone()),
        ("FLEETOPT_TARGET_GROUPS".into(), name.clone()),
        // A budget the member's 6 instances exceed: one account-wide finding to write.
        ("FLEETOPT_MAX_HOURLY_COST".into(), "0.01".into()),
    ]);
    let config = Config::from_lookup(&|k| vars.get(k).cloned()).unwrap();
    let app = cost_optimizer::lambda::App::new(config.clone(), &sdk);
    let cost_optimizer::event::Decision::Run(trigger) =
        cost_optimizer::event::decode(json!({"accountId": account, "region": "us-east-1"}))
            .unwrap()
    else {
        panic!("a shard payload is a run");
    };
    app.calls.take();
    let response = cost_optimizer::analysis::run(&config, &app.deps, &trigger, start())
        .await
        .unwrap();
    let calls = app.calls.take();
    eprintln!("the member shard's cost analysis: calls {calls:?}");
    assert_eq!(calls.get("sts:AssumeRole"), Some(&1), "{calls:?}");
    assert_eq!(response.groups.len(), 1, "{response:#?}");
    assert_eq!(response.groups[0].desired_capacity, 6, "the member's web");
    let ids = &response.account_recommendation_ids;
    assert!(!ids.is_empty(), "{response:#?}");
    for id in ids {
        let r = store.get(id).await.unwrap().unwrap();
        assert_eq!(r.account_id.as_deref(), Some(account.as_str()), "{r:#?}");
        assert_eq!(r.region.as_deref(), Some("us-east-1"));
    }

    // The central account's own run sees its own web, and its findings are other items.
    let own = cost_optimizer::analysis::run(
        &config,
        &app.deps,
        &cost_optimizer::event::Trigger::Schedule,
        start(),
    )
    .await
    .unwrap();
    assert_eq!(own.groups[0].desired_capacity, 2);
    assert!(
        own.account_recommendation_ids
            .iter()
            .all(|id| !ids.contains(id))
    );
}
