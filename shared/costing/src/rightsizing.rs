//! Right-sizing with the operator's preferences (issue 10): up to three ranked candidate
//! configurations per group, each with projected utilization, a performance risk from 0 to 4,
//! the monthly saving and the migration effort, in the manner of AWS Compute Optimizer.
//!
//! The rules, exactly:
//! - **Data.** `p` is the chosen percentile (nearest rank) of the group's hourly CPU maxima over
//!   the lookback, and of its hourly memory maxima when there are any. Fewer than
//!   [`MIN_CPU_HOURS`] hours with a CPU datapoint: INSUFFICIENT_DATA, no options.
//! - **Projection.** Load spreads over the fleet's total capacity: projected CPU =
//!   `p_cpu × (vCPU × desired) / (vCPU' × desired')`, projected memory likewise with MiB. A vCPU
//!   counts the same on every architecture (a Graviton vCPU is a physical core, an x86 vCPU a
//!   hyperthread, so this errs on the safe side when moving to arm64).
//! - **Fit.** `projected × (1 + headroom / 100) ≤ 100` for CPU and, with memory data, for memory.
//!   Without memory data the projection is unknown and an instance's memory may not shrink
//!   (`memory' ≥ memory`); a smaller fleet of the same type keeps each instance's memory.
//! - **Candidates.** Every other catalog type with a price, of the group's architecture or (from
//!   x86_64) arm64, allowed by the preferred and excluded families, at the same desired
//!   capacity; and the group's own type at the smallest desired capacity from
//!   `max(minSize, 1)` below the current one that fits (the families limit type changes only:
//!   fewer instances of the group's own type are always a candidate). Only configurations that
//!   save at least [`MIN_MONTHLY_SAVING_USD`] a month.
//! - **Under-utilization.** A configuration with fewer vCPUs in all than the current fleet (a
//!   smaller type, fewer instances, the idle scale-in) is a candidate only when the group is
//!   under-utilized: `p_cpu` under the environment's `utilizationThreshold`. A busier group
//!   gets only configurations with at least its vCPUs (a newer or Graviton type of the same
//!   size), when they cost less; memory that may shrink is the fit rule's business.
//! - **Idle.** A group whose CPU p99.5 (whatever the chosen percentile) stays under
//!   [`IDLE_CPU_PERCENT`] over the lookback gets a "scale in an idle group" option: desired =
//!   minSize. At minSize 0 the fleet has no instances, so there is nothing to fit and nothing to
//!   project (risk 0, a note says the group will serve nothing); above 0 it must fit like any
//!   other option, and when it does not, the smaller fleet that does stands in its place.
//! - **Risk.** Per metric, from the projected peak `x` against the environment's target and
//!   range: `x ≤ target` 0; `x < range.high` 1; `x < 90` 2; `x < 100` 3; otherwise 4. The
//!   option's risk is the higher of CPU's and memory's (CPU's alone without memory data).
//! - **Effort.** Same family (or same type): VERY_LOW; same architecture: LOW; x86_64 to arm64:
//!   MEDIUM, with a note that the AMI and the software must support arm64.
//! - **Ranking.** By monthly saving, largest first (ties: lower risk, lower effort, name). The
//!   first three are kept, except that the idle option and the best arm64 option, when they
//!   exist, are always kept, each replacing the lowest-ranked option that is not itself kept
//!   this way; the list stays sorted by saving.

use fleetopt_scoring::{
    Architecture, CpuPercentile, Evidence, ExpectedImpact, InstanceFamily, MigrationEffort,
    Proposal, Range, RecommendationType, RightSizing, RightSizingAction, RightSizingOption,
    RightSizingPreferences, RightSizingStatus, RiskLevel, Targets,
};

use fleetopt_scoring::{Backtests, DemandHour, backtest, observed};

use crate::{GroupCost, HOURS_PER_MONTH, InstanceType, percentile, priority, round2};

/// A group needs at least this many hours with a CPU datapoint in the lookback.
pub const MIN_CPU_HOURS: u32 = 30;
/// CPU p99.5 under this, percent, over the whole lookback: the group is idle.
pub const IDLE_CPU_PERCENT: f64 = 5.0;
/// An option saves at least this much, USD per month (a cent: less is a rounding error).
pub const MIN_MONTHLY_SAVING_USD: f64 = 0.01;
/// At most this many options per group.
pub const MAX_OPTIONS: usize = 3;
/// The note on every option that moves a group from x86_64 to arm64.
pub const ARM64_NOTE: &str =
    "arm64 (Graviton): the AMI and all the software on it must support arm64";
/// The note on an idle group scaled in to no instances.
pub const NO_INSTANCES_NOTE: &str =
    "the group would run no instances and serve nothing until scaled out again";

/// The family part of an instance type's name: `m5.large` -> `m5`.
pub fn instance_family(instance_type: &str) -> &str {
    instance_type.split('.').next().unwrap_or(instance_type)
}

/// Performance risk of one metric from its projected peak, percent: at or under `target` 0,
/// under `range.high` 1, under 90 % 2, under 100 % 3, otherwise (or not a number) 4.
pub fn performance_risk(projected: f64, target: f64, range: Range) -> u8 {
    if projected <= target {
        0
    } else if projected < range.high {
        1
    } else if projected < 90.0 {
        2
    } else if projected < 100.0 {
        3
    } else {
        4
    }
}

/// The work of moving from `from` to `to`: VERY_LOW within a family, LOW within an
/// architecture, MEDIUM across architectures.
pub fn migration_effort(from: &InstanceType, to: &InstanceType) -> MigrationEffort {
    if instance_family(&from.name) == instance_family(&to.name) {
        MigrationEffort::VeryLow
    } else if from.architecture == to.architecture {
        MigrationEffort::Low
    } else {
        MigrationEffort::Medium
    }
}

/// Whether a projected utilization leaves `headroom_percent` of itself below 100 %.
pub fn fits(projected: f64, headroom_percent: f64) -> bool {
    projected * (1.0 + headroom_percent / 100.0) <= 100.0
}

/// Whether the preferences let a type change go to `t`: not an excluded family, and one of the
/// preferred families when there are any.
pub fn family_allowed(t: &InstanceType, preferences: &RightSizingPreferences) -> bool {
    let family = instance_family(&t.name);
    let listed = |list: &[InstanceFamily]| list.iter().any(|f| f.as_str() == family);
    !listed(&preferences.excluded_families)
        && (preferences.preferred_families.is_empty() || listed(&preferences.preferred_families))
}

/// What the rules know of the group, gathered once.
struct Facts<'a> {
    current: &'a InstanceType,
    desired: u32,
    min_size: u32,
    current_hourly: f64,
    cpu: f64,
    memory: Option<f64>,
    /// `cpu` under the utilization threshold: configurations with fewer vCPUs may be offered.
    under_utilized: bool,
    preferences: &'a RightSizingPreferences,
    targets: &'a Targets,
    /// The lookback's hours, for backtests.
    demand: &'a [DemandHour],
    /// Configurations that fit but failed their backtest.
    saturating: std::cell::Cell<u32>,
}

/// A priced, projected configuration before ranking.
struct Scored {
    option: RightSizingOption,
    saving: f64,
}

impl Facts<'_> {
    /// The configuration `count` × `t`, when it costs less and fits (the idle group's fleet of
    /// no instances fits by definition).
    fn option(&self, t: &InstanceType, count: u32, action: RightSizingAction) -> Option<Scored> {
        let fewer_vcpus = u64::from(t.vcpus) * u64::from(count)
            < u64::from(self.current.vcpus) * u64::from(self.desired);
        if fewer_vcpus && !self.under_utilized {
            return None;
        }
        let price = t.on_demand_hourly?;
        let hourly = price * f64::from(count);
        let saving = self.current_hourly - hourly;
        if saving * HOURS_PER_MONTH < MIN_MONTHLY_SAVING_USD {
            return None;
        }
        let (cpu, memory) = if count == 0 {
            (None, None)
        } else {
            let current_vcpus = f64::from(self.current.vcpus) * f64::from(self.desired);
            let vcpus = f64::from(t.vcpus) * f64::from(count);
            let cpu = self.cpu * current_vcpus / vcpus;
            if !fits(cpu, self.preferences.cpu_headroom_percent) {
                return None;
            }
            let memory = match self.memory {
                Some(m) => {
                    let current_mib = self.current.memory_mib as f64 * f64::from(self.desired);
                    let mib = t.memory_mib as f64 * f64::from(count);
                    let memory = m * current_mib / mib;
                    if !fits(memory, self.preferences.memory_headroom_percent) {
                        return None;
                    }
                    Some(memory)
                }
                None if t.memory_mib < self.current.memory_mib => return None,
                None => None,
            };
            (Some(cpu), memory)
        };
        // Replayed hour by hour: a configuration that would have run more hours above 90 % CPU
        // than allowed is no option.
        let backtest = (count > 0)
            .then(|| {
                backtest(
                    self.demand,
                    |_| f64::from(count),
                    f64::from(t.vcpus) / f64::from(self.current.vcpus),
                    self.targets.cpu_utilization(),
                )
            })
            .flatten();
        if backtest
            .as_ref()
            .is_some_and(|b| b.too_risky(self.preferences.max_saturated_percent / 100.0))
        {
            self.saturating.set(self.saturating.get() + 1);
            return None;
        }
        let cpu_risk = cpu.map_or(0, |c| {
            performance_risk(c, self.targets.cpu_utilization(), self.targets.cpu_range())
        });
        let memory_risk = memory.map_or(0, |m| {
            performance_risk(
                m,
                self.targets.memory_utilization(),
                self.targets.memory_range(),
            )
        });
        let migration_effort = migration_effort(self.current, t);
        let mut notes = Vec::new();
        if migration_effort == MigrationEffort::Medium {
            notes.push(ARM64_NOTE.to_owned());
        }
        if count == 0 {
            notes.push(NO_INSTANCES_NOTE.to_owned());
        }
        Some(Scored {
            option: RightSizingOption {
                rank: 0,
                action,
                instance_type: t.name.clone(),
                architecture: t.architecture,
                vcpus: t.vcpus,
                memory_mib: t.memory_mib,
                desired_capacity: count,
                hourly_usd: round4(hourly),
                projected_cpu_percent: cpu.map(round2),
                projected_memory_percent: memory.map(round2),
                performance_risk: cpu_risk.max(memory_risk),
                monthly_savings_usd: round2(saving * HOURS_PER_MONTH),
                savings_percent: round2(saving / self.current_hourly * 100.0),
                migration_effort,
                notes,
                backtest,
            },
            saving,
        })
    }

    /// Every candidate that fits and costs less, unranked.
    fn candidates(&self, catalog: &[InstanceType], idle: bool) -> Vec<Scored> {
        let current = self.current;
        let mut found: Vec<Scored> = catalog
            .iter()
            .filter(|t| t.name != current.name && t.vcpus > 0 && t.memory_mib > 0)
            .filter(|t| {
                t.architecture == current.architecture
                    || (current.architecture == Architecture::X86_64
                        && t.architecture == Architecture::Arm64)
            })
            .filter(|t| family_allowed(t, self.preferences))
            .filter_map(|t| self.option(t, self.desired, RightSizingAction::ChangeInstanceType))
            .collect();
        // The smallest fleet of the same type that fits: fit only improves with more instances.
        let smaller = (self.min_size.max(1)..self.desired)
            .find_map(|n| self.option(current, n, RightSizingAction::ReduceCapacity));
        match smaller {
            Some(mut s) if idle && s.option.desired_capacity == self.min_size => {
                s.option.action = RightSizingAction::ScaleInIdleGroup;
                found.push(s);
            }
            Some(s) => found.push(s),
            None => {}
        }
        if idle && self.min_size == 0 {
            found.extend(self.option(current, 0, RightSizingAction::ScaleInIdleGroup));
        }
        found
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Ranks the candidates and keeps at most [`MAX_OPTIONS`], always keeping the idle option and the
/// best arm64 option (see the module's rules), numbered from 1.
fn rank(mut found: Vec<Scored>) -> Vec<RightSizingOption> {
    found.sort_by(|a, b| {
        b.saving
            .total_cmp(&a.saving)
            .then(a.option.performance_risk.cmp(&b.option.performance_risk))
            .then(a.option.migration_effort.cmp(&b.option.migration_effort))
            .then(a.option.instance_type.cmp(&b.option.instance_type))
            .then(a.option.desired_capacity.cmp(&b.option.desired_capacity))
    });
    let kept: Vec<usize> = [
        found
            .iter()
            .position(|s| s.option.action == RightSizingAction::ScaleInIdleGroup),
        found
            .iter()
            .position(|s| s.option.architecture == Architecture::Arm64),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut chosen: Vec<usize> = (0..found.len().min(MAX_OPTIONS)).collect();
    for k in &kept {
        if chosen.contains(k) {
            continue;
        }
        // At most two options are kept this way and three are chosen, so there is always one
        // that is not; the lowest-ranked of those gives way.
        if let Some(slot) = chosen.iter().rposition(|c| !kept.contains(c)) {
            chosen[slot] = *k;
        }
    }
    chosen.sort_unstable();
    let mut options: Vec<RightSizingOption> = found
        .into_iter()
        .enumerate()
        .filter(|(index, _)| chosen.contains(index))
        .map(|(_, scored)| scored.option)
        .collect();
    for (option, rank) in options.iter_mut().zip(1..) {
        option.rank = rank;
    }
    options
}

/// Right-sizes one group with the operator's preferences against the environment's targets:
/// the figures used and up to three ranked options (see the module's rules). The hourly maxima
/// in `g` must cover the preferences' lookback and nothing older.
pub fn assess_right_sizing(
    g: &GroupCost<'_>,
    catalog: &[InstanceType],
    preferences: &RightSizingPreferences,
    targets: &Targets,
) -> RightSizing {
    let per_mille = preferences.cpu_percentile.per_mille();
    let hours = g.cpu_hourly_maxima.iter().filter(|v| v.is_finite()).count();
    let mut outcome = RightSizing {
        status: RightSizingStatus::InsufficientData,
        percentile: preferences.cpu_percentile,
        lookback_days: preferences.lookback_days,
        cpu_hours: u32::try_from(hours).unwrap_or(u32::MAX),
        cpu_percent: None,
        memory_percent: None,
        idle: false,
        utilization_threshold: Some(targets.utilization_threshold()),
        options: Vec::new(),
        saturating: 0,
    };
    if outcome.cpu_hours < MIN_CPU_HOURS {
        return outcome;
    }
    let (Some(cpu), Some(idle_figure)) = (
        percentile(g.cpu_hourly_maxima, per_mille),
        percentile(g.cpu_hourly_maxima, CpuPercentile::P99_5.per_mille()),
    ) else {
        return outcome;
    };
    let memory = percentile(g.memory_hourly_maxima, per_mille);
    outcome.cpu_percent = Some(round2(cpu));
    outcome.memory_percent = memory.map(round2);
    outcome.idle = idle_figure < IDLE_CPU_PERCENT;
    let current = g.instance_type;
    let Some(price) = current
        .on_demand_hourly
        .filter(|_| current.vcpus > 0 && current.memory_mib > 0)
    else {
        outcome.status = RightSizingStatus::IncompleteCatalog;
        return outcome;
    };
    let facts = Facts {
        current,
        desired: g.desired,
        min_size: g.min_size,
        current_hourly: price * f64::from(g.desired),
        cpu,
        memory,
        under_utilized: cpu < targets.utilization_threshold(),
        preferences,
        targets,
        demand: g.demand,
        saturating: std::cell::Cell::new(0),
    };
    outcome.options = rank(facts.candidates(catalog, outcome.idle));
    outcome.saturating = facts.saturating.get();
    let current_fits = fits(cpu, preferences.cpu_headroom_percent)
        && memory.is_none_or(|m| fits(m, preferences.memory_headroom_percent));
    outcome.status = if !outcome.options.is_empty() {
        RightSizingStatus::OptionsFound
    } else if current_fits {
        RightSizingStatus::Optimized
    } else {
        RightSizingStatus::UnderProvisioned
    };
    outcome
}

/// Right-sizing as a proposal made from the best option, carrying every option in its
/// evidence (`rightSizing`). `None` without options.
///
/// Its type is always INSTANCE_TYPE_CHANGE, whichever option ranks first: a recommendation's id
/// and its supersession are keyed by source, group and type, so a type that followed the best
/// option would leave yesterday's item open when today's best option is of the other kind, and
/// a capacity-only best option (COST_OPTIMIZATION) would take the id of the same day's spot
/// finding for the group. The evidence says what the best option changes
/// (`suggestedInstanceType` for another type, `targetDesiredCapacity` for fewer instances).
///
/// The proposal never sets `target_desired_capacity` (the evidence does): a right-sizing is
/// carried out by a person, and the engine acts only on SCALE_UP and SCALE_DOWN.
pub fn right_sizing_proposal(
    g: &GroupCost<'_>,
    catalog: &[InstanceType],
    preferences: &RightSizingPreferences,
    targets: &Targets,
) -> Option<Proposal> {
    let outcome = assess_right_sizing(g, catalog, preferences, targets);
    let best = outcome.options.first()?.clone();
    let current = g.instance_type;
    let current_price = current.on_demand_hourly?;
    let risk = if best.performance_risk >= 3 {
        RiskLevel::High
    } else {
        RiskLevel::Medium
    };
    let memory_text = match outcome.memory_percent {
        Some(m) => format!("memory {} {m:.1} %", outcome.percentile),
        None => "no memory metric (no instance's memory may shrink)".to_owned(),
    };
    let projected = |value: Option<f64>| match value {
        Some(v) => format!("{v:.1} %"),
        None => "n/a".to_owned(),
    };
    let change = match best.action {
        RightSizingAction::ChangeInstanceType => format!(
            "move {} from {} {} ({} vCPU, {} MiB, ${current_price:.4}/h) to {} {} ({} vCPU, {} \
             MiB)",
            g.group,
            g.desired,
            current.name,
            current.vcpus,
            current.memory_mib,
            best.desired_capacity,
            best.instance_type,
            best.vcpus,
            best.memory_mib,
        ),
        RightSizingAction::ReduceCapacity => format!(
            "run {} on {} {} instead of {}",
            g.group, best.desired_capacity, current.name, g.desired
        ),
        RightSizingAction::ScaleInIdleGroup => format!(
            "scale in the idle group {} from {} to {} instances (its minimum size)",
            g.group, g.desired, best.desired_capacity
        ),
    };
    let description = format!(
        "Right-sizing: {change}. Over {} hours of the last {} days CPU {} of hourly maxima was \
         {:.1} % and {memory_text}; projected CPU {}, memory {}, performance risk {}/4, \
         migration effort {}{}. Expected: ${:.0} a month less ({:.0} %). {} option{} in the \
         evidence.",
        outcome.cpu_hours,
        outcome.lookback_days,
        outcome.percentile,
        outcome.cpu_percent.unwrap_or_default(),
        projected(best.projected_cpu_percent),
        projected(best.projected_memory_percent),
        best.performance_risk,
        effort_text(best.migration_effort),
        if best.notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", best.notes.join("; "))
        },
        best.monthly_savings_usd,
        best.savings_percent,
        outcome.options.len(),
        if outcome.options.len() == 1 { "" } else { "s" },
    );
    let steps = match best.action {
        RightSizingAction::ChangeInstanceType => {
            let mut steps = Vec::new();
            if best.architecture != current.architecture {
                steps.push(format!(
                    "Build or choose an arm64 AMI for {} and check that every package and agent \
                     on it supports arm64",
                    g.group
                ));
            }
            steps.extend([
                format!(
                    "Create a launch template version for {} with instance type {}",
                    g.group, best.instance_type
                ),
                format!(
                    "Start an instance refresh on {} (MinHealthyPercentage 90)",
                    g.group
                ),
                "Watch CPU, memory and response time through the next analyses".to_owned(),
            ]);
            steps
        }
        RightSizingAction::ReduceCapacity | RightSizingAction::ScaleInIdleGroup => vec![
            format!(
                "Check what uses {} and that its scaling policies allow {} instances",
                g.group, best.desired_capacity
            ),
            format!(
                "Set {}'s desired capacity to {} (and its scaling policies' targets to match)",
                g.group, best.desired_capacity
            ),
            "Watch CPU, memory and response time through the next analyses".to_owned(),
        ],
    };
    let type_change = best.action == RightSizingAction::ChangeInstanceType;
    Some(Proposal {
        kind: RecommendationType::InstanceTypeChange,
        priority: priority(best.savings_percent, risk),
        description,
        target_desired_capacity: None,
        expected_impact: ExpectedImpact {
            performance_gain: None,
            cost_savings: Some(best.savings_percent),
            monthly_savings_usd: Some(best.monthly_savings_usd),
            risk_level: risk,
        },
        steps,
        evidence: Evidence {
            instance_type: Some(current.name.clone()),
            suggested_instance_type: type_change.then(|| best.instance_type.clone()),
            desired_capacity: Some(g.desired),
            min_size: Some(g.min_size),
            target_desired_capacity: (!type_change).then_some(best.desired_capacity),
            cpu_target: Some(targets.cpu_utilization()),
            memory_target: Some(targets.memory_utilization()),
            on_demand_hourly_usd: Some(current_price),
            suggested_hourly_usd: type_change
                .then(|| catalog.iter().find(|t| t.name == best.instance_type))
                .flatten()
                .and_then(|t| t.on_demand_hourly),
            // The best option's own replay, beside the configuration as it ran.
            backtest: best
                .backtest
                .clone()
                .zip(observed(g.demand, targets.cpu_utilization()))
                .map(|(proposed, current)| Backtests {
                    current,
                    proposed,
                    max_saturated_percent: preferences.max_saturated_percent,
                }),
            right_sizing: Some(outcome),
            ..Evidence::default()
        },
    })
}

fn effort_text(effort: MigrationEffort) -> &'static str {
    match effort {
        MigrationEffort::VeryLow => "very low",
        MigrationEffort::Low => "low",
        MigrationEffort::Medium => "medium",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Architecture::{Arm64, X86_64};

    fn t(name: &str, vcpus: u32, memory_gib: u64, arch: Architecture, price: f64) -> InstanceType {
        InstanceType {
            name: name.into(),
            vcpus,
            memory_mib: memory_gib * 1024,
            architecture: arch,
            on_demand_hourly: Some(price),
        }
    }

    /// us-east-1 on-demand Linux prices.
    fn catalog() -> Vec<InstanceType> {
        vec![
            t("m5.2xlarge", 8, 32, X86_64, 0.384),
            t("m5.xlarge", 4, 16, X86_64, 0.192),
            t("m5.large", 2, 8, X86_64, 0.096),
            t("c5.xlarge", 4, 8, X86_64, 0.17),
            t("c5.large", 2, 4, X86_64, 0.085),
            t("r5.large", 2, 16, X86_64, 0.126),
            t("t3.medium", 2, 4, X86_64, 0.0416),
            t("m6g.xlarge", 4, 16, Arm64, 0.154),
            t("m6g.large", 2, 8, Arm64, 0.077),
            t("c6g.large", 2, 4, Arm64, 0.068),
        ]
    }

    fn find<'c>(catalog: &'c [InstanceType], name: &str) -> &'c InstanceType {
        catalog.iter().find(|t| t.name == name).unwrap()
    }

    /// Production: CPU 70 % in 60..=80, memory 80 % in 70..=85.
    fn production() -> Targets {
        Targets::new(70.0, 80.0, 500.0, 1000.0, 60.0).unwrap()
    }

    fn group<'a>(
        current: &'a InstanceType,
        desired: u32,
        min_size: u32,
        cpu: &'a [f64],
        memory: &'a [f64],
    ) -> GroupCost<'a> {
        GroupCost {
            group: "web",
            instance_type: current,
            desired,
            min_size,
            spot: None,
            cpu_hourly_maxima: cpu,
            memory_hourly_maxima: memory,
            max_size: 10,
            demand: &[],
            requests: &[],
        }
    }

    fn assess(
        g: &GroupCost<'_>,
        catalog: &[InstanceType],
        p: &RightSizingPreferences,
    ) -> RightSizing {
        assess_right_sizing(g, catalog, p, &production())
    }

    /// (action, type, desired capacity) of each option, in rank order.
    fn summary(r: &RightSizing) -> Vec<(RightSizingAction, &str, u32)> {
        r.options
            .iter()
            .map(|o| (o.action, o.instance_type.as_str(), o.desired_capacity))
            .collect()
    }

    fn family(name: &str) -> InstanceFamily {
        name.parse().unwrap()
    }

    use RightSizingAction::{
        ChangeInstanceType as Change, ReduceCapacity as Reduce, ScaleInIdleGroup as Idle,
    };

    #[test]
    fn percentiles_by_nearest_rank() {
        // 336 hours: 302 at 10 %, 17 at 30 %, 15 at 50 %, 2 at 70 %. Ranks: p90 ceil(302.4) =
        // 303 -> 30; p95 ceil(319.2) = 320 -> 50; p99.5 ceil(334.32) = 335 -> 70; p99
        // ceil(332.64) = 333 -> 50.
        let mut hours = vec![10.0; 302];
        hours.extend([30.0; 17]);
        hours.extend([50.0; 15]);
        hours.extend([70.0; 2]);
        hours.reverse();
        assert_eq!(
            crate::percentile(&hours, CpuPercentile::P90.per_mille()),
            Some(30.0)
        );
        assert_eq!(
            crate::percentile(&hours, CpuPercentile::P95.per_mille()),
            Some(50.0)
        );
        assert_eq!(
            crate::percentile(&hours, CpuPercentile::P99_5.per_mille()),
            Some(70.0)
        );
        assert_eq!(crate::p99(&hours), Some(50.0));
        // One value is every percentile; rank 0 is lifted to 1.
        assert_eq!(crate::percentile(&[4.0], 995), Some(4.0));
        assert_eq!(crate::percentile(&[4.0, 8.0], 0), Some(4.0));
        assert_eq!(crate::percentile(&[f64::NAN], 900), None);
    }

    #[test]
    fn the_chosen_percentile_decides_what_fits() {
        let catalog = catalog();
        let xl = find(&catalog, "m5.xlarge");
        let mut cpu = vec![10.0; 302];
        cpu.extend([30.0; 17]);
        cpu.extend([50.0; 15]);
        cpu.extend([70.0; 2]);
        let memory = vec![40.0; 336];
        let g = group(xl, 4, 1, &cpu, &memory);
        let with = |p: CpuPercentile| {
            assess(
                &g,
                &catalog,
                &RightSizingPreferences {
                    cpu_percentile: p,
                    ..RightSizingPreferences::default()
                },
            )
        };
        // p90: 30 % of 16 vCPU; m5.large's 8 vCPU would run at 60 %, 72 % with headroom: fits.
        let p90 = with(CpuPercentile::P90);
        assert_eq!(
            (p90.percentile, p90.cpu_percent),
            (CpuPercentile::P90, Some(30.0))
        );
        assert!(summary(&p90).contains(&(Change, "m5.large", 4)));
        // p95: 50 %: m5.large would run at 100 %, 120 % with headroom: does not fit. 4 x
        // c5.xlarge (16 vCPU, 32 GiB: memory 80 %, 96 % with headroom) does.
        let p95 = with(CpuPercentile::P95);
        assert_eq!(p95.cpu_percent, Some(50.0));
        assert!(!summary(&p95).iter().any(|o| o.1 == "m5.large"));
        assert!(summary(&p95).contains(&(Change, "c5.xlarge", 4)));
        // p99.5: 70 %: 4 x c5.xlarge at 70 % needs 84 % with headroom: fits; 3 x m5.xlarge
        // (93.3 %, 112 %) does not, so no smaller fleet.
        let p995 = with(CpuPercentile::P99_5);
        assert_eq!(p995.cpu_percent, Some(70.0));
        assert_eq!(
            summary(&p995),
            vec![(Change, "m6g.xlarge", 4), (Change, "c5.xlarge", 4)]
        );
        assert_eq!(p995.options[0].performance_risk, 0);
        assert_eq!(p995.options[0].projected_cpu_percent, Some(70.0));
    }

    /// 4 x m5.xlarge (16 vCPU, 64 GiB, 0.768 $/h), CPU 30 % and memory 40 % at p99.5.
    fn steady<'a>(catalog: &'a [InstanceType], cpu: &'a [f64], memory: &'a [f64]) -> GroupCost<'a> {
        group(find(catalog, "m5.xlarge"), 4, 1, cpu, memory)
    }

    #[test]
    fn options_are_ranked_by_monthly_savings_with_projection_risk_and_effort() {
        let catalog = catalog();
        let (cpu, memory) = (vec![30.0; 336], vec![40.0; 336]);
        let r = assess(
            &steady(&catalog, &cpu, &memory),
            &catalog,
            &RightSizingPreferences::default(),
        );
        assert_eq!(r.status, RightSizingStatus::OptionsFound);
        assert_eq!(
            (r.cpu_hours, r.cpu_percent, r.memory_percent),
            (336, Some(30.0), Some(40.0))
        );
        assert!(!r.idle);
        // Fitting and cheaper, by saving per hour: m6g.large 0.46; m5.large and 2 x m5.xlarge
        // 0.384 each (same risk and effort: by name); r5.large 0.264; m6g.xlarge 0.152;
        // c5.xlarge 0.088. c5.large, t3.medium and c6g.large lack memory (160 %).
        assert_eq!(
            summary(&r),
            vec![
                (Change, "m6g.large", 4),
                (Change, "m5.large", 4),
                (Reduce, "m5.xlarge", 2)
            ]
        );
        let ranks: Vec<u32> = r.options.iter().map(|o| o.rank).collect();
        assert_eq!(ranks, vec![1, 2, 3]);
        let graviton = &r.options[0];
        // 8 vCPU: 30 x 16 / 8 = 60 %; 32 GiB: 40 x 64 / 32 = 80 %: both at or under target.
        assert_eq!(graviton.projected_cpu_percent, Some(60.0));
        assert_eq!(graviton.projected_memory_percent, Some(80.0));
        assert_eq!(graviton.performance_risk, 0);
        // (0.768 - 0.308) x 730 = 335.80 $; 0.46 / 0.768 = 59.90 %.
        assert_eq!(graviton.monthly_savings_usd, 335.8);
        assert_eq!(graviton.savings_percent, 59.9);
        assert_eq!(graviton.hourly_usd, 0.308);
        assert_eq!(graviton.migration_effort, MigrationEffort::Medium);
        assert_eq!(graviton.notes, vec![ARM64_NOTE.to_owned()]);
        let same_family = &r.options[1];
        assert_eq!(
            (same_family.monthly_savings_usd, same_family.savings_percent),
            (280.32, 50.0)
        );
        assert_eq!(same_family.migration_effort, MigrationEffort::VeryLow);
        assert!(same_family.notes.is_empty());
        let smaller = &r.options[2];
        // 2 x m5.xlarge: 60 % CPU, 80 % memory; 1 would be 120 %.
        assert_eq!(
            (
                smaller.projected_cpu_percent,
                smaller.projected_memory_percent
            ),
            (Some(60.0), Some(80.0))
        );
        assert_eq!(smaller.migration_effort, MigrationEffort::VeryLow);
        assert_eq!(smaller.monthly_savings_usd, 280.32);
    }

    #[test]
    fn efforts_follow_family_and_architecture() {
        let catalog = catalog();
        let xl = find(&catalog, "m5.xlarge");
        let effort = |to: &str| migration_effort(xl, find(&catalog, to));
        assert_eq!(effort("m5.large"), MigrationEffort::VeryLow);
        assert_eq!(effort("m5.xlarge"), MigrationEffort::VeryLow);
        assert_eq!(effort("r5.large"), MigrationEffort::Low);
        assert_eq!(effort("m6g.large"), MigrationEffort::Medium);
        assert_eq!(instance_family("c7gn.2xlarge"), "c7gn");
        // Without m6g.large, the fourth option (r5.large, LOW) shows.
        let without: Vec<InstanceType> = catalog
            .iter()
            .filter(|t| !t.name.starts_with("m6g") && t.name != "m5.large")
            .cloned()
            .collect();
        let (cpu, memory) = (vec![30.0; 336], vec![40.0; 336]);
        let r = assess(
            &steady(&without, &cpu, &memory),
            &without,
            &RightSizingPreferences::default(),
        );
        let efforts: Vec<MigrationEffort> = r.options.iter().map(|o| o.migration_effort).collect();
        assert_eq!(
            summary(&r),
            vec![
                (Reduce, "m5.xlarge", 2),
                (Change, "r5.large", 4),
                (Change, "c5.xlarge", 4)
            ]
        );
        assert_eq!(
            efforts,
            vec![
                MigrationEffort::VeryLow,
                MigrationEffort::Low,
                MigrationEffort::Low
            ]
        );
    }

    #[test]
    fn headroom_is_kept_above_the_projection() {
        assert!(fits(50.0, 100.0));
        assert!(!fits(50.5, 100.0));
        assert!(fits(80.0, 25.0));
        assert!(!fits(80.5, 25.0));
        assert!(fits(100.0, 0.0));
        assert!(!fits(100.01, 0.0));
        let catalog = catalog();
        let (cpu, memory) = (vec![30.0; 336], vec![40.0; 336]);
        let g = steady(&catalog, &cpu, &memory);
        // CPU headroom 70 %: 60 % x 1.7 = 102 %: no 8-vCPU fleet fits. 3 x m5.xlarge (40 %,
        // 68 %; memory 53.3 %) does, and the 16-vCPU fleets (30 %, 51 %).
        let cpu_room = RightSizingPreferences {
            cpu_headroom_percent: 70.0,
            ..RightSizingPreferences::default()
        };
        assert_eq!(
            summary(&assess(&g, &catalog, &cpu_room)),
            vec![
                (Reduce, "m5.xlarge", 3),
                (Change, "m6g.xlarge", 4),
                (Change, "c5.xlarge", 4)
            ]
        );
        // Memory headroom 30 %: 80 % x 1.3 = 104 %: no 32-GiB fleet fits, and 3 x m5.xlarge
        // (53.3 %) saves less than r5.large (64 GiB, 40 %); 25 % (exactly 100 %) still fits.
        let memory_room = |percent| RightSizingPreferences {
            memory_headroom_percent: percent,
            ..RightSizingPreferences::default()
        };
        assert_eq!(
            summary(&assess(&g, &catalog, &memory_room(30.0))),
            vec![
                (Change, "r5.large", 4),
                (Reduce, "m5.xlarge", 3),
                (Change, "m6g.xlarge", 4)
            ]
        );
        assert_eq!(
            summary(&assess(&g, &catalog, &memory_room(25.0)))[0],
            (Change, "m6g.large", 4)
        );
    }

    #[test]
    fn risk_levels_against_targets_and_ranges() {
        let targets = production();
        let cpu = |x| performance_risk(x, targets.cpu_utilization(), targets.cpu_range());
        let memory = |x| performance_risk(x, targets.memory_utilization(), targets.memory_range());
        // CPU 70 % in 60..=80.
        assert_eq!(
            [
                70.0,
                70.1,
                79.9,
                80.0,
                89.9,
                90.0,
                99.9,
                100.0,
                140.0,
                f64::NAN
            ]
            .map(cpu),
            [0, 1, 1, 2, 2, 3, 3, 4, 4, 4]
        );
        // Memory 80 % in 70..=85.
        assert_eq!([80.0, 84.9, 85.0, 90.0].map(memory), [0, 1, 2, 3]);
        // In an option: the higher of the two. Headroom 0; 4 x m5.large (8 vCPU, 32 GiB).
        let catalog = catalog();
        let only: Vec<InstanceType> = vec![find(&catalog, "m5.large").clone()];
        let no_room = RightSizingPreferences {
            cpu_headroom_percent: 0.0,
            memory_headroom_percent: 0.0,
            ..RightSizingPreferences::default()
        };
        let risk = |cpu: f64, memory: f64| {
            let (c, m) = (vec![cpu; 48], vec![memory; 48]);
            let r = assess(
                &group(find(&catalog, "m5.xlarge"), 4, 4, &c, &m),
                &only,
                &no_room,
            );
            r.options.first().map(|o| o.performance_risk)
        };
        assert_eq!(risk(30.0, 40.0), Some(0)); // 60 %, 80 %
        assert_eq!(risk(37.5, 40.0), Some(1)); // CPU 75 %
        assert_eq!(risk(30.0, 42.5), Some(2)); // memory 85 %
        assert_eq!(risk(47.5, 30.0), Some(3)); // CPU 95 %
        assert_eq!(risk(50.0, 30.0), Some(4)); // CPU 100 %: fits only without headroom
        assert_eq!(risk(50.5, 30.0), None); // 101 %: does not fit
    }

    #[test]
    fn fewer_than_30_hours_of_cpu_is_insufficient_data() {
        let catalog = catalog();
        let mut cpu = vec![30.0; 29];
        cpu.push(f64::NAN);
        let memory = vec![40.0; 30];
        let r = assess(
            &steady(&catalog, &cpu, &memory),
            &catalog,
            &RightSizingPreferences::default(),
        );
        assert_eq!(r.status, RightSizingStatus::InsufficientData);
        assert_eq!((r.cpu_hours, r.cpu_percent), (29, None));
        assert!(r.options.is_empty());
        assert_eq!(
            right_sizing_proposal(
                &steady(&catalog, &cpu, &memory),
                &catalog,
                &RightSizingPreferences::default(),
                &production()
            ),
            None
        );
        cpu[29] = 30.0;
        let r = assess(
            &steady(&catalog, &cpu, &memory),
            &catalog,
            &RightSizingPreferences::default(),
        );
        assert_eq!(
            (r.status, r.cpu_hours),
            (RightSizingStatus::OptionsFound, 30)
        );
    }

    #[test]
    fn nothing_cheaper_fitting_is_optimized_and_an_unknown_price_says_so() {
        let catalog = catalog();
        // CPU 75 %, memory 80 %: only the same size on Graviton fits (m6g.xlarge: 90 % and
        // 96 % with headroom), and without it nothing does.
        let (cpu, memory) = (vec![75.0; 336], vec![80.0; 336]);
        let g = steady(&catalog, &cpu, &memory);
        let r = assess(&g, &catalog, &RightSizingPreferences::default());
        assert_eq!(summary(&r), vec![(Change, "m6g.xlarge", 4)]);
        // CPU 75 % is within 60..=80 (risk 1), memory 80 % at its target (0).
        assert_eq!(r.options[0].performance_risk, 1);
        let no_graviton = RightSizingPreferences {
            excluded_families: vec![family("m6g")],
            ..RightSizingPreferences::default()
        };
        let r = assess(&g, &catalog, &no_graviton);
        assert_eq!(
            (r.status, r.options.len()),
            (RightSizingStatus::Optimized, 0)
        );
        // At CPU 99.5 % even the current fleet leaves no headroom: under-provisioned, not
        // optimized (1.2 x 99.5 > 100).
        let hot = vec![99.5; 336];
        let r = assess(&steady(&catalog, &hot, &memory), &catalog, &no_graviton);
        assert_eq!(
            (r.status, r.options.len()),
            (RightSizingStatus::UnderProvisioned, 0)
        );
        let unpriced = InstanceType {
            on_demand_hourly: None,
            ..find(&catalog, "m5.xlarge").clone()
        };
        let r = assess(
            &group(&unpriced, 4, 1, &cpu, &memory),
            &catalog,
            &RightSizingPreferences::default(),
        );
        assert_eq!(r.status, RightSizingStatus::IncompleteCatalog);
    }

    #[test]
    fn an_arm64_option_replaces_the_third_when_it_ranks_lower() {
        let catalog: Vec<InstanceType> = catalog()
            .into_iter()
            .filter(|t| t.name != "m6g.large")
            .collect();
        let (cpu, memory) = (vec![30.0; 336], vec![40.0; 336]);
        let r = assess(
            &steady(&catalog, &cpu, &memory),
            &catalog,
            &RightSizingPreferences::default(),
        );
        // By saving: m5.large, 2 x m5.xlarge, r5.large, m6g.xlarge, c5.xlarge; the best arm64
        // option takes the third place.
        assert_eq!(
            summary(&r),
            vec![
                (Change, "m5.large", 4),
                (Reduce, "m5.xlarge", 2),
                (Change, "m6g.xlarge", 4)
            ]
        );
        assert_eq!(r.options[2].rank, 3);
        assert_eq!(r.options[2].monthly_savings_usd, 110.96);
        assert_eq!(r.options[2].migration_effort, MigrationEffort::Medium);
        assert_eq!(r.options[2].notes, vec![ARM64_NOTE.to_owned()]);
    }

    #[test]
    fn an_arm64_group_stays_on_arm64() {
        let catalog = catalog();
        let (cpu, memory) = (vec![20.0; 336], vec![30.0; 336]);
        let g = group(find(&catalog, "m6g.xlarge"), 4, 1, &cpu, &memory);
        let r = assess(&g, &catalog, &RightSizingPreferences::default());
        assert!(!r.options.is_empty());
        assert!(
            r.options.iter().all(|o| o.architecture == Arm64),
            "{:?}",
            summary(&r)
        );
        assert!(
            r.options
                .iter()
                .all(|o| o.migration_effort <= MigrationEffort::Low)
        );
    }

    #[test]
    fn only_an_under_utilized_group_gets_configurations_with_fewer_vcpus() {
        let catalog = catalog();
        // 4 x m5.xlarge at CPU 30 %, memory 40 %: under production's 60 % threshold, the
        // smaller types and the smaller fleet are offered (see the ranking test).
        let (cpu, memory) = (vec![30.0; 336], vec![40.0; 336]);
        let g = steady(&catalog, &cpu, &memory);
        let quiet = assess(&g, &catalog, &RightSizingPreferences::default());
        assert_eq!(quiet.utilization_threshold, Some(60.0));
        assert!(summary(&quiet).contains(&(Reduce, "m5.xlarge", 2)));
        // The same group where the threshold is 25 %: 30 % is not under-utilized. Only types
        // with the same 4 vCPUs remain: m6g.xlarge (16 GiB) and c5.xlarge (8 GiB: memory
        // 40 x 64 / 32 = 80 %, 96 % with headroom, fits).
        let strict = Targets::new(70.0, 80.0, 500.0, 1000.0, 25.0).unwrap();
        let busy = assess_right_sizing(&g, &catalog, &RightSizingPreferences::default(), &strict);
        assert_eq!(busy.status, RightSizingStatus::OptionsFound);
        assert_eq!(busy.utilization_threshold, Some(25.0));
        assert_eq!(
            summary(&busy),
            vec![(Change, "m6g.xlarge", 4), (Change, "c5.xlarge", 4)]
        );
        // At exactly the threshold a group is not under it.
        let at = Targets::new(70.0, 80.0, 500.0, 1000.0, 30.0).unwrap();
        let r = assess_right_sizing(&g, &catalog, &RightSizingPreferences::default(), &at);
        assert_eq!(summary(&r), summary(&busy));
    }

    #[test]
    fn an_idle_group_below_a_zero_threshold_is_not_under_utilized() {
        let catalog = catalog();
        // CPU p99.5 3 % is idle, but an operator whose threshold is 0 counts nothing as
        // under-utilized: no scale-in, no smaller fleet, only the same-size Graviton type.
        let cpu = vec![3.0; 336];
        let never = Targets::new(70.0, 80.0, 500.0, 1000.0, 0.0).unwrap();
        let r = assess_right_sizing(
            &group(find(&catalog, "m5.xlarge"), 4, 0, &cpu, &[]),
            &catalog,
            &RightSizingPreferences::default(),
            &never,
        );
        assert!(r.idle);
        assert_eq!(summary(&r), vec![(Change, "m6g.xlarge", 4)]);
    }

    #[test]
    fn an_idle_group_scales_in_to_its_minimum_size() {
        let catalog = catalog();
        // CPU p99.5 3 %, no memory metric: no instance's memory may shrink.
        let cpu = vec![3.0; 336];
        let r = assess(
            &group(find(&catalog, "m5.xlarge"), 4, 0, &cpu, &[]),
            &catalog,
            &RightSizingPreferences::default(),
        );
        assert!(r.idle);
        // Idle to 0 saves all 0.768 $/h; 1 x m5.xlarge (12 %) 0.576; r5.large (16 GiB, 6 %)
        // 0.264; m6g.xlarge 0.152 takes the third place as the arm64 option.
        assert_eq!(
            summary(&r),
            vec![
                (Idle, "m5.xlarge", 0),
                (Reduce, "m5.xlarge", 1),
                (Change, "m6g.xlarge", 4)
            ]
        );
        let idle = &r.options[0];
        assert_eq!(
            (idle.monthly_savings_usd, idle.savings_percent),
            (560.64, 100.0)
        );
        assert_eq!(
            (idle.projected_cpu_percent, idle.performance_risk),
            (None, 0)
        );
        assert_eq!(idle.notes, vec![NO_INSTANCES_NOTE.to_owned()]);
        assert_eq!(r.options[1].projected_memory_percent, None);
        // minSize 2: the smaller fleet is the minimum size, so it is the idle option.
        let r = assess(
            &group(find(&catalog, "m5.xlarge"), 4, 2, &cpu, &[]),
            &catalog,
            &RightSizingPreferences::default(),
        );
        assert_eq!(
            r.options[0],
            RightSizingOption {
                rank: 1,
                action: Idle,
                ..r.options[0].clone()
            }
        );
        assert_eq!(
            (
                r.options[0].desired_capacity,
                r.options[0].projected_cpu_percent
            ),
            (2, Some(6.0))
        );
        // At 6 % it is not idle: the same fleet is a plain reduction.
        let busy = vec![6.0; 336];
        let r = assess(
            &group(find(&catalog, "m5.xlarge"), 4, 2, &busy, &[]),
            &catalog,
            &RightSizingPreferences::default(),
        );
        assert!(!r.idle);
        assert_eq!(summary(&r)[0], (Reduce, "m5.xlarge", 2));
        // 40 instances at 4 %: 1 would run at 160 %; the smallest fleet that fits is 2 (80 %,
        // 96 % with headroom), which is not the minimum size.
        let r = assess(
            &group(find(&catalog, "m5.xlarge"), 40, 1, &[4.0; 48], &[]),
            &catalog,
            &RightSizingPreferences::default(),
        );
        assert!(r.idle);
        assert_eq!(summary(&r)[0], (Reduce, "m5.xlarge", 2));
        assert!(!r.options.iter().any(|o| o.action == Idle));
    }

    #[test]
    fn preferred_and_excluded_families_limit_type_changes() {
        let catalog = catalog();
        let (cpu, memory) = (vec![30.0; 336], vec![40.0; 336]);
        let g = steady(&catalog, &cpu, &memory);
        let preferred = RightSizingPreferences {
            preferred_families: vec![family("c5")],
            ..RightSizingPreferences::default()
        };
        // Only c5 types; the group's own type may still shrink in number.
        assert_eq!(
            summary(&assess(&g, &catalog, &preferred)),
            vec![(Reduce, "m5.xlarge", 2), (Change, "c5.xlarge", 4)]
        );
        let excluded = RightSizingPreferences {
            excluded_families: vec![family("m6g"), family("m5")],
            ..RightSizingPreferences::default()
        };
        assert_eq!(
            summary(&assess(&g, &catalog, &excluded)),
            vec![
                (Reduce, "m5.xlarge", 2),
                (Change, "r5.large", 4),
                (Change, "c5.xlarge", 4)
            ]
        );
        assert!(!family_allowed(find(&catalog, "m5.large"), &preferred));
        assert!(family_allowed(find(&catalog, "c5.large"), &preferred));
    }

    #[test]
    fn a_configuration_its_backtest_saturates_is_not_offered_and_is_counted() {
        // 4 x m5.xlarge: 330 hours at 20 %, 6 at 60 % (p90 20 %). At p90 two instances fit
        // (40 %), but replayed they run the 6 busy hours at 120 % -> 100 %: 6 of 336 hours over
        // 90 % (1.8 %), more than the 1 % allowed.
        let catalog = catalog();
        let current = find(&catalog, "m5.xlarge");
        let hours: Vec<f64> = (0..336)
            .map(|h| if h % 56 == 0 { 60.0 } else { 20.0 })
            .collect();
        let demand: Vec<DemandHour> = hours
            .iter()
            .enumerate()
            .map(|(h, cpu)| DemandHour {
                hour: h as i64,
                cpu: *cpu,
                instances: 4.0,
            })
            .collect();
        let g = GroupCost {
            demand: &demand,
            ..group(current, 4, 1, &hours, &[])
        };
        let p90 = RightSizingPreferences {
            cpu_percentile: CpuPercentile::P90,
            ..RightSizingPreferences::default()
        };
        let r = assess(&g, &catalog, &p90);
        assert!(
            r.options.iter().all(|o| o.desired_capacity * o.vcpus >= 12),
            "{:#?}",
            r.options
        );
        assert!(r.saturating >= 1, "{r:#?}");
        // Every option offered carries its backtest, within the share.
        assert!(
            r.options
                .iter()
                .all(|o| o.backtest.as_ref().is_some_and(|b| !b.too_risky(0.01)))
        );
        // Allowed 5 % of the hours, smaller fleets are offered again (the smallest that fits:
        // one m5.xlarge, 80 % at p90).
        let lenient = RightSizingPreferences {
            max_saturated_percent: 5.0,
            ..p90.clone()
        };
        let r = assess(&g, &catalog, &lenient);
        assert!(
            r.options.iter().any(|o| o.desired_capacity * o.vcpus < 12),
            "{:#?}",
            r.options
        );
        assert_eq!(r.saturating, 0);
    }

    #[test]
    fn the_proposal_comes_from_the_best_option_and_carries_them_all() {
        let catalog = catalog();
        let (cpu, memory) = (vec![30.0; 336], vec![40.0; 336]);
        let p = right_sizing_proposal(
            &steady(&catalog, &cpu, &memory),
            &catalog,
            &RightSizingPreferences::default(),
            &production(),
        )
        .unwrap();
        assert_eq!(p.kind, RecommendationType::InstanceTypeChange);
        assert_eq!(p.expected_impact.monthly_savings_usd, Some(335.8));
        assert_eq!(p.expected_impact.cost_savings, Some(59.9));
        assert_eq!(p.expected_impact.risk_level, RiskLevel::Medium);
        assert_eq!(p.priority, fleetopt_scoring::Priority::Medium);
        assert_eq!(p.target_desired_capacity, None);
        assert_eq!(
            p.evidence.suggested_instance_type.as_deref(),
            Some("m6g.large")
        );
        assert_eq!(p.evidence.suggested_hourly_usd, Some(0.077));
        let carried = p.evidence.right_sizing.as_ref().unwrap();
        assert_eq!(carried.options.len(), 3);
        assert!(p.steps[0].contains("arm64 AMI"), "{:?}", p.steps);
        assert!(
            p.description
                .contains("CPU p99.5 of hourly maxima was 30.0 %"),
            "{}",
            p.description
        );
        // An idle group: the same type of recommendation (one right-sizing item per group,
        // whatever ranks first), naming the capacity in its evidence only.
        let idle = right_sizing_proposal(
            &group(find(&catalog, "m5.xlarge"), 4, 0, &[3.0; 48], &[]),
            &catalog,
            &RightSizingPreferences::default(),
            &production(),
        )
        .unwrap();
        assert_eq!(idle.kind, RecommendationType::InstanceTypeChange);
        assert_eq!(idle.target_desired_capacity, None);
        assert_eq!(idle.evidence.target_desired_capacity, Some(0));
        assert_eq!(idle.evidence.suggested_instance_type, None);
        assert!(
            idle.description
                .contains("scale in the idle group web from 4 to 0"),
            "{}",
            idle.description
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use proptest::sample::subsequence;

        const FAMILIES: [&str; 6] = ["m5", "c5", "r5", "t3", "m6g", "c6g"];

        fn any_preferences() -> impl Strategy<Value = RightSizingPreferences> {
            (
                prop::sample::select(CpuPercentile::ALL.to_vec()),
                0.0..=100.0f64,
                0.0..=100.0f64,
                subsequence(FAMILIES.to_vec(), 0..=2),
                subsequence(FAMILIES.to_vec(), 0..=2),
            )
                .prop_map(|(p, cpu, memory, preferred, excluded)| {
                    RightSizingPreferences {
                        cpu_percentile: p,
                        cpu_headroom_percent: cpu,
                        memory_headroom_percent: memory,
                        lookback_days: 14,
                        preferred_families: preferred
                            .iter()
                            .filter(|f| !excluded.contains(f))
                            .map(|f| family(f))
                            .collect(),
                        excluded_families: excluded.iter().map(|f| family(f)).collect(),
                        max_saturated_percent: 1.0,
                    }
                })
        }

        fn any_targets() -> impl Strategy<Value = Targets> {
            (20.0..=90.0f64, 20.0..=90.0f64, 0.0..=100.0f64)
                .prop_map(|(c, m, u)| Targets::new(c, m, 500.0, 1000.0, u).unwrap())
        }

        /// The catalog with every price scaled by its own factor.
        fn any_catalog() -> impl Strategy<Value = Vec<InstanceType>> {
            prop::collection::vec(0.5..1.5f64, 10).prop_map(|factors| {
                catalog()
                    .into_iter()
                    .zip(factors)
                    .map(|(t, f)| InstanceType {
                        on_demand_hourly: t.on_demand_hourly.map(|p| p * f),
                        ..t
                    })
                    .collect()
            })
        }

        proptest! {
            #[test]
            fn every_option_fits_saves_and_respects_the_families(
                catalog in any_catalog(),
                current in 0usize..10,
                desired in 1u32..30,
                min_size in 0u32..30,
                cpu in prop::collection::vec(0.0..100.0f64, 0..80),
                memory in prop::collection::vec(0.0..100.0f64, 0..80),
                scale in 0.01..1.0f64,
                preferences in any_preferences(),
                targets in any_targets(),
            ) {
                // Scaled, so that idle, quiet and busy groups all come up.
                let cpu: Vec<f64> = cpu.iter().map(|c| c * scale).collect();
                let memory: Vec<f64> = memory.iter().map(|m| m * scale).collect();
                let min_size = min_size.min(desired);
                let now = &catalog[current];
                let g = group(now, desired, min_size, &cpu, &memory);
                let r = assess_right_sizing(&g, &catalog, &preferences, &targets);
                let per_mille = preferences.cpu_percentile.per_mille();
                let cpu_p = crate::percentile(&cpu, per_mille);
                let memory_p = crate::percentile(&memory, per_mille);
                prop_assert!(r.options.len() <= MAX_OPTIONS);
                if cpu.len() < 30 {
                    prop_assert_eq!(r.status, RightSizingStatus::InsufficientData);
                }
                prop_assert_eq!(r.utilization_threshold, Some(targets.utilization_threshold()));
                for o in &r.options {
                    prop_assert!(o.monthly_savings_usd >= MIN_MONTHLY_SAVING_USD);
                    let t = catalog.iter().find(|t| t.name == o.instance_type).unwrap();
                    // Fewer vCPUs in all only for an under-utilized group.
                    if o.vcpus * o.desired_capacity < now.vcpus * desired {
                        prop_assert!(cpu_p.unwrap() < targets.utilization_threshold(),
                            "{} x {} for CPU {:?} at threshold {}", o.desired_capacity,
                            o.instance_type, cpu_p, targets.utilization_threshold());
                    }
                    if o.desired_capacity == 0 {
                        prop_assert_eq!(o.action, RightSizingAction::ScaleInIdleGroup);
                        prop_assert!(r.idle && min_size == 0);
                        continue;
                    }
                    let share = |mine: f64, theirs: f64| {
                        mine * f64::from(desired) / (theirs * f64::from(o.desired_capacity))
                    };
                    let projected_cpu = cpu_p.unwrap() * share(f64::from(now.vcpus), f64::from(t.vcpus));
                    prop_assert!(projected_cpu * (1.0 + preferences.cpu_headroom_percent / 100.0) <= 100.0 + 1e-9);
                    match memory_p {
                        Some(m) => {
                            let projected = m * share(now.memory_mib as f64, t.memory_mib as f64);
                            prop_assert!(projected * (1.0 + preferences.memory_headroom_percent / 100.0) <= 100.0 + 1e-9);
                        }
                        None => prop_assert!(t.memory_mib >= now.memory_mib),
                    }
                    if o.action == RightSizingAction::ChangeInstanceType {
                        prop_assert!(family_allowed(t, &preferences));
                        prop_assert!(t.architecture == now.architecture || t.architecture == Arm64);
                        prop_assert_eq!(o.desired_capacity, desired);
                    } else {
                        prop_assert_eq!(&o.instance_type, &now.name);
                        prop_assert!(o.desired_capacity >= min_size && o.desired_capacity < desired);
                    }
                }
            }

            #[test]
            fn options_are_sorted_by_savings_and_numbered_from_1(
                catalog in any_catalog(),
                current in 0usize..10,
                desired in 1u32..30,
                level in 0.0..60.0f64,
                preferences in any_preferences(),
            ) {
                let cpu = vec![level; 48];
                let memory = vec![level; 48];
                let g = group(&catalog[current], desired, 0, &cpu, &memory);
                let r = assess_right_sizing(&g, &catalog, &preferences, &production());
                for pair in r.options.windows(2) {
                    prop_assert!(pair[0].monthly_savings_usd >= pair[1].monthly_savings_usd);
                }
                let ranks: Vec<u32> = r.options.iter().map(|o| o.rank).collect();
                let expected: Vec<u32> = (1..=u32::try_from(r.options.len()).unwrap()).collect();
                prop_assert_eq!(ranks, expected);
                prop_assert_eq!(r.status == RightSizingStatus::OptionsFound, !r.options.is_empty());
            }

            #[test]
            fn risk_never_falls_as_the_projected_peak_rises(
                targets in any_targets(),
                a in 0.0..150.0f64,
                b in 0.0..150.0f64,
            ) {
                let (low, high) = if a <= b { (a, b) } else { (b, a) };
                for (target, range) in [
                    (targets.cpu_utilization(), targets.cpu_range()),
                    (targets.memory_utilization(), targets.memory_range()),
                ] {
                    let (r_low, r_high) = (performance_risk(low, target, range), performance_risk(high, target, range));
                    prop_assert!(r_low <= r_high);
                    prop_assert!(r_high <= 4);
                }
            }
        }
    }
}
