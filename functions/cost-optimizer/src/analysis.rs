//! One cost analysis (docs/design.md): discover the groups, read Cost Explorer (at most 5
//! calls, whatever the fleet's size), the prices and the catalog (cached), and the hourly maxima
//! of the right-sizing lookback (14 or 32 days, `FLEETOPT_RIGHTSIZING_LOOKBACK_DAYS`); apply the
//! cost rules (right-sizing with the operator's preferences, issue 10); write the
//! recommendations conditionally; publish CostSavingsPotential in one PutMetricData; send one
//! cost alert when the month runs over budget or a HIGH saving is found. What Cost Explorer cannot answer is reported, not fatal.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, DurationRound, NaiveDate, Utc};
use fleetopt_config::{Config, Environment};
use fleetopt_costing::{
    Architecture, Commitment, GroupCost, HOURS_PER_MONTH, InstanceType, MIN_CPU_HOURS,
    MonthProjection, SpotStats, assess_right_sizing, commitment, project_month,
    right_sizing_proposal, run_rate, spot_savings,
};
use fleetopt_model::{
    ACCOUNT_SUBJECT_PREFIX, AnalysisWindow, Origin, Priority, Recommendation, Source,
};
use fleetopt_policy::screen::{Recorded, Rules, Suppressed, record, screen_new};
use fleetopt_ports::{
    CostResult, CostSource, FleetDirectory, GroupInfo, MetricDatum, MetricsPublisher,
    MetricsSource, Notifier, PriceSource, RecommendationStore, ServiceError, StoreError,
    TimeWindow,
};
use fleetopt_scoring::{
    CpuPercentile, Proposal, RightSizing, RightSizingPreferences, RightSizingStatus, Targets,
};
use fleetopt_snapshot::{hourly_maxima, right_sizing_queries};
use serde::Serialize;

use crate::event::{EventError, Trigger};
use crate::prices::{CacheStats, CachedPrices};
use crate::realized::{RealizedReport, Sources, measure};

/// The cost allocation tag the daily costs are filtered by; its value is the application.
pub const APPLICATION_TAG: &str = "fleet-optimizer:application";
/// Who the cost optimizer is in status histories.
pub const ACTOR: &str = "cost-optimizer";
/// How many table writes run at once.
const WRITE_CONCURRENCY: usize = 8;
/// Days of spot prices read.
pub const SPOT_DAYS: i64 = 7;

/// The capabilities a cost analysis needs.
#[derive(Debug)]
pub struct Deps<F, M, C, P, N, S> {
    /// The Auto Scaling groups.
    pub fleet: F,
    /// CloudWatch, read and published.
    pub metrics: M,
    /// Cost Explorer.
    pub costs: C,
    /// Prices and the catalog, cached.
    pub prices: CachedPrices<P>,
    /// SNS.
    pub notifier: N,
    /// The recommendations table.
    pub store: S,
    /// The region whose prices apply.
    pub region: String,
}

/// One group's costs in the response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupCosts {
    /// The group.
    pub auto_scaling_group_name: String,
    /// The instance type its instances run.
    pub instance_type: Option<String>,
    /// Desired capacity.
    pub desired_capacity: u32,
    /// On-demand cost, USD per hour, when the type's price is known.
    pub hourly_cost_usd: Option<f64>,
    /// Monthly savings found, USD.
    pub monthly_savings_usd: f64,
    /// Savings as a share of the group's monthly cost, percent.
    pub cost_savings_potential: Option<f64>,
    /// The recommendations for it.
    pub recommendation_ids: Vec<String>,
    /// What right-sizing made of it (absent when its type is not in the catalog).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right_sizing: Option<RightSizingSummary>,
}

/// What right-sizing made of one group, in the response: whether it found options and, when
/// it could not look, why (INSUFFICIENT_DATA with the hours of CPU data it had).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RightSizingSummary {
    /// INSUFFICIENT_DATA, INCOMPLETE_CATALOG, OPTIMIZED, UNDER_PROVISIONED or OPTIONS_FOUND.
    pub status: RightSizingStatus,
    /// Hours with a CPU datapoint in the lookback.
    pub cpu_hours: u32,
    /// Hours it needs at least.
    pub minimum_cpu_hours: u32,
    /// The lookback, days.
    pub lookback_days: u32,
    /// The percentile of hourly maxima sized for.
    pub percentile: CpuPercentile,
    /// Whether the group is idle (CPU p99.5 under 5 %).
    pub idle: bool,
    /// Options found (the recommendation's evidence holds them).
    pub options: usize,
}

impl From<&RightSizing> for RightSizingSummary {
    fn from(r: &RightSizing) -> Self {
        RightSizingSummary {
            status: r.status,
            cpu_hours: r.cpu_hours,
            minimum_cpu_hours: MIN_CPU_HOURS,
            lookback_days: r.lookback_days,
            percentile: r.percentile,
            idle: r.idle,
            options: r.options.len(),
        }
    }
}

/// The account's costs in the response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountCosts {
    /// Cost per month and service, oldest first.
    pub months: Vec<MonthSummary>,
    /// The application's cost per day over the last 30 days (its cost allocation tag).
    pub daily: Vec<DaySummary>,
    /// The month's projection, when month to date is known.
    pub projection: Option<MonthProjection>,
}

/// One month's cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthSummary {
    /// `2026-09`.
    pub month: String,
    /// USD per service.
    pub by_service: BTreeMap<String, f64>,
    /// USD.
    pub total: f64,
}

/// One day's cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaySummary {
    /// `2026-11-22`.
    pub day: String,
    /// USD.
    pub cost: f64,
}

/// The cost optimizer's response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// The environment.
    pub environment: String,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Why nothing was analyzed, for an accepted event that asked for nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// One entry per group analyzed.
    pub groups: Vec<GroupCosts>,
    /// The account's costs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub costs: Option<AccountCosts>,
    /// Account-wide recommendations (reserved capacity, run-rate).
    pub account_recommendation_ids: Vec<String>,
    /// New items written.
    pub recommendations_written: usize,
    /// Open requests found again and refreshed in place (no new item, no new message).
    pub recommendations_refreshed: usize,
    /// Open requests a materially different finding replaced, marked SUPERSEDED.
    pub recommendations_superseded: usize,
    /// New findings the operator's controls held back (exclusion tag, snooze, minimum
    /// savings).
    pub recommendations_suppressed: usize,
    /// Each of them, with the rule and the figures.
    pub suppressed: Vec<Suppressed>,
    /// Items of the table that are not recommendations (another version's, or written by
    /// hand), skipped by the history read and logged with their keys: their ids.
    pub items_skipped: Vec<String>,
    /// What could not be read, and why; the rest of the run went on.
    pub unavailable: Vec<String>,
    /// Cost Explorer requests (billed per request): on AWS the requests the SDK sent, pages
    /// included; in `run` alone, the figures asked for.
    pub cost_explorer_calls: u32,
    /// Price and catalog cache hits and misses.
    pub cache: CacheStats,
    /// AWS calls made, per API.
    pub aws_calls: BTreeMap<String, u64>,
    /// Savings achieved: the completed changes measured this run, those that could not be
    /// and why, and the last 30 days' total (`crate::realized`).
    pub realized_savings: RealizedReport,
}

impl Response {
    /// A response for an event that asks for nothing.
    pub fn skipped(config: &Config, reason: String) -> Self {
        Response {
            environment: config.environment.as_str().to_owned(),
            dry_run: config.dry_run,
            skipped: Some(reason),
            groups: Vec::new(),
            costs: None,
            account_recommendation_ids: Vec::new(),
            recommendations_written: 0,
            recommendations_refreshed: 0,
            recommendations_superseded: 0,
            recommendations_suppressed: 0,
            suppressed: Vec::new(),
            items_skipped: Vec::new(),
            unavailable: Vec::new(),
            cost_explorer_calls: 0,
            cache: CacheStats::default(),
            aws_calls: BTreeMap::new(),
            realized_savings: RealizedReport::default(),
        }
    }
}

/// Why an invocation could not do its job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// The event is not one the cost optimizer accepts.
    #[error(transparent)]
    InvalidEvent(#[from] EventError),
    /// The groups could not be listed.
    #[error("discovering the Auto Scaling groups: {0}")]
    Discovery(ServiceError),
    /// The metrics could not be read.
    #[error("reading metrics: {0}")]
    Metrics(ServiceError),
    /// Reading earlier recommendations, or writing one, failed; the store's error is kept whole
    /// (a throttle stays a throttle).
    #[error("{what}: {error}")]
    Store {
        /// What was being read or written (`writing recommendation rec-...`).
        what: String,
        /// The store's error.
        error: StoreError,
    },
    /// CostSavingsPotential could not be published.
    #[error("publishing CostSavingsPotential: {0}")]
    Publish(ServiceError),
    /// The cost alert could not be sent.
    #[error("sending the cost alert: {0}")]
    Notify(ServiceError),
}

impl CostError {
    /// The fixed error type Lambda reports.
    pub fn error_type(&self) -> &'static str {
        let service = match self {
            CostError::InvalidEvent(_) => return "InvalidEvent",
            CostError::Store {
                error: StoreError::Throttled { .. },
                ..
            } => return "Throttled",
            CostError::Store { .. } => return "AwsServiceError",
            CostError::Discovery(e)
            | CostError::Metrics(e)
            | CostError::Publish(e)
            | CostError::Notify(e) => e,
        };
        if service.is_throttling() {
            "Throttled"
        } else {
            "AwsServiceError"
        }
    }
}

/// The first day of `day`'s month.
fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The first day of the month after `day`'s.
fn next_month(day: NaiveDate) -> NaiveDate {
    let first = month_start(day);
    let (year, month) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(first)
}

/// The first day of the month `n` months before `day`'s.
fn months_back(day: NaiveDate, n: u32) -> NaiveDate {
    let mut first = month_start(day);
    for _ in 0..n {
        first = month_start(first - Duration::days(1));
    }
    first
}

/// The Graviton generations whose families an x86_64 group's right-sizing also prices.
const GRAVITON_GENERATIONS: [u32; 2] = [6, 7];

/// Whether a family's name is a Graviton (arm64) one: a `g` right after the generation digits
/// (`m6g`, `c7gn`, `t4g`, `r6gd`), where x86_64 families have nothing or another letter (`m5`,
/// `m5a`, `c6i`).
fn graviton_family(family: &str) -> bool {
    let rest = family.trim_start_matches(|c: char| c.is_ascii_lowercase());
    let suffix = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    suffix.len() < rest.len() && suffix.starts_with('g')
}

/// Catalog patterns for right-sizing a type: its own family; for the general purpose, compute
/// and memory families, those of the same generation (`m5.xlarge` -> `m5.*`, `c5.*`, `r5.*`);
/// and from an x86_64 family the Graviton families of generations 6 and 7 of the same kinds
/// (`c6g.*`, `m6g.*`, `r6g.*`, `c7g.*`, `m7g.*`, `r7g.*`; `t3` -> `t4g.*`), so an arm64 option
/// can be priced. All of them go in the run's one DescribeInstanceTypes request.
fn families(instance_type: &str) -> Vec<String> {
    let Some((family, _)) = instance_type.split_once('.') else {
        return vec![instance_type.to_owned()];
    };
    let mut patterns = BTreeSet::from([format!("{family}.*")]);
    let x86 = !graviton_family(family);
    if let Some(generation) = family.strip_prefix(['c', 'm', 'r'])
        && generation.starts_with(|c: char| c.is_ascii_digit())
    {
        for letter in ['c', 'm', 'r'] {
            patterns.insert(format!("{letter}{generation}.*"));
            if x86 {
                for g in GRAVITON_GENERATIONS {
                    patterns.insert(format!("{letter}{g}g.*"));
                }
            }
        }
    } else if x86 && family.starts_with('t') {
        patterns.insert("t4g.*".to_owned());
    }
    patterns.into_iter().collect()
}

fn architecture(info: &fleetopt_ports::InstanceTypeInfo) -> Architecture {
    if info.architectures.iter().any(|a| a == "arm64") {
        Architecture::Arm64
    } else {
        Architecture::X86_64
    }
}

/// Records what Cost Explorer could not answer and counts the call.
/// A price read's result, or its default with the reason in `unavailable` when the read failed.
fn degraded<T: Default>(
    result: Result<T, ServiceError>,
    what: &str,
    unavailable: &mut Vec<String>,
) -> T {
    result.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "{what} unavailable");
        unavailable.push(format!("{what}: {e}"));
        T::default()
    })
}

fn cost<T>(result: CostResult<T>, calls: &mut u32, unavailable: &mut Vec<String>) -> Option<T> {
    *calls += 1;
    match result {
        Ok(value) => Some(value),
        Err(e) => {
            tracing::warn!(error = %e, "Cost Explorer figure unavailable");
            unavailable.push(e.to_string());
            None
        }
    }
}

/// Runs a cost analysis for `trigger` at `now`.
pub async fn run<F, M, C, P, N, S>(
    config: &Config,
    deps: &Deps<F, M, C, P, N, S>,
    trigger: &Trigger,
    now: DateTime<Utc>,
) -> Result<Response, CostError>
where
    F: FleetDirectory + Sync,
    M: MetricsSource + MetricsPublisher + Sync,
    C: CostSource + Sync,
    P: PriceSource + Sync,
    N: Notifier + Sync,
    S: RecommendationStore + Sync,
{
    if !config.settings.enable_cost_optimization {
        return Ok(Response::skipped(
            config,
            "cost optimization is disabled for this environment".to_owned(),
        ));
    }
    let dry_run = config.dry_run || trigger.dry_run();
    let selector = fleetopt_policy::selector(&config.fleet);
    let mut groups = deps
        .fleet
        .groups(&selector)
        .await
        .map_err(CostError::Discovery)?;
    if let Some(asked) = trigger.groups() {
        groups.retain(|g| asked.contains(&g.name));
    }

    // Cost Explorer: five calls at most, whatever the fleet's size.
    let today = now.date_naive();
    let tomorrow = today + Duration::days(1);
    let mut unavailable = Vec::new();
    let mut ce_calls = 0;
    let months = cost(
        deps.costs
            .monthly_by_service(months_back(today, 3), tomorrow)
            .await,
        &mut ce_calls,
        &mut unavailable,
    )
    .unwrap_or_default();
    let daily = cost(
        deps.costs
            .daily_for_tag(
                today - Duration::days(30),
                today,
                (APPLICATION_TAG, &config.application),
            )
            .await,
        &mut ce_calls,
        &mut unavailable,
    )
    .unwrap_or_default();
    let forecast = if tomorrow < next_month(today) {
        cost(
            deps.costs.forecast(tomorrow, next_month(today)).await,
            &mut ce_calls,
            &mut unavailable,
        )
    } else {
        Some(0.0)
    };
    let reservations = cost(
        deps.costs.reservation_recommendation().await,
        &mut ce_calls,
        &mut unavailable,
    )
    .flatten();
    let savings_plans = cost(
        deps.costs.savings_plans_recommendation().await,
        &mut ce_calls,
        &mut unavailable,
    )
    .flatten();

    // Prices and the catalog, through the caches.
    let types: BTreeSet<String> = groups
        .iter()
        .filter_map(|g| g.instance_type.clone())
        .collect();
    let patterns: BTreeSet<String> = types.iter().flat_map(|t| families(t)).collect();
    let patterns: Vec<String> = patterns.into_iter().collect();
    // Each of the three price reads may be refused (an SCP, a missing permission) or be down:
    // the run goes on without it, says so in `unavailable`, and writes what it still can
    // (trends, the forecast, reserved instances, savings plans).
    let catalog_info = degraded(
        deps.prices.instance_types(&patterns).await,
        "the instance catalog (right-sizing skipped)",
        &mut unavailable,
    );
    let mut priced: Vec<String> = catalog_info.iter().map(|t| t.name.clone()).collect();
    priced.extend(types.iter().cloned());
    priced.sort();
    priced.dedup();
    let on_demand = degraded(
        deps.prices.on_demand_hourly(&deps.region, &priced).await,
        "on-demand prices (hourly costs, right-sizing and spot savings skipped)",
        &mut unavailable,
    );
    let catalog: Vec<InstanceType> = catalog_info
        .iter()
        .map(|t| InstanceType {
            name: t.name.clone(),
            vcpus: t.vcpus,
            memory_mib: t.memory_mib,
            architecture: architecture(t),
            on_demand_hourly: on_demand.get(&t.name).copied(),
        })
        .collect();
    let zones: BTreeSet<String> = groups
        .iter()
        .flat_map(|g| g.availability_zones.iter().cloned())
        .collect();
    let spot_prices = degraded(
        deps.prices
            .spot_prices(
                &types.iter().cloned().collect::<Vec<_>>(),
                &zones.into_iter().collect::<Vec<_>>(),
                now - Duration::days(SPOT_DAYS),
                now,
            )
            .await,
        "spot price history (spot findings skipped)",
        &mut unavailable,
    );

    // The lookback's hourly maxima (exactly `lookback_days` of whole hours, which the
    // right-sizing rules require), batched like every other read.
    let end = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let lookback = Duration::days(i64::from(config.right_sizing.lookback_days));
    let usage = if groups.is_empty() {
        Default::default()
    } else {
        deps.metrics
            .read(
                &TimeWindow {
                    start: end - lookback,
                    end,
                },
                &right_sizing_queries(&groups),
            )
            .await
            .map_err(CostError::Metrics)?
    };

    // The rules.
    let production = config.environment == Environment::Production;
    let group_rules = GroupRules {
        catalog: &catalog,
        spot_prices: &spot_prices,
        usage: &usage,
        production,
        preferences: &config.right_sizing,
        targets: &config.settings.targets,
    };
    let mut per_group: Vec<(GroupCosts, Vec<Proposal>)> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let (proposals, costs) = group_rules.findings(g, i);
        per_group.push((costs, proposals));
    }
    let fleet_hourly: f64 = per_group
        .iter()
        .filter_map(|(c, _)| c.hourly_cost_usd)
        .sum();
    // Account-wide findings, each under its own subject so that their ids differ.
    let mut account: Vec<(String, Proposal)> = Vec::new();
    for (kind, subject, found) in [
        ("Reserved Instances", "reserved-instances", reservations),
        ("Savings Plans", "savings-plans", savings_plans),
    ] {
        if let Some(r) = found {
            let c = Commitment {
                kind,
                offer: r.offer,
                monthly_savings_usd: r.monthly_savings_usd,
                savings_percent: r.savings_percent,
                upfront_usd: r.upfront_usd,
            };
            account
                .extend(commitment(&c).map(|p| (format!("{ACCOUNT_SUBJECT_PREFIX}{subject}"), p)));
        }
    }
    account.extend(
        run_rate(fleet_hourly, config.settings.max_hourly_cost)
            .map(|p| (format!("{ACCOUNT_SUBJECT_PREFIX}run-rate"), p)),
    );

    let month_to_date = months
        .iter()
        .find(|m| m.month == month_start(today))
        .map(|m| m.total());
    let last_month = months
        .iter()
        .find(|m| m.month == months_back(today, 1))
        .map(|m| m.total());
    let hours_in_month =
        u32::try_from((next_month(today) - month_start(today)).num_hours()).unwrap_or(720);
    // No forecast, no projection: month-to-date alone is not what the month will cost (the
    // forecast's own failure is already in `unavailable`).
    let projection = month_to_date.zip(forecast).map(|(mtd, rest)| {
        project_month(
            mtd,
            rest,
            last_month,
            config.settings.max_hourly_cost,
            hours_in_month,
        )
    });

    // Recommendations: one window per day, so a second run the same day writes nothing new.
    let day_start = now.duration_trunc(Duration::days(1)).unwrap_or(now);
    let origin = Origin {
        source: Source::CostOptimizer,
        environment: config.environment.as_str(),
        window: AnalysisWindow {
            start: day_start,
            end: day_start + Duration::days(1),
        },
        now,
        automation_enabled: false,
    };
    // Every finding first, then the operator's controls (exclusion tags, snoozes, minimum
    // savings), then the writes of what is kept.
    let mut candidates: Vec<Recommendation> = Vec::new();
    for (costs, proposals) in &per_group {
        candidates.extend(
            proposals
                .iter()
                .map(|p| Recommendation::from_proposal(p, &costs.auto_scaling_group_name, &origin)),
        );
    }
    candidates.extend(
        account
            .iter()
            .map(|(subject, p)| Recommendation::from_proposal(p, subject, &origin)),
    );
    let rules = Rules {
        controls: config.controls,
        analysis_interval: Duration::days(1),
    };
    let screened = screen_new(&deps.store, candidates, &groups, &rules, now)
        .await
        .map_err(|error| CostError::Store {
            what: "reading earlier recommendations".to_owned(),
            error,
        })?;

    // What stands after this run: today's new findings and the open requests they refreshed
    // (one open request per finding, the analyzer's rule).
    let current: Vec<&Recommendation> = screened.current().collect();
    let mut high = Vec::new();
    let mut group_costs = Vec::new();
    let mut account_ids = Vec::new();
    for r in &screened.kept {
        if r.priority == Priority::High {
            high.push(r.description.clone());
        }
    }
    for r in &current {
        if r.is_account_wide() {
            account_ids.push(r.id.clone());
        }
    }
    for (mut costs, _) in per_group {
        let kept: Vec<&&Recommendation> = current
            .iter()
            .filter(|r| r.auto_scaling_group_name == costs.auto_scaling_group_name)
            .collect();
        costs.recommendation_ids = kept.iter().map(|r| r.id.clone()).collect();
        // What is held back is no saving on offer.
        costs.monthly_savings_usd = kept
            .iter()
            .filter_map(|r| r.expected_impact.monthly_savings_usd)
            .sum();
        costs.cost_savings_potential = costs
            .hourly_cost_usd
            .filter(|h| *h > 0.0)
            .map(|h| costs.monthly_savings_usd / (h * HOURS_PER_MONTH) * 100.0);
        group_costs.push(costs);
    }

    // Savings achieved by completed changes: measured, written once, published below.
    let sources = Sources {
        metrics: &deps.metrics,
        prices: &deps.prices,
        store: &deps.store,
        region: &deps.region,
    };
    let realized = measure(config, &sources, &groups, now, dry_run).await;
    unavailable.extend(realized.unavailable);

    let mut recorded = Recorded::default();
    if !dry_run {
        recorded = record(&deps.store, &screened, now, ACTOR, WRITE_CONCURRENCY).await;
        if let Some((_, (id, error))) = recorded.failures.iter().next() {
            return Err(CostError::Store {
                what: format!("writing recommendation {id}"),
                error: error.clone(),
            });
        }
        publish(config, &deps.metrics, &group_costs, &realized.data, now).await?;
        alert(config, &deps.notifier, projection.as_ref(), &high).await?;
    }
    let written = recorded.written;
    let superseded = recorded.superseded;
    let suppressed = screened.suppressed;
    let items_skipped = screened.skipped;
    Ok(Response {
        environment: config.environment.as_str().to_owned(),
        dry_run,
        skipped: None,
        groups: group_costs,
        costs: Some(AccountCosts {
            months: months
                .iter()
                .map(|m| MonthSummary {
                    month: m.month.format("%Y-%m").to_string(),
                    by_service: m.by_service.clone(),
                    total: m.total(),
                })
                .collect(),
            daily: daily
                .iter()
                .map(|(day, cost)| DaySummary {
                    day: day.to_string(),
                    cost: *cost,
                })
                .collect(),
            projection,
        }),
        account_recommendation_ids: account_ids,
        recommendations_written: written,
        recommendations_refreshed: recorded.refreshed,
        recommendations_superseded: superseded,
        recommendations_suppressed: suppressed.len(),
        suppressed,
        items_skipped,
        unavailable,
        cost_explorer_calls: ce_calls,
        cache: deps.prices.take_stats(),
        aws_calls: BTreeMap::new(),
        realized_savings: realized.report,
    })
}

/// What the per-group rules read, gathered once per run.
struct GroupRules<'a> {
    catalog: &'a [InstanceType],
    spot_prices: &'a [fleetopt_ports::SpotPrice],
    usage: &'a fleetopt_ports::MetricResults,
    production: bool,
    preferences: &'a RightSizingPreferences,
    targets: &'a Targets,
}

impl GroupRules<'_> {
    /// The findings and the cost summary of group number `index`.
    fn findings(&self, g: &GroupInfo, index: usize) -> (Vec<Proposal>, GroupCosts) {
        let current = g
            .instance_type
            .as_ref()
            .and_then(|t| self.catalog.iter().find(|c| &c.name == t));
        let mut proposals = Vec::new();
        let mut right_sizing = None;
        let hourly = current
            .and_then(|t| t.on_demand_hourly)
            .map(|p| p * f64::from(g.desired));
        if let Some(current) = current {
            let prices: Vec<f64> = self
                .spot_prices
                .iter()
                .filter(|p| {
                    p.instance_type == current.name
                        && g.availability_zones.contains(&p.availability_zone)
                })
                .map(|p| p.price)
                .collect();
            let (cpu, memory) = hourly_maxima(self.usage, index);
            let cost = GroupCost {
                group: &g.name,
                instance_type: current,
                desired: g.desired,
                min_size: g.min_size,
                spot: SpotStats::from_prices(&prices),
                cpu_hourly_maxima: &cpu,
                memory_hourly_maxima: &memory,
            };
            proposals.extend(spot_savings(&cost, self.production));
            let proposal =
                right_sizing_proposal(&cost, self.catalog, self.preferences, self.targets);
            // The proposal carries the outcome; without one, the outcome says why.
            right_sizing = Some(
                match proposal
                    .as_ref()
                    .and_then(|p| p.evidence.right_sizing.as_ref())
                {
                    Some(outcome) => RightSizingSummary::from(outcome),
                    None => RightSizingSummary::from(&assess_right_sizing(
                        &cost,
                        self.catalog,
                        self.preferences,
                        self.targets,
                    )),
                },
            );
            proposals.extend(proposal);
        }
        let savings: f64 = proposals
            .iter()
            .filter_map(|p| p.expected_impact.monthly_savings_usd)
            .sum();
        let costs = GroupCosts {
            auto_scaling_group_name: g.name.clone(),
            instance_type: g.instance_type.clone(),
            desired_capacity: g.desired,
            hourly_cost_usd: hourly,
            monthly_savings_usd: savings,
            cost_savings_potential: hourly
                .filter(|h| *h > 0.0)
                .map(|h| savings / (h * HOURS_PER_MONTH) * 100.0),
            recommendation_ids: Vec::new(),
            right_sizing,
        };
        (proposals, costs)
    }
}

/// CostSavingsPotential per group and for the environment, with the savings `achieved`
/// (RealizedSavings), in one PutMetricData call.
async fn publish<M: MetricsPublisher + Sync>(
    config: &Config,
    metrics: &M,
    groups: &[GroupCosts],
    achieved: &[MetricDatum],
    at: DateTime<Utc>,
) -> Result<(), CostError> {
    let environment = config.environment.as_str().to_owned();
    let mut data: Vec<MetricDatum> = groups
        .iter()
        .filter_map(|g| {
            Some(MetricDatum {
                name: "CostSavingsPotential",
                dimensions: vec![
                    ("Environment", environment.clone()),
                    ("AutoScalingGroupName", g.auto_scaling_group_name.clone()),
                ],
                value: g.cost_savings_potential?,
                unit: "Percent",
                timestamp: at,
            })
        })
        .collect();
    let monthly: f64 =
        groups.iter().filter_map(|g| g.hourly_cost_usd).sum::<f64>() * HOURS_PER_MONTH;
    if monthly > 0.0 {
        let savings: f64 = groups.iter().map(|g| g.monthly_savings_usd).sum();
        data.push(MetricDatum {
            name: "CostSavingsPotential",
            dimensions: vec![("Environment", environment)],
            value: savings / monthly * 100.0,
            unit: "Percent",
            timestamp: at,
        });
    }
    data.extend_from_slice(achieved);
    if data.is_empty() {
        return Ok(());
    }
    metrics
        .publish(&config.metrics_namespace, &data)
        .await
        .map_err(CostError::Publish)
}

/// One message on the cost-alert topic when the month runs over budget or a HIGH saving was
/// found.
async fn alert<N: Notifier + Sync>(
    config: &Config,
    notifier: &N,
    projection: Option<&MonthProjection>,
    high: &[String],
) -> Result<(), CostError> {
    let Some(topic) = &config.topics.cost_alert else {
        return Ok(());
    };
    let over = projection.filter(|p| p.over_budget);
    if over.is_none() && high.is_empty() {
        return Ok(());
    }
    let mut message = String::new();
    if let Some(p) = over {
        message.push_str(&format!(
            "The month is projected at ${:.2} (${:.2} so far), over the ${:.2} budget \
             (maxHourlyCost x hours in the month).\n",
            p.projected, p.month_to_date, p.budget
        ));
    }
    for h in high {
        message.push_str(&format!("- {h}\n"));
    }
    let subject = format!(
        "fleet-optimizer {}: {}",
        config.environment,
        if over.is_some() {
            "month projected over budget"
        } else {
            "large cost savings found"
        }
    );
    notifier
        .notify(topic, &subject, &message)
        .await
        .map_err(CostError::Notify)
}

/// The run on in-memory fakes: what happens when Cost Explorer cannot answer, and the
/// bookkeeping of a run (the emulator tests in `tests/emulator.rs` run the same code on moto).
#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use fleetopt_ports::fakes::{FakeCosts, FakeFleet, FakePrices, InMemoryStore, Recorder};

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn month_arithmetic_crosses_years() {
        assert_eq!(month_start(day("2026-11-23")), day("2026-11-01"));
        assert_eq!(next_month(day("2026-12-31")), day("2027-01-01"));
        assert_eq!(months_back(day("2026-02-14"), 3), day("2025-11-01"));
        assert_eq!(months_back(day("2026-03-31"), 1), day("2026-02-01"));
    }

    #[test]
    fn right_sizing_looks_at_the_family_and_its_siblings() {
        assert_eq!(
            families("m5.xlarge"),
            [
                "c5.*", "c6g.*", "c7g.*", "m5.*", "m6g.*", "m7g.*", "r5.*", "r6g.*", "r7g.*"
            ]
        );
        assert_eq!(
            families("c6i.large"),
            [
                "c6g.*", "c6i.*", "c7g.*", "m6g.*", "m6i.*", "m7g.*", "r6g.*", "r6i.*", "r7g.*"
            ]
        );
        // arm64 groups stay arm64: no x86_64 option is ever offered them.
        assert_eq!(families("m6g.large"), ["c6g.*", "m6g.*", "r6g.*"]);
        assert_eq!(families("t3.medium"), ["t3.*", "t4g.*"]);
        assert_eq!(families("t4g.medium"), ["t4g.*"]);
        assert_eq!(families("weird"), ["weird"]);
    }

    #[test]
    fn graviton_families_have_a_g_after_the_generation() {
        for arm in ["m6g", "c7gn", "t4g", "r6gd", "x2gd", "im4gn"] {
            assert!(graviton_family(arm), "{arm}");
        }
        for x86 in ["m5", "m5a", "c6i", "c5n", "t3", "m7i-flex", "g5"] {
            assert!(!graviton_family(x86), "{x86}");
        }
    }

    fn deps(
        costs: FakeCosts,
    ) -> Deps<FakeFleet, Recorder, FakeCosts, FakePrices, Recorder, InMemoryStore> {
        Deps {
            fleet: FakeFleet::new([GroupInfo {
                min_size: 1,
                instance_type: Some("m5.xlarge".into()),
                ..fleetopt_ports::fakes::group("web")
            }]),
            metrics: Recorder::new(),
            costs,
            prices: CachedPrices::new(FakePrices),
            notifier: Recorder::new(),
            store: InMemoryStore::new(),
            region: "us-east-1".into(),
        }
    }

    fn config(extra: &[(&str, &str)]) -> Config {
        let mut vars: std::collections::HashMap<String, String> = [
            ("FLEETOPT_ENVIRONMENT", "production"),
            ("FLEETOPT_APPLICATION", "app"),
            ("FLEETOPT_TARGET_GROUPS", "web"),
            (
                "FLEETOPT_COST_ALERT_TOPIC_ARN",
                "arn:aws:sns:us-east-1:111122223333:cost",
            ),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        Config::from_lookup(&|name| vars.get(name).cloned()).unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 6, 0, 0).unwrap()
    }

    /// Prices refused everywhere, as an SCP or a missing permission refuses them.
    struct RefusedPrices;

    impl fleetopt_ports::PriceSource for RefusedPrices {
        async fn on_demand_hourly(
            &self,
            _region: &str,
            _instance_types: &[String],
        ) -> Result<BTreeMap<String, f64>, ServiceError> {
            Err(refused("pricing:GetProducts"))
        }

        async fn spot_prices(
            &self,
            _instance_types: &[String],
            _availability_zones: &[String],
            _start: DateTime<Utc>,
            _end: DateTime<Utc>,
        ) -> Result<Vec<fleetopt_ports::SpotPrice>, ServiceError> {
            Err(refused("ec2:DescribeSpotPriceHistory"))
        }

        async fn instance_types(
            &self,
            _patterns: &[String],
        ) -> Result<Vec<fleetopt_ports::InstanceTypeInfo>, ServiceError> {
            Err(refused("ec2:DescribeInstanceTypes"))
        }
    }

    fn refused(operation: &'static str) -> ServiceError {
        ServiceError {
            operation,
            code: "AccessDeniedException".into(),
            message: "explicitly denied by a service control policy".into(),
        }
    }

    #[tokio::test]
    async fn refused_prices_degrade_the_run_instead_of_failing_it() {
        let base = deps(FakeCosts::new());
        let deps = Deps {
            fleet: base.fleet,
            metrics: base.metrics,
            costs: base.costs,
            prices: CachedPrices::new(RefusedPrices),
            notifier: base.notifier,
            store: base.store,
            region: base.region,
        };
        let response = run(&config(&[]), &deps, &Trigger::Schedule, now())
            .await
            .unwrap();
        assert_eq!(response.unavailable.len(), 3, "{:?}", response.unavailable);
        for (what, operation) in [
            (
                "the instance catalog (right-sizing skipped)",
                "ec2:DescribeInstanceTypes",
            ),
            ("on-demand prices", "pricing:GetProducts"),
            (
                "spot price history (spot findings skipped)",
                "ec2:DescribeSpotPriceHistory",
            ),
        ] {
            assert!(
                response
                    .unavailable
                    .iter()
                    .any(|u| u.starts_with(what) && u.contains(operation)),
                "{what}: {:?}",
                response.unavailable
            );
        }
        // No price, no hourly cost; what Cost Explorer gives is still there.
        assert_eq!(response.groups[0].hourly_cost_usd, None);
        assert!(response.costs.unwrap().projection.is_some());
    }

    /// Cost Explorer with every figure but the forecast.
    struct NoForecast(FakeCosts);

    impl fleetopt_ports::CostSource for NoForecast {
        async fn monthly_by_service(
            &self,
            start: chrono::NaiveDate,
            end: chrono::NaiveDate,
        ) -> CostResult<Vec<fleetopt_ports::MonthCost>> {
            self.0.monthly_by_service(start, end).await
        }

        async fn daily_for_tag(
            &self,
            start: chrono::NaiveDate,
            end: chrono::NaiveDate,
            tag: (&str, &str),
        ) -> CostResult<Vec<(chrono::NaiveDate, f64)>> {
            self.0.daily_for_tag(start, end, tag).await
        }

        async fn forecast(
            &self,
            _start: chrono::NaiveDate,
            _end: chrono::NaiveDate,
        ) -> CostResult<f64> {
            Err(fleetopt_ports::CostUnavailable::NoData {
                operation: "ce:GetCostForecast",
                message: "not enough history to forecast".into(),
            })
        }

        async fn reservation_recommendation(
            &self,
        ) -> CostResult<Option<fleetopt_ports::PurchaseRecommendation>> {
            self.0.reservation_recommendation().await
        }

        async fn savings_plans_recommendation(
            &self,
        ) -> CostResult<Option<fleetopt_ports::PurchaseRecommendation>> {
            self.0.savings_plans_recommendation().await
        }
    }

    #[tokio::test]
    async fn an_unavailable_forecast_is_no_projection_not_month_to_date() {
        let base = deps(FakeCosts::new());
        let deps = Deps {
            fleet: base.fleet,
            metrics: base.metrics,
            costs: NoForecast(FakeCosts::new()),
            prices: base.prices,
            notifier: base.notifier,
            store: base.store,
            region: base.region,
        };
        let response = run(&config(&[]), &deps, &Trigger::Schedule, now())
            .await
            .unwrap();
        assert!(
            response
                .unavailable
                .iter()
                .any(|u| u.contains("not enough history to forecast")),
            "{:?}",
            response.unavailable
        );
        let costs = response.costs.unwrap();
        assert!(!costs.months.is_empty());
        assert_eq!(costs.projection, None);
    }

    #[test]
    fn a_store_failure_keeps_its_kind() {
        let throttled = CostError::Store {
            what: "writing recommendation rec-1".into(),
            error: StoreError::Throttled {
                operation: "dynamodb:PutItem",
                message: "rate exceeded".into(),
            },
        };
        assert_eq!(throttled.error_type(), "Throttled");
        assert_eq!(
            throttled.to_string(),
            "writing recommendation rec-1: dynamodb:PutItem was throttled: rate exceeded"
        );
        let missing = CostError::Store {
            what: "reading earlier recommendations".into(),
            error: StoreError::NotFound { id: "rec-2".into() },
        };
        assert_eq!(missing.error_type(), "AwsServiceError");
    }

    #[tokio::test]
    async fn without_cost_explorer_the_run_says_so_and_still_prices_the_fleet() {
        let deps = deps(FakeCosts::unavailable(
            fleetopt_ports::CostUnavailable::AccessDenied {
                operation: "ce:GetCostAndUsage",
                message: "Cost Explorer is not enabled".into(),
            },
        ));
        let response = run(&config(&[]), &deps, &Trigger::Schedule, now())
            .await
            .unwrap();
        assert_eq!(response.cost_explorer_calls, 5);
        assert_eq!(response.unavailable.len(), 5);
        assert!(response.unavailable[0].contains("access denied: Cost Explorer is not enabled"));
        let costs = response.costs.unwrap();
        assert!(costs.months.is_empty() && costs.projection.is_none());
        // The fleet is still priced: 4 x m5.xlarge.
        assert_eq!(response.groups[0].hourly_cost_usd, Some(0.768));
        // CostSavingsPotential (0 %: no usage data, no spot history) in one call.
        assert_eq!(deps.metrics.published().len(), 1);
    }

    #[tokio::test]
    async fn a_month_over_budget_sends_one_cost_alert() {
        let deps = deps(FakeCosts::new());
        // 100 $ to date and 40 $ forecast against a 0.01 $/h limit: a 7.20 $ budget.
        let config = config(&[("FLEETOPT_MAX_HOURLY_COST", "0.01")]);
        let response = run(&config, &deps, &Trigger::Schedule, now())
            .await
            .unwrap();
        let alerts = deps.notifier.notifications();
        assert_eq!(alerts.len(), 1, "{response:?}");
        assert!(
            alerts[0].1.contains("large cost savings found") || alerts[0].1.contains("over budget")
        );
        // The run-rate finding (0.768 $/h against 0.01) is HIGH and account-wide.
        let ids = &response.account_recommendation_ids;
        assert_eq!(ids.len(), 1);
        let r = deps.store.get(&ids[0]).await.unwrap().unwrap();
        assert_eq!(r.auto_scaling_group_name, "account:run-rate");
        assert!(alerts[0].2.contains("runs at $0.77/h"), "{}", alerts[0].2);
    }

    #[tokio::test]
    async fn the_next_days_same_finding_refreshes_the_open_request_of_the_day_before() {
        let deps = deps(FakeCosts::new());
        let config = config(&[("FLEETOPT_MAX_HOURLY_COST", "0.01")]);
        let first = run(&config, &deps, &Trigger::Schedule, now())
            .await
            .unwrap();
        let old = first.account_recommendation_ids[0].clone();
        let next_day = now() + Duration::days(1);
        let second = run(&config, &deps, &Trigger::Schedule, next_day)
            .await
            .unwrap();
        assert_eq!(
            (
                second.recommendations_written,
                second.recommendations_refreshed,
                second.recommendations_superseded
            ),
            (0, 1, 0)
        );
        assert_eq!(
            second.account_recommendation_ids,
            std::slice::from_ref(&old)
        );
        let refreshed = deps.store.get(&old).await.unwrap().unwrap();
        assert_eq!(
            (refreshed.status, refreshed.seen()),
            (fleetopt_model::Status::Pending, 2)
        );
        assert_eq!(
            refreshed.analysis_window.start,
            next_day.duration_trunc(Duration::days(1)).unwrap()
        );
    }

    #[tokio::test]
    async fn a_dry_run_writes_publishes_and_alerts_nothing() {
        let deps = deps(FakeCosts::new());
        let config = config(&[("FLEETOPT_MAX_HOURLY_COST", "0.01")]);
        let response = run(&config, &deps, &Trigger::Manual { dry_run: true }, now())
            .await
            .unwrap();
        assert!(response.dry_run);
        assert_eq!(response.recommendations_written, 0);
        assert_eq!(response.account_recommendation_ids.len(), 1);
        assert!(
            deps.store
                .get(&response.account_recommendation_ids[0])
                .await
                .unwrap()
                .is_none()
        );
        assert!(deps.metrics.published().is_empty() && deps.notifier.notifications().is_empty());
    }

    /// CloudWatch with steady hourly maxima: CPU 25 %, memory 35 %, one point per hour of the
    /// window asked, for at most `hours` hours before its end (the rest of the window has no
    /// data, as for a group created since).
    struct Hourly {
        hours: i64,
        /// CPU and memory maxima, percent.
        values: (f64, f64),
        published: Recorder,
    }

    impl MetricsSource for Hourly {
        async fn read(
            &self,
            window: &TimeWindow,
            queries: &[fleetopt_ports::MetricQuery],
        ) -> Result<fleetopt_ports::MetricResults, ServiceError> {
            let hours = (window.end - window.start).num_hours().min(self.hours);
            Ok(queries
                .iter()
                .map(|q| {
                    let value = if q.name == "CPUUtilization" {
                        self.values.0
                    } else {
                        self.values.1
                    };
                    let points = (1..=hours)
                        .map(|h| (window.end - Duration::hours(h), value))
                        .collect();
                    (q.id.clone(), points)
                })
                .collect())
        }
    }

    impl MetricsPublisher for Hourly {
        async fn publish(&self, namespace: &str, data: &[MetricDatum]) -> Result<(), ServiceError> {
            self.published.publish(namespace, data).await
        }
    }

    fn hourly_deps(
        hours: i64,
    ) -> Deps<FakeFleet, Hourly, FakeCosts, FakePrices, Recorder, InMemoryStore> {
        let d = deps(FakeCosts::new());
        Deps {
            fleet: d.fleet,
            metrics: Hourly {
                hours,
                values: (25.0, 35.0),
                published: Recorder::new(),
            },
            costs: d.costs,
            prices: d.prices,
            notifier: d.notifier,
            store: d.store,
            region: d.region,
        }
    }

    #[tokio::test]
    async fn right_sizing_reads_the_preferred_lookback_and_stores_every_option() {
        // 4 x m5.xlarge (4 vCPU, 16 GiB, 0.192 $/h), CPU 25 %, memory 35 %; the fake catalog
        // holds m5.large (2 vCPU, 8 GiB, 0.096 $/h) too.
        // - 4 x m5.large: CPU 25 x 16 / 8 = 50 %, memory 35 x 64 / 32 = 70 %, both at or under
        //   their targets (70, 80): risk 0; saves 4 x 0.096 x 730 = 280.32 $ (50 %).
        // - 2 x m5.xlarge: CPU 50 %, memory 70 %, risk 0, saves the same 280.32 $; the tie
        //   goes to the name, m5.large first. 1 x m5.xlarge would run CPU at 100 %: no fit.
        for (days, hours) in [("14", 336), ("32", 768)] {
            let deps = hourly_deps(10_000);
            let config = config(&[("FLEETOPT_RIGHTSIZING_LOOKBACK_DAYS", days)]);
            let response = run(&config, &deps, &Trigger::Schedule, now())
                .await
                .unwrap();
            let g = &response.groups[0];
            let summary = g.right_sizing.as_ref().unwrap();
            assert_eq!(summary.status, RightSizingStatus::OptionsFound, "{days}");
            assert_eq!(summary.cpu_hours, hours);
            assert_eq!(summary.lookback_days.to_string(), days);
            assert_eq!(summary.options, 2);
            let r = deps
                .store
                .get(&g.recommendation_ids[0])
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                r.kind,
                fleetopt_model::RecommendationType::InstanceTypeChange
            );
            assert_eq!(r.expected_impact.monthly_savings_usd, Some(280.32));
            assert_eq!(r.expected_impact.cost_savings, Some(50.0));
            let outcome = r.evidence.right_sizing.as_ref().unwrap();
            assert_eq!(outcome.cpu_hours, hours);
            let options: Vec<_> = outcome
                .options
                .iter()
                .map(|o| {
                    (
                        o.rank,
                        o.instance_type.as_str(),
                        o.desired_capacity,
                        o.projected_cpu_percent,
                        o.projected_memory_percent,
                        o.performance_risk,
                        o.monthly_savings_usd,
                    )
                })
                .collect();
            assert_eq!(
                options,
                [
                    (1, "m5.large", 4, Some(50.0), Some(70.0), 0, 280.32),
                    (2, "m5.xlarge", 2, Some(50.0), Some(70.0), 0, 280.32),
                ]
            );
        }
    }

    #[tokio::test]
    async fn a_group_with_under_30_hours_of_cpu_data_is_reported_insufficient() {
        let deps = hourly_deps(29);
        let response = run(&config(&[]), &deps, &Trigger::Schedule, now())
            .await
            .unwrap();
        let g = &response.groups[0];
        let summary = g.right_sizing.as_ref().unwrap();
        assert_eq!(summary.status, RightSizingStatus::InsufficientData);
        assert_eq!((summary.cpu_hours, summary.minimum_cpu_hours), (29, 30));
        assert!(g.recommendation_ids.is_empty(), "{g:?}");
        let json = serde_json::to_value(g).unwrap();
        assert_eq!(
            json["rightSizing"],
            serde_json::json!({"status": "INSUFFICIENT_DATA", "cpuHours": 29,
                "minimumCpuHours": 30, "lookbackDays": 14, "percentile": "p99.5",
                "idle": false, "options": 0})
        );
        // 30 hours are enough.
        let deps = hourly_deps(30);
        let response = run(&config(&[]), &deps, &Trigger::Schedule, now())
            .await
            .unwrap();
        let summary = response.groups[0].right_sizing.as_ref().unwrap();
        assert_eq!(summary.status, RightSizingStatus::OptionsFound);
    }

    #[tokio::test]
    async fn one_right_sizing_item_per_group_stays_open_when_the_best_option_changes_kind() {
        // Day 1, CPU 25 %, memory 35 %: the best option changes the type (4 x m5.large).
        let mut deps = hourly_deps(10_000);
        let config = config(&[]);
        let first = run(&config, &deps, &Trigger::Schedule, now())
            .await
            .unwrap();
        let day1 = first.groups[0].recommendation_ids[0].clone();
        let r = deps.store.get(&day1).await.unwrap().unwrap();
        assert_eq!(
            r.evidence.suggested_instance_type.as_deref(),
            Some("m5.large")
        );
        // Day 2, CPU and memory 10 %: one m5.xlarge fits (40 % each) and saves 3 x 0.192 x
        // 730 = 420.48 $, more than 4 x m5.large's 280.32: the best option now only lowers
        // the capacity, and the item is still an INSTANCE_TYPE_CHANGE, so it replaces day 1's.
        deps.metrics.values = (10.0, 10.0);
        let second = run(
            &config,
            &deps,
            &Trigger::Schedule,
            now() + Duration::days(1),
        )
        .await
        .unwrap();
        let day2 = second.groups[0].recommendation_ids[0].clone();
        let r = deps.store.get(&day2).await.unwrap().unwrap();
        assert_eq!(
            r.kind,
            fleetopt_model::RecommendationType::InstanceTypeChange
        );
        assert_eq!(r.evidence.suggested_instance_type, None);
        assert_eq!(r.evidence.target_desired_capacity, Some(1));
        assert_eq!(r.expected_impact.monthly_savings_usd, Some(420.48));
        assert_eq!(second.recommendations_superseded, 1);
        let old = deps.store.get(&day1).await.unwrap().unwrap();
        assert_eq!(old.status, fleetopt_model::Status::Superseded);
        assert_eq!(r.replaces.as_deref(), Some(day1.as_str()));
    }
}
