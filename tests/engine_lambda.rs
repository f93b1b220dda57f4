//! The built `optimization-engine` binary through the Lambda runtime API (`cargo lambda
//! watch`), fed what the analyzer binary wrote: the whole automated path, process by process.

use fleetopt_aws::{Clients, FunctionInvoker, InvokeError, create_table};
use fleetopt_model::{RecommendationType, Status, recommendations_table};
use fleetopt_ports::{RecommendationQuery, RecommendationStore};
use optimization_engine::event::{ItemChange, stream_event};
use serde_json::{Value, json};

use crate::support::{LocalLambda, emulator_config, overloaded_group, signing_keys, unique_name};

async fn invoke(
    invoker: &FunctionInvoker,
    function: &str,
    payload: &Value,
) -> Result<Value, InvokeError> {
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        invoker.invoke(function, payload),
    )
    .await
    .expect("the function answered within 120 s")
}

fn invoker_at(config: &aws_config::SdkConfig, endpoint: &str) -> FunctionInvoker {
    let mut config = config.clone().into_builder();
    config.set_endpoint_url(Some(endpoint.to_owned()));
    FunctionInvoker::from_config(&config.build())
}

#[tokio::test]
async fn the_analyzers_signed_scale_up_is_applied_by_the_engine_binary_and_a_foreign_item_is_skipped()
 {
    let config = emulator_config().await;
    let clients = Clients::new(&config);
    let group = unique_name("e2e-engine");
    let table = unique_name("e2e-engine");
    create_table(&clients.dynamodb, recommendations_table(), &table)
        .await
        .unwrap();
    overloaded_group(&clients, &group).await;
    let (approvals, findings) = signing_keys(&clients, &table).await;
    let env = [
        ("FLEETOPT_ENVIRONMENT", "production".to_owned()),
        ("FLEETOPT_APPLICATION", "e2e".to_owned()),
        ("FLEETOPT_TABLE", table.clone()),
        ("FLEETOPT_TARGET_GROUPS", group.clone()),
        ("FLEETOPT_APPROVAL_KEY", approvals),
        ("FLEETOPT_FINDING_KEY", findings),
    ];
    let analyzer = LocalLambda::start("analyzer", &env);
    let engine = LocalLambda::start("optimization-engine", &env);

    let analysis = invoke(
        &invoker_at(&config, &analyzer.endpoint),
        "analyzer",
        &json!({"autoScalingGroupName": group}),
    )
    .await
    .unwrap();
    assert_eq!(analysis["recommendationsWritten"], 1, "{analysis}");

    // The INSERT the table's stream delivers, behind a record that is not a recommendation.
    let store = clients.store(&table);
    let written = store
        .query(&RecommendationQuery {
            kind: Some(RecommendationType::ScaleUp),
            ..RecommendationQuery::default()
        })
        .await
        .unwrap()
        .remove(0);
    let mut event = stream_event(&[ItemChange {
        event_name: "INSERT",
        old: None,
        new: Some(&written),
        sequence_number: "2000",
    }])
    .unwrap();
    let mut poison = event["Records"][0].clone();
    poison["dynamodb"]["SequenceNumber"] = "1000".into();
    poison["dynamodb"]["NewImage"] =
        json!({"id": {"S": "rec-x"}, "note": {"S": "not a recommendation"}});
    event["Records"].as_array_mut().unwrap().insert(0, poison);

    let engine_invoker = invoker_at(&config, &engine.endpoint);
    let response = invoke(&engine_invoker, "optimization-engine", &event)
        .await
        .unwrap();
    // The item that is not a recommendation is skipped and named, not retried.
    assert_eq!(response["batchItemFailures"], json!([]), "{response}");
    assert_eq!(response["itemsSkipped"], json!(["rec-x"]), "{response}");
    assert_eq!(response["actionsApplied"], 1, "{response}");
    assert_eq!(response["awsCalls"]["autoscaling:SetDesiredCapacity"], 1);
    // The analyzer signed its automated scale-up; the engine checked it once.
    assert_eq!(response["awsCalls"]["kms:Verify"], 1, "{response}");
    let applied = &response["decisions"][1];
    assert_eq!(applied["outcome"], "APPLIED");
    assert_eq!(applied["desiredCapacity"], json!({"from": 4, "to": 5}));

    let described = clients
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(&group)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.auto_scaling_groups()[0].desired_capacity(),
        Some(5)
    );
    let item = store.get(&written.id).await.unwrap().unwrap();
    assert_eq!(item.status, Status::InProgress);

    // An event it does not know is a function error naming what it accepts.
    match invoke(
        &engine_invoker,
        "optimization-engine",
        &json!({"detail": {}}),
    )
    .await
    {
        Err(InvokeError::Function {
            error_type,
            message,
            ..
        }) => {
            assert_eq!(error_type, "InvalidEvent");
            assert!(message.contains("{\"sweep\": true}"), "{message}");
        }
        other => panic!("expected a function error, got {other:?}"),
    }
}
