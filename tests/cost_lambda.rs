//! The built `cost-optimizer` binary through the Lambda runtime API (`cargo lambda watch`),
//! against the emulator and the demo's cost seeds: what the daily schedule, the low-CPU alarm
//! and a bad event do to one process that stays warm between them.
//!
//! The seeds (prices, spot history, forecast, purchase recommendations) are shared by every
//! test on the emulator, and moto's GetCostAndUsage queue is per account (see `cost.rs`), so
//! this test asserts what its own group yields and the calls the process makes, not the
//! account's totals.

use chrono::{Datelike, Duration, DurationRound, Utc};
use fleetopt_aws::emulator::{SeedGroup, create_group, put_series};
use fleetopt_aws::{Clients, FunctionInvoker, InvokeError, create_table};
use fleetopt_model::{RecommendationType, Status, recommendations_table};
use fleetopt_ports::RecommendationStore;
use serde_json::{Value, json};

use crate::support::{LocalLambda, emulator_config, repo, unique_name};

/// A group of 4 m5.xlarge whose 14 days of hourly maxima (CPU 25 %, memory 35 %) fit 2 vCPU
/// and 8 GiB an instance with 20 % headroom (m5.large, m6g.large, m7g.large, ...), and a fresh
/// table.
async fn oversized_group(clients: &Clients) -> (String, String) {
    let status = std::process::Command::new(repo().join("scripts/emulator"))
        .arg("seed-costs")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "scripts/emulator seed-costs failed");
    let group = unique_name("e2e-batch");
    let table = unique_name("e2e-cost");
    create_table(&clients.dynamodb, recommendations_table(), &table)
        .await
        .unwrap();
    create_group(
        clients,
        &SeedGroup {
            name: group.clone(),
            min_size: 1,
            max_size: 8,
            desired: 4,
            tags: Vec::new(),
            instance_type: "m5.xlarge".into(),
            target_group_arns: Vec::new(),
        },
    )
    .await
    .unwrap();
    let end = Utc::now().duration_trunc(Duration::hours(1)).unwrap();
    let at = |h| end - Duration::hours(h) + Duration::minutes(10);
    let cpu: Vec<_> = (1..=24 * 14).map(|h| (at(h), 25.0)).collect();
    let memory: Vec<_> = (1..=24 * 14).map(|h| (at(h), 35.0)).collect();
    put_series(clients, "AWS/EC2", "CPUUtilization", &group, &cpu)
        .await
        .unwrap();
    put_series(clients, "CWAgent", "mem_used_percent", &group, &memory)
        .await
        .unwrap();
    (group, table)
}

/// The low-CPU alarm's EventBridge state change for `group`, from the AWS-shaped fixture.
fn low_cpu_alarm(group: &str) -> Value {
    let path = repo().join("shared/events/fixtures/eventbridge-alarm-state-change.json");
    let mut event: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    event["detail"]["alarmName"] = "e2e-production-low-cpu".into();
    event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"] =
        json!({"AutoScalingGroupName": group});
    event
}

#[tokio::test]
async fn the_cost_optimizer_binary_finds_right_sizing_then_serves_warm_from_its_caches() {
    let config = emulator_config().await;
    let clients = Clients::new(&config);
    let (group, table) = oversized_group(&clients).await;
    let lambda = LocalLambda::start(
        "cost-optimizer",
        &[
            ("FLEETOPT_ENVIRONMENT", "production".into()),
            ("FLEETOPT_APPLICATION", "e2e".into()),
            ("FLEETOPT_TABLE", table.clone()),
            ("FLEETOPT_TARGET_GROUPS", group.clone()),
        ],
    );
    let mut lambda_config = config.clone().into_builder();
    lambda_config.set_endpoint_url(Some(lambda.endpoint.clone()));
    let invoker = FunctionInvoker::from_config(&lambda_config.build());
    let invoke = |payload: Value| {
        let invoker = &invoker;
        async move {
            tokio::time::timeout(
                std::time::Duration::from_secs(120),
                invoker.invoke("cost-optimizer", &payload),
            )
            .await
            .expect("the cost optimizer answered within 120 s")
        }
    };

    // The daily schedule, cold.
    let schedule: Value = serde_json::from_slice(
        &std::fs::read(repo().join("shared/events/fixtures/eventbridge-schedule.json")).unwrap(),
    )
    .unwrap();
    // On a month's last day there is nothing left of it to forecast: one call fewer. The
    // binary reads the clock itself, so either side of a midnight during the call is right.
    let forecasts = |at: chrono::DateTime<Utc>| {
        u64::from(at.date_naive().succ_opt().is_some_and(|d| d.day() != 1))
    };
    let before = forecasts(Utc::now());
    let cold = invoke(schedule).await.unwrap();
    let after = forecasts(Utc::now());
    assert_eq!(cold["environment"], "production", "{cold}");
    assert_eq!(cold["dryRun"], false);
    let calls = cold["costExplorerCalls"].as_u64();
    // And a sixth, ListCostAllocationTags, only when no cost carried the application's tag:
    // this test shares the emulator's default account, whose queued daily costs other runs
    // may have taken first.
    let tag_check = cold["awsCalls"]["ce:ListCostAllocationTags"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(
        tag_check,
        u64::from(cold["costs"]["budget"]["tag"] != "NOT_NEEDED"),
        "{cold}"
    );
    assert!(
        calls == Some(4 + before + tag_check) || calls == Some(4 + after + tag_check),
        "{cold}"
    );
    // Requests as sent, pages included: the ce:* calls the SDK counted.
    let sent: u64 = cold["awsCalls"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(api, _)| api.starts_with("ce:"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    assert_eq!(calls, Some(sent), "{cold}");
    for api in [
        "pricing:GetProducts",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeInstanceTypes",
        "cloudwatch:PutMetricData",
    ] {
        assert_eq!(cold["awsCalls"][api], 1, "{api}: {cold}");
    }
    let g = &cold["groups"][0];
    assert_eq!(g["autoScalingGroupName"], group.as_str());
    assert_eq!(g["instanceType"], "m5.xlarge");
    // 4 x 0.192 $/h on demand.
    assert_eq!(g["hourlyCostUsd"], 0.768);
    let store = clients.store(&table);
    let mut right_sizing = None;
    for id in g["recommendationIds"].as_array().unwrap() {
        let r = store.get(id.as_str().unwrap()).await.unwrap().unwrap();
        assert_eq!(r.status, Status::Pending);
        if r.kind == RecommendationType::InstanceTypeChange {
            right_sizing = Some(r);
        }
    }
    let right_sizing = right_sizing.expect("a right-sizing recommendation");
    // The best option is Graviton: 4 x (0.192 - 0.077) x 730 h = 335.80 $ (59.9 %); then
    // m7g.large, 4 x (0.192 - 0.0816) x 730 = 322.37 $; then m5.large, 4 x (0.192 - 0.096) x
    // 730 = 280.32 $ (the tie with 2 x m5.xlarge goes to the name).
    assert_eq!(
        right_sizing.evidence.suggested_instance_type.as_deref(),
        Some("m6g.large")
    );
    assert_eq!(
        right_sizing.expected_impact.monthly_savings_usd,
        Some(335.8)
    );
    let options: Vec<(String, f64)> = right_sizing
        .evidence
        .right_sizing
        .as_ref()
        .expect("the options in the evidence")
        .options
        .iter()
        .map(|o| (o.instance_type.clone(), o.monthly_savings_usd))
        .collect();
    assert_eq!(
        options,
        [
            ("m6g.large".to_owned(), 335.8),
            ("m7g.large".to_owned(), 322.37),
            ("m5.large".to_owned(), 280.32)
        ]
    );
    assert_eq!(g["rightSizing"]["status"], "OPTIONS_FOUND", "{cold}");
    assert_eq!(g["rightSizing"]["cpuHours"], 336, "{cold}");

    // The low-CPU alarm for the same group, warm: the same findings (same day, same ids, nothing
    // written twice) and no price or catalog call: they come from the process's caches.
    let warm = invoke(low_cpu_alarm(&group)).await.unwrap();
    assert_eq!(warm["recommendationsWritten"], 0, "{warm}");
    assert_eq!(
        warm["groups"][0]["recommendationIds"],
        g["recommendationIds"]
    );
    for api in [
        "pricing:GetProducts",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeInstanceTypes",
    ] {
        assert!(warm["awsCalls"].get(api).is_none(), "{api}: {warm}");
    }
    assert_eq!(warm["cache"]["onDemand"]["misses"], 0, "{warm}");
    assert!(
        warm["cache"]["catalog"]["hits"].as_u64().unwrap() > 0,
        "{warm}"
    );

    // An event it does not take is a function error naming what it accepts; the process keeps
    // serving.
    match invoke(json!({"Records": [{"eventSource": "aws:s3"}]})).await {
        Err(InvokeError::Function {
            error_type,
            message,
            ..
        }) => {
            assert_eq!(error_type, "InvalidEvent");
            assert!(message.contains("the cost optimizer accepts"), "{message}");
        }
        other => panic!("expected a function error, got {other:?}"),
    }
    let dry = invoke(json!({"dryRun": true})).await.unwrap();
    assert_eq!(dry["dryRun"], true, "{dry}");
    assert_eq!(dry["recommendationsWritten"], 0, "{dry}");
}
