//! `fleetopt recommendations`: what the functions found, read through the table's GSIs.

use anyhow::{Context, Result};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use fleetopt_aws::DynamoRecommendationStore;
use fleetopt_config::default_table_name;
use fleetopt_model::Recommendation;
use fleetopt_ports::{RecommendationQuery, RecommendationStore};
use serde::Serialize;

use crate::cli::{Global, Output, RecommendationsArgs};

/// The JSON document `recommendations --output json` prints: items exactly as stored.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecommendationsReport<'a> {
    table: &'a str,
    count: usize,
    recommendations: &'a [Recommendation],
}

/// Runs `fleetopt recommendations`.
pub async fn run(global: &Global, args: &RecommendationsArgs) -> Result<()> {
    let table = args
        .table
        .clone()
        .unwrap_or_else(|| default_table_name(&global.application, global.environment));
    let progress = crate::terminal::Progress::steps(global, 1, "reading recommendations");
    let config = global.sdk_config().await;
    let store = DynamoRecommendationStore::from_config(&config, &table);
    let query = RecommendationQuery {
        kind: args.kind,
        priority: args.priority,
        status: args.status,
        limit: Some(args.limit as usize),
        since: None,
    };
    let found = store
        .query(&query)
        .await
        .with_context(|| format!("reading recommendations from table {table}"))?;
    drop(progress);
    match global.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&RecommendationsReport {
                table: &table,
                count: found.len(),
                recommendations: &found,
            })?
        ),
        Output::Table => print!("{}", render(&table, &query, &found)),
    }
    Ok(())
}

fn render(table_name: &str, query: &RecommendationQuery, found: &[Recommendation]) -> String {
    if found.is_empty() {
        return format!("No recommendations in {table_name}{}.\n", describe(query));
    }
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header([
            "ID",
            "Window end",
            "Type",
            "Priority",
            "Status",
            "Group",
            "Description",
        ]);
    if table.width().is_none() {
        // Not a terminal: wrap descriptions at a width that reads well in logs and pagers.
        table.set_width(140);
    }
    for r in found {
        table.add_row([
            r.id.as_str(),
            r.timestamp.as_str(),
            r.kind.as_str(),
            r.priority.as_str(),
            r.status.as_str(),
            r.auto_scaling_group_name.as_str(),
            r.description.as_str(),
        ]);
    }
    format!(
        "{} recommendation(s) in {table_name}{}\n{table}\n",
        found.len(),
        describe(query)
    )
}

fn describe(query: &RecommendationQuery) -> String {
    let mut parts = Vec::new();
    if let Some(kind) = query.kind {
        parts.push(format!("type {}", kind.as_str()));
    }
    if let Some(priority) = query.priority {
        parts.push(format!("priority {}", priority.as_str()));
    }
    if let Some(status) = query.status {
        parts.push(format!("status {status}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" with {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleetopt_model::{Priority, Status};

    #[test]
    fn an_empty_result_says_what_was_asked() {
        let query = RecommendationQuery {
            priority: Some(Priority::High),
            status: Some(Status::Pending),
            ..RecommendationQuery::default()
        };
        assert_eq!(
            render("t", &query, &[]),
            "No recommendations in t with priority HIGH, status PENDING.\n"
        );
    }
}
