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
    let place = match (&args.account, &args.group_region) {
        (None, None) => None,
        (account, region) => Some(Place {
            account: account.clone(),
            region: region.clone(),
            own: own_place(&config).await?,
        }),
    };
    // The account and region filter the items read, so the limit applies after it.
    let query = RecommendationQuery {
        kind: args.kind,
        priority: args.priority,
        status: args.status,
        limit: place.is_none().then_some(args.limit as usize),
        since: None,
    };
    let mut found = store
        .query(&query)
        .await
        .with_context(|| format!("reading recommendations from table {table}"))?;
    if let Some(place) = &place {
        found.items.retain(|r| place.holds(r));
        found.items.truncate(args.limit as usize);
    }
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
        Output::Table => print!("{}", render(&table, &query, place.as_ref(), &found)),
    }
    Ok(())
}

/// The `--account` and `--group-region` filters, with the account and region that items
/// without them (the functions' own account's) stand for.
struct Place {
    account: Option<String>,
    region: Option<String>,
    own: (String, String),
}

impl Place {
    fn holds(&self, r: &Recommendation) -> bool {
        let account = r.account_id.as_deref().unwrap_or(&self.own.0);
        let region = r.region.as_deref().unwrap_or(&self.own.1);
        self.account.as_deref().is_none_or(|a| a == account)
            && self.region.as_deref().is_none_or(|g| g == region)
    }
}

/// The account of the caller's credentials (STS GetCallerIdentity) and the region fleetopt
/// calls: what an item without an account stands for.
async fn own_place(config: &fleetopt_aws::SdkConfig) -> Result<(String, String)> {
    let account = fleetopt_aws::caller_account(config)
        .await
        .context("finding the account of your credentials, which --account compares with")?;
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    Ok((account, region))
}

/// Where an item's group is, for the list, the dashboard and the report: `account/region`, or
/// "own" for the functions' own account and region (an item without them).
pub fn place_of(r: &Recommendation) -> String {
    match (&r.account_id, &r.region) {
        (Some(account), Some(region)) => format!("{account}/{region}"),
        _ => OWN.to_owned(),
    }
}

/// [`place_of`] an item of the functions' own account and region.
pub const OWN: &str = "own";

fn render(
    table_name: &str,
    query: &RecommendationQuery,
    place: Option<&Place>,
    found: &[Recommendation],
) -> String {
    let asked = describe(query, place);
    if found.is_empty() {
        return format!("No recommendations in {table_name}{asked}.\n");
    }
    // The account column only when some group is in another account or region.
    let accounts = found.iter().any(|r| r.account_id.is_some());
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(
            [
                "ID",
                "Window end",
                "Type",
                "Priority",
                "Status",
                "Group",
                "Account/region",
                "Description",
            ]
            .into_iter()
            .filter(|h| accounts || *h != "Account/region"),
        );
    if table.width().is_none() {
        // Not a terminal: wrap descriptions at a width that reads well in logs and pagers.
        table.set_width(140);
    }
    for r in found.iter().map(printable_recommendation) {
        let mut row = vec![
            r.id.clone(),
            r.timestamp.clone(),
            r.kind.as_str().to_owned(),
            r.priority.as_str().to_owned(),
            r.status.as_str().to_owned(),
            r.auto_scaling_group_name.clone(),
        ];
        if accounts {
            row.push(place_of(&r));
        }
        row.push(r.description.clone());
        table.add_row(row);
    }
    format!(
        "{} recommendation(s) in {table_name}{asked}\n{table}\n",
        found.len()
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
    if let Some(e) = r
        .execution
        .as_ref()
        .filter(|e| !e.scheduled_actions.is_empty())
    {
        text.push_str(&format!(
            "Applied {}: scheduled actions {} on the group, until {}.\n",
            e.applied_at,
            e.scheduled_actions.join(", "),
            e.schedule_ends_at.as_deref().unwrap_or("no end")
        ));
    } else if let Some(e) = &r.execution {
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
    text.push_str(&crate::backtest::text(r));
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

fn describe(query: &RecommendationQuery, place: Option<&Place>) -> String {
    let mut parts = Vec::new();
    if let Some(account) = place.and_then(|p| p.account.as_deref()) {
        parts.push(format!("account {account}"));
    }
    if let Some(region) = place.and_then(|p| p.region.as_deref()) {
        parts.push(format!("region {region}"));
    }
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
            render("t", &query, None, &[]),
            "No recommendations in t with priority HIGH, status PENDING.\n"
        );
    }

    #[test]
    fn the_account_filter_takes_items_without_one_as_the_own_accounts() {
        let own = fleetopt_ports::fakes::contract::sample("web", 9);
        let mut theirs = own.clone();
        theirs.id = "rec-theirs".into();
        theirs.account_id = Some("111122223333".into());
        theirs.region = Some("eu-west-1".into());
        let place = |account: Option<&str>, region: Option<&str>| Place {
            account: account.map(str::to_owned),
            region: region.map(str::to_owned),
            own: ("123456789012".into(), "us-east-1".into()),
        };
        let held = |p: &Place| -> Vec<bool> { vec![p.holds(&own), p.holds(&theirs)] };
        assert_eq!(held(&place(Some("111122223333"), None)), [false, true]);
        assert_eq!(held(&place(Some("123456789012"), None)), [true, false]);
        assert_eq!(held(&place(None, Some("us-east-1"))), [true, false]);
        assert_eq!(
            held(&place(Some("111122223333"), Some("us-east-1"))),
            [false, false]
        );
        let listed = render(
            "t",
            &RecommendationQuery::default(),
            Some(&place(None, None)),
            &[own.clone(), theirs.clone()],
        );
        assert!(
            listed.contains("Account/region")
                && listed.contains("111122223333/eu-west-1")
                && listed.contains("own"),
            "{listed}"
        );
        let plain = render("t", &RecommendationQuery::default(), None, &[own]);
        assert!(!plain.contains("Account/region"), "{plain}");
    }
}
