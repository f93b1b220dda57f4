//! `fleetopt metrics` against the emulator: the section 4 figures of a group, with statuses,
//! score and rating, and a clear failure for a group that does not exist.

use chrono::{DurationRound, TimeDelta, Utc};
use fleetopt_aws::Clients;
use fleetopt_aws::emulator::put_load;
use serde_json::Value;

use crate::support::{
    emulator_config, emulator_endpoint, fleetopt_at, overloaded_group, stderr, stdout, unique_name,
};

#[tokio::test]
async fn metrics_show_figures_statuses_and_the_score() {
    let clients = Clients::new(&emulator_config().await);
    let group = unique_name("e2e-metrics");
    overloaded_group(&clients, &group).await;
    let end = Utc::now().duration_trunc(TimeDelta::minutes(5)).unwrap() + TimeDelta::minutes(5);
    put_load(
        &clients,
        ("CWAgent", "mem_used_percent"),
        &group,
        (75.0, 75.0),
        end,
        13,
    )
    .await
    .unwrap();
    let endpoint = emulator_endpoint();
    let output = fleetopt_at(
        &endpoint,
        &["metrics", "--group", &group, "--output", "json"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let v: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(v["status"], "SCORED");
    assert!((v["figures"]["cpuAverage"].as_f64().unwrap() - 85.0).abs() < 1e-9);
    assert_eq!(v["figures"]["cpuPeak"], 95.0);
    assert_eq!(v["figures"]["inService"], 4);
    assert_eq!(v["statuses"]["cpu"], "HIGH");
    assert_eq!(v["statuses"]["memory"], "OPTIMAL");
    assert_eq!(v["missing"], serde_json::json!(["responseTime"]));
    // cpu(85) = 75, mem 100, cap(40 %) 100, response missing: (4*75 + 3*100 + 2*100) / 9.
    let expected = (4.0 * 75.0 + 3.0 * 100.0 + 2.0 * 100.0) / 9.0;
    assert!((v["performanceScore"].as_f64().unwrap() - expected).abs() < 1e-9);
    assert_eq!(v["performanceLabel"], "GOOD");

    let table = fleetopt_at(&endpoint, &["metrics", "--group", &group]);
    let text = stdout(&table);
    assert!(
        text.contains("CPU average") && text.contains("85.0 %") && text.contains("HIGH"),
        "{text}"
    );
    assert!(text.contains("Performance score 88.9 GOOD"), "{text}");
}

#[test]
fn an_unknown_group_is_a_runtime_failure() {
    let output = fleetopt_at(
        &emulator_endpoint(),
        &["metrics", "--group", "no-such-group"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("Auto Scaling group no-such-group not found"));
}
