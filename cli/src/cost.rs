//! `fleetopt cost`: what the account spent this month and in the last full months, by service,
//! what Cost Explorer forecasts to the month's end, and the open cost recommendations with their
//! monthly savings, beside the savings achieved: what the changes completed in the last 30 days
//! save a month, as the cost optimizer measured them (`realizedSavings`).
//!
//! Cost Explorer bills per request, so a run makes one GetCostAndUsage request (more only if
//! Cost Explorer pages its answer) for the months and the month to date together, and at most
//! one GetCostForecast; it prints how many it made. A figure Cost Explorer cannot give (no data
//! yet, access denied) is reported, not fatal.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use fleetopt_aws::Clients;
use fleetopt_config::default_table_name;
use fleetopt_costing::{Lever, Periods, SavingsPart, open_total};
use fleetopt_model::{
    ACHIEVED_DAYS, Priority, Recommendation, RecommendationType, Status, rfc3339, savings_achieved,
};
use fleetopt_ports::{
    CostResult, CostSource, CostUnavailable, MonthCost, RecommendationQuery, RecommendationStore,
    StoreError,
};
use fleetopt_scoring::RightSizing;
use serde::Serialize;

use crate::cli::{CostArgs, Global, Output};
use crate::rightsizing;
use crate::terminal::printable;

/// The statuses of a cost recommendation still to be acted on.
const OPEN: [Status; 3] = [Status::Pending, Status::AwaitingApproval, Status::Approved];

/// The recommendation types that carry a monthly saving.
const COST_KINDS: [RecommendationType; 2] = [
    RecommendationType::CostOptimization,
    RecommendationType::InstanceTypeChange,
];

/// The changes whose savings the cost optimizer measures besides the cost types' (which
/// include INSTANCE_TYPE_CHANGE): the capacity changes, read COMPLETED only.
const CAPACITY_KINDS: [RecommendationType; 2] =
    [RecommendationType::ScaleUp, RecommendationType::ScaleDown];

/// The currency of every figure: Cost Explorer's unblended cost, in USD.
const CURRENCY: &str = "USD";

/// The JSON document `cost --output json` prints (stable keys). Amounts are USD, to the cent;
/// `null` when Cost Explorer could not give the figure (`unavailable` says why).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CostReport {
    /// Unblended cost from the first of this month to today, included.
    month_to_date: Option<f64>,
    /// Cost Explorer's forecast from tomorrow to the month's end (0 on its last day).
    forecast_to_month_end: Option<f64>,
    /// Month to date plus the forecast.
    projected_month: Option<f64>,
    currency: &'static str,
    /// The full months before this one, oldest first.
    months: Vec<MonthReport>,
    /// This month so far, by service.
    month_to_date_by_service: Option<BTreeMap<String, f64>>,
    /// Open (PENDING, AWAITING_APPROVAL, APPROVED) cost recommendations, largest saving first.
    open_recommendations: Vec<OpenCostRecommendation>,
    /// What they save together: one coherent plan per group (the best change of each kind,
    /// composed: spot on the right-sized type saves from the lower price), the better of the
    /// account's commitments; the run-rate finding is not added (the groups' savings close it).
    total_monthly_savings_usd: f64,
    /// What the changes completed in the last 30 days achieve, as measured.
    savings_achieved: SavingsAchieved,
    /// What Cost Explorer could not give, and why, in plain words.
    unavailable: Vec<String>,
    /// Cost Explorer requests this run made (each is billed).
    cost_explorer_calls: u64,
    /// The dates read, for the table's headings.
    #[serde(skip)]
    periods: Periods,
}

/// One full month.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MonthReport {
    /// `YYYY-MM`.
    month: String,
    by_service: BTreeMap<String, f64>,
    total: f64,
}

/// An open cost recommendation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OpenCostRecommendation {
    id: String,
    #[serde(rename = "type")]
    kind: RecommendationType,
    auto_scaling_group_name: String,
    priority: Priority,
    status: Status,
    /// Estimated monthly saving, USD, when the cost optimizer knew the prices.
    monthly_savings_usd: Option<f64>,
    /// Change of the fleet's cost, percent (positive saves).
    cost_savings_percent: Option<f64>,
    description: String,
    /// A right-sizing recommendation's figures and ranked options, as stored in its evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    right_sizing: Option<RightSizing>,
}

/// The savings completed changes achieve (`savingsAchieved`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SavingsAchieved {
    /// How far back: changes completed in the last this many days.
    days: i64,
    /// Their monthly savings together, USD (negative when they added cost).
    monthly_usd: f64,
    /// Each change, the largest saving first.
    changes: Vec<AchievedChange>,
}

/// One completed change and what it saves a month, as measured.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AchievedChange {
    id: String,
    #[serde(rename = "type")]
    kind: RecommendationType,
    auto_scaling_group_name: String,
    /// When it completed, RFC 3339 UTC.
    completed_at: String,
    /// USD a month: positive saved, negative added cost.
    monthly_usd: f64,
    instances_before: f64,
    instances_after: f64,
    instance_type_before: String,
    instance_type_after: String,
}

/// Runs `fleetopt cost`.
pub async fn run(global: &Global, args: &CostArgs) -> Result<()> {
    let today = Utc::now().date_naive();
    let periods = Periods::new(today, args.months)
        .with_context(|| format!("{today} is outside the calendar Cost Explorer covers"))?;
    let table = args
        .table
        .clone()
        .unwrap_or_else(|| default_table_name(&global.application, global.environment));
    let progress = crate::terminal::Progress::steps(
        global,
        1,
        "reading costs (Cost Explorer) and cost recommendations",
    );
    let config = global.sdk_config().await;
    let clients = Clients::new(&config);
    let ce = clients.costs();
    let store = clients.store(&table);
    let found = gather(&ce, &store, &periods, Utc::now()).await;
    let calls = cost_explorer_calls(&clients.calls.snapshot());
    let report = report(found, &periods, calls).map_err(|failure| match failure {
        Failure::CostExplorer(e) => anyhow::Error::new(e).context("reading costs"),
        Failure::Table(e) => anyhow::Error::new(e).context(format!(
            "reading cost recommendations and completed changes from table {table}"
        )),
    })?;
    drop(progress);
    match global.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Table => print!("{}", render(&report, &table)),
    }
    Ok(())
}

/// What one run read, each part as it came back.
struct Found {
    months: CostResult<Vec<MonthCost>>,
    /// `None`: not asked for (the month's last day).
    forecast: Option<CostResult<f64>>,
    /// Every cost recommendation and the completed capacity changes.
    open: Result<Vec<Recommendation>, StoreError>,
    /// When it was read: what "the last 30 days" of savings achieved end at.
    at: DateTime<Utc>,
}

/// Reads everything at once: one GetCostAndUsage for the full months and the month to date,
/// one GetCostForecast unless there is nothing left to forecast, and the cost recommendations
/// (one `TypeIndex` query per cost type, never a scan) with the completed capacity changes (one
/// per capacity type), for the savings achieved.
async fn gather(
    ce: &impl CostSource,
    store: &impl RecommendationStore,
    periods: &Periods,
    at: DateTime<Utc>,
) -> Found {
    let forecast = async {
        match periods.forecast() {
            Some((start, end)) => Some(ce.forecast(start, end, None).await),
            None => None,
        }
    };
    let (months, forecast, open) = tokio::join!(
        ce.monthly_by_service(periods.history_start, periods.tomorrow),
        forecast,
        open_cost_recommendations(store)
    );
    Found {
        months,
        forecast,
        open,
        at,
    }
}

/// Every cost recommendation: one `TypeIndex` query per cost type; [`report`] keeps the open
/// ones and the completed ones with savings achieved. (A query per open status as well would
/// read each type's partition three times: DynamoDB bills the items a filter drops.) And the
/// COMPLETED capacity changes, one query per capacity type.
async fn open_cost_recommendations(
    store: &impl RecommendationStore,
) -> Result<Vec<Recommendation>, StoreError> {
    let [a, b] = COST_KINDS.map(|kind| RecommendationQuery {
        kind: Some(kind),
        ..RecommendationQuery::default()
    });
    let [c, d] = CAPACITY_KINDS.map(|kind| RecommendationQuery {
        kind: Some(kind),
        status: Some(Status::Completed),
        ..RecommendationQuery::default()
    });
    let (mut a, b, c, d) = tokio::try_join!(
        store.query(&a),
        store.query(&b),
        store.query(&c),
        store.query(&d)
    )?;
    a.extend(b);
    a.extend(c);
    a.extend(d);
    crate::terminal::warn_skipped(&a);
    Ok(a.into_items())
}

/// Why a run fails (exit 1): anything but "no data" and "access denied" from Cost Explorer,
/// and any error of the table.
#[derive(Debug)]
enum Failure {
    CostExplorer(fleetopt_ports::ServiceError),
    Table(StoreError),
}

/// The Cost Explorer requests among the counted calls (`ce:<Operation>`).
fn cost_explorer_calls(calls: &BTreeMap<String, u64>) -> u64 {
    calls
        .iter()
        .filter(|(api, _)| api.starts_with("ce:"))
        .map(|(_, n)| n)
        .sum()
}

/// Cents: the precision Cost Explorer's console shows, and enough to decide anything by.
fn cents(usd: f64) -> f64 {
    // + 0.0 turns -0.0 (the sum of no amounts, or a rounded tiny credit) into 0.0.
    (usd * 100.0).round() / 100.0 + 0.0
}

/// Why a figure is missing, in plain words; `None` when it is a failure, not a gap.
fn unavailable(what: &str, why: &CostUnavailable) -> Option<String> {
    match why {
        CostUnavailable::NoData { operation, message } => Some(format!(
            "{what} unavailable: Cost Explorer has no data yet ({operation}: {message})"
        )),
        CostUnavailable::AccessDenied { operation, message } => Some(format!(
            "{what} unavailable: access to Cost Explorer denied; it may not be enabled in the \
             account, or this role may not call it ({operation}: {message})"
        )),
        CostUnavailable::Failed(_) => None,
    }
}

/// The report from what was read: Cost Explorer's gaps are reported, its failures and the
/// table's are returned.
fn report(found: Found, periods: &Periods, calls: u64) -> Result<CostReport, Failure> {
    let mut gaps = Vec::new();
    let months = match found.months {
        Ok(months) => Some(months),
        Err(CostUnavailable::Failed(e)) => return Err(Failure::CostExplorer(e)),
        Err(why) => {
            gaps.extend(unavailable("costs", &why));
            None
        }
    };
    let forecast = match found.forecast {
        None => Some(0.0),
        Some(Ok(usd)) => Some(usd),
        Some(Err(CostUnavailable::Failed(e))) => return Err(Failure::CostExplorer(e)),
        Some(Err(why)) => {
            gaps.extend(unavailable("forecast", &why));
            None
        }
    };
    let open = found.open.map_err(Failure::Table)?;
    let savings_achieved = achieved(&open, found.at);

    // Cost Explorer answers every month of the period, an empty one with no groups; a month
    // it did not mention had no cost. Months outside the period are not ours to show.
    let by_month: Option<BTreeMap<NaiveDate, BTreeMap<String, f64>>> = months.map(|months| {
        months
            .into_iter()
            .filter(|m| periods.history_start <= m.month && m.month <= periods.month_start)
            .map(|m| (m.month, m.by_service))
            .collect()
    });
    let month = |first: NaiveDate| {
        by_month
            .as_ref()
            .and_then(|all| all.get(&first).cloned())
            .unwrap_or_default()
    };
    let month_to_date = by_month
        .as_ref()
        .map(|_| month(periods.month_start).values().sum::<f64>());
    let months = match by_month {
        Some(_) => periods
            .full_months()
            .into_iter()
            .map(|first| {
                let services = month(first);
                MonthReport {
                    month: first.format("%Y-%m").to_string(),
                    total: cents(services.values().sum()),
                    by_service: services
                        .into_iter()
                        .map(|(s, usd)| (s, cents(usd)))
                        .collect(),
                }
            })
            .collect(),
        None => Vec::new(),
    };
    let month_to_date_by_service = month_to_date.map(|_| {
        month(periods.month_start)
            .into_iter()
            .map(|(s, usd)| (s, cents(usd)))
            .collect()
    });

    let open: Vec<Recommendation> = open
        .into_iter()
        .filter(|r| COST_KINDS.contains(&r.kind) && OPEN.contains(&r.status))
        .collect();
    // Savings that add up: one plan per group (its best sizing, spot on top), the better of
    // the account's commitments; the run-rate is the groups' savings seen from above, not more.
    let total_monthly_savings_usd = cents(open_total(open.iter().filter_map(|r| {
        if r.evidence.hourly_run_rate_usd.is_some() {
            return None;
        }
        // A saving whose kind the evidence does not tell counts alone.
        let (subject, lever) = match Lever::of(&r.evidence) {
            Some(Lever::Commitment) => ("account", Lever::Commitment),
            Some(lever) => (r.auto_scaling_group_name.as_str(), lever),
            None => (r.id.as_str(), Lever::Sizing),
        };
        let part = SavingsPart {
            lever,
            percent: r.expected_impact.cost_savings.unwrap_or(0.0),
            monthly_usd: r.expected_impact.monthly_savings_usd?,
        };
        Some((subject, part))
    })));
    let mut open: Vec<OpenCostRecommendation> = open
        .into_iter()
        .map(|r| OpenCostRecommendation {
            monthly_savings_usd: r.expected_impact.monthly_savings_usd.map(cents),
            cost_savings_percent: r.expected_impact.cost_savings,
            id: r.id,
            kind: r.kind,
            auto_scaling_group_name: r.auto_scaling_group_name,
            priority: r.priority,
            status: r.status,
            description: r.description,
            right_sizing: r.evidence.right_sizing,
        })
        .collect();
    // Largest saving first; an unknown saving last; the id keeps the order total.
    open.sort_by(|a, b| {
        let saving =
            |r: &OpenCostRecommendation| r.monthly_savings_usd.unwrap_or(f64::NEG_INFINITY);
        saving(b)
            .total_cmp(&saving(a))
            .then_with(|| a.id.cmp(&b.id))
    });

    Ok(CostReport {
        month_to_date: month_to_date.map(cents),
        forecast_to_month_end: forecast.map(cents),
        projected_month: month_to_date.zip(forecast).map(|(m, f)| cents(m + f)),
        currency: CURRENCY,
        months,
        month_to_date_by_service,
        open_recommendations: open,
        total_monthly_savings_usd,
        savings_achieved,
        unavailable: gaps,
        cost_explorer_calls: calls,
        periods: *periods,
    })
}

/// The savings achieved at `at` by the changes among `items` (`fleetopt_model`'s rule, which
/// the RealizedSavings metric follows too), the largest saving first.
fn achieved(items: &[Recommendation], at: DateTime<Utc>) -> SavingsAchieved {
    let found = savings_achieved(items, at);
    let mut changes: Vec<AchievedChange> = found
        .items
        .iter()
        .filter_map(|r| {
            let s = r.realized_savings.as_ref()?;
            Some(AchievedChange {
                id: r.id.clone(),
                kind: r.kind,
                auto_scaling_group_name: r.auto_scaling_group_name.clone(),
                completed_at: r.completed_at().map(rfc3339).unwrap_or_default(),
                monthly_usd: cents(s.monthly_usd),
                instances_before: s.instances_before,
                instances_after: s.instances_after,
                instance_type_before: s.instance_type_before.clone(),
                instance_type_after: s.instance_type_after.clone(),
            })
        })
        .collect();
    changes.sort_by(|a, b| {
        b.monthly_usd
            .total_cmp(&a.monthly_usd)
            .then_with(|| a.id.cmp(&b.id))
    });
    SavingsAchieved {
        days: ACHIEVED_DAYS,
        monthly_usd: cents(found.monthly_usd),
        changes,
    }
}

fn usd(amount: Option<f64>) -> String {
    match amount {
        Some(v) => format!("{v:.2}"),
        None => "unavailable".to_owned(),
    }
}

fn right(text: impl Into<String>) -> Cell {
    Cell::new(text.into()).set_alignment(CellAlignment::Right)
}

fn new_table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if table.width().is_none() {
        // Not a terminal: wrap at a width that reads well in logs and pagers.
        table.set_width(140);
    }
    table
}

/// The summary block: month to date, forecast, projection.
fn summary(report: &CostReport) -> String {
    let p = &report.periods;
    let forecast_note = match (p.forecast(), report.forecast_to_month_end) {
        (None, _) => "today is the last day of the month: nothing to forecast".to_owned(),
        (Some(_), None) => String::new(),
        (Some((start, end)), Some(_)) => format!(
            "Cost Explorer's forecast, {start} to {}",
            end.pred_opt().unwrap_or(end)
        ),
    };
    let rows = [
        (
            format!("Month to date ({} to {})", p.month_start, p.today),
            usd(report.month_to_date),
            String::new(),
        ),
        (
            "Forecast to month end".to_owned(),
            usd(report.forecast_to_month_end),
            forecast_note,
        ),
        (
            "Projected month".to_owned(),
            usd(report.projected_month),
            String::new(),
        ),
    ];
    let label = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let value = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let mut out = format!(
        "Costs in {CURRENCY} (unblended, Cost Explorer), {} UTC\n",
        p.today
    );
    for (l, v, note) in rows {
        let line = format!("  {l:<label$}  {v:>value$}  {note}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Services x months, with each month's total; the current month as "to date".
fn services_table(report: &CostReport) -> Option<Table> {
    let this_month = report.month_to_date_by_service.as_ref()?;
    let mut columns: Vec<(String, &BTreeMap<String, f64>)> = report
        .months
        .iter()
        .map(|m| (m.month.clone(), &m.by_service))
        .collect();
    columns.push((
        format!("{} to date", report.periods.month_start.format("%Y-%m")),
        this_month,
    ));
    let mut services: Vec<(&str, f64)> = Vec::new();
    for (_, by_service) in &columns {
        for (service, usd) in by_service.iter() {
            match services.iter_mut().find(|(s, _)| s == service) {
                Some((_, sum)) => *sum += usd,
                None => services.push((service, *usd)),
            }
        }
    }
    if services.is_empty() {
        return None;
    }
    // Largest spend over the columns first.
    services.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut table = new_table();
    let mut header = vec![Cell::new("Service")];
    header.extend(columns.iter().map(|(name, _)| right(name.as_str())));
    table.set_header(header);
    for (service, _) in &services {
        let mut row = vec![Cell::new(*service)];
        row.extend(columns.iter().map(|(_, by_service)| {
            right(
                by_service
                    .get(*service)
                    .map_or("-".to_owned(), |v| format!("{v:.2}")),
            )
        }));
        table.add_row(row);
    }
    let mut total = vec![Cell::new("Total")];
    total.extend(
        columns
            .iter()
            .map(|(_, by_service)| right(format!("{:.2}", cents(by_service.values().sum())))),
    );
    table.add_row(total);
    Some(table)
}

/// The open cost recommendations, largest saving first, with their total.
fn recommendations_table(report: &CostReport) -> Table {
    let mut table = new_table();
    table.set_header(vec![
        Cell::new("ID"),
        Cell::new("Type"),
        Cell::new("Group"),
        Cell::new("Priority"),
        Cell::new("Status"),
        right("Monthly savings (USD)"),
        right("Cost savings %"),
    ]);
    for r in &report.open_recommendations {
        table.add_row(vec![
            Cell::new(printable(&r.id)),
            Cell::new(r.kind.as_str()),
            Cell::new(printable(&r.auto_scaling_group_name)),
            Cell::new(r.priority.as_str()),
            Cell::new(r.status.as_str()),
            right(
                r.monthly_savings_usd
                    .map_or("unknown".to_owned(), |v| format!("{v:.2}")),
            ),
            right(
                r.cost_savings_percent
                    .map_or("-".to_owned(), |v| format!("{v:.1}")),
            ),
        ]);
    }
    table.add_row(vec![
        Cell::new("Total"),
        Cell::new(""),
        Cell::new(""),
        Cell::new(""),
        Cell::new(""),
        right(format!("{:.2}", report.total_monthly_savings_usd)),
        Cell::new(""),
    ]);
    table
}

/// Each right-sizing recommendation's ranked options (issue 10), one table per
/// recommendation, with the figures they were sized from and their notes.
fn right_sizing_tables(report: &CostReport) -> String {
    let mut out = String::new();
    for r in &report.open_recommendations {
        let Some(sizing) = r.right_sizing.as_ref().filter(|s| !s.options.is_empty()) else {
            continue;
        };
        let mut table = new_table();
        table.set_header(
            rightsizing::HEADERS
                .iter()
                .zip(rightsizing::NUMERIC)
                .map(|(h, numeric)| if numeric { right(*h) } else { Cell::new(h) })
                .collect::<Vec<_>>(),
        );
        for option in &sizing.options {
            table.add_row(
                rightsizing::cells(option)
                    .into_iter()
                    .map(|c| printable(&c).into_owned())
                    .zip(rightsizing::NUMERIC)
                    .map(|(c, numeric)| if numeric { right(c) } else { Cell::new(c) })
                    .collect::<Vec<_>>(),
            );
        }
        out.push_str(&format!(
            "\nRight-sizing options for {} ({}): {}\n{table}\n",
            printable(&r.auto_scaling_group_name),
            printable(&r.id),
            rightsizing::basis(sizing)
        ));
        for note in rightsizing::notes(sizing) {
            out.push_str(&format!("  Note: {}\n", printable(&note)));
        }
    }
    out
}

/// The changes completed in the last 30 days with what each saves a month, as measured.
fn achieved_table(achieved: &SavingsAchieved) -> Table {
    let mut table = new_table();
    table.set_header(vec![
        Cell::new("ID"),
        Cell::new("Type"),
        Cell::new("Group"),
        Cell::new("Completed"),
        Cell::new("Before"),
        Cell::new("After"),
        right("Monthly savings (USD)"),
    ]);
    for c in &achieved.changes {
        let saving = if c.monthly_usd < 0.0 {
            format!("{:.2} (added cost)", c.monthly_usd)
        } else {
            format!("{:.2}", c.monthly_usd)
        };
        table.add_row(vec![
            Cell::new(printable(&c.id)),
            Cell::new(c.kind.as_str()),
            Cell::new(printable(&c.auto_scaling_group_name)),
            Cell::new(&c.completed_at),
            Cell::new(printable(&format!(
                "{:.1} x {}",
                c.instances_before, c.instance_type_before
            ))),
            Cell::new(printable(&format!(
                "{:.1} x {}",
                c.instances_after, c.instance_type_after
            ))),
            right(saving),
        ]);
    }
    table
}

/// Savings achieved beside the savings projected by the open recommendations.
fn achieved_section(report: &CostReport) -> String {
    let a = &report.savings_achieved;
    if a.changes.is_empty() {
        return format!(
            "\nSavings achieved: none measured yet for changes completed in the last {} days \
             (projected by the open cost recommendations: {:.2} {CURRENCY} a month). The cost \
             optimizer measures a change a day after it completes.\n",
            a.days, report.total_monthly_savings_usd
        );
    }
    format!(
        "\nSavings achieved by {} change(s) completed in the last {} days: {:.2} {CURRENCY} a \
         month (projected by the open cost recommendations: {:.2} {CURRENCY} a month):\n{}\n",
        a.changes.len(),
        a.days,
        a.monthly_usd,
        report.total_monthly_savings_usd,
        achieved_table(a)
    )
}

fn render(report: &CostReport, table_name: &str) -> String {
    let mut out = summary(report);
    for gap in &report.unavailable {
        out.push_str(&format!("  {gap}\n"));
    }
    out.push('\n');
    let first = report
        .periods
        .full_months()
        .first()
        .map_or(report.periods.month_start, |m| *m);
    match services_table(report) {
        Some(table) => out.push_str(&format!(
            "By service, {} to {} to date:\n{table}\n\n",
            first.format("%Y-%m"),
            report.periods.month_start.format("%Y-%m")
        )),
        None if report.month_to_date_by_service.is_some() => out.push_str(&format!(
            "No costs recorded from {first} to {}.\n\n",
            report.periods.today
        )),
        None => out.push_str("By service: unavailable (see above).\n\n"),
    }
    let open = &report.open_recommendations;
    if open.is_empty() {
        out.push_str(&format!(
            "No open cost recommendations in {table_name} (COST_OPTIMIZATION or \
             INSTANCE_TYPE_CHANGE; PENDING, AWAITING_APPROVAL or APPROVED).\n"
        ));
    } else {
        out.push_str(&format!(
            "{} open cost recommendation(s) in {table_name}, {:.2} {CURRENCY} a month in all (one \
             plan per group: the best change of each kind, composed):\n{}\n",
            open.len(),
            report.total_monthly_savings_usd,
            recommendations_table(report)
        ));
        out.push_str(&right_sizing_tables(report));
    }
    out.push_str(&achieved_section(report));
    out.push_str(&format!(
        "\nCost Explorer requests: {} (each is billed).\n",
        report.cost_explorer_calls
    ));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use super::*;
    use fleetopt_ports::ServiceError;
    use fleetopt_ports::fakes::InMemoryStore;
    use fleetopt_ports::fakes::contract::sample;
    use fleetopt_ports::{PurchaseRecommendation, RecommendationStore, TagActivation};
    use serde_json::json;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// The text with every run of white space made one space: what a reader sees, whatever
    /// the alignment.
    fn words(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn periods(today: &str, months: u32) -> Periods {
        Periods::new(day(today), months).unwrap()
    }

    /// Cost Explorer answering what a test says, and keeping what it was asked.
    struct FakeCost {
        months: CostResult<Vec<MonthCost>>,
        forecast: CostResult<f64>,
        asked: Mutex<Vec<(&'static str, NaiveDate, NaiveDate)>>,
    }

    impl FakeCost {
        fn new(months: CostResult<Vec<MonthCost>>, forecast: CostResult<f64>) -> Self {
            FakeCost {
                months,
                forecast,
                asked: Mutex::new(Vec::new()),
            }
        }

        fn asked(&self) -> Vec<(&'static str, NaiveDate, NaiveDate)> {
            self.asked.lock().unwrap().clone()
        }
    }

    impl CostSource for FakeCost {
        async fn monthly_by_service(
            &self,
            start: NaiveDate,
            end: NaiveDate,
        ) -> CostResult<Vec<MonthCost>> {
            self.asked
                .lock()
                .unwrap()
                .push(("GetCostAndUsage", start, end));
            self.months.clone()
        }

        async fn daily_for_tag(
            &self,
            _: NaiveDate,
            _: NaiveDate,
            _: (&str, &str),
        ) -> CostResult<Vec<(NaiveDate, f64)>> {
            panic!("fleetopt cost reads no daily costs")
        }

        async fn forecast(
            &self,
            start: NaiveDate,
            end: NaiveDate,
            tag: Option<(&str, &str)>,
        ) -> CostResult<f64> {
            assert_eq!(tag, None, "fleetopt cost forecasts the account");
            self.asked
                .lock()
                .unwrap()
                .push(("GetCostForecast", start, end));
            self.forecast.clone()
        }

        async fn tag_activation(&self, _: &str) -> CostResult<TagActivation> {
            panic!("fleetopt cost asks about no tag")
        }

        async fn reservation_recommendation(&self) -> CostResult<Option<PurchaseRecommendation>> {
            panic!("fleetopt cost asks for no purchase recommendation")
        }

        async fn savings_plans_recommendation(&self) -> CostResult<Option<PurchaseRecommendation>> {
            panic!("fleetopt cost asks for no purchase recommendation")
        }
    }

    const EC2: &str = "Amazon Elastic Compute Cloud - Compute";
    const ELB: &str = "Amazon Elastic Load Balancing";

    fn month(first: &str, services: &[(&str, f64)]) -> MonthCost {
        MonthCost {
            month: day(first),
            by_service: services.iter().map(|(s, v)| (s.to_string(), *v)).collect(),
        }
    }

    /// Three full months before November 2026 and November so far (plus a month before the
    /// period, which the emulator may well return and which is not shown).
    fn months() -> Vec<MonthCost> {
        vec![
            month("2026-07-01", &[(EC2, 999.0)]),
            month("2026-08-01", &[(EC2, 800.0), (ELB, 20.0)]),
            month("2026-09-01", &[(EC2, 812.404), (ELB, 21.5)]),
            month("2026-10-01", &[(EC2, 850.0), (ELB, 22.25)]),
            month("2026-11-01", &[(EC2, 600.1), (ELB, 15.0)]),
        ]
    }

    fn no_data(operation: &'static str) -> CostUnavailable {
        CostUnavailable::NoData {
            operation,
            message: "Insufficient amount of historical data to generate forecast.".into(),
        }
    }

    /// A cost recommendation for `group`, at `status`, saving `usd` a month.
    fn cost_recommendation(
        group: &str,
        kind: RecommendationType,
        status: Status,
        usd: Option<f64>,
    ) -> Recommendation {
        let mut r = sample(group, 7);
        r.id = format!("rec-{group}-{}", kind.as_str().to_lowercase());
        r.kind = kind;
        r.status = status;
        r.expected_impact.monthly_savings_usd = usd;
        r.expected_impact.cost_savings = usd.map(|v| v / 10.0);
        r
    }

    async fn store_with(items: &[Recommendation]) -> InMemoryStore {
        let store = InMemoryStore::new();
        for r in items {
            store.put_new(r).await.unwrap();
        }
        store
    }

    /// Noon of the periods' day: when a test's run reads.
    fn noon(p: &Periods) -> DateTime<Utc> {
        p.today.and_hms_opt(12, 0, 0).unwrap().and_utc()
    }

    async fn run_on(ce: &FakeCost, store: &InMemoryStore, p: &Periods) -> CostReport {
        report(gather(ce, store, p, noon(p)).await, p, 2).unwrap()
    }

    #[test]
    fn in_the_middle_of_a_month_the_periods_meet_at_tomorrow() {
        let p = periods("2026-11-23", 3);
        assert_eq!(p.month_start, day("2026-11-01"));
        assert_eq!(p.tomorrow, day("2026-11-24"));
        assert_eq!(p.next_month, day("2026-12-01"));
        assert_eq!(p.history_start, day("2026-08-01"));
        assert_eq!(p.forecast(), Some((day("2026-11-24"), day("2026-12-01"))));
        assert_eq!(
            p.full_months(),
            [day("2026-08-01"), day("2026-09-01"), day("2026-10-01")]
        );
    }

    #[test]
    fn in_january_the_months_reach_back_into_the_previous_year() {
        let p = periods("2026-01-15", 3);
        assert_eq!(p.history_start, day("2025-10-01"));
        assert_eq!(
            p.full_months(),
            [day("2025-10-01"), day("2025-11-01"), day("2025-12-01")]
        );
        assert_eq!(p.next_month, day("2026-02-01"));
        let p = periods("2026-11-23", 12);
        assert_eq!(p.history_start, day("2025-11-01"));
        assert_eq!(p.full_months().len(), 12);
        assert_eq!(p.full_months().last(), Some(&day("2026-10-01")));
    }

    #[test]
    fn a_december_forecast_runs_to_the_first_of_january() {
        let p = periods("2026-12-10", 1);
        assert_eq!(p.forecast(), Some((day("2026-12-11"), day("2027-01-01"))));
        assert_eq!(p.full_months(), [day("2026-11-01")]);
    }

    #[test]
    fn on_the_last_day_of_a_month_there_is_nothing_to_forecast() {
        for last in ["2026-11-30", "2026-12-31", "2026-02-28", "2028-02-29"] {
            let p = periods(last, 3);
            assert_eq!(p.forecast(), None, "{last}");
            assert_eq!(p.tomorrow, p.next_month, "{last}");
        }
        // 2028 is a leap year: its February 28th still has a day to forecast.
        assert_eq!(
            periods("2028-02-28", 3).forecast(),
            Some((day("2028-02-29"), day("2028-03-01")))
        );
        let p = periods("2026-12-31", 3);
        assert_eq!(p.tomorrow, day("2027-01-01"));
        assert_eq!(p.month_start, day("2026-12-01"));
    }

    #[test]
    fn on_the_first_of_a_month_the_month_to_date_is_one_day() {
        let p = periods("2026-11-01", 3);
        assert_eq!(
            (p.month_start, p.tomorrow),
            (day("2026-11-01"), day("2026-11-02"))
        );
        assert_eq!(p.forecast(), Some((day("2026-11-02"), day("2026-12-01"))));
        assert_eq!(p.history_start, day("2026-08-01"));
    }

    #[tokio::test]
    async fn one_cost_and_usage_request_covers_the_months_and_the_month_to_date() {
        let ce = FakeCost::new(Ok(months()), Ok(410.0));
        let p = periods("2026-11-23", 3);
        run_on(&ce, &InMemoryStore::new(), &p).await;
        assert_eq!(
            ce.asked(),
            [
                ("GetCostAndUsage", day("2026-08-01"), day("2026-11-24")),
                ("GetCostForecast", day("2026-11-24"), day("2026-12-01")),
            ]
        );
    }

    #[tokio::test]
    async fn month_to_date_plus_forecast_is_the_projected_month() {
        let ce = FakeCost::new(Ok(months()), Ok(410.004));
        let r = run_on(&ce, &InMemoryStore::new(), &periods("2026-11-23", 3)).await;
        assert_eq!(r.month_to_date, Some(615.1));
        assert_eq!(r.forecast_to_month_end, Some(410.0));
        assert_eq!(r.projected_month, Some(1025.1));
        let shown: Vec<(&str, f64)> = r
            .months
            .iter()
            .map(|m| (m.month.as_str(), m.total))
            .collect();
        assert_eq!(
            shown,
            [("2026-08", 820.0), ("2026-09", 833.9), ("2026-10", 872.25)]
        );
        assert_eq!(r.months[1].by_service[EC2], 812.4);
        assert!(r.unavailable.is_empty());
    }

    #[tokio::test]
    async fn a_month_cost_explorer_did_not_mention_had_no_cost() {
        let ce = FakeCost::new(Ok(vec![month("2026-10-01", &[(EC2, 850.0)])]), Ok(0.0));
        let r = run_on(&ce, &InMemoryStore::new(), &periods("2026-11-23", 2)).await;
        assert_eq!(r.months.len(), 2);
        assert_eq!(r.months[0].month, "2026-09");
        assert_eq!(r.months[0].total, 0.0);
        assert!(r.months[0].by_service.is_empty());
        assert_eq!(r.month_to_date, Some(0.0));
        // The sum of no amounts is -0.0 in Rust; a report never says "-0.00".
        let v = serde_json::to_string(&r).unwrap();
        assert!(!v.contains("-0.0"), "{v}");
        assert!(!render(&r, "t").contains("-0.00"));
    }

    #[tokio::test]
    async fn on_the_last_day_no_forecast_is_asked_and_the_month_to_date_is_the_month() {
        let ce = FakeCost::new(Ok(months()), Err(no_data("ce:GetCostForecast")));
        let p = periods("2026-11-30", 3);
        let r = run_on(&ce, &InMemoryStore::new(), &p).await;
        assert_eq!(
            ce.asked(),
            [("GetCostAndUsage", day("2026-08-01"), day("2026-12-01"))]
        );
        assert_eq!(r.forecast_to_month_end, Some(0.0));
        assert_eq!(r.projected_month, r.month_to_date);
        assert!(r.unavailable.is_empty());
        let text = words(&render(&r, "t"));
        assert!(
            text.contains(
                "Forecast to month end 0.00 today is the last day of the month: nothing to forecast"
            ),
            "{text}"
        );
        assert!(text.contains("Projected month 615.10"), "{text}");
    }

    #[tokio::test]
    async fn a_forecast_without_data_is_reported_and_the_rest_shown() {
        let ce = FakeCost::new(Ok(months()), Err(no_data("ce:GetCostForecast")));
        let store = store_with(&[cost_recommendation(
            "web",
            RecommendationType::CostOptimization,
            Status::Pending,
            Some(120.0),
        )])
        .await;
        let r = run_on(&ce, &store, &periods("2026-11-23", 3)).await;
        assert_eq!(r.month_to_date, Some(615.1));
        assert_eq!(r.forecast_to_month_end, None);
        assert_eq!(r.projected_month, None);
        assert_eq!(r.months.len(), 3);
        assert_eq!(r.open_recommendations.len(), 1);
        assert_eq!(
            r.unavailable,
            [
                "forecast unavailable: Cost Explorer has no data yet (ce:GetCostForecast: \
              Insufficient amount of historical data to generate forecast.)"
            ]
        );
        let text = render(&r, "t");
        assert!(
            words(&text).contains("Forecast to month end unavailable Projected month unavailable"),
            "{text}"
        );
        assert!(
            text.contains("  forecast unavailable: Cost Explorer has no data yet"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn denied_costs_keep_the_forecast_and_the_recommendations() {
        let ce = FakeCost::new(
            Err(CostUnavailable::AccessDenied {
                operation: "ce:GetCostAndUsage",
                message: "User is not authorized to perform: ce:GetCostAndUsage".into(),
            }),
            Ok(410.0),
        );
        let store = store_with(&[cost_recommendation(
            "web",
            RecommendationType::InstanceTypeChange,
            Status::Approved,
            Some(45.5),
        )])
        .await;
        let r = run_on(&ce, &store, &periods("2026-11-23", 3)).await;
        assert_eq!(r.month_to_date, None);
        assert_eq!(r.month_to_date_by_service, None);
        assert!(r.months.is_empty());
        assert_eq!(r.forecast_to_month_end, Some(410.0));
        assert_eq!(r.projected_month, None);
        assert_eq!(r.total_monthly_savings_usd, 45.5);
        assert_eq!(r.unavailable.len(), 1);
        assert!(
            r.unavailable[0].starts_with("costs unavailable: access to Cost Explorer denied"),
            "{:?}",
            r.unavailable
        );
        assert!(
            r.unavailable[0].contains("not authorized"),
            "{:?}",
            r.unavailable
        );
        let text = render(&r, "t");
        assert!(
            text.contains("By service: unavailable (see above)."),
            "{text}"
        );
        assert!(text.contains("45.50"), "{text}");
    }

    #[test]
    fn a_cost_explorer_failure_or_a_table_error_fails_the_run() {
        let p = periods("2026-11-23", 3);
        let failed = ServiceError {
            operation: "ce:GetCostForecast",
            code: "InternalFailure".into(),
            message: "boom".into(),
        };
        let found = Found {
            months: Ok(months()),
            forecast: Some(Err(CostUnavailable::Failed(failed.clone()))),
            open: Ok(vec![]),
            at: noon(&p),
        };
        assert!(matches!(report(found, &p, 2), Err(Failure::CostExplorer(e)) if e == failed));
        let found = Found {
            months: Err(CostUnavailable::Failed(failed.clone())),
            forecast: Some(Ok(1.0)),
            open: Ok(vec![]),
            at: noon(&p),
        };
        assert!(matches!(
            report(found, &p, 2),
            Err(Failure::CostExplorer(_))
        ));
        let found = Found {
            months: Ok(months()),
            forecast: Some(Ok(1.0)),
            open: Err(StoreError::Service {
                operation: "dynamodb:Query",
                code: "ResourceNotFoundException".into(),
                message: "Requested resource not found".into(),
            }),
            at: noon(&p),
        };
        assert!(matches!(report(found, &p, 2), Err(Failure::Table(_))));
    }

    #[tokio::test]
    async fn open_cost_recommendations_come_largest_saving_first_with_their_total() {
        use RecommendationType::{CostOptimization, InstanceTypeChange, ScaleDown};
        let items = [
            cost_recommendation("web", CostOptimization, Status::Pending, Some(120.0)),
            cost_recommendation(
                "api",
                InstanceTypeChange,
                Status::AwaitingApproval,
                Some(310.25),
            ),
            cost_recommendation("batch", CostOptimization, Status::Approved, None),
            cost_recommendation("jobs", InstanceTypeChange, Status::Pending, Some(45.5)),
            // Not open, or not a cost type: not shown.
            cost_recommendation("old", CostOptimization, Status::Completed, Some(999.0)),
            cost_recommendation("no", InstanceTypeChange, Status::Rejected, Some(999.0)),
            cost_recommendation("busy", CostOptimization, Status::InProgress, Some(999.0)),
            cost_recommendation("size", ScaleDown, Status::Pending, Some(999.0)),
        ];
        let store = store_with(&items).await;
        let ce = FakeCost::new(Ok(months()), Ok(410.0));
        let r = run_on(&ce, &store, &periods("2026-11-23", 3)).await;
        let order: Vec<(&str, Option<f64>)> = r
            .open_recommendations
            .iter()
            .map(|o| (o.auto_scaling_group_name.as_str(), o.monthly_savings_usd))
            .collect();
        assert_eq!(
            order,
            [
                ("api", Some(310.25)),
                ("web", Some(120.0)),
                ("jobs", Some(45.5)),
                ("batch", None)
            ]
        );
        assert_eq!(r.total_monthly_savings_usd, 475.75);
        let text = render(&r, "t");
        assert!(
            text.contains("4 open cost recommendation(s) in t, 475.75 USD a month in all"),
            "{text}"
        );
        assert!(text.contains("unknown"), "{text}");
    }

    #[tokio::test]
    async fn the_total_is_one_plan_per_group_not_the_sum_of_alternatives() {
        use RecommendationType::{CostOptimization, InstanceTypeChange};
        // checkout costs 1,000 $ a month: right-sizing saves 20 %, spot 26 % of today's cost.
        let mut sizing = cost_recommendation("checkout", InstanceTypeChange, Status::Pending, None);
        sizing.evidence.suggested_instance_type = Some("m6g.large".into());
        sizing.expected_impact.monthly_savings_usd = Some(200.0);
        sizing.expected_impact.cost_savings = Some(20.0);
        let mut spot = cost_recommendation("checkout", CostOptimization, Status::Pending, None);
        spot.evidence.spot_instances = Some(2);
        spot.expected_impact.monthly_savings_usd = Some(260.0);
        spot.expected_impact.cost_savings = Some(26.0);
        // The run-rate over the limit is what the groups' savings close: not added.
        let mut run_rate = cost_recommendation(
            "account:run-rate",
            CostOptimization,
            Status::Pending,
            Some(90.0),
        );
        run_rate.id = "rec-run-rate".into();
        run_rate.evidence.hourly_run_rate_usd = Some(2.0);
        let store = store_with(&[sizing, spot, run_rate]).await;
        let ce = FakeCost::new(Ok(months()), Ok(410.0));
        let r = run_on(&ce, &store, &periods("2026-11-23", 3)).await;
        assert_eq!(r.open_recommendations.len(), 3);
        // Spot on the right-sized type saves 26 % of the lower price: 1 - 0.8 x 0.74 = 40.8 %.
        assert_eq!(r.total_monthly_savings_usd, 408.0);
    }

    #[tokio::test]
    async fn json_has_the_documented_keys() {
        let store = store_with(&[cost_recommendation(
            "web",
            RecommendationType::CostOptimization,
            Status::Pending,
            Some(120.0),
        )])
        .await;
        let ce = FakeCost::new(Ok(months()), Ok(410.0));
        let r = run_on(&ce, &store, &periods("2026-11-23", 3)).await;
        let v = serde_json::to_value(&r).unwrap();
        // Sorted: serde_json keeps insertion order when another crate in the build enables its
        // `preserve_order` feature, and sorts otherwise.
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "costExplorerCalls",
                "currency",
                "forecastToMonthEnd",
                "monthToDate",
                "monthToDateByService",
                "months",
                "openRecommendations",
                "projectedMonth",
                "savingsAchieved",
                "totalMonthlySavingsUsd",
                "unavailable",
            ]
        );
        assert_eq!(v["currency"], "USD");
        assert_eq!(v["costExplorerCalls"], 2);
        assert_eq!(
            v["months"][2],
            json!({"month": "2026-10", "byService": {EC2: 850.0, ELB: 22.25}, "total": 872.25})
        );
        assert_eq!(v["monthToDateByService"], json!({EC2: 600.1, ELB: 15.0}));
        assert_eq!(
            v["openRecommendations"][0],
            json!({
                "id": "rec-web-cost_optimization", "type": "COST_OPTIMIZATION",
                "autoScalingGroupName": "web", "priority": r.open_recommendations[0].priority.as_str(),
                "status": "PENDING", "monthlySavingsUsd": 120.0, "costSavingsPercent": 12.0,
                "description": r.open_recommendations[0].description,
            })
        );
        assert_eq!(v["unavailable"], json!([]));
    }

    #[tokio::test]
    async fn the_table_shows_the_summary_the_services_by_month_and_the_calls() {
        let ce = FakeCost::new(Ok(months()), Ok(410.0));
        let r = run_on(&ce, &InMemoryStore::new(), &periods("2026-11-23", 3)).await;
        let text = render(&r, "t");
        assert!(
            text.starts_with(
                "Costs in USD (unblended, Cost Explorer), 2026-11-23 UTC\n\
                 \x20 Month to date (2026-11-01 to 2026-11-23)   615.10\n\
                 \x20 Forecast to month end                      410.00  Cost Explorer's \
                 forecast, 2026-11-24 to 2026-11-30\n\
                 \x20 Projected month                           1025.10\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("By service, 2026-08 to 2026-11 to date:"),
            "{text}"
        );
        for header in ["2026-08", "2026-09", "2026-10", "2026-11 to date"] {
            assert!(text.contains(header), "{header}: {text}");
        }
        // EC2 spends most: its row comes first, then ELB, then the totals.
        let ec2 = text.find(EC2).unwrap();
        let elb = text.find(ELB).unwrap();
        let total = text.find("│ Total").unwrap();
        assert!(ec2 < elb && elb < total, "{text}");
        for figure in ["812.40", "872.25", "615.10"] {
            assert!(text.contains(figure), "{figure}: {text}");
        }
        assert!(
            text.contains("No open cost recommendations in t (COST_OPTIMIZATION"),
            "{text}"
        );
        assert!(
            text.ends_with("\nCost Explorer requests: 2 (each is billed).\n"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn right_sizing_options_show_in_the_table_and_stay_in_the_json() {
        let mut r = cost_recommendation(
            "web",
            RecommendationType::InstanceTypeChange,
            Status::Pending,
            Some(335.8),
        );
        r.evidence.right_sizing = Some(crate::rightsizing::tests::sample());
        let store = store_with(&[r]).await;
        let ce = FakeCost::new(Ok(months()), Ok(410.0));
        let report = run_on(&ce, &store, &periods("2026-11-23", 3)).await;
        let text = render(&report, "t");
        assert!(
            text.contains(
                "Right-sizing options for web (rec-web-instance_type_change): CPU p99.5 of hourly \
                 maxima 25.0 %, memory 35.0 %, over 336 hours of the last 14 days\n"
            ),
            "{text}"
        );
        let lines: Vec<String> = text.lines().map(words).collect();
        for row in [
            "│ 1 ┆ 4 x m6g.large (arm64) ┆ 50.0 ┆ 70.0 ┆ 0 ┆ 335.80 ┆ 59.9 ┆ Medium │",
            "│ 2 ┆ 2 x m5.xlarge (fewer instances) ┆ 50.0 ┆ 70.0 ┆ 0 ┆ 280.32 ┆ 59.9 ┆ VeryLow │",
        ] {
            assert!(lines.iter().any(|l| l == row), "{row}: {text}");
        }
        assert!(
            text.contains("  Note: arm64 (Graviton): the AMI must support arm64\n"),
            "{text}"
        );
        let v = serde_json::to_value(&report).unwrap();
        let sizing = &v["openRecommendations"][0]["rightSizing"];
        assert_eq!(sizing["status"], "OPTIONS_FOUND");
        assert_eq!(sizing["options"][0]["instanceType"], "m6g.large");
        assert_eq!(sizing["options"][0]["migrationEffort"], "MEDIUM");
        assert_eq!(sizing["options"][1]["rank"], 2);
    }

    /// `r` completed at `done` (claimed 15 minutes before), measured at `usd` a month.
    fn measured(mut r: Recommendation, done: DateTime<Utc>, usd: f64) -> Recommendation {
        use fleetopt_model::RealizedSavings;
        use fleetopt_ports::fakes::contract::realized_savings;
        r.status = Status::Pending;
        r = r
            .transitioned(
                Status::InProgress,
                done - chrono::Duration::minutes(15),
                "e",
                None,
            )
            .unwrap()
            .transitioned(Status::Completed, done, "e", None)
            .unwrap();
        r.realized_savings = Some(RealizedSavings {
            instances_after: if usd < 0.0 { 5.0 } else { 3.0 },
            ..realized_savings(usd)
        });
        r
    }

    #[tokio::test]
    async fn savings_achieved_show_beside_the_projected_ones() {
        use RecommendationType::{CostOptimization, InstanceTypeChange, ScaleDown, ScaleUp};
        let p = periods("2026-11-23", 3);
        let now = noon(&p);
        let days = |n| now - chrono::Duration::days(n);
        let items = [
            cost_recommendation("web", CostOptimization, Status::Pending, Some(120.0)),
            measured(
                cost_recommendation("api", ScaleDown, Status::Pending, None),
                days(3),
                140.16,
            ),
            measured(
                cost_recommendation("web", ScaleUp, Status::Pending, None),
                days(2),
                -140.16,
            ),
            measured(
                cost_recommendation("batch", InstanceTypeChange, Status::Pending, None),
                days(10),
                280.32,
            ),
            // Completed 31 days ago: not in the last 30 days.
            measured(
                cost_recommendation("old", ScaleDown, Status::Pending, None),
                days(31),
                999.0,
            ),
        ];
        let store = store_with(&items).await;
        let ce = FakeCost::new(Ok(months()), Ok(410.0));
        let r = run_on(&ce, &store, &p).await;
        assert_eq!(r.savings_achieved.monthly_usd, 280.32);
        let v = serde_json::to_value(&r).unwrap();
        let a = &v["savingsAchieved"];
        assert_eq!(
            (a["days"].as_i64(), a["monthlyUsd"].as_f64()),
            (Some(30), Some(280.32))
        );
        let rows: Vec<(&str, f64)> = a["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["autoScalingGroupName"].as_str().unwrap(),
                    c["monthlyUsd"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(rows, [("batch", 280.32), ("api", 140.16), ("web", -140.16)]);
        assert_eq!(
            a["changes"][2],
            json!({
                "id": "rec-web-scale_up", "type": "SCALE_UP", "autoScalingGroupName": "web",
                "completedAt": "2026-11-21T12:00:00Z", "monthlyUsd": -140.16,
                "instancesBefore": 4.0, "instancesAfter": 5.0,
                "instanceTypeBefore": "m5.xlarge", "instanceTypeAfter": "m5.xlarge",
            })
        );
        // The open recommendation is still the projection; completed changes are not open.
        assert_eq!(r.total_monthly_savings_usd, 120.0);
        let text = render(&r, "t");
        assert!(
            text.contains(
                "Savings achieved by 3 change(s) completed in the last 30 days: 280.32 USD a \
                 month (projected by the open cost recommendations: 120.00 USD a month):"
            ),
            "{text}"
        );
        let lines: Vec<String> = text.lines().map(words).collect();
        assert!(
            lines.iter().any(|l| l
                == "│ rec-web-scale_up ┆ SCALE_UP ┆ web ┆ 2026-11-21T12:00:00Z ┆ 4.0 x m5.xlarge ┆ \
                    5.0 x m5.xlarge ┆ -140.16 (added cost) │"),
            "{text}"
        );
        assert!(!text.contains("999.00"), "{text}");
        // Nothing measured: said so, never a saving of 0.
        let r = run_on(&ce, &InMemoryStore::new(), &p).await;
        assert!(r.savings_achieved.changes.is_empty());
        assert!(
            words(&render(&r, "t")).contains(
                "Savings achieved: none measured yet for changes completed in the last 30 days"
            ),
            "{}",
            render(&r, "t")
        );
    }

    #[test]
    fn only_cost_explorer_calls_are_counted() {
        let calls = BTreeMap::from([
            ("ce:GetCostAndUsage".to_owned(), 2),
            ("ce:GetCostForecast".to_owned(), 1),
            ("dynamodb:Query".to_owned(), 2),
        ]);
        assert_eq!(cost_explorer_calls(&calls), 3);
    }
}
