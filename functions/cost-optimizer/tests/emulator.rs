//! The cost optimizer against the local emulator, with the real adapters: a group in moto's
//! Auto Scaling running m5.xlarge, 14 days of hourly maxima in moto's CloudWatch, and the
//! demo's cost seeds (`scripts/emulator seed-costs`: on-demand prices, 7 days of spot prices,
//! the forecast and the purchase recommendations answered by the emulator's proxy; moto's own
//! GetCostAndUsage). The seeds are shared by every test on the emulator, so each test checks
//! what its own groups yield and the calls it makes, not the account's totals. The right-sizing
//! test seeds three groups with a 14-day history (hourly maxima, a few hundred points each) and
//! pins issue 10's ranked options, a Graviton option, an idle group's scale-in and the minimum
//! of 30 hours of data, all computed by hand in its comments.

// A test that cannot set up must fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, DurationRound, Utc};
use cost_optimizer::analysis::run;
use cost_optimizer::event::Trigger;
use cost_optimizer::lambda::App;
use fleetopt_aws::emulator::{SeedGroup, create_group, put_series, sdk_config};
use fleetopt_aws::{Clients, create_table};
use fleetopt_config::Config;
use fleetopt_costing::{Periods, TagCheck};
use fleetopt_model::{RecommendationType, recommendations_table};
use fleetopt_ports::RecommendationStore;
use fleetopt_scoring::{
    Architecture, MigrationEffort, RightSizingAction, RightSizingOption, RightSizingStatus,
};

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
    let prefix = format!(
        "c{}{}",
        std::process::id(),
        Utc::now().timestamp_subsec_nanos()
    );
    let clients = Clients::new(&sdk_config().await);
    let (table, group) = fleet_in(&clients, &prefix, name, instance_type, desired).await;
    (clients, table, group)
}

/// The cost seeds, then with `clients` (in whichever account they act) a table
/// `{prefix}-recommendations` and a group `{prefix}-{name}` of `desired` instances of
/// `instance_type` (at most 8) in us-east-1a: the table's name and the group's.
async fn fleet_in(
    clients: &Clients,
    prefix: &str,
    name: &str,
    instance_type: &str,
    desired: i32,
) -> (String, String) {
    seed_costs();
    let table = format!("{prefix}-recommendations");
    create_table(&clients.dynamodb, recommendations_table(), &table)
        .await
        .unwrap();
    let group = format!("{prefix}-{name}");
    create_group(
        clients,
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
    (table, group)
}

/// Whether `now` falls on its month's last day.
fn last_day_of_month(now: DateTime<Utc>) -> bool {
    now.date_naive().succ_opt().is_some_and(|d| d.day() == 1)
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
    // On a month's last day there is nothing left of it to forecast: no GetCostForecast.
    let forecasts = u32::from(!last_day_of_month(now));
    assert_eq!(first.cost_explorer_calls, 4 + forecasts, "{first:?}");
    assert_eq!(calls.get("ce:GetCostAndUsage"), Some(&2));
    assert_eq!(
        calls.get("ce:GetCostForecast").copied().unwrap_or(0),
        u64::from(forecasts),
        "{calls:?}"
    );
    for api in [
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
    // Each commitment carries Cost Explorer's figures (scripts/seed/ce/*PurchaseRecommendation).
    for id in &first.account_recommendation_ids {
        let r = store.get(id).await.unwrap().unwrap();
        let f = r.evidence.commitment.expect("Cost Explorer's figures");
        assert_eq!((f.term_years, f.payment_option.as_str()), (1, "NO_UPFRONT"));
        assert_eq!((f.upfront_usd, f.break_even_months), (0.0, Some(0.0)));
        assert_eq!(f.expected_utilization_percent, Some(100.0));
        if r.auto_scaling_group_name == "account:reserved-instances" {
            assert_eq!(f.instances, Some(12.0));
            assert_eq!(f.recurring_monthly_usd, Some(525.6));
            assert_eq!(f.on_demand_covered_monthly_usd, Some(840.96));
        } else {
            assert_eq!(r.auto_scaling_group_name, "account:savings-plans");
            assert_eq!(f.hourly_commitment_usd, Some(0.8));
            // 1.824 $/h of on-demand spend covered, 730 hours.
            let covered = f.on_demand_covered_monthly_usd.unwrap();
            assert!((covered - 1331.52).abs() < 1e-6, "{covered}");
        }
    }
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

/// Hourly maxima for `group`: CPU and memory at these values, one point in each of the last
/// `hours` whole hours before `end`.
async fn history(
    clients: &Clients,
    group: &str,
    end: chrono::DateTime<Utc>,
    hours: i64,
    (cpu, memory): (f64, f64),
) {
    let at = |h| end - Duration::hours(h) + Duration::minutes(10);
    let cpu: Vec<_> = (1..=hours).map(|h| (at(h), cpu)).collect();
    let memory: Vec<_> = (1..=hours).map(|h| (at(h), memory)).collect();
    put_series(clients, "AWS/EC2", "CPUUtilization", group, &cpu)
        .await
        .unwrap();
    put_series(clients, "CWAgent", "mem_used_percent", group, &memory)
        .await
        .unwrap();
}

/// (rank, action, type, desired, projected CPU, projected memory, risk, USD a month, %, effort).
type Row = (
    u32,
    RightSizingAction,
    String,
    u32,
    Option<f64>,
    Option<f64>,
    u8,
    f64,
    f64,
    MigrationEffort,
);

fn rows(options: &[RightSizingOption]) -> Vec<Row> {
    options
        .iter()
        .map(|o| {
            (
                o.rank,
                o.action,
                o.instance_type.clone(),
                o.desired_capacity,
                o.projected_cpu_percent,
                o.projected_memory_percent,
                o.performance_risk,
                o.monthly_savings_usd,
                o.savings_percent,
                o.migration_effort,
            )
        })
        .collect()
}

#[tokio::test]
async fn right_sizing_ranks_options_offers_graviton_scales_in_idle_groups_and_wants_30_hours() {
    // Three groups with a 14-day history (moto stores 2 x 336 points for each of the first
    // two and 2 x 20 for the third), production targets (CPU 70 in 60..80, memory 80 in
    // 70..85), default preferences (p99.5, 20 % headroom each, 14 days):
    // - steady: 4 x m5.xlarge (4 vCPU, 16 GiB, 0.192 $/h), CPU 25 %, memory 35 %;
    // - idle: 3 x m5.large (2 vCPU, 8 GiB, 0.096 $/h), minSize 1, CPU 2 %, memory 20 %;
    // - fresh: 2 x m5.large with 20 hours of data.
    let (clients, table, steady) = fleet("steady", "m5.xlarge", 4).await;
    let prefix = steady.trim_end_matches("-steady").to_owned();
    let idle = format!("{prefix}-idle");
    let fresh = format!("{prefix}-fresh");
    for (name, desired) in [(&idle, 3), (&fresh, 2)] {
        create_group(
            &clients,
            &SeedGroup {
                name: name.clone(),
                min_size: 1,
                max_size: 8,
                desired,
                tags: Vec::new(),
                instance_type: "m5.large".into(),
                target_group_arns: Vec::new(),
            },
        )
        .await
        .unwrap();
    }
    let now = Utc::now();
    let end = now.duration_trunc(Duration::hours(1)).unwrap();
    history(&clients, &steady, end, 24 * 14, (25.0, 35.0)).await;
    history(&clients, &idle, end, 24 * 14, (2.0, 20.0)).await;
    history(&clients, &fresh, end, 20, (40.0, 50.0)).await;

    let vars: HashMap<&str, String> = HashMap::from([
        ("FLEETOPT_ENVIRONMENT", "production".to_owned()),
        ("FLEETOPT_APPLICATION", "it".to_owned()),
        ("FLEETOPT_TABLE", table),
        ("FLEETOPT_TARGET_GROUPS", format!("{steady},{idle},{fresh}")),
    ]);
    let config = Config::from_lookup(&|name| vars.get(name).cloned()).unwrap();
    let app = App::new(config, &sdk_config().await);
    let response = run(&app.config, &app.deps, &Trigger::Schedule, now)
        .await
        .unwrap();
    let calls = app.calls.take();
    eprintln!("AWS calls for 3 groups: {calls:?}");
    // One request per API for the whole fleet: the Graviton families ride in the same catalog
    // and price requests.
    for api in [
        "cloudwatch:GetMetricData",
        "pricing:GetProducts",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeSpotPriceHistory",
    ] {
        assert_eq!(calls.get(api), Some(&1), "{api}: {calls:?}");
    }
    let group = |name: &str| {
        response
            .groups
            .iter()
            .find(|g| g.auto_scaling_group_name == name)
            .unwrap()
    };
    let store = &app.deps.store;
    let right_sizing = |name: &str| {
        let ids = group(name).recommendation_ids.clone();
        async move {
            for id in ids {
                let r = store.get(&id).await.unwrap().unwrap();
                if r.kind == RecommendationType::InstanceTypeChange {
                    return Some(r);
                }
            }
            None
        }
    };
    use MigrationEffort::{Medium, VeryLow};
    use RightSizingAction::{ChangeInstanceType as Change, ScaleInIdleGroup as ScaleIn};

    // steady: a type fits with 20 % headroom from 2 vCPU (25 x 16 / 8 = 50 % projected) and
    // 8 GiB (35 x 64 / 32 = 70 %), risk 0 (under both targets). Savings, 4 instances x 730 h:
    // m6g.large (0.192 - 0.077) = 335.80 (59.9 %), m7g.large (0.192 - 0.0816) = 322.37
    // (57.5 %), m5.large (0.192 - 0.096) = 280.32 (50 %), tied with 2 x m5.xlarge and ahead of
    // it by name.
    let r = right_sizing(&steady).await.expect("steady's right-sizing");
    let outcome = r.evidence.right_sizing.as_ref().unwrap();
    assert_eq!(outcome.status, RightSizingStatus::OptionsFound);
    assert_eq!((outcome.cpu_hours, outcome.lookback_days), (336, 14));
    assert_eq!(
        (outcome.cpu_percent, outcome.memory_percent, outcome.idle),
        (Some(25.0), Some(35.0), false)
    );
    assert_eq!(
        rows(&outcome.options),
        [
            (
                1,
                Change,
                "m6g.large".into(),
                4,
                Some(50.0),
                Some(70.0),
                0,
                335.8,
                59.9,
                Medium
            ),
            (
                2,
                Change,
                "m7g.large".into(),
                4,
                Some(50.0),
                Some(70.0),
                0,
                322.37,
                57.5,
                Medium
            ),
            (
                3,
                Change,
                "m5.large".into(),
                4,
                Some(50.0),
                Some(70.0),
                0,
                280.32,
                50.0,
                VeryLow
            ),
        ]
    );
    let graviton = &outcome.options[0];
    assert_eq!(graviton.architecture, Architecture::Arm64);
    assert!(
        graviton.notes[0].contains("must support arm64"),
        "{graviton:?}"
    );
    assert_eq!(
        r.evidence.suggested_instance_type.as_deref(),
        Some("m6g.large")
    );

    // idle: CPU p99.5 2 % < 5 %. Scaling in to minSize 1 projects CPU 2 x 3 = 6 % and memory
    // 20 x 3 = 60 %, saving 2 x 0.096 x 730 = 140.16 $ (66.67 %); every type from 2 GiB fits
    // 3 instances (memory 20 x 8 / 2 = 80 %, x 1.2 = 96 %): c6g.medium saves 3 x (0.096 -
    // 0.034) x 730 = 135.78 $ (64.58 %), c7g.medium 3 x (0.096 - 0.0363) x 730 = 130.74 $
    // (62.19 %).
    let r = right_sizing(&idle).await.expect("idle's right-sizing");
    let outcome = r.evidence.right_sizing.as_ref().unwrap();
    assert!(outcome.idle);
    assert_eq!(
        rows(&outcome.options),
        [
            (
                1,
                ScaleIn,
                "m5.large".into(),
                1,
                Some(6.0),
                Some(60.0),
                0,
                140.16,
                66.67,
                VeryLow
            ),
            (
                2,
                Change,
                "c6g.medium".into(),
                3,
                Some(4.0),
                Some(80.0),
                0,
                135.78,
                64.58,
                Medium
            ),
            (
                3,
                Change,
                "c7g.medium".into(),
                3,
                Some(4.0),
                Some(80.0),
                0,
                130.74,
                62.19,
                Medium
            ),
        ]
    );
    // One right-sizing item per group, whatever ranks first; the capacity is in the evidence.
    assert_eq!(r.evidence.target_desired_capacity, Some(1));
    assert!(
        r.description.contains("scale in the idle group"),
        "{}",
        r.description
    );
    let summary = group(&idle).right_sizing.as_ref().unwrap();
    assert!(summary.idle && summary.options == 3);

    // fresh: 20 hours of CPU data, under the 30 needed: no right-sizing, and the response
    // says so with the hours it has.
    assert!(right_sizing(&fresh).await.is_none());
    let summary = group(&fresh).right_sizing.as_ref().unwrap();
    assert_eq!(summary.status, RightSizingStatus::InsufficientData);
    assert_eq!((summary.cpu_hours, summary.minimum_cpu_hours), (20, 30));
}

#[tokio::test]
async fn pricing_refused_degrades_the_run_and_the_commitments_are_still_written() {
    let (_, table, group) = fleet("refused", "m5.xlarge", 2).await;
    // Only this test's access key is refused Pricing (as an SCP would refuse it).
    let key = format!("AKIDREFUSED{}", std::process::id());
    let rule = serde_json::json!({
        "operation": "pricing:GetProducts",
        "accessKeyId": key,
        "error": 10,
        "errorCode": "AccessDeniedException",
        "errorMessage": "explicitly denied by a service control policy",
    });
    let (status, answer) =
        fleetopt_aws::emulator::proxy_admin("POST", "/_fleetopt/faults", &rule.to_string());
    assert_eq!(status, 200, "{answer}");
    let vars: HashMap<&str, String> = HashMap::from([
        ("FLEETOPT_ENVIRONMENT", "production".to_owned()),
        ("FLEETOPT_APPLICATION", "it".to_owned()),
        ("FLEETOPT_TABLE", table),
        ("FLEETOPT_TARGET_GROUPS", group),
    ]);
    let config = Config::from_lookup(&|name| vars.get(name).cloned()).unwrap();
    let app = App::new(config, &fleetopt_aws::emulator::sdk_config_as(&key).await);
    let response = run(&app.config, &app.deps, &Trigger::Schedule, Utc::now()).await;
    fleetopt_aws::emulator::proxy_admin(
        "DELETE",
        &format!("/_fleetopt/faults?operation=pricing:GetProducts&accessKeyId={key}"),
        "",
    );
    let response = response.unwrap();
    assert!(
        response
            .unavailable
            .iter()
            .any(|u| u.starts_with("on-demand prices") && u.contains("AccessDeniedException")),
        "{:?}",
        response.unavailable
    );
    assert_eq!(response.groups[0].hourly_cost_usd, None);
    // Reserved instances and savings plans come from Cost Explorer: still written.
    assert_eq!(response.account_recommendation_ids.len(), 2, "{response:?}");
}

/// GroupInServiceInstances of `group` in moto's AWS/AutoScaling: `value` at ten past each of
/// the `hours` whole hours from `start`.
async fn in_service(clients: &Clients, group: &str, start: DateTime<Utc>, hours: i64, value: f64) {
    let points: Vec<_> = (0..hours)
        .map(|h| (start + Duration::hours(h) + Duration::minutes(10), value))
        .collect();
    fleetopt_aws::emulator::put_datapoints(
        clients,
        ("AWS/AutoScaling", "GroupInServiceInstances", "None"),
        &[("AutoScalingGroupName", group.to_owned())],
        &points,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn savings_achieved_by_completed_changes_are_written_once_and_published() {
    use fleetopt_model::Status;
    use fleetopt_ports::fakes::contract::sample_over;
    use fleetopt_ports::{MetricQuery, MetricsSource, Statistic, TimeWindow, Transition};

    // grown: m5.xlarge (0.192 $/h), scaled up by the engine from 4 to 5 two days ago;
    // sized: right-sized by a person from m5.xlarge to m5.large (0.096 $/h), 4 instances,
    // approved then marked done 3 hours later, two days ago.
    let (clients, table, grown) = fleet("grown", "m5.xlarge", 5).await;
    let prefix = grown.trim_end_matches("-grown").to_owned();
    let sized = format!("{prefix}-sized");
    create_group(
        &clients,
        &SeedGroup {
            name: sized.clone(),
            min_size: 1,
            max_size: 8,
            desired: 4,
            tags: Vec::new(),
            instance_type: "m5.large".into(),
            target_group_arns: Vec::new(),
        },
    )
    .await
    .unwrap();
    let now = Utc::now();
    let hour = |t: DateTime<Utc>| t.duration_trunc(Duration::hours(1)).unwrap();
    let began = hour(now - Duration::days(2)) + Duration::minutes(5);
    let scaled = began + Duration::minutes(15);
    let approved = began;
    let done = began + Duration::hours(3);
    // A day before the change's hour, and a day from the first whole hour after it.
    in_service(&clients, &grown, hour(began) - Duration::hours(24), 24, 4.0).await;
    in_service(&clients, &grown, hour(scaled) + Duration::hours(1), 24, 5.0).await;
    in_service(
        &clients,
        &sized,
        hour(approved) - Duration::hours(24),
        24,
        4.0,
    )
    .await;
    in_service(&clients, &sized, hour(done) + Duration::hours(1), 24, 4.0).await;

    let namespace = format!("It{prefix}");
    let vars: HashMap<&str, String> = HashMap::from([
        ("FLEETOPT_ENVIRONMENT", "production".to_owned()),
        ("FLEETOPT_APPLICATION", "it".to_owned()),
        ("FLEETOPT_TABLE", table),
        ("FLEETOPT_TARGET_GROUPS", format!("{grown},{sized}")),
        ("FLEETOPT_METRICS_NAMESPACE", namespace.clone()),
    ]);
    let config = Config::from_lookup(&|name| vars.get(name).cloned()).unwrap();
    let app = App::new(config, &sdk_config().await);
    let store = &app.deps.store;
    let window = |end: DateTime<Utc>| fleetopt_model::AnalysisWindow {
        start: end - Duration::hours(1),
        end,
    };
    let mut scale_up = sample_over(&grown, window(hour(began)), began);
    store.put_new(&scale_up).await.unwrap();
    for (to, at) in [(Status::InProgress, began), (Status::Completed, scaled)] {
        scale_up = store
            .transition(&scale_up, &Transition::new(to, at, "optimization-engine"))
            .await
            .unwrap();
    }
    let mut right_sizing = sample_over(&sized, window(hour(began)), began);
    right_sizing.kind = RecommendationType::InstanceTypeChange;
    right_sizing.id = format!("{}-rs", right_sizing.id);
    right_sizing.implementation.action = None;
    right_sizing.evidence.instance_type = Some("m5.xlarge".into());
    store.put_new(&right_sizing).await.unwrap();
    for (to, at) in [
        (Status::AwaitingApproval, began - Duration::minutes(2)),
        (Status::Approved, approved),
        (Status::Completed, done),
    ] {
        right_sizing = store
            .transition(&right_sizing, &Transition::new(to, at, "alice"))
            .await
            .unwrap();
    }

    let first = run(&app.config, &app.deps, &Trigger::Schedule, now)
        .await
        .unwrap();
    let calls = app.calls.take();
    let mut measured: Vec<(String, f64)> = first
        .realized_savings
        .measured
        .iter()
        .map(|m| (m.auto_scaling_group_name.clone(), m.monthly_usd))
        .collect();
    measured.sort_by(|a, b| a.0.cmp(&b.0));
    // grown: (4 - 5) x 0.192 x 730 = -140.16 (a scale-up adds cost); sized: 4 x (0.192 -
    // 0.096) x 730 = 280.32.
    assert_eq!(
        measured,
        [(grown.clone(), -140.16), (sized.clone(), 280.32)],
        "{:?}",
        first.realized_savings
    );
    assert!(first.realized_savings.not_measured.is_empty());
    assert_eq!(first.realized_savings.achieved_monthly_usd, Some(140.16));
    let item = store.get(&scale_up.id).await.unwrap().unwrap();
    let saved = item.realized_savings.unwrap();
    assert_eq!((saved.instances_before, saved.instances_after), (4.0, 5.0));
    assert_eq!(saved.hourly_price_before, 0.192);
    let item = store.get(&right_sizing.id).await.unwrap().unwrap();
    let saved = item.realized_savings.unwrap();
    assert_eq!(
        (
            saved.instance_type_before.as_str(),
            saved.instance_type_after.as_str(),
            saved.hourly_price_after
        ),
        ("m5.xlarge", "m5.large", 0.096)
    );
    assert_eq!(
        (item.status, item.version),
        (Status::Completed, right_sizing.version)
    );
    // Still one PutMetricData, and one more GetMetricData for the capacity of both groups.
    assert_eq!(calls.get("cloudwatch:PutMetricData"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("cloudwatch:GetMetricData"), Some(&2), "{calls:?}");

    // RealizedSavings, per group and for the environment, in our namespace.
    let query = |id: &str, group: Option<&str>| MetricQuery {
        id: id.into(),
        namespace: namespace.clone().into(),
        name: "RealizedSavings",
        dimensions: std::iter::once(("Environment", "production".to_owned()))
            .chain(group.map(|g| ("AutoScalingGroupName", g.to_owned())))
            .collect(),
        statistic: Statistic::Average,
        period_seconds: 3600,
    };
    let read = app
        .deps
        .metrics
        .read(
            &TimeWindow {
                start: hour(now),
                end: hour(now) + Duration::hours(1),
            },
            &[
                query("grown", Some(&grown)),
                query("sized", Some(&sized)),
                query("env", None),
            ],
        )
        .await
        .unwrap();
    let values = |id: &str| -> Vec<f64> { read[id].iter().map(|(_, v)| *v).collect() };
    assert_eq!(values("grown"), [-140.16]);
    assert_eq!(values("sized"), [280.32]);
    assert_eq!(values("env"), [140.16]);

    // A second run, an hour later, writes nothing again (a new figure would carry its time).
    let before = [
        store.get(&scale_up.id).await.unwrap().unwrap(),
        store.get(&right_sizing.id).await.unwrap().unwrap(),
    ];
    let second = run(
        &app.config,
        &app.deps,
        &Trigger::Schedule,
        now + Duration::hours(1),
    )
    .await
    .unwrap();
    assert!(second.realized_savings.measured.is_empty(), "{second:?}");
    assert!(
        second.realized_savings.not_measured.is_empty(),
        "{second:?}"
    );
    assert_eq!(second.realized_savings.achieved_monthly_usd, Some(140.16));
    let after = [
        store.get(&scale_up.id).await.unwrap().unwrap(),
        store.get(&right_sizing.id).await.unwrap().unwrap(),
    ];
    assert_eq!(after, before);
}

/// An account of the test's own, with one group of 2 m5.large and a table: moto keeps the
/// GetCostAndUsage results queued for an account apart from every other account's, and the
/// proxy's per-key seeds (`keys/<AccessKeyId>/`) answer only this account's credentials.
struct OwnAccount {
    id: String,
    access_key: String,
    sdk: fleetopt_aws::SdkConfig,
    table: String,
    group: String,
}

impl OwnAccount {
    async fn new() -> OwnAccount {
        let id = fleetopt_aws::emulator::new_account_id();
        let (sdk, credentials) = fleetopt_aws::emulator::sdk_config_in(&id).await.unwrap();
        let clients = Clients::new(&sdk);
        let (table, group) =
            fleet_in(&clients, &format!("budget{id}"), "shop", "m5.large", 2).await;
        OwnAccount {
            id,
            access_key: credentials.access_key_id().to_owned(),
            sdk,
            table,
            group,
        }
    }

    /// Queues this account's two GetCostAndUsage answers, in the order the run asks: the
    /// account's months by service (`account_per_month` of EC2 in each), then the
    /// application's days (`application_per_day` each).
    fn queue_costs(&self, periods: &Periods, account_per_month: f64, application_per_day: f64) {
        let mut months = Vec::new();
        let mut month = periods.history_start;
        while month <= periods.month_start {
            let end = month.checked_add_months(chrono::Months::new(1)).unwrap();
            months.push(serde_json::json!({
                "TimePeriod": {"Start": month.to_string(), "End": end.to_string()},
                "Total": {},
                "Groups": [{"Keys": ["Amazon Elastic Compute Cloud - Compute"],
                            "Metrics": {"UnblendedCost": {"Amount": format!("{account_per_month:.2}"), "Unit": "USD"}}}],
                "Estimated": month == periods.month_start,
            }));
            month = end;
        }
        let (from, to) = periods.application_days();
        let days: Vec<_> = from
            .iter_days()
            .take_while(|d| *d < to)
            .map(|d| {
                serde_json::json!({
                    "TimePeriod": {"Start": d.to_string(), "End": d.succ_opt().unwrap().to_string()},
                    "Total": {"UnblendedCost": {"Amount": format!("{application_per_day:.2}"), "Unit": "USD"}},
                    "Groups": [],
                    "Estimated": d >= periods.month_start,
                })
            })
            .collect();
        let body = serde_json::json!({
            "account_id": self.id,
            "results": [
                {"ResultsByTime": months, "DimensionValueAttributes": []},
                {"ResultsByTime": days, "DimensionValueAttributes": []},
            ],
        });
        let (status, answer) = fleetopt_aws::emulator::proxy_admin(
            "POST",
            "/moto-api/static/ce/cost-and-usage-results",
            &body.to_string(),
        );
        assert_eq!(status, 201, "{answer}");
    }

    /// Writes `body` as this account's own seed `relative` (under `keys/<AccessKeyId>/`).
    fn seed(&self, relative: &str, body: serde_json::Value) {
        let (status, settings) = fleetopt_aws::emulator::proxy_admin("GET", "/_fleetopt/", "");
        assert_eq!(status, 200, "{settings}");
        let settings: serde_json::Value = serde_json::from_str(&settings).unwrap();
        let path = std::path::Path::new(settings["seedDir"].as_str().unwrap())
            .join("keys")
            .join(&self.access_key)
            .join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body.to_string()).unwrap();
    }

    fn config(&self, max_hourly_cost: &str) -> Config {
        let vars: HashMap<&str, String> = HashMap::from([
            ("FLEETOPT_ENVIRONMENT", "staging".to_owned()),
            ("FLEETOPT_APPLICATION", "shop".to_owned()),
            ("FLEETOPT_TABLE", self.table.clone()),
            ("FLEETOPT_TARGET_GROUPS", self.group.clone()),
            ("FLEETOPT_MAX_HOURLY_COST", max_hourly_cost.to_owned()),
        ]);
        Config::from_lookup(&|name| vars.get(name).cloned()).unwrap()
    }
}

#[tokio::test]
async fn a_month_over_budget_for_the_account_is_not_over_for_the_application() {
    let account = OwnAccount::new().await;
    let now = Utc::now();
    let periods = Periods::new(now.date_naive(), cost_optimizer::analysis::HISTORY_MONTHS).unwrap();
    // The account spends 50,000 $ a month; the application 2 $ a day and 30 $ to come.
    account.queue_costs(&periods, 50_000.0, 2.0);
    if let Some((start, end)) = periods.forecast() {
        account.seed(
            "ce/GetCostForecast.json",
            serde_json::json!({
                "Total": {"Amount": "30.00", "Unit": "USD"},
                "ForecastResultsByTime": [{"TimePeriod": {"Start": start.to_string(), "End": end.to_string()},
                                           "MeanValue": "30.00"}],
            }),
        );
    }
    let app = App::new(account.config("1.0"), &account.sdk);
    let response = run(&app.config, &app.deps, &Trigger::Schedule, now)
        .await
        .unwrap();
    let forecast = if periods.forecast().is_some() {
        30.0
    } else {
        0.0
    };
    let costs = response.costs.unwrap();
    // The account's month is far over 1 $/h x the month's hours...
    let this_month = costs.months.last().unwrap();
    assert!(
        this_month.total > f64::from(periods.hours_in_month()),
        "{this_month:?}"
    );
    // ...the application's is not: its own days of this month, and its own forecast.
    let days_so_far = f64::from(
        periods
            .tomorrow
            .signed_duration_since(periods.month_start)
            .num_days() as i32,
    );
    let p = costs.budget.projection.expect("a projection");
    assert_eq!(p.month_to_date, 2.0 * days_so_far);
    assert_eq!(p.projected, 2.0 * days_so_far + forecast);
    assert_eq!(p.budget, f64::from(periods.hours_in_month()));
    assert!(!p.over_budget, "{p:?}");
    assert_eq!(costs.budget.tag, TagCheck::NotNeeded);
    // No tag check was needed: five Cost Explorer requests (four on a month's last day).
    let forecasts = u32::from(periods.forecast().is_some());
    assert_eq!(response.cost_explorer_calls, 4 + forecasts);
    assert_eq!(app.calls.take().get("ce:ListCostAllocationTags"), None);
}

#[tokio::test]
async fn a_tag_not_activated_for_cost_allocation_is_named_and_no_budget_is_judged() {
    let account = OwnAccount::new().await;
    let now = Utc::now();
    let periods = Periods::new(now.date_naive(), cost_optimizer::analysis::HISTORY_MONTHS).unwrap();
    // The account spends; nothing carries the application's tag, which Billing knows but has
    // not activated.
    account.queue_costs(&periods, 500.0, 0.0);
    account.seed(
        "ce/ListCostAllocationTags.json",
        serde_json::json!({"CostAllocationTags": [{
            "TagKey": cost_optimizer::analysis::APPLICATION_TAG,
            "Type": "UserDefined",
            "Status": "Inactive",
        }]}),
    );
    let app = App::new(account.config("1.0"), &account.sdk);
    let response = run(&app.config, &app.deps, &Trigger::Schedule, now)
        .await
        .unwrap();
    let budget = response.costs.unwrap().budget;
    assert_eq!(budget.projection, None);
    assert_eq!(budget.tag, TagCheck::Inactive);
    let why = budget.unavailable.unwrap();
    assert!(
        why.contains("fleet-optimizer:application is not activated"),
        "{why}"
    );
    assert_eq!(app.calls.take().get("ce:ListCostAllocationTags"), Some(&1));
}
