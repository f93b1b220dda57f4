//! The cost optimizer against the local emulator, with the real adapters: a group in moto's
//! Auto Scaling running m5.xlarge, 14 days of hourly maxima in moto's CloudWatch, and the
//! demo's cost seeds (`scripts/emulator seed-costs`: on-demand prices, 7 days of spot prices,
//! the forecast and the purchase recommendations answered by the emulator's proxy; moto's own
//! GetCostAndUsage). The seeds are shared by every test on the emulator, so this test checks
//! what its own group yields and the calls it makes, not the account's totals.

// A test that cannot set up must fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;

use chrono::{Duration, DurationRound, Utc};
use cost_optimizer::analysis::run;
use cost_optimizer::event::Trigger;
use cost_optimizer::lambda::App;
use fleetopt_aws::emulator::{SeedGroup, create_group, put_series, sdk_config};
use fleetopt_aws::{Clients, create_table};
use fleetopt_config::Config;
use fleetopt_model::{RecommendationType, recommendations_table};
use fleetopt_ports::RecommendationStore;

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Installs the demo's cost seeds into the running emulator (idempotent).
fn seed_costs() {
    let status = std::process::Command::new(repo().join("scripts/emulator"))
        .arg("seed-costs")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "scripts/emulator seed-costs failed");
}

/// The cost seeds, a fresh table and one group `name` (uniquely prefixed) of `desired`
/// instances of `instance_type` in us-east-1a.
async fn fleet(name: &str, instance_type: &str, desired: i32) -> (Clients, String, String) {
    seed_costs();
    let prefix = format!(
        "c{}{}",
        std::process::id(),
        Utc::now().timestamp_subsec_nanos()
    );
    let clients = Clients::new(&sdk_config().await);
    let table = format!("{prefix}-recommendations");
    create_table(&clients.dynamodb, recommendations_table(), &table)
        .await
        .unwrap();
    let group = format!("{prefix}-{name}");
    create_group(
        &clients,
        &SeedGroup {
            name: group.clone(),
            min_size: 1,
            max_size: 8,
            desired,
            tags: Vec::new(),
            instance_type: instance_type.into(),
            target_group_arns: Vec::new(),
        },
    )
    .await
    .unwrap();
    (clients, table, group)
}

#[tokio::test]
async fn spot_right_sizing_and_commitments_are_found_and_a_warm_run_calls_no_price_api_again() {
    let (clients, table, group) = fleet("batch", "m5.xlarge", 4).await;
    // 14 days of hourly maxima: CPU 25 %, memory 35 %. On 4 instances a type fits with 20 %
    // headroom from 2 vCPU (25 x 16 / 8 = 50 % projected) and 8 GiB (35 x 64 / 32 = 70 %).
    let now = Utc::now();
    let end = now.duration_trunc(Duration::hours(1)).unwrap();
    let hours: Vec<_> = (1..=24 * 14).map(|h| end - Duration::hours(h)).collect();
    let cpu: Vec<_> = hours
        .iter()
        .map(|t| (*t + Duration::minutes(10), 25.0))
        .collect();
    let memory: Vec<_> = hours
        .iter()
        .map(|t| (*t + Duration::minutes(10), 35.0))
        .collect();
    put_series(&clients, "AWS/EC2", "CPUUtilization", &group, &cpu)
        .await
        .unwrap();
    put_series(&clients, "CWAgent", "mem_used_percent", &group, &memory)
        .await
        .unwrap();

    let vars: HashMap<&str, String> = HashMap::from([
        ("FLEETOPT_ENVIRONMENT", "production".to_owned()),
        ("FLEETOPT_APPLICATION", "it".to_owned()),
        ("FLEETOPT_TABLE", table),
        ("FLEETOPT_TARGET_GROUPS", group.clone()),
    ]);
    let config = Config::from_lookup(&|name| vars.get(name).cloned()).unwrap();
    let app = App::new(config, &sdk_config().await);

    let first = run(&app.config, &app.deps, &Trigger::Schedule, now)
        .await
        .unwrap();
    let calls = app.calls.take();
    assert_eq!(first.cost_explorer_calls, 5, "{first:?}");
    assert_eq!(calls.get("ce:GetCostAndUsage"), Some(&2));
    for api in [
        "ce:GetCostForecast",
        "ce:GetReservationPurchaseRecommendation",
        "ce:GetSavingsPlansPurchaseRecommendation",
        "pricing:GetProducts",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeInstanceTypes",
        "cloudwatch:PutMetricData",
    ] {
        assert_eq!(calls.get(api), Some(&1), "{api}: {calls:?}");
    }
    assert!(first.unavailable.is_empty(), "{:?}", first.unavailable);

    let g = &first.groups[0];
    assert_eq!(g.instance_type.as_deref(), Some("m5.xlarge"));
    assert_eq!(g.hourly_cost_usd, Some(4.0 * 0.192));
    assert_eq!(g.recommendation_ids.len(), 2, "{first:?}");
    let store = &app.deps.store;
    let mut kinds = Vec::new();
    for id in &g.recommendation_ids {
        let r = store.get(id).await.unwrap().unwrap();
        kinds.push(r.kind);
        if r.kind == RecommendationType::InstanceTypeChange {
            // The cheapest fitting type is a Graviton one: 4 x (0.192 - 0.077) x 730.
            assert_eq!(
                r.evidence.suggested_instance_type.as_deref(),
                Some("m6g.large")
            );
            assert_eq!(r.expected_impact.monthly_savings_usd, Some(335.8));
        }
    }
    kinds.sort_by_key(|k| k.as_str());
    assert_eq!(
        kinds,
        [
            RecommendationType::CostOptimization,
            RecommendationType::InstanceTypeChange
        ]
    );
    assert_eq!(
        first.account_recommendation_ids.len(),
        2,
        "reserved instances and savings plans"
    );
    assert_eq!(first.recommendations_written, 4);

    // Warm: the same process, the same day. Nothing new is written, and prices and the
    // catalog come from the caches.
    let second = run(&app.config, &app.deps, &Trigger::Schedule, now)
        .await
        .unwrap();
    let calls = app.calls.take();
    assert_eq!(second.recommendations_written, 0);
    for api in [
        "pricing:GetProducts",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeInstanceTypes",
    ] {
        assert_eq!(calls.get(api), None, "{api} repeated: {calls:?}");
    }
    assert_eq!(second.cache.on_demand.misses, 0);
    // The catalog's 9 patterns: m5, c5, r5 and their Graviton families of generations 6 and 7.
    assert!(second.cache.on_demand.hits > 0 && second.cache.catalog.hits == 9);
}

#[tokio::test]
async fn a_run_rate_over_the_limit_is_a_high_finding_with_one_cost_alert() {
    let (clients, table, group) = fleet("web", "m5.large", 6).await;
    let topic = clients
        .sns
        .create_topic()
        .name(&group)
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    // 6 x m5.large = 0.576 $/h against a 0.5 $/h limit.
    let vars: HashMap<&str, String> = HashMap::from([
        ("FLEETOPT_ENVIRONMENT", "staging".to_owned()),
        ("FLEETOPT_APPLICATION", "it".to_owned()),
        ("FLEETOPT_TABLE", table),
        ("FLEETOPT_TARGET_GROUPS", group.clone()),
        ("FLEETOPT_MAX_HOURLY_COST", "0.5".to_owned()),
        ("FLEETOPT_COST_ALERT_TOPIC_ARN", topic),
    ]);
    let config = Config::from_lookup(&|name| vars.get(name).cloned()).unwrap();
    let app = App::new(config, &sdk_config().await);
    let response = run(&app.config, &app.deps, &Trigger::Schedule, Utc::now())
        .await
        .unwrap();
    let calls = app.calls.take();
    assert_eq!(calls.get("sns:Publish"), Some(&1), "{calls:?}");
    let mut run_rate = None;
    for id in &response.account_recommendation_ids {
        let r = app.deps.store.get(id).await.unwrap().unwrap();
        if r.auto_scaling_group_name == "account:run-rate" {
            run_rate = Some(r);
        }
    }
    let r = run_rate.expect("a run-rate finding");
    assert_eq!(r.priority, fleetopt_model::Priority::High);
    // 0.076 $/h over the limit, 730 hours.
    assert_eq!(r.expected_impact.monthly_savings_usd, Some(55.48));
}
