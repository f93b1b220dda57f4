//! The cost rules of docs/design.md, as pure functions: spot savings and their interruption
//! risk from price volatility, right-sizing (ranked options with the operator's preferences,
//! risk, effort and Graviton; module `rightsizing`), reserved capacity opportunities, the
//! run-rate against maxHourlyCost, the application's month against its budget, and the savings
//! of one coherent plan per group. [`assess`] takes one run's [`CostSnapshot`] to a
//! [`CostAssessment`]; [`Periods`] is the calendar the cost optimizer and the CLI share.
//!
//! Savings achieved by completed changes, measured from capacity and prices before and after
//! them, are [`realized_savings`] (module `realized`).
//!
//! **Architecture invariant:** like `scoring`, no I/O, no async, no clock: prices, usage and
//! time come in as parameters.

use fleetopt_scoring::{
    CommitmentFigures, Evidence, ExpectedImpact, Priority, Proposal, RecommendationType, RiskLevel,
};
use serde::Serialize;

mod assessment;
mod catalog;
mod periods;
mod realized;
mod rightsizing;
mod schedule;

pub use assessment::{
    AccountFinding, Budget, CostAssessment, CostRules, CostSnapshot, GroupAssessment, GroupUsage,
    Lever, Offer, PlanSavings, SavingsPart, Spend, TagCheck, assess, open_total, plan_savings,
};
pub use catalog::{catalog_patterns, families, graviton_family};
pub use periods::{DAILY_DAYS, Periods};
pub use schedule::schedule_proposal;

/// An instance type's processor architecture (defined with the right-sizing vocabulary in
/// `fleetopt-scoring`, which the evidence stores).
pub use fleetopt_scoring::Architecture;
pub use realized::{MIN_COVERAGE, NotMeasurable, Realized, hours_needed, realized_savings};
pub use rightsizing::{
    ARM64_NOTE, IDLE_CPU_PERCENT, MAX_OPTIONS, MIN_CPU_HOURS, MIN_MONTHLY_SAVING_USD,
    NO_INSTANCES_NOTE, assess_right_sizing, family_allowed, fits, instance_family,
    migration_effort, performance_risk, right_sizing_proposal,
};

pub use fleetopt_scoring::HOURS_PER_MONTH;
/// Savings below this share of the cost are LOW priority (docs/scoring.md).
pub const SMALL_SAVING_PERCENT: f64 = 10.0;
/// Savings from this share of the cost, at low risk, are HIGH priority and alerted.
pub const LARGE_SAVING_PERCENT: f64 = 30.0;

/// An instance type from the catalog, with its on-demand price when known.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceType {
    /// For example `m5.large`.
    pub name: String,
    /// Default vCPUs.
    pub vcpus: u32,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// Processor architecture.
    pub architecture: Architecture,
    /// On-demand Linux price in the region, USD per hour.
    pub on_demand_hourly: Option<f64>,
}

/// The percentile of `per_mille` thousandths (990 is p99, 995 is p99.5) by nearest rank: the
/// value of 1-based rank `ceil(per_mille × n / 1000)` (at least 1) among the `n` finite values
/// sorted ascending. `None` without finite values. Integer arithmetic, so ranks are exact.
pub fn percentile(values: &[f64], per_mille: u32) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let per_mille = usize::try_from(per_mille.min(1000)).unwrap_or(1000);
    let rank = (sorted.len() * per_mille).div_ceil(1000).max(1);
    sorted.get(rank - 1).copied()
}

/// The 99th percentile by nearest rank: the smallest value at or above 99 % of the values.
/// `None` without values.
pub fn p99(values: &[f64]) -> Option<f64> {
    percentile(values, 990)
}

/// Spot prices of one type in one place over a period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpotStats {
    /// The latest price, USD per hour.
    pub current: f64,
    /// The mean, USD per hour.
    pub mean: f64,
    /// Standard deviation over the mean (coefficient of variation): 0 is a flat price.
    pub volatility: f64,
    /// How many prices.
    pub samples: usize,
}

impl SpotStats {
    /// Statistics of prices in time order (the last is the current one); `None` without any.
    pub fn from_prices(prices: &[f64]) -> Option<SpotStats> {
        let current = *prices.last()?;
        let n = prices.len() as f64;
        let mean = prices.iter().sum::<f64>() / n;
        let variance = prices.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / n;
        let volatility = if mean > 0.0 {
            variance.sqrt() / mean
        } else {
            0.0
        };
        Some(SpotStats {
            current,
            mean,
            volatility,
            samples: prices.len(),
        })
    }

    /// Interruption risk from volatility: a price that moves is a market under pressure.
    /// Below 5 % LOW, below 15 % MEDIUM, else HIGH.
    pub fn risk(&self) -> RiskLevel {
        if self.volatility < 0.05 {
            RiskLevel::Low
        } else if self.volatility < 0.15 {
            RiskLevel::Medium
        } else {
            RiskLevel::High
        }
    }
}

/// How a group would split between on-demand and spot instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpotPlan {
    /// OnDemandBaseCapacity of the mixed instances policy.
    pub on_demand_base: u32,
    /// Instances that would run on spot.
    pub spot_instances: u32,
}

/// Production keeps half its desired capacity (at least its minimum size, at least one
/// instance) on demand and runs the rest on spot; other environments may run all on spot.
pub fn spot_plan(desired: u32, min_size: u32, production: bool) -> SpotPlan {
    let on_demand_base = if production {
        desired.div_ceil(2).max(min_size).max(1).min(desired)
    } else {
        0
    };
    SpotPlan {
        on_demand_base,
        spot_instances: desired - on_demand_base,
    }
}

/// What the cost rules know about one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupCost<'a> {
    /// The group.
    pub group: &'a str,
    /// Its instance type.
    pub instance_type: &'a InstanceType,
    /// Desired capacity.
    pub desired: u32,
    /// Minimum size.
    pub min_size: u32,
    /// Spot prices of its type in its zones, when read.
    pub spot: Option<SpotStats>,
    /// Hourly maxima of CPU utilization over the right-sizing window, percent.
    pub cpu_hourly_maxima: &'a [f64],
    /// Hourly maxima of memory utilization, percent (empty without the CloudWatch agent).
    pub memory_hourly_maxima: &'a [f64],
    /// Maximum size.
    pub max_size: u32,
    /// The lookback's hours: CPU maximum and instances in service, oldest first (backtests,
    /// schedules).
    pub demand: &'a [fleetopt_scoring::DemandHour],
    /// The lookback's hourly request counts (the load balancer's, all target groups), oldest
    /// first; empty without a load balancer.
    pub requests: &'a [(i64, f64)],
}

impl GroupCost<'_> {
    /// The group's on-demand cost per hour, when its type's price is known.
    pub fn hourly(&self) -> Option<f64> {
        self.instance_type
            .on_demand_hourly
            .map(|p| p * f64::from(self.desired))
    }
}

fn priority(saving_percent: f64, risk: RiskLevel) -> Priority {
    if saving_percent < SMALL_SAVING_PERCENT {
        Priority::Low
    } else if saving_percent >= LARGE_SAVING_PERCENT && risk == RiskLevel::Low {
        Priority::High
    } else {
        Priority::Medium
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Running part of the group on spot: a COST_OPTIMIZATION proposal when spot is cheaper on
/// average, with the interruption risk from the price's volatility.
pub fn spot_savings(g: &GroupCost<'_>, production: bool) -> Option<Proposal> {
    let on_demand = g.instance_type.on_demand_hourly?;
    let spot = g.spot?;
    let plan = spot_plan(g.desired, g.min_size, production);
    if plan.spot_instances == 0 || spot.mean >= on_demand {
        return None;
    }
    let hourly_saving = f64::from(plan.spot_instances) * (on_demand - spot.mean);
    let monthly = hourly_saving * HOURS_PER_MONTH;
    let percent = hourly_saving / (on_demand * f64::from(g.desired)) * 100.0;
    let risk = spot.risk();
    let discount = (1.0 - spot.mean / on_demand) * 100.0;
    Some(Proposal {
        kind: RecommendationType::CostOptimization,
        priority: priority(percent, risk),
        description: format!(
            "Run {} of {}'s {} {} instances on spot: spot averaged ${:.4}/h over the window \
             against ${:.4}/h on demand ({discount:.0} % less, volatility {:.1} %, {} \
             interruption risk), keeping {} on demand. Expected: ${monthly:.0} a month less \
             ({percent:.0} % of the group's cost).",
            plan.spot_instances,
            g.group,
            g.desired,
            g.instance_type.name,
            spot.mean,
            on_demand,
            spot.volatility * 100.0,
            risk.as_str().to_lowercase(),
            plan.on_demand_base,
        ),
        target_desired_capacity: None,
        expected_impact: ExpectedImpact {
            performance_gain: None,
            cost_savings: Some(round2(percent)),
            monthly_savings_usd: Some(round2(monthly)),
            risk_level: risk,
        },
        steps: vec![
            format!(
                "Give {} a mixed instances policy: OnDemandBaseCapacity {}, \
                 OnDemandPercentageAboveBaseCapacity 0, SpotAllocationStrategy \
                 price-capacity-optimized",
                g.group, plan.on_demand_base
            ),
            format!(
                "Add one or two more instance types of the same size as {} to the overrides, \
                 to spread interruption risk",
                g.instance_type.name
            ),
            "Enable capacity rebalancing and handle the two-minute interruption notice".to_owned(),
        ],
        evidence: Evidence {
            instance_type: Some(g.instance_type.name.clone()),
            desired_capacity: Some(g.desired),
            min_size: Some(g.min_size),
            on_demand_hourly_usd: Some(on_demand),
            spot_hourly_usd: Some(spot.mean),
            spot_volatility: Some(spot.volatility),
            spot_instances: Some(plan.spot_instances),
            ..Evidence::default()
        },
    })
}

/// A reserved instance or savings plan purchase Cost Explorer recommends.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Commitment {
    /// `Reserved Instances` or `Savings Plans`.
    pub kind: &'static str,
    /// What to buy, in Cost Explorer's words.
    pub offer: String,
    /// Estimated monthly saving, USD.
    pub monthly_savings_usd: f64,
    /// Estimated saving, percent of the covered on-demand cost.
    pub savings_percent: f64,
    /// Cost Explorer's figures, stored as the proposal's evidence.
    pub figures: CommitmentFigures,
}

/// A commitment as an account-wide COST_OPTIMIZATION proposal; `None` when it saves nothing.
pub fn commitment(c: &Commitment) -> Option<Proposal> {
    if c.monthly_savings_usd <= 0.0 {
        return None;
    }
    Some(Proposal {
        kind: RecommendationType::CostOptimization,
        priority: priority(c.savings_percent, RiskLevel::Low),
        description: format!(
            "Buy {}: {}. Cost Explorer estimates ${:.0} a month less ({:.0} % of the covered \
             on-demand cost), ${:.0} up front{}{}. A commitment: it pays off only if the usage \
             stays.",
            c.kind,
            c.offer,
            c.monthly_savings_usd,
            c.savings_percent,
            c.figures.upfront_usd,
            c.figures
                .expected_utilization_percent
                .map(|u| format!(", {u:.0} % expected utilization"))
                .unwrap_or_default(),
            c.figures
                .break_even_months
                .filter(|m| *m > 0.0)
                .map(|m| format!(", break-even after {m:.1} months"))
                .unwrap_or_default(),
        ),
        target_desired_capacity: None,
        expected_impact: ExpectedImpact {
            performance_gain: None,
            cost_savings: Some(round2(c.savings_percent)),
            monthly_savings_usd: Some(round2(c.monthly_savings_usd)),
            risk_level: RiskLevel::Low,
        },
        steps: vec![
            format!(
                "Review the {} recommendation in the Cost Explorer console",
                c.kind
            ),
            "Check the covered usage against the fleet's plans for the term".to_owned(),
            format!("Purchase: {}", c.offer),
        ],
        evidence: Evidence {
            commitment: Some(c.figures.clone()),
            ..Evidence::default()
        },
    })
}

/// The fleet's on-demand run-rate above maxHourlyCost: a HIGH COST_OPTIMIZATION proposal.
pub fn run_rate(hourly_usd: f64, max_hourly_usd: f64) -> Option<Proposal> {
    if hourly_usd <= max_hourly_usd {
        return None;
    }
    let over = hourly_usd - max_hourly_usd;
    let percent = over / hourly_usd * 100.0;
    Some(Proposal {
        kind: RecommendationType::CostOptimization,
        priority: Priority::High,
        description: format!(
            "The fleet runs at ${hourly_usd:.2}/h on demand, above the ${max_hourly_usd:.2}/h \
             limit by ${over:.2}/h (${:.0} a month). Apply the savings recommended for its \
             groups or raise the limit.",
            over * HOURS_PER_MONTH
        ),
        target_desired_capacity: None,
        expected_impact: ExpectedImpact {
            performance_gain: None,
            cost_savings: Some(round2(percent)),
            monthly_savings_usd: Some(round2(over * HOURS_PER_MONTH)),
            risk_level: RiskLevel::Medium,
        },
        steps: vec![
            "Review the open COST_OPTIMIZATION and INSTANCE_TYPE_CHANGE recommendations".to_owned(),
            "Or raise maxHourlyCost in the stack's configuration if the spend is intended"
                .to_owned(),
        ],
        evidence: Evidence {
            hourly_run_rate_usd: Some(hourly_usd),
            max_hourly_cost_usd: Some(max_hourly_usd),
            ..Evidence::default()
        },
    })
}

/// The month's cost as it stands and as it will end.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthProjection {
    /// Month to date, USD.
    pub month_to_date: f64,
    /// Month to date plus the forecast to month end, USD.
    pub projected: f64,
    /// Last month's total, USD, when known.
    pub last_month: Option<f64>,
    /// Projected against last month, percent (+ is more).
    pub change_from_last_month_percent: Option<f64>,
    /// maxHourlyCost × the month's hours, USD.
    pub budget: f64,
    /// Whether the projection exceeds the budget.
    pub over_budget: bool,
}

/// Projects the month: month to date plus the forecast of the rest, against last month and
/// against maxHourlyCost for every hour of the month.
pub fn project_month(
    month_to_date: f64,
    forecast_rest: f64,
    last_month: Option<f64>,
    max_hourly_usd: f64,
    hours_in_month: u32,
) -> MonthProjection {
    let projected = month_to_date + forecast_rest;
    let budget = max_hourly_usd * f64::from(hours_in_month);
    MonthProjection {
        month_to_date,
        projected,
        last_month,
        change_from_last_month_percent: last_month
            .filter(|m| *m > 0.0)
            .map(|m| (projected / m - 1.0) * 100.0),
        budget,
        over_budget: projected > budget,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, vcpus: u32, memory_gib: u64, arch: Architecture, price: f64) -> InstanceType {
        InstanceType {
            name: name.into(),
            vcpus,
            memory_mib: memory_gib * 1024,
            architecture: arch,
            on_demand_hourly: Some(price),
        }
    }

    #[test]
    fn p99_is_the_nearest_rank() {
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(p99(&hundred), Some(99.0));
        // 336 hourly maxima (14 days): rank ceil(332.64) = 333.
        let days: Vec<f64> = (1..=336).map(f64::from).collect();
        assert_eq!(p99(&days), Some(333.0));
        assert_eq!(p99(&[7.0]), Some(7.0));
        assert_eq!(p99(&[]), None);
        assert_eq!(p99(&[f64::NAN, 3.0]), Some(3.0));
    }

    #[test]
    fn spot_statistics_and_risk() {
        let flat = SpotStats::from_prices(&[0.04, 0.04, 0.04]).unwrap();
        assert_eq!(
            (flat.mean, flat.volatility, flat.risk()),
            (0.04, 0.0, RiskLevel::Low)
        );
        // Mean 0.05, deviations ±0.01: stddev 0.01, volatility 20 %.
        let jumpy = SpotStats::from_prices(&[0.04, 0.06, 0.04, 0.06]).unwrap();
        assert!((jumpy.volatility - 0.2).abs() < 1e-12);
        assert_eq!((jumpy.current, jumpy.risk()), (0.06, RiskLevel::High));
        assert_eq!(SpotStats::from_prices(&[]), None);
    }

    #[test]
    fn production_keeps_an_on_demand_base() {
        assert_eq!(
            spot_plan(8, 2, true),
            SpotPlan {
                on_demand_base: 4,
                spot_instances: 4
            }
        );
        // The base is at least the minimum size and one instance, never above desired.
        assert_eq!(spot_plan(4, 3, true).on_demand_base, 3);
        assert_eq!(spot_plan(1, 0, true).spot_instances, 0);
        assert_eq!(spot_plan(8, 2, false).spot_instances, 8);
    }

    #[test]
    fn spot_savings_by_hand() {
        let m5 = t("m5.large", 2, 8, Architecture::X86_64, 0.096);
        let g = GroupCost {
            group: "api",
            instance_type: &m5,
            desired: 8,
            min_size: 2,
            spot: SpotStats::from_prices(&[0.036, 0.036]),
            cpu_hourly_maxima: &[],
            memory_hourly_maxima: &[],
            max_size: 10,
            demand: &[],
            requests: &[],
        };
        let p = spot_savings(&g, true).unwrap();
        // 4 spot instances save 0.06 $/h each: 0.24 $/h, 175.20 $ a month, 31.25 % of 0.768 $/h.
        assert_eq!(p.expected_impact.monthly_savings_usd, Some(175.2));
        assert_eq!(p.expected_impact.cost_savings, Some(31.25));
        assert_eq!(p.expected_impact.risk_level, RiskLevel::Low);
        assert_eq!(p.priority, Priority::High);
        assert!(
            p.description.contains("keeping 4 on demand"),
            "{}",
            p.description
        );
        // Spot no cheaper than on demand: nothing.
        let dear = GroupCost {
            spot: SpotStats::from_prices(&[0.2]),
            ..g.clone()
        };
        assert_eq!(spot_savings(&dear, true), None);
    }

    #[test]
    fn commitments_run_rate_and_the_month() {
        let ri = Commitment {
            kind: "Reserved Instances",
            offer: "4 x m5.large, 1 year, no upfront".into(),
            monthly_savings_usd: 80.0,
            savings_percent: 8.0,
            figures: CommitmentFigures::default(),
        };
        assert_eq!(commitment(&ri).unwrap().priority, Priority::Low);
        assert_eq!(
            commitment(&Commitment {
                monthly_savings_usd: 0.0,
                ..ri
            }),
            None
        );
        assert_eq!(run_rate(9.0, 10.0), None);
        let over = run_rate(12.5, 10.0).unwrap();
        assert_eq!(over.priority, Priority::High);
        assert_eq!(over.expected_impact.monthly_savings_usd, Some(1825.0));
        assert_eq!(over.expected_impact.cost_savings, Some(20.0));
        // November: 720 hours × 10 $/h = 7,200 $ budget.
        let m = project_month(5000.0, 2600.0, Some(7000.0), 10.0, 720);
        assert_eq!(
            (m.projected, m.budget, m.over_budget),
            (7600.0, 7200.0, true)
        );
        assert!((m.change_from_last_month_percent.unwrap() - 8.571428571428571).abs() < 1e-9);
        assert_eq!(
            project_month(1.0, 1.0, Some(0.0), 10.0, 720).change_from_last_month_percent,
            None
        );
    }
}
