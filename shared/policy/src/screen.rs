//! The operator's noise controls, applied to new recommendations before they are written
//! (README "Operator controls"): exclusion tags, snoozes, anti-churn, minimum savings, the
//! persistence count of a SCALE_UP, and one open request per finding: a finding that matches
//! an open request (PENDING, AWAITING_APPROVAL or APPROVED) of the same source, group and type
//! refreshes it in place when it proposes the same action, and replaces it (SUPERSEDED) when
//! the action changed. [`screen`] is pure; [`history`] reads what it needs with a few GSI
//! queries per run (two per recommendation type involved, plus one per open status for the
//! types found), whatever the fleet size; [`record`] writes the result, conditionally.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use fleetopt_config::Controls;
use fleetopt_model::{
    Exclusions, Persistence, Priority, Recommendation, RecommendationType, Source, Status, rfc3339,
};

use fleetopt_ports::{
    Found, GroupInfo, PutOutcome, RecommendationQuery, RecommendationStore, StoreError, Transition,
};

/// How far back [`history`] reads past the churn window and two analysis intervals: an action
/// approved and applied up to a day after its analysis is still seen.
pub const HISTORY_SLACK: Duration = Duration::hours(24);
/// Two analyses are consecutive when their windows end at most one interval and this apart.
pub const ALIGNMENT_SLACK: Duration = Duration::minutes(5);

/// The rules in force.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// The configured controls.
    pub controls: Controls,
    /// The environment's analysis interval.
    pub analysis_interval: Duration,
}

/// Why a recommendation was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Suppression {
    /// The group's `fleet-optimizer:exclude` tag rules its type out.
    Excluded,
    /// A person snoozed the same finding for this group.
    Snoozed,
    /// It would reverse an action applied within the churn window, and is not HIGH.
    AntiChurn,
    /// A cost finding saving less than the minimum.
    BelowMinimumSavings,
}

/// A recommendation that was not written, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suppressed {
    /// The id it would have had.
    pub recommendation_id: String,
    /// Its group.
    pub auto_scaling_group_name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: RecommendationType,
    /// The rule that held it back.
    pub suppression: Suppression,
    /// The figures behind the rule.
    pub reason: String,
}

/// An open request found again with the same proposed action: written in place.
#[derive(Debug, Clone, PartialEq)]
pub struct Refresh {
    /// As stored.
    pub current: Recommendation,
    /// As it is to be ([`Recommendation::refreshed`]).
    pub next: Recommendation,
}

/// An open request that a newer one replaces: moved to SUPERSEDED.
#[derive(Debug, Clone, PartialEq)]
pub struct Replacement {
    /// As stored.
    pub old: Recommendation,
    /// The id of the request that replaces it (new, or the one refreshed).
    pub by: String,
}

/// The outcome of [`screen`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Screened {
    /// New requests to write (SCALE_UPs with their persistence count; `replaces` set when one
    /// replaces an open request).
    pub kept: Vec<Recommendation>,
    /// Open requests found again, to refresh in place.
    pub refreshed: Vec<Refresh>,
    /// Open requests to mark SUPERSEDED.
    pub replaced: Vec<Replacement>,
    /// Held back.
    pub suppressed: Vec<Suppressed>,
    /// Items the history read skipped because they are not recommendations (logged by the
    /// store with their keys): their ids.
    pub skipped: Vec<String>,
}

impl Screened {
    /// Every request this run stands behind: the new ones and the refreshed ones as they will
    /// be stored.
    pub fn current(&self) -> impl Iterator<Item = &Recommendation> {
        self.kept
            .iter()
            .chain(self.refreshed.iter().map(|r| &r.next))
    }
}

fn opposite(kind: RecommendationType) -> Option<RecommendationType> {
    match kind {
        RecommendationType::ScaleUp => Some(RecommendationType::ScaleDown),
        RecommendationType::ScaleDown => Some(RecommendationType::ScaleUp),
        _ => None,
    }
}

/// The earliest item [`history`] reads, at `now`.
pub fn history_since(rules: &Rules, now: DateTime<Utc>) -> DateTime<Utc> {
    let churn = Duration::hours(i64::from(rules.controls.churn_window_hours));
    now - churn.max(rules.analysis_interval * 2) - HISTORY_SLACK
}

/// The earlier items [`screen`] needs for `fresh`: recent items of their types (and of the
/// opposite scale direction), every SNOOZED item of those types, and every open request
/// (PENDING, AWAITING_APPROVAL, APPROVED) of the types found, however old. Items that do not
/// decode are logged by the store and left out.
pub async fn history<S: RecommendationStore + Sync>(
    store: &S,
    fresh: &[Recommendation],
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<Found, StoreError> {
    let found_kinds: HashSet<RecommendationType> = fresh.iter().map(|r| r.kind).collect();
    let kinds: HashSet<RecommendationType> = fresh
        .iter()
        .flat_map(|r| [Some(r.kind), opposite(r.kind)])
        .flatten()
        .collect();
    let since = rfc3339(history_since(rules, now));
    let mut found: HashMap<String, Recommendation> = HashMap::new();
    let mut skipped: HashMap<String, fleetopt_model::DecodeError> = HashMap::new();
    for kind in kinds {
        let mut queries = vec![
            RecommendationQuery {
                kind: Some(kind),
                since: Some(since.clone()),
                ..RecommendationQuery::default()
            },
            RecommendationQuery {
                kind: Some(kind),
                status: Some(Status::Snoozed),
                ..RecommendationQuery::default()
            },
        ];
        if found_kinds.contains(&kind) {
            queries.extend(Status::OPEN.map(|status| RecommendationQuery {
                kind: Some(kind),
                status: Some(status),
                ..RecommendationQuery::default()
            }));
        }
        for query in queries {
            let read = store.query(&query).await?;
            for e in read.skipped {
                skipped.insert(e.id.clone(), e);
            }
            for r in read.items {
                found.insert(r.id.clone(), r);
            }
        }
    }
    Ok(Found {
        items: found.into_values().collect(),
        skipped: skipped.into_values().collect(),
    })
}

/// What [`record`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// New requests written.
    pub written: usize,
    /// Open requests refreshed in place.
    pub refreshed: usize,
    /// Open requests marked SUPERSEDED.
    pub superseded: usize,
    /// Writes that failed, by group (the item's id with the error): the group's own failure,
    /// never the run's.
    pub failures: HashMap<String, (String, StoreError)>,
}

/// One write [`record`] makes.
enum Write<'a> {
    New(&'a Recommendation),
    Refresh(&'a Refresh),
    Supersede(&'a Replacement),
}

/// A write's group, item id and result ("written", "exists", "refreshed", "superseded").
type Written<'a> = (&'a str, &'a str, Result<&'static str, StoreError>);

/// Makes one write (an async fn of its own, so that the futures `record` runs together are
/// `Send` whatever the lifetimes of what they borrow).
async fn write_one<'a, S: RecommendationStore + Sync>(
    store: &S,
    write: Write<'a>,
    now: DateTime<Utc>,
    by: &str,
) -> Written<'a> {
    match write {
        Write::New(r) => (
            r.auto_scaling_group_name.as_str(),
            r.id.as_str(),
            store.put_new(r).await.map(|o| match o {
                PutOutcome::Written => "written",
                PutOutcome::AlreadyExists => "exists",
            }),
        ),
        Write::Refresh(refresh) => (
            refresh.current.auto_scaling_group_name.as_str(),
            refresh.current.id.as_str(),
            store
                .refresh(&refresh.current, &refresh.next)
                .await
                .map(|_| "refreshed"),
        ),
        Write::Supersede(replacement) => {
            let reason = format!("replaced by {}", replacement.by);
            let transition = Transition::new(Status::Superseded, now, by).because(&reason);
            (
                replacement.old.auto_scaling_group_name.as_str(),
                replacement.old.id.as_str(),
                store
                    .transition(&replacement.old, &transition)
                    .await
                    .map(|_| "superseded"),
            )
        }
    }
}

/// Writes what [`screen`] decided, every write conditional: new requests (`attribute_not_exists`),
/// refreshes and supersessions (on the status and version read). A conflict means another
/// invocation or a person moved the item first: nothing is written twice, and the next run
/// sees the new state. Writes go `concurrency` at a time.
pub async fn record<S: RecommendationStore + Sync>(
    store: &S,
    screened: &Screened,
    now: DateTime<Utc>,
    by: &str,
    concurrency: usize,
) -> Recorded {
    use futures::StreamExt;
    let mut writes: Vec<Write<'_>> = Vec::new();
    writes.extend(screened.kept.iter().map(Write::New));
    writes.extend(screened.refreshed.iter().map(Write::Refresh));
    writes.extend(screened.replaced.iter().map(Write::Supersede));
    // The futures are made first and only then run `concurrency` at a time: a stream mapped
    // through a closure would not be `Send` for every lifetime it borrows.
    let pending: Vec<_> = writes
        .into_iter()
        .map(|write| write_one(store, write, now, by))
        .collect();
    let results: Vec<Written<'_>> = futures::stream::iter(pending)
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut recorded = Recorded::default();
    for (group, id, result) in results {
        match result {
            Ok("written") => recorded.written += 1,
            Ok("refreshed") => recorded.refreshed += 1,
            Ok("superseded") => recorded.superseded += 1,
            Ok(_) => {}
            Err(StoreError::Conflict { .. }) => {
                tracing::info!(%group, %id, "changed by someone else first: left to the next run");
            }
            Err(e) => {
                tracing::error!(%group, %id, error = %e, "write failed");
                recorded
                    .failures
                    .insert(group.to_owned(), (id.to_owned(), e));
            }
        }
    }
    recorded
}

/// What a function does with its new findings: reads their [`history`] (no query when there
/// are none) and [`screen`]s them against it and the exclusion tags of `groups`.
pub async fn screen_new<S: RecommendationStore + Sync>(
    store: &S,
    fresh: Vec<Recommendation>,
    groups: &[GroupInfo],
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<Screened, StoreError> {
    let earlier = history(store, &fresh, rules, now).await?;
    let mut skipped: Vec<String> = earlier.skipped.iter().map(|e| e.id.clone()).collect();
    skipped.sort();
    let exclusions: HashMap<String, Exclusions> = groups
        .iter()
        .map(|g| (g.name.clone(), g.exclusions.clone()))
        .collect();
    let mut screened = screen(fresh, &exclusions, &earlier, rules, now);
    screened.skipped = skipped;
    for s in &screened.suppressed {
        tracing::info!(group = %s.auto_scaling_group_name, id = %s.recommendation_id, rule = ?s.suppression, reason = %s.reason, "new finding suppressed");
    }
    Ok(screened)
}

/// Applies the controls to `fresh`, in this order: exclusion tag, snooze, anti-churn, minimum
/// savings; then counts the consecutive analyses behind each SCALE_UP that is kept, and
/// matches it with the open requests of its source, group and type ([`open_request`]).
/// `exclusions` holds each group's tag (a group not in it has none); `history` is what
/// [`history`] read.
pub fn screen(
    fresh: Vec<Recommendation>,
    exclusions: &HashMap<String, Exclusions>,
    history: &[Recommendation],
    rules: &Rules,
    now: DateTime<Utc>,
) -> Screened {
    let mut out = Screened::default();
    for mut r in fresh {
        match suppression(&r, exclusions, history, rules, now) {
            Some((suppression, reason)) => out.suppressed.push(Suppressed {
                recommendation_id: r.id.clone(),
                auto_scaling_group_name: r.auto_scaling_group_name.clone(),
                kind: r.kind,
                suppression,
                reason,
            }),
            None => {
                if r.kind == RecommendationType::ScaleUp {
                    r.persistence = Some(Persistence {
                        consecutive_analyses: consecutive(&r, history, rules),
                        required: rules.controls.persistence.required(r.priority),
                    });
                }
                open_request(r, history, now, &mut out);
            }
        }
    }
    out
}

/// One open request per finding: `r` against the open requests of its source, group and type
/// in `history` (newest first). None: `r` is new. The newest proposes the same action: it is
/// refreshed with `r` (unless it already holds `r`'s window: a retried run), and `r` is not
/// written. It proposes another: `r` is written naming it in `replaces`. Either way every
/// other open one (left by an older version) is SUPERSEDED, so at most one stays open.
fn open_request(
    mut r: Recommendation,
    history: &[Recommendation],
    now: DateTime<Utc>,
    out: &mut Screened,
) {
    let mut open: Vec<&Recommendation> = history
        .iter()
        .filter(|o| o.status.is_open() && o.id != r.id && same_finding(o, &r))
        .collect();
    open.sort_by(|a, b| {
        b.analysis_window
            .end
            .cmp(&a.analysis_window.end)
            .then_with(|| b.id.cmp(&a.id))
    });
    let Some(newest) = open.first().copied() else {
        out.kept.push(r);
        return;
    };
    let keeper = if newest.proposed_action() == r.proposed_action() {
        if newest.analysis_window.end < r.analysis_window.end {
            out.refreshed.push(Refresh {
                current: newest.clone(),
                next: newest.refreshed(&r, now),
            });
        }
        newest.id.clone()
    } else {
        r.replaces = Some(newest.id.clone());
        let id = r.id.clone();
        out.kept.push(r);
        id
    };
    let start = usize::from(keeper == newest.id);
    for old in &open[start..] {
        out.replaced.push(Replacement {
            old: (*old).clone(),
            by: keeper.clone(),
        });
    }
}

/// The same source and type about the same group (name, account and region).
fn same_finding(a: &Recommendation, b: &Recommendation) -> bool {
    a.source == b.source && a.kind == b.kind && a.same_group(b)
}

fn suppression(
    r: &Recommendation,
    exclusions: &HashMap<String, Exclusions>,
    history: &[Recommendation],
    rules: &Rules,
    now: DateTime<Utc>,
) -> Option<(Suppression, String)> {
    if let Some(reason) = exclusions
        .get(&r.auto_scaling_group_name)
        .and_then(|e| e.excludes(r.kind))
    {
        return Some((Suppression::Excluded, reason));
    }
    if let Some((old, until)) = history.iter().find_map(|old| {
        let until = old.snooze.as_ref()?.until()?;
        (old.status == Status::Snoozed && old.id != r.id && same_finding(old, r) && until > now)
            .then_some((old, until))
    }) {
        return Some((
            Suppression::Snoozed,
            format!("{} is snoozed until {}", old.id, rfc3339(until)),
        ));
    }
    if let Some(reverses) = opposite(r.kind).filter(|_| r.priority != Priority::High) {
        let window = Duration::hours(i64::from(rules.controls.churn_window_hours));
        let applied = history.iter().find_map(|old| {
            let at = old.execution.as_ref()?.applied_at()?;
            (old.kind == reverses
                && old.same_group(r)
                && matches!(old.status, Status::InProgress | Status::Completed)
                && at > now - window)
                .then_some((old, at))
        });
        if let Some((old, at)) = applied {
            return Some((
                Suppression::AntiChurn,
                format!(
                    "{} would reverse {} {} applied at {} (within the {} h churn window; only \
                     HIGH priority may)",
                    r.kind,
                    old.kind,
                    old.id,
                    rfc3339(at),
                    rules.controls.churn_window_hours
                ),
            ));
        }
    }
    let is_cost_finding = r.source == Source::CostOptimizer
        && matches!(
            r.kind,
            RecommendationType::CostOptimization | RecommendationType::InstanceTypeChange
        );
    if is_cost_finding && let Some(usd) = r.expected_impact.monthly_savings_usd {
        let min_usd = rules.controls.min_monthly_savings_usd;
        let min_pct = rules.controls.min_savings_percent;
        let pct = r.expected_impact.cost_savings;
        if usd < min_usd || pct.is_some_and(|p| p < min_pct) {
            return Some((
                Suppression::BelowMinimumSavings,
                format!(
                    "saves {usd:.2} USD/month{}; the minimum is {min_usd:.2} USD and {min_pct} %",
                    pct.map(|p| format!(" ({p:.1} %)")).unwrap_or_default()
                ),
            ));
        }
    }
    None
}

/// How many consecutive analyses found `r`'s need: 1 plus the count of the same finding from
/// the analysis right before (its window ended at most one interval earlier).
fn consecutive(r: &Recommendation, history: &[Recommendation], rules: &Rules) -> u32 {
    let end = r.analysis_window.end;
    history
        .iter()
        .filter(|old| same_finding(old, r) && old.analysis_window.end < end)
        .max_by_key(|old| old.analysis_window.end)
        .filter(|old| end - old.analysis_window.end <= rules.analysis_interval + ALIGNMENT_SLACK)
        .map_or(1, |old| {
            old.persistence
                .map_or(1, |p| p.consecutive_analyses)
                .saturating_add(1)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use fleetopt_model::{Execution, Snooze};
    use fleetopt_ports::fakes::contract::sample;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 5, 0).unwrap()
    }

    fn rules() -> Rules {
        Rules {
            controls: Controls::default(),
            analysis_interval: Duration::hours(1),
        }
    }

    fn run(fresh: Vec<Recommendation>, history: &[Recommendation]) -> Screened {
        screen(fresh, &HashMap::new(), history, &rules(), now())
    }

    /// A MEDIUM SCALE_DOWN of web for the 09:00-10:00 window.
    fn scale_down() -> Recommendation {
        let mut r = sample("web", 9);
        r.kind = RecommendationType::ScaleDown;
        r.priority = Priority::Medium;
        r.id = "down-9".into();
        r
    }

    /// A SCALE_UP of web applied `hours_ago`, COMPLETED.
    fn applied_up(hours_ago: i64) -> Recommendation {
        let mut r = sample("web", 7);
        r.status = Status::Completed;
        r.execution = Some(Execution {
            previous_capacity: 4,
            new_capacity: 5,
            applied_at: rfc3339(now() - Duration::hours(hours_ago)),
            activity_id: None,
            target_capacity: None,
            ..Execution::default()
        });
        r
    }

    #[test]
    fn a_reversal_within_the_churn_window_is_held_back_unless_high() {
        let held = run(vec![scale_down()], &[applied_up(2)]);
        assert!(held.kept.is_empty());
        assert_eq!(held.suppressed[0].suppression, Suppression::AntiChurn);
        assert!(
            held.suppressed[0]
                .reason
                .contains("within the 6 h churn window")
        );
        // 7 h ago is outside the 6 h window; a ROLLED_BACK action was undone anyway.
        assert_eq!(run(vec![scale_down()], &[applied_up(7)]).kept.len(), 1);
        let mut undone = applied_up(2);
        undone.status = Status::RolledBack;
        assert_eq!(run(vec![scale_down()], &[undone]).kept.len(), 1);
        let mut urgent = scale_down();
        urgent.priority = Priority::High;
        assert_eq!(run(vec![urgent], &[applied_up(2)]).kept.len(), 1);
    }

    #[test]
    fn an_excluded_group_and_a_snoozed_finding_are_held_back() {
        let exclusions =
            HashMap::from([("web".to_owned(), Exclusions::of_tag(Some("SCALE_DOWN")))]);
        let out = screen(
            vec![scale_down(), sample("web", 9)],
            &exclusions,
            &[],
            &rules(),
            now(),
        );
        assert_eq!(out.kept.len(), 1);
        assert_eq!(out.suppressed[0].suppression, Suppression::Excluded);

        let mut snoozed = scale_down();
        snoozed.id = "down-3".into();
        snoozed.status = Status::Snoozed;
        snoozed.snooze = Some(Snooze {
            until: rfc3339(now() + Duration::days(7)),
            previous_status: Status::AwaitingApproval,
        });
        let out = run(vec![scale_down()], std::slice::from_ref(&snoozed));
        assert_eq!(out.suppressed[0].suppression, Suppression::Snoozed);
        assert_eq!(
            out.suppressed[0].reason,
            "down-3 is snoozed until 2026-11-30T10:05:00Z"
        );
        // Once the snooze has ended (the sweep has not woken it yet), the finding is back.
        snoozed.snooze.as_mut().unwrap().until = rfc3339(now() - Duration::minutes(1));
        assert_eq!(run(vec![scale_down()], &[snoozed]).kept.len(), 1);
    }

    #[test]
    fn cost_findings_below_the_minimum_savings_are_held_back() {
        let finding = |usd: f64, pct: f64| {
            let mut r = sample("web", 9);
            r.source = Source::CostOptimizer;
            r.kind = RecommendationType::CostOptimization;
            r.expected_impact.monthly_savings_usd = Some(usd);
            r.expected_impact.cost_savings = Some(pct);
            r
        };
        // Minimums: 5 USD and 5 %.
        let out = run(vec![finding(4.99, 30.0)], &[]);
        assert_eq!(
            out.suppressed[0].suppression,
            Suppression::BelowMinimumSavings
        );
        assert_eq!(
            out.suppressed[0].reason,
            "saves 4.99 USD/month (30.0 %); the minimum is 5.00 USD and 5 %"
        );
        assert_eq!(run(vec![finding(100.0, 4.9)], &[]).suppressed.len(), 1);
        assert_eq!(run(vec![finding(5.0, 5.0)], &[]).kept.len(), 1);
    }

    #[test]
    fn a_scale_up_counts_the_consecutive_analyses_that_found_it() {
        let mut previous = sample("web", 8);
        previous.persistence = Some(Persistence {
            consecutive_analyses: 2,
            required: 2,
        });
        let out = run(vec![sample("web", 9)], &[previous.clone()]);
        // The open request is refreshed with the count.
        let p = out.current().next().unwrap().persistence.unwrap();
        assert_eq!(out.refreshed[0].current.id, previous.id);
        // 08:00-09:00 then 09:00-10:00: consecutive, 2 + 1. HIGH needs 1.
        assert_eq!((p.consecutive_analyses, p.required), (3, 1));
        // Three hours apart: the need went away in between; the count starts again.
        let old = sample("web", 6);
        assert_eq!(
            run(vec![sample("web", 9)], &[old])
                .current()
                .next()
                .unwrap()
                .persistence
                .unwrap()
                .consecutive_analyses,
            1
        );
        // Another group's finding does not count.
        assert_eq!(
            run(vec![sample("api", 9)], &[previous])
                .current()
                .next()
                .unwrap()
                .persistence
                .unwrap()
                .consecutive_analyses,
            1
        );
    }

    /// web's SCALE_DOWN to `to` for the window ending at `hour`:00 + 1 h.
    fn down_to(hour: u32, to: u32) -> Recommendation {
        let mut r = sample("web", hour);
        r.kind = RecommendationType::ScaleDown;
        r.priority = Priority::Medium;
        r.implementation.action = Some(fleetopt_model::Action::SetDesiredCapacity { from: 4, to });
        r.id = fleetopt_model::recommendation_id(r.source, None, "web", r.kind, &r.analysis_window);
        r
    }

    #[test]
    fn a_finding_seen_again_refreshes_the_open_request_instead_of_adding_one() {
        let mut asked = down_to(7, 2);
        asked.status = Status::AwaitingApproval;
        let out = run(vec![down_to(8, 2)], std::slice::from_ref(&asked));
        assert!(out.kept.is_empty() && out.replaced.is_empty());
        let refresh = &out.refreshed[0];
        assert_eq!(refresh.current, asked);
        assert_eq!(refresh.next.id, asked.id);
        assert_eq!(refresh.next.status, Status::AwaitingApproval);
        assert_eq!(refresh.next.analysis_window, down_to(8, 2).analysis_window);
        assert_eq!(refresh.next.seen(), 2);
        // A retried run of the same window refreshes nothing twice.
        let retried = run(vec![down_to(8, 2)], std::slice::from_ref(&refresh.next));
        assert!(retried.refreshed.is_empty() && retried.kept.is_empty());
    }

    #[test]
    fn another_target_replaces_the_open_request_and_names_it() {
        let mut approved = down_to(7, 2);
        approved.status = Status::Approved;
        let out = run(vec![down_to(8, 3)], std::slice::from_ref(&approved));
        assert_eq!(out.kept.len(), 1);
        assert_eq!(out.kept[0].replaces.as_deref(), Some(approved.id.as_str()));
        assert_eq!(out.replaced[0].old.id, approved.id);
        assert_eq!(out.replaced[0].by, out.kept[0].id);
        // Closed requests are history, not open ones.
        let mut done = down_to(7, 2);
        done.status = Status::Completed;
        let out = run(vec![down_to(8, 2)], &[done]);
        assert_eq!((out.kept.len(), out.refreshed.len()), (1, 0));
    }

    #[test]
    fn two_open_requests_left_by_an_older_version_become_one() {
        let mut older = down_to(5, 2);
        older.status = Status::AwaitingApproval;
        let mut newer = down_to(6, 2);
        newer.status = Status::AwaitingApproval;
        let out = run(vec![down_to(8, 2)], &[older.clone(), newer.clone()]);
        assert_eq!(out.refreshed[0].current.id, newer.id);
        assert_eq!(out.replaced.len(), 1);
        assert_eq!(
            (out.replaced[0].old.id.as_str(), out.replaced[0].by.as_str()),
            (older.id.as_str(), newer.id.as_str())
        );
    }

    proptest::proptest! {
        /// No sequence of hourly findings (targets changing or not), approvals and engine moves
        /// leaves two open requests for one group and type.
        #[test]
        fn never_two_open_requests_for_one_group_and_type(
            steps in proptest::collection::vec((1u32..4, 0u8..4), 1..12)
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(async {
                let store = fleetopt_ports::fakes::InMemoryStore::new();
                for (hour, (to, move_)) in (1u32..).zip(steps) {
                    let at = fleetopt_model::AnalysisWindow {
                        start: now() + Duration::hours(i64::from(hour)),
                        end: now() + Duration::hours(i64::from(hour) + 1),
                    }.end;
                    let mut fresh = down_to(hour % 20, to);
                    fresh.analysis_window.end = at;
                    fresh.analysis_window.start = at - Duration::hours(1);
                    fresh.timestamp = rfc3339(at);
                    fresh.id = fleetopt_model::recommendation_id(fresh.source, None, "web", fresh.kind, &fresh.analysis_window);
                    let earlier = history(&store, std::slice::from_ref(&fresh), &rules(), at).await.unwrap();
                    let out = screen(vec![fresh], &HashMap::new(), &earlier, &rules(), at);
                    let recorded = record(&store, &out, at, "analyzer", 4).await;
                    assert!(recorded.failures.is_empty());
                    // The engine and people move whatever is open.
                    let q = RecommendationQuery::default();
                    for r in store.query(&q).await.unwrap() {
                        let to = match (r.status, move_) {
                            (Status::Pending, 1..) => Status::AwaitingApproval,
                            (Status::AwaitingApproval, 2) => Status::Approved,
                            (Status::AwaitingApproval, 3) => Status::Rejected,
                            (Status::Approved, 3) => Status::Expired,
                            _ => continue,
                        };
                        store.transition(&r, &Transition::new(to, at, "someone")).await.unwrap();
                    }
                    let open = store.query(&q).await.unwrap().iter().filter(|r| r.status.is_open()).count();
                    assert!(open <= 1, "{open} open requests after hour {hour}");
                }
            });
        }
    }

    #[tokio::test]
    async fn history_reads_recent_items_of_both_directions_and_every_snoozed_one() {
        use fleetopt_ports::RecommendationStore;
        let store = fleetopt_ports::fakes::InMemoryStore::new();
        let recent_up = sample("web", 8);
        let mut old_up = sample("web", 1);
        old_up.status = Status::Completed;
        let mut old_snoozed = sample("api", 1);
        old_snoozed.status = Status::Snoozed;
        let mut recent_down = scale_down();
        recent_down.id = "down-8".into();
        for r in [&recent_up, &old_up, &old_snoozed, &recent_down] {
            store.put_new(r).await.unwrap();
        }
        let at = now() + Duration::days(2);
        let found = history(&store, &[sample("web", 9)], &rules(), at)
            .await
            .unwrap();
        let mut ids: Vec<&str> = found.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        // Two days later, only the SNOOZED item and the open request of the type found (not
        // the opposite direction's) are still read.
        let mut want = [old_snoozed.id.as_str(), recent_up.id.as_str()];
        want.sort_unstable();
        assert_eq!(ids, want);
        let found = history(&store, &[sample("web", 9)], &rules(), now())
            .await
            .unwrap();
        assert_eq!(found.len(), 4, "{found:?}");
    }
}
