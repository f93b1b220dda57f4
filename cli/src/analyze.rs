//! `fleetopt analyze`: invokes the analyzer Lambda and shows its response (docs/responses.md).

use anyhow::{Context, Result};
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use fleetopt_aws::FunctionInvoker;
use serde_json::{Value, json};

use crate::cli::{AnalyzeArgs, Global, Output};

/// The manual payload of section 12 for these arguments.
fn payload(args: &AnalyzeArgs) -> Value {
    let mut payload = match args.groups.as_slice() {
        [] => json!({}),
        [one] => json!({ "autoScalingGroupName": one }),
        many => json!({ "autoScalingGroupNames": many }),
    };
    if args.dry_run {
        payload["dryRun"] = json!(true);
    }
    if let (Some(account), Some(region)) = (&args.account, &args.group_region) {
        payload["accountId"] = json!(account);
        payload["region"] = json!(region);
    }
    payload
}

/// How long `analyze` waits at least: the analyzer's 5-minute function timeout and half a
/// minute for the invocation itself.
const ANALYZER_RUN: std::time::Duration = std::time::Duration::from_secs(330);

/// Runs `fleetopt analyze`.
pub async fn run(global: &Global, args: &AnalyzeArgs) -> Result<()> {
    let function = args.function_name.clone().unwrap_or_else(|| {
        format!(
            "{}-{}-performance-analyzer",
            global.application, global.environment
        )
    });
    let progress = crate::terminal::Progress::steps(global, 1, "running the analyzer");
    let config = global.sdk_config().await;
    let wait = ANALYZER_RUN.max(std::time::Duration::from_secs(global.timeout));
    let response = FunctionInvoker::waiting(&config, wait)
        .invoke(&function, &payload(args))
        .await
        .with_context(|| format!("running the analyzer ({function})"))?;
    drop(progress);
    match global.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&response)?),
        Output::Table => print!("{}", render(&response)),
    }
    Ok(())
}

fn number(value: &Value) -> String {
    value
        .as_f64()
        .map(|v| format!("{v:.1}"))
        .unwrap_or_else(|| "-".to_owned())
}

fn render(response: &Value) -> String {
    if let Some(reason) = response["skipped"].as_str() {
        return format!("Nothing analyzed: {reason}\n");
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "Group",
        "Status",
        "Score",
        "Efficiency",
        "Missing",
        "Recommendations",
    ]);
    let empty = Vec::new();
    for group in response["groups"].as_array().unwrap_or(&empty) {
        let list = |key: &str| -> String {
            group[key]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default()
        };
        let status = group["status"].as_str().unwrap_or("?");
        let detail = group["error"]
            .as_str()
            .or(group["reason"].as_str())
            .map(|d| format!("{status}: {d}"))
            .unwrap_or_else(|| status.to_owned());
        table.add_row([
            Cell::new(group["autoScalingGroupName"].as_str().unwrap_or("?")),
            Cell::new(detail),
            Cell::new(number(&group["performanceScore"])).set_alignment(CellAlignment::Right),
            Cell::new(number(&group["efficiencyRating"])).set_alignment(CellAlignment::Right),
            Cell::new(list("missing")),
            Cell::new(list("recommendationIds")),
        ]);
    }
    let calls: Vec<String> = response["awsCalls"]
        .as_object()
        .map(|calls| calls.iter().map(|(api, n)| format!("{api} {n}")).collect())
        .unwrap_or_default();
    format!(
        "Analysis of {} ({})\n{table}\n{} recommendation(s) written, {} refreshed, {} superseded. AWS \
         calls: {}\n",
        response["environment"].as_str().unwrap_or("?"),
        if response["dryRun"].as_bool() == Some(true) {
            "dry run: nothing written"
        } else {
            "recommendations written"
        },
        response["recommendationsWritten"],
        response["recommendationsRefreshed"].as_u64().unwrap_or(0),
        response["recommendationsSuperseded"],
        if calls.is_empty() {
            "none".to_owned()
        } else {
            calls.join(", ")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(groups: &[&str], dry_run: bool) -> AnalyzeArgs {
        AnalyzeArgs {
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            dry_run,
            account: None,
            group_region: None,
            function_name: None,
        }
    }

    #[test]
    fn payloads_follow_section_12() {
        assert_eq!(payload(&args(&[], false)), json!({}));
        assert_eq!(
            payload(&args(&["web"], true)),
            json!({"autoScalingGroupName": "web", "dryRun": true})
        );
        assert_eq!(
            payload(&args(&["web", "api"], false)),
            json!({"autoScalingGroupNames": ["web", "api"]})
        );
        let shard = AnalyzeArgs {
            account: Some("111122223333".into()),
            group_region: Some("eu-west-1".into()),
            ..args(&["web"], false)
        };
        assert_eq!(
            payload(&shard),
            json!({"autoScalingGroupName": "web", "accountId": "111122223333", "region": "eu-west-1"})
        );
    }

    #[test]
    fn the_table_shows_each_group_and_the_calls() {
        let response = json!({
            "environment": "production", "dryRun": false,
            "groups": [
                {"autoScalingGroupName": "web", "status": "SCORED", "performanceScore": 71.25,
                 "efficiencyRating": 88.0, "missing": ["memory"], "recommendationIds": ["rec-1"]},
                {"autoScalingGroupName": "dark", "status": "INSUFFICIENT_DATA", "performanceScore": null,
                 "efficiencyRating": null, "missing": [], "recommendationIds": [],
                 "reason": "no CPU utilization datapoints"}
            ],
            "recommendationsWritten": 1, "recommendationsSuperseded": 0,
            "awsCalls": {"cloudwatch:GetMetricData": 2}
        });
        let text = render(&response);
        assert!(text.contains("71.2") || text.contains("71.3"), "{text}");
        assert!(text.contains("INSUFFICIENT_DATA: no CPU utilization datapoints"));
        assert!(text.contains("cloudwatch:GetMetricData 2"));
        assert!(text.contains("1 recommendation(s) written"));
    }
}
