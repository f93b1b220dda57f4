//! `fleetopt report --out FILE.html`: one self-contained HTML file (inline CSS and SVG, no
//! script, nothing fetched when it opens) with, per group, the four charts of the dashboard and
//! the open recommendations with their evidence. It reads what `fleetopt dashboard` reads.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use chrono::Utc;
use fleetopt_model::Recommendation;
use serde::Serialize;
use serde_json::Value;

use crate::charts::{Span, group_charts};
use crate::cli::{Global, Output, ReportArgs};
use crate::history::{FleetHistory, GroupView, read};
use crate::recommendations::{OWN, place_of};
use crate::rightsizing;
use crate::terminal::Progress;

/// What `report --output json` prints (stable keys).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportSummary {
    /// The file written.
    path: String,
    bytes: usize,
    period_hours: u32,
    groups: Vec<String>,
    /// Charts drawn (four per group).
    charts: usize,
    /// Open recommendations listed.
    open_recommendations: usize,
    aws_calls: std::collections::BTreeMap<String, u64>,
}

/// Runs `fleetopt report`.
pub async fn run(global: &Global, args: &ReportArgs) -> Result<()> {
    let history = read(global, &args.history, 1).await?;
    let progress = Progress::steps(global, 1, "drawing the charts");
    let html = html(&history)?;
    std::fs::write(&args.out, &html)
        .with_context(|| format!("writing the report to {}", args.out.display()))?;
    drop(progress);
    let path = std::path::absolute(&args.out).unwrap_or_else(|_| args.out.clone());
    let summary = ReportSummary {
        path: path.display().to_string(),
        bytes: html.len(),
        period_hours: history.period_hours,
        groups: history
            .groups
            .iter()
            .map(|g| g.auto_scaling_group_name.clone())
            .collect(),
        charts: history.groups.len() * 4,
        open_recommendations: history.open.len(),
        aws_calls: history.aws_calls.clone(),
    };
    match global.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        Output::Table => println!(
            "Report written to {} ({} group(s), {} charts, {} open recommendation(s), {} KiB); \
             open it in a browser, no network needed.",
            summary.path,
            summary.groups.len(),
            summary.charts,
            summary.open_recommendations,
            summary.bytes.div_ceil(1024),
        ),
    }
    Ok(())
}

/// `text` safe inside HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn figure(value: Option<f64>, unit: &str) -> String {
    value.map_or_else(|| "no data".to_owned(), |v| format!("{v:.1}{unit}"))
}

fn labeled(value: Option<f64>, unit: &str, label: Option<&str>) -> String {
    match label {
        Some(l) if value.is_some() => format!(
            "{} <span class=\"label {}\">{l}</span>",
            figure(value, unit),
            l.to_ascii_lowercase()
        ),
        _ => figure(value, unit),
    }
}

/// The report's Content-Security-Policy: its own inline CSS and nothing else. No script runs, and
/// nothing is fetched, framed or submitted, even if stored text ever slipped past the escaping.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; \
                   form-action 'none'";

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;\
color:#222;max-width:1200px}h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:1px solid #ddd;\
padding-bottom:4px;margin-top:2em}.meta{color:#555}table{border-collapse:collapse;margin:8px 0}\
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f4f4f4}td.num{text-align:right}.charts{display:grid;\
grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px}figure{margin:0;\
border:1px solid #e4e4e4;padding:6px}figcaption{font-weight:600;margin-bottom:4px}\
dl{display:grid;grid-template-columns:auto auto;gap:0 10px;margin:0}dt{color:#555}dd{margin:0}\
.label{font-size:.85em;padding:0 4px;border-radius:3px}.excellent,.good,.optimal{background:#dff0d8}\
.fair,.low,.medium{background:#fcf8e3}.poor,.high,.critical{background:#f2dede}\
.none{color:#777}code{font-size:.9em}";

fn recommendation_rows(out: &mut String, recommendations: &[&Recommendation]) -> Result<()> {
    if recommendations.is_empty() {
        out.push_str("<p class=\"none\">No open recommendations.</p>\n");
        return Ok(());
    }
    out.push_str(
        "<table class=\"recommendations\"><tr><th>ID</th><th>Type</th><th>Priority</th>\
         <th>Status</th><th>Description</th><th>Evidence</th></tr>\n",
    );
    for r in recommendations {
        let evidence = match serde_json::to_value(&r.evidence) {
            Ok(Value::Object(map)) if !map.is_empty() => {
                let mut dl = String::from("<dl class=\"evidence\">");
                // Right-sizing's options, a schedule and a backtest get their own tables below.
                for (k, v) in map
                    .into_iter()
                    .filter(|(k, _)| !["rightSizing", "schedule", "backtest"].contains(&k.as_str()))
                {
                    let v = match v {
                        Value::Number(n) => n.as_f64().map_or_else(
                            || n.to_string(),
                            |f| format!("{}", (f * 100.0).round() / 100.0 + 0.0),
                        ),
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    let _ = write!(dl, "<dt>{}</dt><dd>{}</dd>", escape(&k), escape(&v));
                }
                dl.push_str("</dl>");
                dl
            }
            _ => "<span class=\"none\">none recorded</span>".to_owned(),
        };
        let _ = writeln!(
            out,
            "<tr class=\"recommendation\" data-id=\"{id}\"><td><code>{id}</code></td><td>{}</td>\
             <td><span class=\"label {}\">{}</span></td><td>{}</td><td>{}</td><td>{evidence}</td></tr>",
            r.kind.as_str(),
            r.priority.as_str().to_ascii_lowercase(),
            r.priority.as_str(),
            r.status.as_str(),
            escape(&r.description),
            id = escape(&r.id),
        );
    }
    out.push_str("</table>\n");
    for r in recommendations {
        right_sizing_options(out, r);
        backtest(out, r)?;
    }
    Ok(())
}

/// A proposal's schedule and backtest: its actions, the table of actual against projected
/// CPU, and the chart of the same.
fn backtest(out: &mut String, r: &Recommendation) -> Result<()> {
    if let Some(s) = &r.evidence.schedule {
        let _ = write!(out, "<ul class=\"schedule\" data-id=\"{}\">", escape(&r.id));
        for line in crate::backtest::actions(s) {
            let _ = write!(out, "<li><code>{}</code></li>", escape(&line));
        }
        out.push_str("</ul>\n");
    }
    let Some(b) = &r.evidence.backtest else {
        return Ok(());
    };
    let _ = write!(
        out,
        "<table class=\"backtest\" data-id=\"{}\"><caption>Backtest of <code>{}</code>: {}\
         </caption><tr>",
        escape(&r.id),
        escape(&r.id),
        escape(&crate::backtest::basis(b)),
    );
    for h in crate::backtest::HEADERS {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for row in crate::backtest::rows(b) {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if i > 0 { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    let _ = writeln!(
        out,
        "<figure class=\"chart\" data-chart=\"backtest\"><figcaption>Actual against projected \
         CPU</figcaption>{}</figure>",
        crate::charts::backtest_chart(b)?
    );
    Ok(())
}

/// Whether `r` is about the group `group` of the report: the groups shown are the own account's
/// and region's, and a same-named group in another account is another group.
fn of_own_group(r: &Recommendation, group: &str) -> bool {
    r.auto_scaling_group_name == group && place_of(r) == OWN
}

/// The recommendations of `group` among `items`.
fn of_group<'a>(items: &'a [Recommendation], group: &str) -> Vec<&'a Recommendation> {
    items.iter().filter(|r| of_own_group(r, group)).collect()
}

/// The measured outcomes of the group's completed changes: what each did to the performance
/// score and CPU, one interval after it completed.
fn outcome_rows(out: &mut String, h: &FleetHistory, group: &str) {
    let done = of_group(&h.outcomes, group);
    if done.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h3>Outcomes of completed changes ({})</h3>\n<table class=\"outcomes\"><tr><th>ID</th>\
         <th>Type</th><th>Verdict</th><th>Score</th><th>CPU</th><th>Measured</th></tr>",
        done.len()
    );
    for r in done {
        let Some(o) = &r.outcome else { continue };
        let cpu = match (o.cpu_before, o.cpu_after) {
            (Some(b), Some(a)) => format!("{b:.1} % &rarr; {a:.1} %"),
            _ => "<span class=\"none\">n/a</span>".to_owned(),
        };
        let _ = writeln!(
            out,
            "<tr class=\"outcome\" data-id=\"{id}\"><td><code>{id}</code></td><td>{}</td>\
             <td><span class=\"label {}\">{}</span></td><td>{:.1} &rarr; {:.1}</td><td>{cpu}</td>\
             <td>{}</td></tr>",
            r.kind.as_str(),
            match o.verdict {
                fleetopt_model::OutcomeVerdict::Improved => "good",
                fleetopt_model::OutcomeVerdict::Unchanged => "fair",
                fleetopt_model::OutcomeVerdict::Worse => "poor",
            },
            o.verdict.as_str(),
            o.score_before,
            o.score_after,
            escape(&o.measured_at),
            id = escape(&r.id),
        );
    }
    out.push_str("</table>\n");
}

/// The group's completed changes with the savings each achieved a month, as the cost optimizer
/// measured them (changes completed in the last 30 days).
fn achieved_rows(out: &mut String, h: &FleetHistory, group: &str) {
    let done = of_group(&h.achieved, group);
    if done.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h3>Savings achieved by completed changes ({})</h3>\n<table class=\"achieved\"><tr>\
         <th>ID</th><th>Type</th><th>Completed</th><th>Before</th><th>After</th>\
         <th>Monthly savings (USD)</th></tr>",
        done.len()
    );
    for r in done {
        let Some(s) = &r.realized_savings else {
            continue;
        };
        let saving = if s.monthly_usd < 0.0 {
            format!("{:.2} (added cost)", s.monthly_usd)
        } else {
            format!("{:.2}", s.monthly_usd)
        };
        let _ = writeln!(
            out,
            "<tr class=\"saving\" data-id=\"{id}\"><td><code>{id}</code></td><td>{}</td>\
             <td>{}</td><td>{:.1} x {}</td><td>{:.1} x {}</td><td class=\"num\">{saving}</td></tr>",
            r.kind.as_str(),
            escape(
                &r.completed_at()
                    .map(fleetopt_model::rfc3339)
                    .unwrap_or_default()
            ),
            s.instances_before,
            escape(&s.instance_type_before),
            s.instances_after,
            escape(&s.instance_type_after),
            id = escape(&r.id),
        );
    }
    out.push_str("</table>\n");
}

/// Savings achieved (measured, changes completed in the last 30 days) and projected (the open
/// recommendations), USD a month: one group's, or the whole report's when `group` is `None`.
fn savings(h: &FleetHistory, group: Option<&str>) -> (f64, f64) {
    let ours = |r: &&Recommendation| group.is_none_or(|g| of_own_group(r, g));
    let achieved: f64 = h
        .achieved
        .iter()
        .filter(ours)
        .filter_map(|r| r.realized_savings.as_ref().map(|s| s.monthly_usd))
        .sum();
    let projected: f64 = h
        .open
        .iter()
        .filter(ours)
        .filter_map(|r| r.expected_impact.monthly_savings_usd)
        .sum();
    // + 0.0: the sum of nothing is 0, never "-0".
    (achieved + 0.0, projected + 0.0)
}

/// A right-sizing recommendation's ranked options (issue 10), as a table under the group's
/// recommendations: rank, configuration, projected CPU and memory, risk, savings, effort.
fn right_sizing_options(out: &mut String, r: &Recommendation) {
    let Some(sizing) = r
        .evidence
        .right_sizing
        .as_ref()
        .filter(|s| !s.options.is_empty())
    else {
        return;
    };
    let _ = write!(
        out,
        "<table class=\"right-sizing\" data-id=\"{}\"><caption>Right-sizing options for <code>{}\
         </code>: {}</caption><tr>",
        escape(&r.id),
        escape(&r.id),
        escape(&rightsizing::basis(sizing)),
    );
    for h in rightsizing::HEADERS {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for option in &sizing.options {
        out.push_str("<tr class=\"option\">");
        for (cell, numeric) in rightsizing::cells(option).iter().zip(rightsizing::NUMERIC) {
            let class = if numeric { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    for note in rightsizing::notes(sizing) {
        let _ = writeln!(out, "<p class=\"note\">Note: {}</p>", escape(&note));
    }
}

fn group_section(out: &mut String, h: &FleetHistory, g: &GroupView, span: Span) -> Result<()> {
    let name = escape(&g.auto_scaling_group_name);
    let c = &g.capacity;
    let _ = writeln!(
        out,
        "<section class=\"group\" id=\"group-{name}\" data-group=\"{name}\">\n<h2>{name}</h2>\n\
         <p class=\"meta\">Now {} in service, {} desired (min {}, max {}). Performance score {}, \
         efficiency rating {}.</p>\n<div class=\"charts\">",
        c.in_service,
        c.desired_capacity,
        c.min_size,
        c.max_size,
        labeled(g.latest.performance_score, "", g.latest.performance_label),
        labeled(g.latest.efficiency_rating, "", g.latest.efficiency_label),
    );
    for (key, caption, svg) in group_charts(span, g)? {
        let _ = writeln!(
            out,
            "<figure class=\"chart\" data-chart=\"{key}\"><figcaption>{}</figcaption>{svg}</figure>",
            escape(&caption)
        );
    }
    let profile = if g.profile.hourly.is_empty() {
        format!("<p class=\"none\">{}</p>", escape(&g.profile.line()))
    } else {
        crate::charts::profile_chart(&g.profile.hourly)?
    };
    let _ = writeln!(
        out,
        "<figure class=\"chart\" data-chart=\"profile\"><figcaption>24-hour CPU profile, last 14 \
         days: {}</figcaption>{profile}</figure>",
        escape(&g.profile.line())
    );
    out.push_str("</div>\n");
    let open = of_group(&h.open, &g.auto_scaling_group_name);
    let _ = writeln!(out, "<h3>Open recommendations ({})</h3>", open.len());
    recommendation_rows(out, &open)?;
    outcome_rows(out, h, &g.auto_scaling_group_name);
    achieved_rows(out, h, &g.auto_scaling_group_name);
    out.push_str("</section>\n");
    Ok(())
}

/// The recommendations by account and region, when another account or region holds any.
fn accounts_table(out: &mut String, h: &FleetHistory) {
    let places = &h.recommendations.by_account;
    if places.keys().all(|place| place == OWN) {
        return;
    }
    out.push_str(
        "<table class=\"accounts\"><tr><th>Account / region</th><th>Recommendations</th>\
         <th>Open</th><th>Projected savings (USD a month)</th></tr>\n",
    );
    for (place, n) in places {
        let projected: f64 = h
            .open
            .iter()
            .filter(|r| place_of(r) == *place)
            .filter_map(|r| r.expected_impact.monthly_savings_usd)
            .sum();
        let label = if place == OWN {
            "own (the groups below)".to_owned()
        } else {
            format!("<a href=\"#account-{id}\">{id}</a>", id = escape(place))
        };
        let _ = writeln!(
            out,
            "<tr class=\"place\" data-place=\"{}\"><td>{label}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{:.2}</td></tr>",
            escape(place),
            n.total,
            n.open,
            projected + 0.0,
        );
    }
    out.push_str("</table>\n");
}

/// One section per other account and region, with its open recommendations (their groups'
/// metrics are in that account: the report reads the own account's).
fn account_sections(out: &mut String, h: &FleetHistory) -> Result<()> {
    for place in h.recommendations.by_account.keys().filter(|p| *p != OWN) {
        let open: Vec<&Recommendation> = h.open.iter().filter(|r| place_of(r) == *place).collect();
        let _ = writeln!(
            out,
            "<section class=\"account\" id=\"account-{id}\"><h2>Account {id} ({})</h2>\n\
             <p class=\"meta\">Open recommendations for the groups of another account or region; \
             their metrics are read there (<code>fleetopt metrics</code> with that account's \
             credentials).</p>",
            open.len(),
            id = escape(place),
        );
        recommendation_rows(out, &open)?;
        out.push_str("</section>\n");
    }
    Ok(())
}

/// The whole report.
pub fn html(h: &FleetHistory) -> Result<String> {
    let span = Span {
        start: h.window.start,
        hours: f64::from(h.period_hours),
    };
    let title = format!("Fleet report: {} {}", h.application, h.environment);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title>\
         <style>{STYLE}</style></head>\n<body>\n<header><h1>{}</h1>\n<p class=\"meta\">Last {} h, \
         {} to {} (UTC), {} s datapoints. Generated {} by fleetopt {}.</p>\n",
        escape(&title),
        escape(&title),
        h.period_hours,
        h.window.start.format("%Y-%m-%d %H:%M"),
        h.window.end.format("%Y-%m-%d %H:%M"),
        h.period_seconds,
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
        env!("CARGO_PKG_VERSION"),
    );
    match &h.dashboard.url {
        Some(url) => {
            let _ = writeln!(
                out,
                "<p class=\"meta\">CloudWatch dashboard: <a href=\"{}\">{}</a></p>",
                escape(url),
                escape(&h.dashboard.name)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "<p class=\"meta\">CloudWatch dashboard: {}</p>",
                escape(&h.dashboard.name)
            );
        }
    }
    out.push_str(
        "</header>\n<section id=\"summary\"><h2>Summary</h2>\n<table class=\"summary\"><tr>\
         <th>Group</th><th>Performance score</th><th>Efficiency rating</th><th>CPU</th>\
         <th>Memory</th><th>Cost savings potential</th><th>Savings achieved / projected (USD a \
         month)</th><th>In service / desired / max</th><th>Open recommendations</th></tr>\n",
    );
    for g in &h.groups {
        let l = &g.latest;
        let open = of_group(&h.open, &g.auto_scaling_group_name).len();
        let (achieved, projected) = savings(h, Some(&g.auto_scaling_group_name));
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#group-{name}\">{name}</a></td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{achieved:.2} / {projected:.2}</td>\
             <td class=\"num\">{} / {} / {}</td><td class=\"num\">{open}</td></tr>",
            labeled(l.performance_score, "", l.performance_label),
            labeled(l.efficiency_rating, "", l.efficiency_label),
            labeled(l.cpu_average, " %", l.cpu_status),
            labeled(l.memory_average, " %", l.memory_status),
            figure(l.cost_savings_potential, " %"),
            g.capacity.in_service,
            g.capacity.desired_capacity,
            g.capacity.max_size,
            name = escape(&g.auto_scaling_group_name),
        );
    }
    out.push_str("</table>\n");
    let (achieved, projected) = savings(h, None);
    let _ = writeln!(
        out,
        "<p class=\"savings\">Savings achieved by the {} change(s) completed in the last {} days \
         that the cost optimizer measured: {achieved:.2} USD a month (negative: they added cost). \
         Projected by the open recommendations: {projected:.2} USD a month.</p>",
        h.achieved.len(),
        fleetopt_model::ACHIEVED_DAYS,
    );
    let r = &h.recommendations;
    let list = |map: &std::collections::BTreeMap<&'static str, usize>| {
        let shown: Vec<String> = map
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        if shown.is_empty() {
            "none".to_owned()
        } else {
            shown.join(", ")
        }
    };
    let _ = writeln!(
        out,
        "<p>Recommendations in <code>{}</code>: {} in all, {} open. By type: {}. By priority: {}. \
         By status: {}.</p>",
        escape(&h.table),
        r.total,
        r.open,
        escape(&list(&r.by_type)),
        escape(&list(&r.by_priority)),
        escape(&list(&r.by_status)),
    );
    accounts_table(&mut out, h);
    out.push_str("</section>\n");
    for g in &h.groups {
        group_section(&mut out, h, g, span)?;
    }
    let others: Vec<&Recommendation> = h
        .open
        .iter()
        .filter(|r| {
            place_of(r) == OWN
                && !h
                    .groups
                    .iter()
                    .any(|g| g.auto_scaling_group_name == r.auto_scaling_group_name)
        })
        .collect();
    if !others.is_empty() {
        let _ = writeln!(
            out,
            "<section class=\"account\" id=\"account-wide\"><h2>Other open recommendations \
             ({})</h2>\n<p class=\"meta\">Account-wide findings and groups outside this report.</p>",
            others.len()
        );
        recommendation_rows(&mut out, &others)?;
        out.push_str("</section>\n");
    }
    account_sections(&mut out, h)?;
    out.push_str("</body></html>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn escape_makes_text_safe_in_html_and_attributes() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    /// A report of no group, with these open recommendations and measured changes.
    fn history(open: Vec<Recommendation>, achieved: Vec<Recommendation>) -> FleetHistory {
        use crate::history::{DashboardRef, EnvironmentView, RecommendationSummary, Window};
        FleetHistory {
            application: "app".into(),
            environment: "production",
            region: None,
            period_hours: 24,
            period_seconds: 3600,
            window: Window {
                start: Utc::now(),
                end: Utc::now(),
            },
            dashboard: DashboardRef {
                name: "app-production-fleet-optimizer".into(),
                url: None,
            },
            table: "t".into(),
            groups: Vec::new(),
            environment_metrics: EnvironmentView {
                actions_applied: None,
                actions_failed: None,
                actions_rolled_back: None,
                cost_savings_potential: None,
            },
            recommendations: RecommendationSummary {
                total: 0,
                open: 0,
                by_type: Default::default(),
                by_priority: Default::default(),
                by_status: Default::default(),
                by_account: Default::default(),
            },
            aws_calls: Default::default(),
            open,
            outcomes: Vec::new(),
            achieved,
        }
    }

    #[test]
    fn another_accounts_recommendations_have_their_own_section_never_the_same_named_group() {
        let mut own = fleetopt_ports::fakes::contract::sample("web", 7);
        own.expected_impact.monthly_savings_usd = Some(10.0);
        let mut theirs = fleetopt_ports::fakes::contract::sample("web", 8);
        theirs.account_id = Some("210987654321".into());
        theirs.region = Some("eu-west-1".into());
        theirs.expected_impact.monthly_savings_usd = Some(32.0);
        let mut h = history(vec![own.clone(), theirs.clone()], Vec::new());
        h.recommendations = crate::history::summary(&h.open);
        // The own web's savings are its own.
        assert_eq!(savings(&h, Some("web")), (0.0, 10.0));
        assert_eq!(of_group(&h.open, "web"), vec![&own]);
        let page = html(&h).unwrap();
        assert!(
            page.contains(
                "<tr class=\"place\" data-place=\"210987654321/eu-west-1\"><td><a \
                 href=\"#account-210987654321/eu-west-1\">210987654321/eu-west-1</a></td>\
                 <td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">32.00</td></tr>"
            ),
            "{page}"
        );
        let (_, section) = page
            .split_once("<section class=\"account\" id=\"account-210987654321/eu-west-1\">")
            .unwrap();
        assert!(section.contains(&theirs.id) && !section.contains(&own.id));
        // The own web's item is among the own account's others (no group section here), the
        // member's is not.
        let (_, own_others) = page.split_once("id=\"account-wide\"").unwrap();
        let own_others = own_others.split("</section>").next().unwrap();
        assert!(own_others.contains(&own.id) && !own_others.contains(&theirs.id));

        // Only the own account's items: no accounts table, no account section.
        let mut h = history(vec![own], Vec::new());
        h.recommendations = crate::history::summary(&h.open);
        let page = html(&h).unwrap();
        assert!(!page.contains("class=\"accounts\"") && !page.contains("id=\"account-2"));
    }

    #[test]
    fn savings_achieved_show_per_change_and_beside_the_projection() {
        use fleetopt_model::Status;
        let at = |h| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 23, h, 0, 0).unwrap();
        let mut open = fleetopt_ports::fakes::contract::sample("web", 7);
        open.expected_impact.monthly_savings_usd = Some(120.0);
        let mut done = fleetopt_ports::fakes::contract::sample("web", 8)
            .transitioned(Status::InProgress, at(10), "e", None)
            .unwrap()
            .transitioned(Status::Completed, at(11), "e", None)
            .unwrap();
        done.realized_savings = Some(fleetopt_ports::fakes::contract::realized_savings(-140.16));
        let h = history(vec![open], vec![done.clone()]);
        assert_eq!(savings(&h, Some("web")), (-140.16, 120.0));
        assert_eq!(savings(&h, Some("api")), (0.0, 0.0));
        let mut out = String::new();
        achieved_rows(&mut out, &h, "web");
        assert!(
            out.contains(&format!(
                "<tr class=\"saving\" data-id=\"{id}\"><td><code>{id}</code></td><td>SCALE_UP</td>\
                 <td>2026-11-23T11:00:00Z</td><td>4.0 x m5.xlarge</td><td>5.0 x m5.xlarge</td>\
                 <td class=\"num\">-140.16 (added cost)</td></tr>",
                id = done.id
            )),
            "{out}"
        );
        let mut none = String::new();
        achieved_rows(&mut none, &h, "api");
        assert!(none.is_empty());
        let page = html(&h).unwrap();
        assert!(
            page.contains(
                "Savings achieved by the 1 change(s) completed in the last 30 days that the cost \
                 optimizer measured: -140.16 USD a month (negative: they added cost). Projected \
                 by the open recommendations: 120.00 USD a month."
            ),
            "{page}"
        );
    }

    #[test]
    fn right_sizing_options_are_a_table_under_the_recommendations() {
        let mut r = fleetopt_ports::fakes::contract::sample("web", 7);
        r.evidence.right_sizing = Some(crate::rightsizing::tests::sample());
        let mut out = String::new();
        recommendation_rows(&mut out, &[&r]).unwrap();
        let evidence_ends = out.find("</table>").unwrap();
        let options = out.find("<table class=\"right-sizing\"").unwrap();
        assert!(options > evidence_ends, "{out}");
        assert!(!out[..evidence_ends].contains("rightSizing"), "{out}");
        assert!(
            out.contains(
                "<tr class=\"option\"><td class=\"num\">1</td><td>4 x m6g.large (arm64)</td>\
                 <td class=\"num\">50.0</td><td class=\"num\">70.0</td><td class=\"num\">0</td>\
                 <td class=\"num\">335.80</td><td class=\"num\">59.9</td><td>Medium</td></tr>"
            ),
            "{out}"
        );
        assert!(out.contains("over 336 hours of the last 14 days"), "{out}");
        assert!(
            out.contains(
                "<p class=\"note\">Note: arm64 (Graviton): the AMI must support arm64</p>"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_schedule_shows_its_actions_and_its_backtest_as_a_table_and_a_chart() {
        let mut r = fleetopt_ports::fakes::contract::scheduled_sample("web", 9);
        let b = |p50, max| fleetopt_scoring::Backtest {
            hours: 336,
            cpu_p50: p50,
            cpu_p95: max,
            cpu_p99: max,
            cpu_max: max,
            hours_over_target: 0,
            hours_over_90: 0,
        };
        r.evidence.backtest = Some(fleetopt_scoring::Backtests {
            current: b(30.0, 60.0),
            proposed: b(45.0, 60.0),
            max_saturated_percent: 1.0,
        });
        let mut out = String::new();
        recommendation_rows(&mut out, &[&r]).unwrap();
        assert!(
            out.contains(
                "<li><code>fleetopt-quiet: 0 20 * * * (), desired 2, min 2, max 10</code></li>"
            ),
            "{out}"
        );
        assert!(
            out.contains("<tr><td>projected (proposal)</td><td class=\"num\">336</td><td class=\"num\">45.0</td>"),
            "{out}"
        );
        assert!(out.contains("data-chart=\"backtest\""), "{out}");
        assert!(out.contains("<svg"), "{out}");
    }
}
