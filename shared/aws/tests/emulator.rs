//! The DynamoDB adapter against the local emulator (moto server), with the real
//! `aws-sdk-dynamodb`: the same contract suite the in-memory fake passes, on a real table
//! created from the shared schema file.
//!
//! Needs a running emulator: `scripts/test` starts one; by hand, `scripts/emulator start`.
//! `fleetopt_aws::emulator` finds the endpoint (`AWS_ENDPOINT_URL` or `.emulator/endpoint`) and
//! refuses anything not on loopback: these tests never run against a real account.

// A test that cannot set up must fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{StreamViewType, TimeToLiveStatus};
use fleetopt_aws::{DynamoRecommendationStore, TableCreation, create_table};
use fleetopt_model::recommendations_table;
use fleetopt_ports::fakes::contract;

async fn client() -> Client {
    Client::new(&fleetopt_aws::emulator::sdk_config().await)
}

/// A fresh table for one test, so tests run in parallel without seeing each other's items.
async fn fresh_store() -> (Client, DynamoRecommendationStore) {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "it-{}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let client = client().await;
    assert_eq!(
        create_table(&client, recommendations_table(), &name).await,
        Ok(TableCreation::Created)
    );
    (client.clone(), DynamoRecommendationStore::new(client, name))
}

#[tokio::test]
async fn writing_the_same_recommendation_twice_leaves_one_item() {
    let (client, store) = fresh_store().await;
    contract::put_twice_keeps_one(&store, "web").await;
    let count = client
        .scan()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .count;
    assert_eq!(count, 1);
}

#[tokio::test]
async fn recommendations_read_back_whole_through_type_and_priority_indexes() {
    let (_, store) = fresh_store().await;
    contract::reads_back_whole_through_both_indexes(&store, "web").await;
}

#[tokio::test]
async fn a_status_transition_with_a_stale_version_is_refused() {
    let (_, store) = fresh_store().await;
    contract::stale_transition_is_refused(&store, "web").await;
}

#[tokio::test]
async fn a_snooze_is_stored_and_cleared_when_it_ends() {
    let (_, store) = fresh_store().await;
    contract::snooze_round_trips(&store, "web").await;
}

#[tokio::test]
async fn executions_and_notes_are_written_conditionally() {
    let (_, store) = fresh_store().await;
    contract::execution_and_notes_are_conditional_too(&store, "web").await;
}

#[tokio::test]
async fn a_transition_of_a_missing_item_creates_nothing() {
    let (_, store) = fresh_store().await;
    contract::transition_of_a_missing_item_fails(&store, "web").await;
}

#[tokio::test]
async fn the_table_is_built_as_the_schema_file_says() {
    let (client, store) = fresh_store().await;
    let schema = recommendations_table();
    let table = client
        .describe_table()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let keys: Vec<(&str, &str)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type().as_str()))
        .collect();
    assert_eq!(keys, vec![("id", "HASH"), ("timestamp", "RANGE")]);
    let mut indexes: Vec<String> = table
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            let keys: Vec<&str> = i.key_schema().iter().map(|k| k.attribute_name()).collect();
            format!("{}({})", i.index_name().unwrap_or_default(), keys.join(","))
        })
        .collect();
    indexes.sort();
    assert_eq!(
        indexes,
        vec![
            "PriorityIndex(priority,timestamp)",
            "TypeIndex(type,timestamp)"
        ]
    );
    let stream = table.stream_specification().unwrap();
    assert!(stream.stream_enabled());
    assert_eq!(
        stream.stream_view_type(),
        Some(&StreamViewType::NewAndOldImages)
    );
    let ttl = client
        .describe_time_to_live()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(
        ttl.attribute_name(),
        Some(schema.time_to_live_attribute.as_str())
    );
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    // Creating it again is harmless.
    assert_eq!(
        create_table(&client, schema, store.table()).await,
        Ok(TableCreation::AlreadyExists)
    );
}

#[tokio::test]
async fn refreshes_outcomes_and_approvals_are_written_conditionally() {
    let (_, store) = fresh_store().await;
    contract::refresh_outcome_and_approval_are_conditional(&store, "web").await;
}

#[tokio::test]
async fn realized_savings_are_written_once_on_a_completed_item() {
    let (_, store) = fresh_store().await;
    contract::realized_savings_are_recorded_once(&store, "web").await;
}

#[tokio::test]
async fn group_locks_exclude_each_other_and_stay_out_of_every_listing() {
    use fleetopt_ports::{RecommendationQuery, RecommendationStore};
    let (_, store) = fresh_store().await;
    contract::group_locks_exclude_each_other(&store, "web").await;
    // A lock item has no `type`: no index holds it, so no query ever returns it.
    let found = store.query(&RecommendationQuery::default()).await.unwrap();
    assert!(found.is_empty() && found.skipped.is_empty(), "{found:?}");
}

#[tokio::test]
async fn a_kms_signature_verifies_only_for_its_message_and_key() {
    use fleetopt_ports::{Signer, Verifier};
    let clients = fleetopt_aws::Clients::new(&fleetopt_aws::emulator::sdk_config().await);
    let suffix = std::process::id();
    let approvals =
        fleetopt_aws::emulator::signing_key(&clients, &format!("alias/it-approvals-{suffix}"))
            .await
            .unwrap();
    let other = fleetopt_aws::emulator::signing_key(&clients, &format!("alias/it-other-{suffix}"))
        .await
        .unwrap();
    // The alias finds the same key again.
    assert_eq!(
        fleetopt_aws::emulator::signing_key(&clients, &format!("alias/it-approvals-{suffix}"))
            .await
            .unwrap(),
        approvals
    );
    let keys = fleetopt_aws::KmsKeys::new(clients.kms.clone());
    let signature = keys.sign(&approvals, b"approve rec-1").await.unwrap();
    assert_eq!(signature.key_id, approvals);
    assert!(
        keys.verify(&approvals, b"approve rec-1", &signature.bytes)
            .await
            .unwrap()
    );
    assert!(
        !keys
            .verify(&approvals, b"approve rec-2", &signature.bytes)
            .await
            .unwrap()
    );
    assert!(
        !keys
            .verify(&other, b"approve rec-1", &signature.bytes)
            .await
            .unwrap()
    );
    let mut forged = signature.bytes.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert!(
        !keys
            .verify(&approvals, b"approve rec-1", &forged)
            .await
            .unwrap()
    );
    assert_eq!(clients.calls.snapshot().get("kms:Sign"), Some(&1));
}
