//! Savings achieved, not only projected: the cost optimizer's daily run measures what each
//! completed capacity or type change saves a month and writes it on the item once
//! (`realizedSavings`), then publishes RealizedSavings, the savings changes completed in the
//! last 30 days achieve, per group and for the environment.
//!
//! Which changes: COMPLETED SCALE_UP, SCALE_DOWN and INSTANCE_TYPE_CHANGE items (those the
//! engine applied, and those a person carried out and marked done) that completed in the last
//! [`LOOKBACK_DAYS`], whose window after the change is over, and that have no figure yet. Spot,
//! commitments, run-rate and performance tuning are left out: what they save is in the bill
//! (Cost Explorer), not in instance-hours at on-demand prices.
//!
//! The reads, whatever the number of changes: one `TypeIndex` query per measured type (status
//! COMPLETED as the filter), one GetMetricData for every group's capacity around every change
//! (`fleetopt_snapshot::capacity_queries`, the window spanning them all), and the on-demand
//! prices through the run's cache (types the run priced already are hits). The arithmetic is
//! `fleetopt_costing::realized_savings`; the write is conditional (still COMPLETED, no figure
//! yet), so two runs never write twice. Anything missing makes a change "not measured" with
//! the reason, never a saving of 0, and never fails the run.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use fleetopt_config::Config;
use fleetopt_costing::realized_savings;
use fleetopt_model::{
    RealizedSavings, Recommendation, RecommendationType, Status, rfc3339, savings_achieved,
};
use fleetopt_ports::{
    GroupInfo, MetricDatum, MetricsSource, PriceSource, RecommendationQuery, RecommendationStore,
    StoreError, TimeWindow,
};
use fleetopt_snapshot::{CAPACITY_WINDOW_HOURS, ChangeWindows, capacity_queries, in_service};
use serde::Serialize;

use crate::prices::CachedPrices;

/// The types whose savings are measured: the changes of capacity and of instance type.
pub const MEASURED_KINDS: [RecommendationType; 3] = [
    RecommendationType::ScaleUp,
    RecommendationType::ScaleDown,
    RecommendationType::InstanceTypeChange,
];

/// How long after completing a change is still measured: its figure is retried daily until
/// then (group metrics collection switched on late, a price read that failed).
pub const LOOKBACK_DAYS: i64 = 14;

/// The metric the run publishes: USD a month, unit None.
pub const METRIC: &str = "RealizedSavings";

/// A change measured this run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Measured {
    /// The recommendation.
    pub id: String,
    /// Its group.
    pub auto_scaling_group_name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: RecommendationType,
    /// USD a month: positive saved, negative added cost.
    pub monthly_usd: f64,
}

/// A change that could not be measured this run, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotMeasured {
    /// The recommendation.
    pub id: String,
    /// Its group.
    pub auto_scaling_group_name: String,
    /// Why, in plain words (insufficient data, no price, a lost race).
    pub reason: String,
}

/// What the run measured, in the response (`realizedSavings`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RealizedReport {
    /// Changes measured this run (written on their items, unless a dry run).
    pub measured: Vec<Measured>,
    /// Changes due for a figure that could not get one, with the reason.
    pub not_measured: Vec<NotMeasured>,
    /// Savings achieved by the changes completed in the last 30 days, USD a month (what
    /// RealizedSavings publishes for the environment); `None` when none has a figure.
    pub achieved_monthly_usd: Option<f64>,
}

/// What [`measure`] hands back to the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measurement {
    /// For the response.
    pub report: RealizedReport,
    /// RealizedSavings datums, for the run's one PutMetricData.
    pub data: Vec<MetricDatum>,
    /// Reads that failed (the run's `unavailable`).
    pub unavailable: Vec<String>,
}

/// A change due for a figure, with what it is measured by.
struct Due {
    recommendation: Recommendation,
    windows: ChangeWindows,
    /// Index of its group among the capacity queries.
    group: usize,
    type_before: String,
    type_after: String,
}

/// The changes among `completed` due for a figure at `now`, or why one cannot have any. A
/// change completed under a day ago (its window after is not over) or more than
/// [`LOOKBACK_DAYS`] ago is neither.
fn due(
    completed: &[Recommendation],
    groups: &[GroupInfo],
    now: DateTime<Utc>,
) -> (Vec<Due>, Vec<String>, Vec<NotMeasured>) {
    let mut found = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut refused = Vec::new();
    for r in completed {
        let (Some(began), Some(done)) = (r.change_began_at(), r.completed_at()) else {
            continue;
        };
        let windows = ChangeWindows::around(began, done, CAPACITY_WINDOW_HOURS);
        if r.status != Status::Completed
            || r.realized_savings.is_some()
            || !MEASURED_KINDS.contains(&r.kind)
            || done + Duration::days(LOOKBACK_DAYS) <= now
            || !windows.complete_at(now)
        {
            continue;
        }
        let refuse = |reason: String| NotMeasured {
            id: r.id.clone(),
            auto_scaling_group_name: r.auto_scaling_group_name.clone(),
            reason,
        };
        let Some(group) = groups.iter().find(|g| g.name == r.auto_scaling_group_name) else {
            refused.push(refuse(
                "the group is not among this run's groups (no longer targeted, or not asked for)"
                    .to_owned(),
            ));
            continue;
        };
        let Some(current) = group.instance_type.clone() else {
            refused.push(refuse(
                "insufficient data: the group has no instance in service to tell its instance \
                 type by"
                    .to_owned(),
            ));
            continue;
        };
        // The type it ran before: what the right-sizing evidence names; a capacity change
        // keeps the type the group runs.
        let type_before = match (&r.evidence.instance_type, r.kind) {
            (Some(t), _) => t.clone(),
            (None, RecommendationType::InstanceTypeChange) => {
                refused.push(refuse(
                    "insufficient data: the item does not name the instance type before the \
                     change"
                        .to_owned(),
                ));
                continue;
            }
            (None, _) => current.clone(),
        };
        let index = match names.iter().position(|n| *n == group.name) {
            Some(i) => i,
            None => {
                names.push(group.name.clone());
                names.len() - 1
            }
        };
        found.push(Due {
            recommendation: r.clone(),
            windows,
            group: index,
            type_before,
            type_after: current,
        });
    }
    (found, names, refused)
}

/// RealizedSavings per group and for the environment: the savings achieved by the changes
/// completed in the last 30 days that have a figure. Nothing when none has one (no data is
/// not 0).
fn datums(
    config: &Config,
    completed: &[Recommendation],
    now: DateTime<Utc>,
) -> (Vec<MetricDatum>, Option<f64>) {
    let achieved = savings_achieved(completed, now);
    if achieved.items.is_empty() {
        return (Vec::new(), None);
    }
    let environment = config.environment.as_str().to_owned();
    let mut per_group: BTreeMap<&str, f64> = BTreeMap::new();
    for r in &achieved.items {
        if let Some(s) = &r.realized_savings {
            *per_group.entry(&r.auto_scaling_group_name).or_default() += s.monthly_usd;
        }
    }
    let mut data: Vec<MetricDatum> = per_group
        .into_iter()
        .map(|(group, usd)| MetricDatum {
            name: METRIC,
            dimensions: vec![
                ("Environment", environment.clone()),
                ("AutoScalingGroupName", group.to_owned()),
            ],
            value: (usd * 100.0).round() / 100.0 + 0.0,
            unit: "None",
            timestamp: now,
        })
        .collect();
    data.push(MetricDatum {
        name: METRIC,
        dimensions: vec![("Environment", environment)],
        value: achieved.monthly_usd,
        unit: "None",
        timestamp: now,
    });
    (data, Some(achieved.monthly_usd))
}

/// What [`measure`] reads from: the run's adapters (the price cache is the run's, so the types
/// it priced already cost no call).
#[derive(Debug)]
pub struct Sources<'a, M, P, S> {
    /// CloudWatch.
    pub metrics: &'a M,
    /// Prices, cached.
    pub prices: &'a CachedPrices<P>,
    /// The recommendations table.
    pub store: &'a S,
    /// The region whose prices apply.
    pub region: &'a str,
}

/// Measures the savings of the completed changes due for a figure (see the module's docs),
/// writes each once unless `dry_run`, and returns the report, the RealizedSavings datums and
/// the reads that failed. `groups` are the run's groups, with their current instance types.
pub async fn measure<M, P, S>(
    config: &Config,
    sources: &Sources<'_, M, P, S>,
    groups: &[GroupInfo],
    now: DateTime<Utc>,
    dry_run: bool,
) -> Measurement
where
    M: MetricsSource + Sync,
    P: PriceSource + Sync,
    S: RecommendationStore + Sync,
{
    let Sources {
        metrics,
        prices,
        store,
        region,
    } = *sources;
    let mut out = Measurement::default();
    let query = |kind| RecommendationQuery {
        kind: Some(kind),
        status: Some(Status::Completed),
        ..RecommendationQuery::default()
    };
    let [a, b, c] = MEASURED_KINDS.map(query);
    let read = tokio::try_join!(store.query(&a), store.query(&b), store.query(&c));
    let mut completed: Vec<Recommendation> = match read {
        Ok((a, b, c)) => a.into_iter().chain(b).chain(c).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "savings achieved: completed changes unavailable");
            out.unavailable.push(format!(
                "completed changes (savings achieved not measured): {e}"
            ));
            return out;
        }
    };
    let (due, names, refused) = due(&completed, groups, now);
    out.report.not_measured = refused;

    if !due.is_empty() {
        // One read for every group around every change, and the prices of both types.
        let window = TimeWindow {
            start: due
                .iter()
                .map(|d| d.windows.before.start)
                .min()
                .unwrap_or(now),
            end: due.iter().map(|d| d.windows.after.end).max().unwrap_or(now),
        };
        let types: Vec<String> = due
            .iter()
            .flat_map(|d| [d.type_before.clone(), d.type_after.clone()])
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let queries = capacity_queries(&names);
        let (capacity, priced) = tokio::join!(
            metrics.read(&window, &queries),
            prices.on_demand_hourly(region, &types)
        );
        let capacity = capacity.map_err(|e| {
            out.unavailable.push(format!(
                "group capacity (savings achieved not measured): {e}"
            ));
            format!("GroupInServiceInstances could not be read: {e}")
        });
        let priced = priced.map_err(|e| {
            out.unavailable.push(format!(
                "on-demand prices of the changed groups (savings achieved not measured): {e}"
            ));
            format!("on-demand prices could not be read: {e}")
        });
        let measured_at = rfc3339(now);
        for d in due {
            let r = &d.recommendation;
            let outcome = match (&capacity, &priced) {
                (Err(why), _) | (_, Err(why)) => Err(why.clone()),
                (Ok(capacity), Ok(priced)) => {
                    let before = in_service(capacity, d.group, &d.windows.before);
                    let after = in_service(capacity, d.group, &d.windows.after);
                    let price_before = priced.get(&d.type_before).copied();
                    let price_after = priced.get(&d.type_after).copied();
                    realized_savings(
                        &before,
                        &after,
                        CAPACITY_WINDOW_HOURS,
                        price_before,
                        price_after,
                    )
                    .map(|figure| RealizedSavings {
                        monthly_usd: figure.monthly_usd,
                        instances_before: round2(figure.instances_before),
                        instances_after: round2(figure.instances_after),
                        hourly_price_before: price_before.unwrap_or_default(),
                        hourly_price_after: price_after.unwrap_or_default(),
                        instance_type_before: d.type_before.clone(),
                        instance_type_after: d.type_after.clone(),
                        window_hours: CAPACITY_WINDOW_HOURS,
                        before_window_end: rfc3339(d.windows.before.end),
                        after_window_start: rfc3339(d.windows.after.start),
                        measured_at: measured_at.clone(),
                    })
                    .map_err(|why| format!("{why} ({} -> {})", d.type_before, d.type_after))
                }
            };
            let refuse = |reason: String| NotMeasured {
                id: r.id.clone(),
                auto_scaling_group_name: r.auto_scaling_group_name.clone(),
                reason,
            };
            let savings = match outcome {
                Ok(savings) => savings,
                Err(reason) => {
                    out.report.not_measured.push(refuse(reason));
                    continue;
                }
            };
            if dry_run {
                // Not written, but counted in what the response says is achieved.
                if let Some(slot) = completed.iter_mut().find(|c| c.id == r.id) {
                    slot.realized_savings = Some(savings.clone());
                }
            } else {
                match store.record_realized_savings(r, &savings).await {
                    Ok(stored) => {
                        if let Some(slot) = completed.iter_mut().find(|c| c.id == stored.id) {
                            *slot = stored;
                        }
                    }
                    Err(StoreError::Conflict { .. }) => {
                        out.report.not_measured.push(refuse(
                            "already measured by another run, or changed since it was read"
                                .to_owned(),
                        ));
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(id = %r.id, error = %e, "savings achieved not recorded");
                        out.report
                            .not_measured
                            .push(refuse(format!("could not be recorded: {e}")));
                        continue;
                    }
                }
            }
            out.report.measured.push(Measured {
                id: r.id.clone(),
                auto_scaling_group_name: r.auto_scaling_group_name.clone(),
                kind: r.kind,
                monthly_usd: savings.monthly_usd,
            });
        }
    }
    let (data, achieved) = datums(config, &completed, now);
    out.data = data;
    out.report.achieved_monthly_usd = achieved;
    out
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
