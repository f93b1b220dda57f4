//! One cost analysis (docs/design.md), in the analyzer's shape: gather (the groups, Cost
//! Explorer in at most 5 requests whatever the fleet's size, the prices and the catalog through
//! their caches, the right-sizing lookback's hourly maxima in one batch) -> a plain
//! [`CostSnapshot`] -> the pure [`assess`] -> the operator's controls (screen) -> conditional
//! writes -> CostSavingsPotential in one PutMetricData and at most one cost alert. What Cost
//! Explorer or the price APIs cannot answer is named in `unavailable`, never fatal.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use fleetopt_config::{Config, Environment};
use fleetopt_costing::{
    Budget, CostAssessment, CostRules, CostSnapshot, DAILY_DAYS, HOURS_PER_MONTH, Lever,
    MIN_CPU_HOURS, Periods, SavingsPart, TagCheck, assess, catalog_patterns, plan_savings,
};
use fleetopt_model::{
    ACCOUNT_SUBJECT_PREFIX, AnalysisWindow, Origin, Priority, Recommendation, Shard, Source,
};
use fleetopt_policy::screen::{Recorded, Rules, Screened, Suppressed, record, screen_new};
use fleetopt_ports::{
    CostResult, CostSource, FleetDirectory, Members, MetricDatum, MetricsPublisher, MetricsSource,
    Notifier, PriceSource, RecommendationStore, ServiceError, StoreError, TagActivation,
    TimeWindow, placed_in,
};
use fleetopt_scoring::scheduled_action_names;
use fleetopt_scoring::{CpuPercentile, RightSizing, RightSizingStatus};
use fleetopt_snapshot::{CostReads, cost_snapshot, right_sizing_queries};
use serde::Serialize;

use crate::event::{EventError, Trigger};
use crate::prices::{CacheStats, CachedPrices};
use crate::realized::{RealizedReport, Sources, measure};

/// The cost allocation tag the application's costs are filtered by; its value is the
/// application.
pub const APPLICATION_TAG: &str = "fleet-optimizer:application";
/// Who the cost optimizer is in status histories.
pub const ACTOR: &str = "cost-optimizer";
/// How many table writes run at once.
const WRITE_CONCURRENCY: usize = 8;
/// Days of spot prices read.
pub const SPOT_DAYS: i64 = 7;
/// Full months of the account's costs read before this one.
pub const HISTORY_MONTHS: u32 = 3;

/// The capabilities a cost analysis needs.
#[derive(Debug)]
pub struct Deps<F, M, C, P, N, S, R> {
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
    /// Other accounts and regions: what a shard's run reads there, through the member role.
    pub members: R,
}

/// What the cost optimizer reads in another account or region: its groups, metrics, Cost
/// Explorer and prices (cached for the one run). The table, the topic and the metrics it
/// publishes stay in the function's own account.
#[derive(Debug, Clone)]
pub struct ShardReads<F, M, C, P> {
    /// The shard's Auto Scaling groups.
    pub fleet: F,
    /// The shard's CloudWatch metrics.
    pub metrics: M,
    /// The shard's account's Cost Explorer.
    pub costs: C,
    /// Prices and the catalog, in the shard's region.
    pub prices: P,
    /// The shard's region, whose prices apply.
    pub region: String,
}

/// Where a run reads: the function's own adapters, or a shard's.
struct View<'a, F, M, C, P> {
    fleet: &'a F,
    metrics: &'a M,
    costs: &'a C,
    prices: &'a CachedPrices<P>,
    region: &'a str,
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
    /// Monthly savings of one coherent plan (the best change of each kind, composed), USD.
    pub monthly_savings_usd: f64,
    /// The plan's savings as a share of the group's monthly cost, percent.
    pub cost_savings_potential: Option<f64>,
    /// The changes the plan is made of, each with its own saving alone.
    pub savings_parts: Vec<SavingsPart>,
    /// The recommendations for it.
    pub recommendation_ids: Vec<String>,
    /// What right-sizing made of it (absent when its type is not in the catalog).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right_sizing: Option<RightSizingSummary>,
    /// Why no schedule is proposed for it, when none is (no strong cycle, too little data, the
    /// schedule already in force, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_schedule: Option<String>,
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

/// The account's and the application's costs in the response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountCosts {
    /// The account's cost per month and service, oldest first.
    pub months: Vec<MonthSummary>,
    /// The application's cost per day over the last 30 days (its cost allocation tag).
    pub daily: Vec<DaySummary>,
    /// The application's month against maxHourlyCost × the month's hours.
    pub budget: Budget,
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
    /// The account's and the application's costs.
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
    /// The day is at the edge of the calendar chrono represents.
    #[error("{0} is too close to the edge of the calendar to compute its months")]
    Calendar(NaiveDate),
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
    /// The shard's account could not be reached (the member role).
    #[error("reaching {shard} through the member role: {error}")]
    Member {
        /// The account and region asked for.
        shard: Shard,
        /// STS's refusal, or what failed.
        error: ServiceError,
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
            CostError::InvalidEvent(_) | CostError::Calendar(_) => return "InvalidEvent",
            CostError::Store {
                error: StoreError::Throttled { .. },
                ..
            } => return "Throttled",
            CostError::Store { .. } => return "AwsServiceError",
            CostError::Discovery(e)
            | CostError::Member { error: e, .. }
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

/// What gathering found beside the reads: what was missing, and the Cost Explorer requests.
#[derive(Debug, Default)]
struct Gathered {
    reads: CostReads,
    unavailable: Vec<String>,
    cost_explorer_calls: u32,
}

impl Gathered {
    /// A Cost Explorer figure, or `None` with the reason in `unavailable`; counts the call.
    fn cost<T>(&mut self, result: CostResult<T>) -> Option<T> {
        self.cost_explorer_calls += 1;
        result
            .map_err(|e| {
                tracing::warn!(error = %e, "Cost Explorer figure unavailable");
                self.unavailable.push(e.to_string());
            })
            .ok()
    }

    /// A price read's result, or its default with the reason in `unavailable`: a refused or
    /// failing price API (an SCP, a missing permission) degrades the run, never fails it.
    fn degraded<T: Default>(&mut self, result: Result<T, ServiceError>, what: &str) -> T {
        result.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "{what} unavailable");
            self.unavailable.push(format!("{what}: {e}"));
            T::default()
        })
    }
}

/// Runs a cost analysis for `trigger` at `now`.
pub async fn run<F, M, C, P, N, S, R>(
    config: &Config,
    deps: &Deps<F, M, C, P, N, S, R>,
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
    R: Members<Reach = ShardReads<F, M, C, P>> + Sync,
{
    if !config.settings.enable_cost_optimization {
        return Ok(Response::skipped(
            config,
            "cost optimization is disabled for this environment".to_owned(),
        ));
    }
    let dry_run = config.dry_run || trigger.dry_run();
    let today = now.date_naive();
    let periods = Periods::new(today, HISTORY_MONTHS).ok_or(CostError::Calendar(today))?;

    // A shard in another account or region is read through its own adapters; what the cost
    // optimizer writes, sends and publishes stays in its own account.
    let shard = trigger.shard();
    let member = fleetopt_ports::reach(&deps.members, shard)
        .await
        .map_err(|(shard, error)| CostError::Member { shard, error })?
        .map(|m| ShardReads {
            prices: CachedPrices::new(m.prices),
            fleet: m.fleet,
            metrics: m.metrics,
            costs: m.costs,
            region: m.region,
        });
    let view = match &member {
        Some(m) => View {
            fleet: &m.fleet,
            metrics: &m.metrics,
            costs: &m.costs,
            prices: &m.prices,
            region: &m.region,
        },
        None => View {
            fleet: &deps.fleet,
            metrics: &deps.metrics,
            costs: &deps.costs,
            prices: &deps.prices,
            region: &deps.region,
        },
    };

    let mut gathered = Gathered::default();
    gathered.reads.groups = discover(config, view.fleet, trigger).await?;
    read_costs(config, view.costs, &periods, &mut gathered).await;
    read_prices(&view, now, &mut gathered).await;
    gathered.reads.usage = read_usage(config, view.metrics, &gathered.reads, now).await?;
    if !gathered.reads.groups.is_empty() {
        let scheduled = view
            .fleet
            .scheduled_actions(&scheduled_action_names())
            .await
            .map(Some);
        gathered.reads.scheduled = gathered.degraded(
            scheduled,
            "the groups' scheduled actions (schedules skipped)",
        );
    }

    let snapshot = cost_snapshot(periods, &gathered.reads);
    let assessment = assess(&snapshot, &cost_rules(config));

    // Every finding first, then the operator's controls (exclusion tags, snoozes, minimum
    // savings), then the writes of what is kept.
    let candidates = recommendations(config, &assessment, shard, now);
    let rules = Rules {
        controls: config.controls,
        analysis_interval: Duration::days(1),
    };
    let screened = screen_new(&deps.store, candidates, &gathered.reads.groups, &rules, now)
        .await
        .map_err(|error| CostError::Store {
            what: "reading earlier recommendations".to_owned(),
            error,
        })?;
    let groups = group_costs(&gathered.reads, &assessment, &screened);
    // Savings achieved by completed changes: measured, written once, published below.
    let sources = Sources {
        metrics: view.metrics,
        prices: view.prices,
        store: &deps.store,
        region: view.region,
        shard,
    };
    let realized = measure(config, &sources, &gathered.reads.groups, now, dry_run).await;
    gathered.unavailable.extend(realized.unavailable);

    let mut recorded = Recorded::default();
    if !dry_run {
        recorded = record(&deps.store, &screened, now, ACTOR, WRITE_CONCURRENCY).await;
        if let Some((_, (id, error))) = recorded.failures.iter().next() {
            return Err(CostError::Store {
                what: format!("writing recommendation {id}"),
                error: error.clone(),
            });
        }
        publish(
            config,
            &deps.metrics,
            (&groups, &realized.data),
            shard.filter(|_| member.is_some()),
            now,
        )
        .await?;
        let high: Vec<&str> = screened
            .kept
            .iter()
            .filter(|r| r.priority == Priority::High)
            .map(|r| r.description.as_str())
            .collect();
        alert(config, &deps.notifier, &assessment.budget, &high).await?;
    }
    Ok(Response {
        environment: config.environment.as_str().to_owned(),
        dry_run,
        skipped: None,
        groups,
        costs: Some(account_costs(&snapshot, &gathered.reads, assessment.budget)),
        account_recommendation_ids: screened
            .current()
            .filter(|r| r.is_account_wide())
            .map(|r| r.id.clone())
            .collect(),
        recommendations_written: recorded.written,
        recommendations_refreshed: recorded.refreshed,
        recommendations_superseded: recorded.superseded,
        recommendations_suppressed: screened.suppressed.len(),
        suppressed: screened.suppressed,
        items_skipped: screened.skipped,
        unavailable: gathered.unavailable,
        cost_explorer_calls: gathered.cost_explorer_calls,
        cache: view.prices.take_stats(),
        aws_calls: BTreeMap::new(),
        realized_savings: realized.report,
    })
}

/// The groups of the environment, narrowed to those the event names.
async fn discover<F: FleetDirectory + Sync>(
    config: &Config,
    fleet: &F,
    trigger: &Trigger,
) -> Result<Vec<fleetopt_ports::GroupInfo>, CostError> {
    let mut groups = fleet
        .groups(&fleetopt_policy::selector(&config.fleet))
        .await
        .map_err(CostError::Discovery)?;
    if let Some(asked) = trigger.groups() {
        groups.retain(|g| asked.contains(&g.name));
    }
    Ok(groups)
}

/// Cost Explorer: five requests at most, whatever the fleet's size (a sixth, ListCostAllocationTags,
/// only when the application's tag filtered no cost at all, to say why).
async fn read_costs<C: CostSource + Sync>(
    config: &Config,
    costs: &C,
    periods: &Periods,
    gathered: &mut Gathered,
) {
    let tag = (APPLICATION_TAG, config.application.as_str());
    let months = costs
        .monthly_by_service(periods.history_start, periods.tomorrow)
        .await;
    gathered.reads.months = gathered.cost(months).unwrap_or_default();
    let (from, to) = periods.application_days();
    let daily = costs.daily_for_tag(from, to, tag).await;
    gathered.reads.daily = gathered.cost(daily);
    gathered.reads.forecast = match periods.forecast() {
        Some((start, end)) => {
            let forecast = costs.forecast(start, end, Some(tag)).await;
            gathered.cost(forecast)
        }
        // The month's last day: nothing is left to forecast.
        None => Some(0.0),
    };
    let reservations = costs.reservation_recommendation().await;
    gathered.reads.reservations = gathered.cost(reservations).flatten();
    let savings_plans = costs.savings_plans_recommendation().await;
    gathered.reads.savings_plans = gathered.cost(savings_plans).flatten();
    // No cost under the tag at all: an inactive tag is the usual reason, and the budget says so.
    if let Some(days) = &gathered.reads.daily
        && days.iter().all(|(_, cost)| *cost == 0.0)
    {
        let activation = costs.tag_activation(APPLICATION_TAG).await;
        gathered.reads.tag = Some(match gathered.cost(activation) {
            Some(TagActivation::Active) => TagCheck::Active,
            Some(TagActivation::Inactive) => TagCheck::Inactive,
            Some(TagActivation::Unknown) => TagCheck::NeverSeen,
            None => TagCheck::Unavailable,
        });
    }
}

/// Prices and the catalog, through the caches. Each of the three reads may be refused or be
/// down: the run goes on without it, says so, and writes what it still can (trends, the
/// forecast, reserved instances, savings plans).
async fn read_prices<F, M, C, P: PriceSource + Sync>(
    view: &View<'_, F, M, C, P>,
    now: DateTime<Utc>,
    gathered: &mut Gathered,
) {
    let groups = &gathered.reads.groups;
    let mut types: Vec<String> = groups
        .iter()
        .filter_map(|g| g.instance_type.clone())
        .collect();
    types.sort();
    types.dedup();
    let mut zones: Vec<String> = groups
        .iter()
        .flat_map(|g| g.availability_zones.iter().cloned())
        .collect();
    zones.sort();
    zones.dedup();
    let patterns = catalog_patterns(types.iter().map(String::as_str));
    let catalog = view.prices.instance_types(&patterns).await;
    gathered.reads.catalog =
        gathered.degraded(catalog, "the instance catalog (right-sizing skipped)");
    let priced = gathered.reads.types_to_price();
    let on_demand = view.prices.on_demand_hourly(view.region, &priced).await;
    gathered.reads.on_demand = gathered.degraded(
        on_demand,
        "on-demand prices (hourly costs, right-sizing and spot savings skipped)",
    );
    let spot = view
        .prices
        .spot_prices(&types, &zones, now - Duration::days(SPOT_DAYS), now)
        .await;
    gathered.reads.spot_prices =
        gathered.degraded(spot, "spot price history (spot findings skipped)");
}

/// The lookback's hourly maxima: exactly `lookback_days` of whole hours, which the
/// right-sizing rules require, batched like every other read.
async fn read_usage<M: MetricsSource + Sync>(
    config: &Config,
    metrics: &M,
    reads: &CostReads,
    now: DateTime<Utc>,
) -> Result<fleetopt_ports::MetricResults, CostError> {
    if reads.groups.is_empty() {
        return Ok(Default::default());
    }
    let end = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let lookback = Duration::days(i64::from(config.right_sizing.lookback_days));
    metrics
        .read(
            &TimeWindow {
                start: end - lookback,
                end,
            },
            &right_sizing_queries(&reads.groups),
        )
        .await
        .map_err(CostError::Metrics)
}

/// The cost rules' settings from the configuration.
fn cost_rules(config: &Config) -> CostRules {
    CostRules {
        production: config.environment == Environment::Production,
        preferences: config.right_sizing.clone(),
        targets: config.settings.targets,
        max_hourly_cost: config.settings.max_hourly_cost,
        tag_key: APPLICATION_TAG.to_owned(),
        max_step_percent: config.controls.max_step_percent,
        max_step_instances: config.controls.max_step_instances,
    }
}

/// The assessment's proposals as recommendations: one window per day, so a second run the
/// same day writes nothing new.
fn recommendations(
    config: &Config,
    assessment: &CostAssessment,
    shard: Option<&Shard>,
    now: DateTime<Utc>,
) -> Vec<Recommendation> {
    let day_start = now.duration_trunc(Duration::days(1)).unwrap_or(now);
    let origin = Origin {
        source: Source::CostOptimizer,
        shard,
        environment: config.environment.as_str(),
        window: AnalysisWindow {
            start: day_start,
            end: day_start + Duration::days(1),
        },
        now,
        automation_enabled: false,
    };
    let groups = assessment.groups.iter().flat_map(|g| {
        g.proposals
            .iter()
            .map(|p| Recommendation::from_proposal(p, &g.name, &origin))
    });
    let account = assessment.account.iter().map(|f| {
        let subject = format!("{ACCOUNT_SUBJECT_PREFIX}{}", f.subject);
        Recommendation::from_proposal(&f.proposal, &subject, &origin)
    });
    groups.chain(account).collect()
}

/// Each group's costs after screening: what is held back is no saving on offer, and what
/// stands composes into one plan.
fn group_costs(
    reads: &CostReads,
    assessment: &CostAssessment,
    screened: &Screened,
) -> Vec<GroupCosts> {
    let current: Vec<&Recommendation> = screened.current().collect();
    reads
        .groups
        .iter()
        .zip(&assessment.groups)
        .map(|(g, a)| {
            let own: Vec<&&Recommendation> = current
                .iter()
                .filter(|r| r.auto_scaling_group_name == g.name)
                .collect();
            let parts: Vec<SavingsPart> = own
                .iter()
                .filter_map(|r| {
                    Some(SavingsPart {
                        lever: Lever::of(&r.evidence)?,
                        percent: r.expected_impact.cost_savings?,
                        monthly_usd: r.expected_impact.monthly_savings_usd?,
                    })
                })
                .collect();
            let monthly_cost = a.hourly_cost_usd.map(|h| h * HOURS_PER_MONTH);
            let plan = plan_savings(monthly_cost.unwrap_or(0.0), &parts);
            GroupCosts {
                auto_scaling_group_name: g.name.clone(),
                instance_type: g.instance_type.clone(),
                desired_capacity: g.desired,
                hourly_cost_usd: a.hourly_cost_usd,
                monthly_savings_usd: plan.monthly_usd,
                cost_savings_potential: monthly_cost.filter(|m| *m > 0.0).map(|_| plan.percent),
                savings_parts: plan.parts,
                recommendation_ids: own.iter().map(|r| r.id.clone()).collect(),
                right_sizing: a.right_sizing.as_ref().map(RightSizingSummary::from),
                no_schedule: a.schedule_unavailable.clone(),
            }
        })
        .collect()
}

/// The costs part of the response: the account's months, the application's last 30 days and
/// its budget.
fn account_costs(snapshot: &CostSnapshot, reads: &CostReads, budget: Budget) -> AccountCosts {
    let shown_from = snapshot.periods.today - Duration::days(DAILY_DAYS);
    AccountCosts {
        months: reads
            .months
            .iter()
            .map(|m| MonthSummary {
                month: m.month.format("%Y-%m").to_string(),
                by_service: m.by_service.clone(),
                total: m.total(),
            })
            .collect(),
        daily: reads
            .daily
            .iter()
            .flatten()
            .filter(|(day, _)| *day >= shown_from && *day < snapshot.periods.today)
            .map(|(day, cost)| DaySummary {
                day: day.to_string(),
                cost: *cost,
            })
            .collect(),
        budget,
    }
}

/// CostSavingsPotential per group and for the environment, with the savings `achieved`
/// (RealizedSavings), in one PutMetricData call; with `AccountId` and `Region` dimensions for
/// another account's or region's (`member`).
async fn publish<M: MetricsPublisher + Sync>(
    config: &Config,
    metrics: &M,
    (groups, achieved): (&[GroupCosts], &[MetricDatum]),
    member: Option<&Shard>,
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
    if let Some(shard) = member {
        placed_in(&mut data, shard);
    }
    metrics
        .publish(&config.metrics_namespace, &data)
        .await
        .map_err(CostError::Publish)
}

/// One message on the cost-alert topic when the application's month runs over budget or a
/// HIGH saving was found.
async fn alert<N: Notifier + Sync>(
    config: &Config,
    notifier: &N,
    budget: &Budget,
    high: &[&str],
) -> Result<(), CostError> {
    let Some(topic) = &config.topics.cost_alert else {
        return Ok(());
    };
    let over = budget.projection.as_ref().filter(|p| p.over_budget);
    if over.is_none() && high.is_empty() {
        return Ok(());
    }
    let mut message = String::new();
    if let Some(p) = over {
        message.push_str(&format!(
            "{}'s month is projected at ${:.2} (${:.2} so far, its cost allocation tag {}), \
             over the ${:.2} budget (maxHourlyCost x hours in the month).\n",
            config.application, p.projected, p.month_to_date, APPLICATION_TAG, p.budget
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
    use fleetopt_ports::GroupInfo;
    use fleetopt_ports::fakes::{
        FakeCosts, FakeFleet, FakeMembers, FakePrices, InMemoryStore, Recorder,
    };

    /// Shards read through fakes whose metrics are `M`.
    type Shards<M> = FakeMembers<ShardReads<FakeFleet, M, FakeCosts, FakePrices>>;

    fn deps(
        costs: FakeCosts,
    ) -> Deps<FakeFleet, Recorder, FakeCosts, FakePrices, Recorder, InMemoryStore, Shards<Recorder>>
    {
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
            members: FakeMembers::new(None),
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
    #[derive(Clone)]
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
            members: FakeMembers::new(None),
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
        assert!(response.costs.unwrap().budget.projection.is_some());
    }

    #[tokio::test]
    async fn an_unavailable_forecast_is_no_projection_not_month_to_date() {
        let deps = deps(FakeCosts {
            forecast: None,
            ..FakeCosts::new()
        });
        let response = run(&config(&[]), &deps, &Trigger::Schedule, now())
            .await
            .unwrap();
        assert!(
            response
                .unavailable
                .iter()
                .any(|u| u.contains("ce:GetCostForecast: no data yet")),
            "{:?}",
            response.unavailable
        );
        let costs = response.costs.unwrap();
        assert!(!costs.months.is_empty());
        assert_eq!(costs.budget.projection, None);
        assert!(
            costs
                .budget
                .unavailable
                .is_some_and(|why| why.contains("could not forecast"))
        );
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
        assert!(costs.months.is_empty() && costs.budget.projection.is_none());
        // The fleet is still priced: 4 x m5.xlarge.
        assert_eq!(response.groups[0].hourly_cost_usd, Some(0.768));
        // CostSavingsPotential (0 %: no usage data, no spot history) in one call.
        assert_eq!(deps.metrics.published().len(), 1);
    }

    #[tokio::test]
    async fn a_shard_is_read_through_the_member_role_and_written_at_home() {
        let shard = Shard::new("210987654321", "eu-west-1").unwrap();
        // The member account's web runs 8 instances; the home account's web runs 4.
        let theirs = ShardReads {
            fleet: FakeFleet::new([GroupInfo {
                min_size: 1,
                desired: 8,
                instance_type: Some("m5.xlarge".into()),
                ..fleetopt_ports::fakes::group("web")
            }]),
            metrics: Recorder::new(),
            costs: FakeCosts::new(),
            prices: FakePrices,
            region: "eu-west-1".to_owned(),
        };
        let deps = Deps {
            members: FakeMembers::new(None).reaching(shard.clone(), theirs.clone()),
            ..deps(FakeCosts::new())
        };
        let config = config(&[("FLEETOPT_MAX_HOURLY_COST", "0.01")]);
        let trigger = Trigger::Manual {
            dry_run: false,
            shard: Some(shard.clone()),
        };
        let response = run(&config, &deps, &trigger, now()).await.unwrap();
        assert_eq!(response.groups[0].desired_capacity, 8);
        assert_eq!(response.groups[0].hourly_cost_usd, Some(1.536));
        // The account-wide finding is the member account's, and says so.
        let r = deps
            .store
            .get(&response.account_recommendation_ids[0])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.account_id.as_deref(), r.region.as_deref()),
            (Some("210987654321"), Some("eu-west-1"))
        );
        // Published and alerted at home, never in the member account, under the member's
        // account and region.
        let published = deps.metrics.published();
        assert_eq!(published.len(), 1);
        assert!(published[0].iter().all(|d| {
            d.dimensions[d.dimensions.len() - 2..]
                == [
                    ("AccountId", "210987654321".to_owned()),
                    ("Region", "eu-west-1".to_owned()),
                ]
        }));
        assert_eq!(deps.notifier.notifications().len(), 1);
        assert!(theirs.metrics.published().is_empty());

        // The same findings at home are other items.
        let home = run(&config, &deps, &Trigger::Schedule, now())
            .await
            .unwrap();
        assert_eq!(home.groups[0].desired_capacity, 4);
        let published = deps.metrics.published();
        assert!(
            published[1]
                .iter()
                .all(|d| d.dimensions.iter().all(|(k, _)| *k != "AccountId"))
        );
        assert_ne!(
            home.account_recommendation_ids,
            response.account_recommendation_ids
        );

        // A shard whose role cannot be assumed fails the run, naming it.
        let elsewhere = Shard::new("444455556666", "eu-west-1").unwrap();
        let trigger = Trigger::Manual {
            dry_run: false,
            shard: Some(elsewhere),
        };
        let err = run(&config, &deps, &trigger, now()).await.unwrap_err();
        assert!(
            matches!(err, CostError::Member { .. })
                && err.to_string().contains("444455556666")
                && err.error_type() == "AwsServiceError",
            "{err}"
        );
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
        let response = run(
            &config,
            &deps,
            &Trigger::Manual {
                dry_run: true,
                shard: None,
            },
            now(),
        )
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

    /// CloudWatch with steady hourly maxima: CPU 25 %, memory 35 %, 4 instances in service, one point per hour of the
    /// window asked, for at most `hours` hours before its end (the rest of the window has no
    /// data, as for a group created since).
    #[derive(Clone)]
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
                    let value = match q.name {
                        "CPUUtilization" => self.values.0,
                        // The fake fleet's group runs 4 instances.
                        "GroupInServiceInstances" => 4.0,
                        _ => self.values.1,
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
    ) -> Deps<FakeFleet, Hourly, FakeCosts, FakePrices, Recorder, InMemoryStore, Shards<Hourly>>
    {
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
            members: FakeMembers::new(None),
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
