//! The built `analyzer` binary through the Lambda runtime API (`cargo lambda watch`), invoked
//! by `fleetopt analyze` through the Lambda Invoke API, against the emulator.

use fleetopt_aws::{Clients, FunctionInvoker, InvokeError, create_table};
use fleetopt_model::recommendations_table;
use serde_json::{Value, json};

use crate::support::{
    LocalLambda, emulator_config, fleetopt_at, output_within, overloaded_group, stderr, stdout,
    unique_name,
};

/// A group overloaded for the last hour (CPU 85 %, peak 95 %, 4 of 10 instances), a fresh
/// table, and the analyzer running locally against both.
async fn overloaded_fleet() -> (String, String, LocalLambda) {
    let config = emulator_config().await;
    let clients = Clients::new(&config);
    let group = unique_name("e2e-web");
    let table = unique_name("e2e-analyzer");
    create_table(&clients.dynamodb, recommendations_table(), &table)
        .await
        .unwrap();
    overloaded_group(&clients, &group).await;
    let lambda = LocalLambda::start(
        "analyzer",
        &[
            ("FLEETOPT_ENVIRONMENT", "production".into()),
            ("FLEETOPT_APPLICATION", "e2e".into()),
            ("FLEETOPT_TABLE", table.clone()),
            ("FLEETOPT_TARGET_GROUPS", group.clone()),
        ],
    );
    (group, table, lambda)
}

#[tokio::test]
async fn fleetopt_analyze_runs_the_analyzer_binary_through_the_lambda_apis() {
    let (group, table, lambda) = overloaded_fleet().await;
    let endpoint = crate::support::emulator_endpoint();
    let analyze = |extra: &[&str]| {
        let mut args = vec!["analyze", "--function-name", "analyzer", "--group", &group];
        args.extend_from_slice(extra);
        let mut command = std::process::Command::new(crate::support::binary("fleetopt"));
        command
            .args(&args)
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_ENDPOINT_URL_LAMBDA", &lambda.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_PROFILE");
        let output = output_within(command, 120);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        stdout(&output)
    };
    let v: Value = serde_json::from_str(&analyze(&["--output", "json"])).unwrap();
    assert_eq!(v["environment"], "production");
    assert_eq!(v["dryRun"], false);
    let g = &v["groups"][0];
    assert_eq!(g["autoScalingGroupName"], group.as_str());
    assert_eq!(g["status"], "SCORED");
    assert_eq!(g["missing"], json!(["memory", "responseTime"]));
    assert_eq!(g["recommendationIds"].as_array().unwrap().len(), 1);
    assert_eq!(v["recommendationsWritten"], 1);
    assert_eq!(v["awsCalls"]["cloudwatch:GetMetricData"], 2);

    // The second run over the same window writes nothing new; the table view says so.
    let text = analyze(&[]);
    assert!(text.contains("0 recommendation(s) written"), "{text}");
    assert!(text.contains("SCORED"), "{text}");

    let listed = fleetopt_at(
        &endpoint,
        &[
            "recommendations",
            "--table",
            &table,
            "--type",
            "SCALE_UP",
            "--output",
            "json",
        ],
    );
    let listed: Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(listed["count"], 1);
    assert_eq!(
        listed["recommendations"][0]["evidence"]["targetDesiredCapacity"],
        5
    );
}

#[tokio::test]
async fn a_malformed_event_is_a_function_error_and_the_function_keeps_serving() {
    let (_, _, lambda) = overloaded_fleet().await;
    let mut config = emulator_config().await.into_builder();
    config.set_endpoint_url(Some(lambda.endpoint.clone()));
    let invoker = FunctionInvoker::from_config(&config.build());
    let (malformed, dry_run) = (json!({"Records": []}), json!({"dryRun": true}));
    let within = |f| tokio::time::timeout(std::time::Duration::from_secs(120), f);
    match within(invoker.invoke("analyzer", &malformed))
        .await
        .expect("the analyzer answered within 120 s")
    {
        Err(InvokeError::Function {
            error_type,
            message,
            ..
        }) => {
            assert_eq!(error_type, "InvalidEvent");
            assert!(message.contains("Scheduled Event"), "{message}");
        }
        other => panic!("expected a function error, got {other:?}"),
    }
    let answer = within(invoker.invoke("analyzer", &dry_run))
        .await
        .expect("the analyzer answered within 120 s")
        .unwrap();
    assert_eq!(answer["dryRun"], true);
}

#[test]
fn the_analyzer_refuses_to_start_with_an_invalid_configuration() {
    let mut command = std::process::Command::new(crate::support::binary("analyzer"));
    command
        .env("FLEETOPT_ENVIRONMENT", "production")
        .env("FLEETOPT_APPLICATION", "e2e")
        .env("FLEETOPT_CPU_UTILIZATION_TARGET", "95")
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9");
    let output = output_within(command, 30);
    assert!(!output.status.success());
    let all = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        all.contains("FLEETOPT_CPU_UTILIZATION_TARGET=\\\"95\\\": must be between 20 and 90")
            || all.contains("FLEETOPT_CPU_UTILIZATION_TARGET=\"95\": must be between 20 and 90"),
        "{all}"
    );
}
