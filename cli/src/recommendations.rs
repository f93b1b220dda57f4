//! `fleetopt recommendations`: what the functions found, read through the table's GSIs.

use anyhow::{Context, Result, anyhow};
use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use fleetopt_aws::DynamoRecommendationStore;
use fleetopt_config::default_table_name;
use fleetopt_model::{Recommendation, rfc3339};
use fleetopt_ports::{RecommendationQuery, RecommendationStore};
use serde::Serialize;

use crate::cli::{Global, Output, RecommendationsArgs};
use crate::terminal::printable_recommendation;

/// The JSON document `recommendations --output json` prints: items exactly as stored.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecommendationsReport<'a> {
    table: &'a str,
    count: usize,
    recommendations: &'a [Recommendation],
    /// Ids of items that are not recommendations, left out.
    skipped: Vec<&'a str>,
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
    if let Some(id) = &args.id {
        let found = store
            .get(id)
            .await
            .with_context(|| format!("reading recommendation {id} from table {table}"))?
            .ok_or_else(|| anyhow!("recommendation {id} not found in table {table}"))?;
        drop(progress);
        match global.output {
            Output::Json => println!("{}", serde_json::to_string_pretty(&found)?),
            Output::Table => print!("{}", render_one(&found)),
        }
        return Ok(());
    }
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
    crate::terminal::warn_skipped(&found);
    match global.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&RecommendationsReport {
                table: &table,
                count: found.len(),
                recommendations: &found,
                skipped: found.skipped.iter().map(|e| e.id.as_str()).collect(),
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
    for r in found.iter().map(printable_recommendation) {
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

/// One recommendation whole: what it is, where it stands and its audit trail, every status
/// change with when, who and why.
fn render_one(r: &Recommendation) -> String {
    let r = &printable_recommendation(r);
    let mut text = format!(
        "{} {}: {} for group {} (priority {}, version {})\n{}\n",
        r.status, r.id, r.kind, r.auto_scaling_group_name, r.priority, r.version, r.description
    );
    text.push_str(&format!(
        "Analysis window {} to {}, written by {} on {}.\n",
        rfc3339(r.analysis_window.start),
        rfc3339(r.analysis_window.end),
        r.source,
        r.created_at
    ));
    if let Some(snooze) = &r.snooze {
        text.push_str(&format!(
            "Snoozed until {}, then back to {}.\n",
            snooze.until, snooze.previous_status
        ));
    }
    if let Some(p) = &r.persistence {
        text.push_str(&format!(
            "Persistence: found in {} consecutive analyses; automation waits for {}.\n",
            p.consecutive_analyses, p.required
        ));
    }
    if let Some(e) = &r.execution {
        let target = e
            .target_capacity
            .filter(|t| *t != e.new_capacity)
            .map_or_else(String::new, |t| {
                format!(" (one step towards {t}; the rest waits for the next analysis)")
            });
        text.push_str(&format!(
            "Applied {}: desired capacity {} -> {}{target}.\n",
            e.applied_at, e.previous_capacity, e.new_capacity
        ));
    }
    if let Some(check) = &r.last_check {
        text.push_str(&format!(
            "Waiting since {} ({}): {}\n",
            check.at, check.by, check.reason
        ));
    }
    text.push_str(&proof_and_outcome(r));
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["When", "From", "To", "By", "Why"]);
    if table.width().is_none() {
        table.set_width(140);
    }
    // Who is never wrapped: an ARN cut in two cannot be searched for or copied.
    if let Some(by) = table.column_mut(3) {
        by.set_constraint(ColumnConstraint::ContentWidth);
    }
    for change in &r.status_history {
        table.add_row([
            change.at.as_str(),
            change.from.map_or("-", |s| s.as_str()),
            change.to.as_str(),
            change.by.as_str(),
            change.reason.as_deref().unwrap_or(""),
        ]);
    }
    text.push_str(&format!(
        "Status history ({} change(s), oldest first):\n{table}\n",
        r.status_history.len()
    ));
    text
}

/// What an operator checks before trusting an item: how often it was found, what it replaced,
/// who approved it (signed, and until when), the analyzer's signature, and what the change did.
fn proof_and_outcome(r: &Recommendation) -> String {
    let mut text = String::new();
    if r.seen() > 1 {
        text.push_str(&format!(
            "Found by {} analyses, the last at {}.\n",
            r.seen(),
            r.last_seen_at.as_deref().unwrap_or("?")
        ));
    }
    if let Some(old) = &r.replaces {
        text.push_str(&format!("Replaces {old} (another proposed action).\n"));
    }
    if let Some(a) = &r.approval {
        text.push_str(&format!(
            "Approval signed by {} at {} with {} ({}), valid until {}; the engine verifies it \
             before it acts.\n",
            a.by, a.at, a.key_id, a.algorithm, a.expires_at
        ));
    }
    if let Some(a) = &r.attestation {
        text.push_str(&format!(
            "Signed by the analyzer with {} ({}).\n",
            a.key_id, a.algorithm
        ));
    }
    if let Some(o) = &r.outcome {
        let cpu = match (o.cpu_before, o.cpu_after) {
            (Some(b), Some(a)) => format!(", CPU {b:.1} % -> {a:.1} %"),
            _ => String::new(),
        };
        text.push_str(&format!(
            "Outcome {} (measured {}): performance score {:.1} -> {:.1}{cpu}.\n",
            o.verdict.as_str(),
            o.measured_at,
            o.score_before,
            o.score_after
        ));
    }
    if let Some(s) = &r.realized_savings {
        let verb = if s.monthly_usd < 0.0 {
            "Added cost"
        } else {
            "Savings achieved"
        };
        text.push_str(&format!(
            "{verb} (measured {}): {:.2} USD a month; {:.2} x {} at {} USD/h in the {} h before \
             {}, {:.2} x {} at {} USD/h in the {} h from {}.\n",
            s.measured_at,
            s.monthly_usd.abs(),
            s.instances_before,
            s.instance_type_before,
            s.hourly_price_before,
            s.window_hours,
            s.before_window_end,
            s.instances_after,
            s.instance_type_after,
            s.hourly_price_after,
            s.window_hours,
            s.after_window_start,
        ));
    }
    text
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
    fn one_recommendation_shows_its_whole_audit_trail() {
        use chrono::{TimeZone, Utc};
        use fleetopt_ports::Transition;
        let at = |h| Utc.with_ymd_and_hms(2026, 11, 23, h, 0, 0).unwrap();
        let mut r = fleetopt_ports::fakes::contract::sample("web", 7);
        for (to, by, why, hour) in [
            (Status::AwaitingApproval, "optimization-engine", None, 11),
            (
                Status::Approved,
                "alice (arn:aws:sts::1:assumed-role/ops/alice)",
                Some("after the sale"),
                12,
            ),
        ] {
            let mut t = Transition::new(to, at(hour), by);
            if let Some(why) = why {
                t = t.because(why);
            }
            r = t.apply_to(&r).unwrap();
        }
        let text = render_one(&r);
        assert!(
            text.starts_with(&format!(
                "APPROVED {}: SCALE_UP for group web (priority",
                r.id
            )),
            "{text}"
        );
        assert!(
            text.contains("Status history (3 change(s), oldest first):"),
            "{text}"
        );
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("│ 2026")).collect();
        assert_eq!(rows.len(), 3, "{text}");
        assert!(
            rows[0].contains("┆ -") && rows[0].contains("PENDING"),
            "{text}"
        );
        assert!(
            rows[1].contains("PENDING") && rows[1].contains("AWAITING_APPROVAL"),
            "{text}"
        );
        assert!(
            rows[2].contains("arn:aws:sts::1:assumed-role/ops/alice")
                && rows[2].contains("after the sale"),
            "{text}"
        );
    }

    #[test]
    fn one_recommendation_shows_the_savings_its_change_achieved_or_the_cost_it_added() {
        let mut r = fleetopt_ports::fakes::contract::sample("web", 7);
        r.realized_savings = Some(fleetopt_ports::fakes::contract::realized_savings(-140.16));
        let text = render_one(&r);
        assert!(
            text.contains(
                "Added cost (measured 2026-11-25T06:00:00Z): 140.16 USD a month; 4.00 x m5.xlarge \
                 at 0.192 USD/h in the 24 h before 2026-11-23T09:00:00Z, 5.00 x m5.xlarge at \
                 0.192 USD/h in the 24 h from 2026-11-23T10:00:00Z.\n"
            ),
            "{text}"
        );
        if let Some(s) = r.realized_savings.as_mut() {
            s.monthly_usd = 70.08;
        }
        assert!(
            render_one(&r).contains("Savings achieved (measured 2026-11-25T06:00:00Z): 70.08 USD"),
            "{}",
            render_one(&r)
        );
    }

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
