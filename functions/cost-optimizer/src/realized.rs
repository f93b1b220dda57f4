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
    RealizedSavings, Recommendation, RecommendationType, Shard, Status, rfc3339, savings_achieved,
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
    /// The run's account and region (`None`: the function's own): only the changes made there
    /// are measured.
    pub shard: Option<&'a Shard>,
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
        shard,
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
    // Only this run's account and region: a same-named group elsewhere is another group.
    completed.retain(|r| {
        r.account_id.as_deref() == shard.map(Shard::account_id)
            && r.region.as_deref() == shard.map(Shard::region)
    });
    // By group, then id: the report's order and the capacity queries' (`c<index>_insvc` in
    // group-name order) do not depend on how the queries page.
    completed.sort_by(|a, b| {
        (&a.auto_scaling_group_name, &a.id).cmp(&(&b.auto_scaling_group_name, &b.id))
    });
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

/// Selection, arithmetic, the write and the metric on in-memory fakes (the emulator test in
/// `tests/emulator.rs` runs the same code on moto).
#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use fleetopt_ports::fakes::contract::sample;
    use fleetopt_ports::fakes::{FakePrices, InMemoryStore, Recorder, group};
    use fleetopt_ports::{MetricResults, Transition};

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
    }

    fn now() -> DateTime<Utc> {
        at(26, 6, 0)
    }

    fn config() -> Config {
        let vars = std::collections::HashMap::from([
            ("FLEETOPT_ENVIRONMENT", "production"),
            ("FLEETOPT_APPLICATION", "app"),
            ("FLEETOPT_TARGET_GROUPS", "web"),
        ]);
        Config::from_lookup(&|name| vars.get(name).map(|v| (*v).to_owned())).unwrap()
    }

    /// `r` (written at analysis hour `hour`) moved along `path`, each move at its time, and
    /// stored.
    async fn stored(
        store: &InMemoryStore,
        mut r: Recommendation,
        path: &[(Status, DateTime<Utc>)],
    ) -> Recommendation {
        store.put_new(&r).await.unwrap();
        for (to, when) in path {
            r = store
                .transition(&r, &Transition::new(*to, *when, "test"))
                .await
                .unwrap();
        }
        r
    }

    /// The engine's SCALE_UP of `group`: claimed at `began`, completed 15 minutes later.
    async fn applied(
        store: &InMemoryStore,
        group: &str,
        hour: u32,
        began: DateTime<Utc>,
    ) -> Recommendation {
        let path = [
            (Status::InProgress, began),
            (Status::Completed, began + Duration::minutes(15)),
        ];
        stored(store, sample(group, hour), &path).await
    }

    /// Hourly GroupInServiceInstances of the `index`th group read: `before` in every hour of
    /// the day before `began`'s hour, `after` in every hour from the hour after `done`'s.
    fn capacity(
        index: usize,
        (began, before): (DateTime<Utc>, f64),
        (done, after): (DateTime<Utc>, f64),
    ) -> (String, Vec<(DateTime<Utc>, f64)>) {
        let w = ChangeWindows::around(began, done, CAPACITY_WINDOW_HOURS);
        let hours = |start: DateTime<Utc>, value: f64| {
            (0..24).map(move |h| (start + Duration::hours(h), value))
        };
        (
            format!("c{index}_insvc"),
            hours(w.before.start, before)
                .chain(hours(w.after.start, after))
                .collect(),
        )
    }

    /// The figure stored on item `id`.
    async fn figure(store: &InMemoryStore, id: &str) -> Option<RealizedSavings> {
        store
            .get(id)
            .await
            .unwrap()
            .and_then(|r| r.realized_savings)
    }

    async fn run_on(
        store: &InMemoryStore,
        metrics: &Recorder,
        groups: &[GroupInfo],
        dry_run: bool,
    ) -> Measurement {
        let prices = CachedPrices::new(FakePrices);
        let sources = Sources {
            metrics,
            prices: &prices,
            store,
            region: "us-east-1",
            shard: None,
        };
        measure(&config(), &sources, groups, now(), dry_run).await
    }

    #[tokio::test]
    async fn an_applied_scale_up_is_measured_once_as_the_cost_it_added() {
        let store = InMemoryStore::new();
        let began = at(23, 10, 5);
        let r = applied(&store, "web", 9, began).await;
        // web runs m5.large (0.096 $/h): 4 instances before, 5 after: -1 x 0.096 x 730.
        let metrics = Recorder::answering(MetricResults::from([capacity(
            0,
            (began, 4.0),
            (began + Duration::minutes(15), 5.0),
        )]));
        let groups = [group("web")];
        let first = run_on(&store, &metrics, &groups, false).await;
        assert_eq!(
            first.report.measured,
            [Measured {
                id: r.id.clone(),
                auto_scaling_group_name: "web".into(),
                kind: RecommendationType::ScaleUp,
                monthly_usd: -70.08,
            }]
        );
        assert!(first.report.not_measured.is_empty(), "{first:?}");
        assert_eq!(first.report.achieved_monthly_usd, Some(-70.08));
        let item = store.get(&r.id).await.unwrap().unwrap();
        assert_eq!(
            item.realized_savings,
            Some(RealizedSavings {
                monthly_usd: -70.08,
                instances_before: 4.0,
                instances_after: 5.0,
                hourly_price_before: 0.096,
                hourly_price_after: 0.096,
                instance_type_before: "m5.large".into(),
                instance_type_after: "m5.large".into(),
                window_hours: 24,
                before_window_end: "2026-11-23T10:00:00Z".into(),
                after_window_start: "2026-11-23T11:00:00Z".into(),
                measured_at: "2026-11-26T06:00:00Z".into(),
            })
        );
        assert_eq!((item.status, item.version), (Status::Completed, r.version));
        let published: Vec<_> = first
            .data
            .iter()
            .map(|d| (d.dimensions.clone(), d.value, d.unit))
            .collect();
        assert!(first.data.iter().all(|d| d.name == "RealizedSavings"));
        assert_eq!(
            published,
            [
                (
                    vec![
                        ("Environment", "production".to_owned()),
                        ("AutoScalingGroupName", "web".to_owned())
                    ],
                    -70.08,
                    "None"
                ),
                (
                    vec![("Environment", "production".to_owned())],
                    -70.08,
                    "None"
                ),
            ]
        );
        // The next day's run finds it measured: nothing written again, the metric still there.
        let second = run_on(&store, &metrics, &groups, false).await;
        assert!(second.report.measured.is_empty() && second.report.not_measured.is_empty());
        assert_eq!(second.data, first.data);
        assert_eq!(store.get(&r.id).await.unwrap(), Some(item));
    }

    #[tokio::test]
    async fn a_right_sizing_a_person_carried_out_prices_the_type_before_and_the_type_after() {
        let store = InMemoryStore::new();
        // 4 x m5.xlarge (0.192 $/h) right-sized to 4 x m5.large (0.096 $/h): approved at 11:00,
        // marked done at 14:30; the windows leave 11:00-15:00 out.
        let mut r = sample("web", 8);
        r.kind = RecommendationType::InstanceTypeChange;
        r.implementation.action = None;
        r.evidence.instance_type = Some("m5.xlarge".into());
        let approved = at(23, 11, 0);
        let done = at(23, 14, 30);
        let r = stored(
            &store,
            r,
            &[
                (Status::AwaitingApproval, at(23, 9, 5)),
                (Status::Approved, approved),
                (Status::Completed, done),
            ],
        )
        .await;
        let metrics = Recorder::answering(MetricResults::from([capacity(
            0,
            (approved, 4.0),
            (done, 4.0),
        )]));
        let m = run_on(&store, &metrics, &[group("web")], false).await;
        // 4 x (0.192 - 0.096) x 730.
        assert_eq!(m.report.measured[0].monthly_usd, 280.32, "{m:?}");
        let saved = figure(&store, &r.id).await.unwrap();
        assert_eq!(
            (
                saved.instance_type_before.as_str(),
                saved.instance_type_after.as_str(),
                saved.before_window_end.as_str(),
                saved.after_window_start.as_str()
            ),
            (
                "m5.xlarge",
                "m5.large",
                "2026-11-23T11:00:00Z",
                "2026-11-23T15:00:00Z"
            )
        );
    }

    #[tokio::test]
    async fn only_changes_due_are_measured_and_each_gap_is_named_never_a_zero() {
        let store = InMemoryStore::new();
        // Due, but no datapoint after the change (group metrics collection off since).
        let dark = applied(&store, "web", 1, at(23, 10, 5)).await;
        // Completed 3 hours ago: its day after is not over.
        applied(&store, "web", 2, now() - Duration::hours(3)).await;
        // Completed 20 days ago: past the lookback.
        applied(&store, "web", 3, now() - Duration::days(20)).await;
        // Not among the run's groups.
        let gone = applied(&store, "gone", 4, at(23, 10, 5)).await;
        // A type change that does not say what it changed from.
        let mut nameless = sample("web", 5);
        nameless.kind = RecommendationType::InstanceTypeChange;
        let nameless = stored(
            &store,
            nameless,
            &[
                (Status::InProgress, at(23, 10, 5)),
                (Status::Completed, at(23, 10, 20)),
            ],
        )
        .await;
        // A group whose type has no price.
        let exotic = applied(&store, "exotic", 6, at(23, 10, 5)).await;
        // Open or rolled back: not a completed change.
        store.put_new(&sample("web", 7)).await.unwrap();
        let rolled = applied(&store, "web", 8, at(23, 10, 5)).await;
        store
            .transition(&rolled, &Transition::new(Status::RolledBack, now(), "e"))
            .await
            .unwrap();
        let groups = [
            group("web"),
            GroupInfo {
                instance_type: Some("x9.huge".into()),
                ..group("exotic")
            },
        ];
        // Capacity (queries in group-name order: exotic, web) for web before its changes
        // only, and all of exotic's.
        let (id, points) = capacity(1, (at(23, 10, 5), 4.0), (at(23, 10, 20), 4.0));
        let web_before: Vec<_> = points.into_iter().take(24).collect();
        let metrics = Recorder::answering(MetricResults::from([
            (id, web_before),
            capacity(0, (at(23, 10, 5), 2.0), (at(23, 10, 20), 2.0)),
        ]));
        let m = run_on(&store, &metrics, &groups, false).await;
        assert!(m.report.measured.is_empty(), "{m:?}");
        let mut reasons: Vec<(String, String)> = m
            .report
            .not_measured
            .iter()
            .map(|n| (n.id.clone(), n.reason.clone()))
            .collect();
        reasons.sort();
        let mut expected = vec![
            (
                dark.id.clone(),
                "insufficient data: 0 of the 12 hours of GroupInServiceInstances needed after \
                 the change (is group metrics collection enabled?) (m5.large -> m5.large)"
                    .to_owned(),
            ),
            (
                gone.id.clone(),
                "the group is not among this run's groups (no longer targeted, or not asked \
                 for)"
                    .to_owned(),
            ),
            (
                nameless.id.clone(),
                "insufficient data: the item does not name the instance type before the change"
                    .to_owned(),
            ),
            (
                exotic.id.clone(),
                "insufficient data: no on-demand price for the type before (x9.huge -> \
                 x9.huge)"
                    .to_owned(),
            ),
        ];
        expected.sort();
        assert_eq!(reasons, expected);
        // Nothing measured: nothing written, no RealizedSavings (no data is not 0).
        assert!(m.data.is_empty() && m.report.achieved_monthly_usd.is_none());
        assert_eq!(figure(&store, &dark.id).await, None);
    }

    #[tokio::test]
    async fn a_dry_run_measures_and_writes_nothing() {
        let store = InMemoryStore::new();
        let began = at(23, 10, 5);
        let r = applied(&store, "web", 9, began).await;
        let metrics = Recorder::answering(MetricResults::from([capacity(
            0,
            (began, 6.0),
            (began + Duration::minutes(15), 4.0),
        )]));
        let m = run_on(&store, &metrics, &[group("web")], true).await;
        // 2 x 0.096 x 730.
        assert_eq!(m.report.measured[0].monthly_usd, 140.16);
        assert_eq!(m.report.achieved_monthly_usd, Some(140.16));
        assert_eq!(figure(&store, &r.id).await, None);
    }

    #[tokio::test]
    async fn a_failed_read_is_unavailable_and_the_changes_wait_for_the_next_run() {
        let store = InMemoryStore::new();
        let r = applied(&store, "web", 9, at(23, 10, 5)).await;
        let m = run_on(
            &store,
            &Recorder::failing("Throttling"),
            &[group("web")],
            false,
        )
        .await;
        assert_eq!(m.unavailable.len(), 1, "{m:?}");
        assert!(
            m.unavailable[0].starts_with("group capacity (savings achieved not measured)"),
            "{m:?}"
        );
        assert!(
            m.report.not_measured[0]
                .reason
                .starts_with("GroupInServiceInstances could not be read: cloudwatch:GetMetricData")
        );
        assert_eq!(figure(&store, &r.id).await, None);
    }

    #[tokio::test]
    async fn the_run_publishes_realized_savings_in_its_one_put_metric_data() {
        use crate::analysis::{Deps, run};
        use crate::event::Trigger;
        use fleetopt_ports::fakes::{FakeCosts, FakeFleet, FakeMembers};
        let began = at(23, 10, 5);
        let deps = Deps {
            fleet: FakeFleet::new([group("web")]),
            metrics: Recorder::answering(MetricResults::from([capacity(
                0,
                (began, 4.0),
                (began + Duration::minutes(15), 5.0),
            )])),
            costs: FakeCosts::new(),
            prices: CachedPrices::new(FakePrices),
            notifier: Recorder::new(),
            store: InMemoryStore::new(),
            region: "us-east-1".into(),
            members: FakeMembers::new(None),
        };
        let r = applied(&deps.store, "web", 9, began).await;
        let response = run(&config(), &deps, &Trigger::Schedule, now())
            .await
            .unwrap();
        assert_eq!(response.realized_savings.measured[0].id, r.id);
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(
            json["realizedSavings"],
            serde_json::json!({
                "measured": [{"id": r.id, "autoScalingGroupName": "web", "type": "SCALE_UP",
                              "monthlyUsd": -70.08}],
                "notMeasured": [],
                "achievedMonthlyUsd": -70.08,
            })
        );
        let published = deps.metrics.published();
        assert_eq!(published.len(), 1, "one PutMetricData");
        let names: BTreeSet<&str> = published[0].iter().map(|d| d.name).collect();
        assert_eq!(
            names,
            BTreeSet::from(["CostSavingsPotential", "RealizedSavings"])
        );
    }
}
