//! `scripts/emulator create-table` builds the table from the shared schema file, as the Rust
//! adapters and the stack do: checked here through the real DynamoDB API on the emulator.

use std::process::Command;

use crate::support::{emulator_config, repo, stderr, stdout, unique_name};

fn create_table(name: &str) -> std::process::Output {
    Command::new(repo().join("scripts/emulator"))
        .args(["create-table", "--name", name])
        .output()
        .unwrap()
}

#[tokio::test]
async fn create_table_script_builds_the_schema_and_is_idempotent() {
    let name = unique_name("e2e-script");
    let first = create_table(&name);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(stdout(&first).trim(), name);
    let again = create_table(&name);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("already exists"));

    let client = aws_sdk_dynamodb::Client::new(&emulator_config().await);
    let table = client
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let mut indexes: Vec<&str> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name())
        .collect();
    indexes.sort();
    assert_eq!(indexes, vec!["PriorityIndex", "TypeIndex"]);
    assert!(table.stream_specification().unwrap().stream_enabled());
    let ttl = client
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.attribute_name(), Some("ttl"));
}

#[test]
fn unknown_commands_exit_2_with_the_usage() {
    let output = Command::new(repo().join("scripts/emulator"))
        .arg("launch")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown command 'launch'"));
    assert!(stderr(&output).contains("create-table"));
}
