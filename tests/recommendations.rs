//! `fleetopt recommendations` against the emulator: it reads what the adapters wrote, through
//! the GSIs, as a table or as stable JSON, and fails with exit 1 when AWS does.

use fleetopt_aws::{DynamoRecommendationStore, create_table};
use fleetopt_model::recommendations_table;
use fleetopt_ports::RecommendationStore;
use serde_json::Value;

use crate::support::{
    emulator_config, emulator_endpoint, fleetopt_at, recent_sample, stderr, stdout, unique_name,
};

/// A fresh table holding two recommendations for `web` (hours 7 and 8) and one for `api`.
async fn seeded_table() -> (String, Vec<String>) {
    let config = emulator_config().await;
    let name = unique_name("e2e-recs");
    create_table(
        &aws_sdk_dynamodb::Client::new(&config),
        recommendations_table(),
        &name,
    )
    .await
    .unwrap();
    let store = DynamoRecommendationStore::from_config(&config, &name);
    let mut ids = Vec::new();
    for (group, hour) in [("web", 7), ("web", 8), ("api", 8)] {
        let r = recent_sample(group, hour);
        store.put_new(&r).await.unwrap();
        ids.push(r.id);
    }
    (name, ids)
}

#[tokio::test]
async fn json_lists_the_stored_items_newest_first_with_stable_keys() {
    let (table, ids) = seeded_table().await;
    let output = fleetopt_at(
        &emulator_endpoint(),
        &[
            "recommendations",
            "--table",
            &table,
            "--priority",
            "HIGH",
            "--output",
            "json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let v: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(v["table"], table.as_str());
    assert_eq!(v["count"], 3);
    let items = v["recommendations"].as_array().unwrap();
    let timestamps: Vec<&str> = items
        .iter()
        .map(|i| i["timestamp"].as_str().unwrap())
        .collect();
    assert!(
        timestamps.windows(2).all(|w| w[0] >= w[1]),
        "{timestamps:?}"
    );
    for item in items {
        assert!(ids.contains(&item["id"].as_str().unwrap().to_owned()));
        for key in [
            "id",
            "timestamp",
            "type",
            "priority",
            "description",
            "status",
            "expectedImpact",
            "implementation",
            "evidence",
            "autoScalingGroupName",
            "environment",
            "source",
            "version",
            "statusHistory",
            "ttl",
        ] {
            assert!(item.get(key).is_some(), "missing {key} in {item}");
        }
        assert_eq!(item["type"], "SCALE_UP");
        assert_eq!(item["status"], "PENDING");
    }
}

#[tokio::test]
async fn filters_and_limit_narrow_the_list() {
    let (table, _) = seeded_table().await;
    let endpoint = emulator_endpoint();
    let count = |args: &[&str]| -> u64 {
        let mut all = vec!["recommendations", "--table", &table, "--output", "json"];
        all.extend_from_slice(args);
        let output = fleetopt_at(&endpoint, &all);
        assert!(output.status.success(), "{}", stderr(&output));
        serde_json::from_str::<Value>(&stdout(&output)).unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count(&[]), 3);
    assert_eq!(count(&["--type", "SCALE_UP", "--status", "PENDING"]), 3);
    assert_eq!(count(&["--type", "SCALE_DOWN"]), 0);
    assert_eq!(count(&["--priority", "LOW"]), 0);
    assert_eq!(count(&["--status", "APPROVED"]), 0);
    assert_eq!(count(&["--limit", "2"]), 2);
}

#[tokio::test]
async fn table_output_shows_each_recommendation() {
    let (table, ids) = seeded_table().await;
    let output = fleetopt_at(
        &emulator_endpoint(),
        &["recommendations", "--table", &table],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with(&format!("3 recommendation(s) in {table}")),
        "{text}"
    );
    for id in &ids {
        assert!(text.contains(id.as_str()), "{id} not in {text}");
    }
    assert!(text.contains("SCALE_UP") && text.contains("PENDING") && text.contains("web"));
}

#[test]
fn a_missing_table_is_a_runtime_failure_naming_it() {
    let output = fleetopt_at(
        &emulator_endpoint(),
        &["recommendations", "--table", "no-such-table"],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("no-such-table"), "{err}");
    assert!(err.contains("ResourceNotFoundException"), "{err}");
}

#[test]
fn an_unreachable_endpoint_is_a_runtime_failure_not_a_hang_or_panic() {
    // Port 9 (discard) on loopback: nothing listens there.
    let output = fleetopt_at("http://127.0.0.1:9", &["recommendations", "--limit", "1"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("Connection refused") || err.contains("DispatchFailure"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unknown_filter_values_are_usage_errors() {
    let output = fleetopt_at(
        &emulator_endpoint(),
        &["recommendations", "--status", "DONE"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("expected one of PENDING"));
}

#[tokio::test]
async fn an_item_another_version_wrote_is_skipped_with_a_warning_and_the_rest_listed() {
    let (table, ids) = seeded_table().await;
    let config = crate::support::emulator_config().await;
    aws_sdk_dynamodb::Client::new(&config)
        .put_item()
        .table_name(&table)
        .item(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S("foreign".into()),
        )
        .item(
            "timestamp",
            aws_sdk_dynamodb::types::AttributeValue::S("2026-11-23T09:00:00Z".into()),
        )
        .item(
            "type",
            aws_sdk_dynamodb::types::AttributeValue::S("SCALE_UP".into()),
        )
        .item(
            "priority",
            aws_sdk_dynamodb::types::AttributeValue::S("HIGH".into()),
        )
        .item(
            "status",
            aws_sdk_dynamodb::types::AttributeValue::S("PENDING".into()),
        )
        .send()
        .await
        .unwrap();
    let output = crate::support::fleetopt_at(
        &crate::support::emulator_endpoint(),
        &["recommendations", "--table", &table, "--output", "json"],
    );
    assert!(
        output.status.success(),
        "{}",
        crate::support::stderr(&output)
    );
    let v: serde_json::Value = serde_json::from_str(&crate::support::stdout(&output)).unwrap();
    assert_eq!(v["count"], ids.len());
    assert_eq!(v["skipped"], serde_json::json!(["foreign"]));
    assert!(
        crate::support::stderr(&output).contains(
            "warning: skipped 1 item(s) that are not recommendations (written by another \
             version, or by hand): foreign"
        ),
        "{}",
        crate::support::stderr(&output)
    );
}
