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
//!   `max(minSize, 1)` below the current one that fits. Only configurations that cost less.
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

use crate::{GroupCost, HOURS_PER_MONTH, InstanceType, percentile, priority, round2};

/// A group needs at least this many hours with a CPU datapoint in the lookback.
pub const MIN_CPU_HOURS: u32 = 30;
/// CPU p99.5 under this, percent, over the whole lookback: the group is idle.
pub const IDLE_CPU_PERCENT: f64 = 5.0;
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
    preferences: &'a RightSizingPreferences,
    targets: &'a Targets,
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
        let price = t.on_demand_hourly?;
        let hourly = price * f64::from(count);
        let saving = self.current_hourly - hourly;
        if saving <= 0.0 {
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
        options: Vec::new(),
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
        preferences,
        targets,
    };
    outcome.options = rank(facts.candidates(catalog, outcome.idle));
    outcome.status = if outcome.options.is_empty() {
        RightSizingStatus::Optimized
    } else {
        RightSizingStatus::OptionsFound
    };
    outcome
}

/// Right-sizing as a proposal made from the best option, carrying every option in its
/// evidence (`rightSizing`): INSTANCE_TYPE_CHANGE when the best option changes the type,
/// COST_OPTIMIZATION when it only lowers desired capacity. `None` without options.
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
        kind: if type_change {
            RecommendationType::InstanceTypeChange
        } else {
            RecommendationType::CostOptimization
        },
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
