//! `fleetopt scaling`: each targeted Auto Scaling group as it stands (size, health, last scaling
//! activity) beside its open recommendations, and why the engine holds one back.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use fleetopt_aws::{AwsFleetDirectory, Clients, DynamoRecommendationStore};
use fleetopt_config::default_table_name;
use fleetopt_model::{Priority, Recommendation, RecommendationType, Status, rfc3339};
use fleetopt_ports::{
    FleetControl, FleetDirectory, Found, GroupInfo, GroupSelector, RecommendationQuery,
    RecommendationStore, ScalingActivity, ScheduledAction, newest_first,
};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::cli::{Global, Output, ScalingArgs};
use crate::terminal::printable;

/// The statuses of a recommendation that is still to be acted on or being acted on.
const OPEN: [Status; 4] = [
    Status::Pending,
    Status::AwaitingApproval,
    Status::Approved,
    Status::InProgress,
];

/// DescribeScalingActivities calls in flight at once.
const ACTIVITY_READS_IN_FLIGHT: usize = 8;

/// The JSON document `scaling --output json` prints (stable keys).
#[derive(Debug, Serialize)]
struct ScalingReport {
    groups: Vec<GroupReport>,
}

/// One group.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupReport {
    auto_scaling_group_name: String,
    min_size: u32,
    desired_capacity: u32,
    max_size: u32,
    in_service: u32,
    healthy: u32,
    last_activity: Option<ActivityReport>,
    open_recommendations: Vec<OpenRecommendation>,
    /// The newest measured outcome of a capacity change completed in the last 7 days.
    last_outcome: Option<OutcomeReport>,
    /// The scheduled actions fleet-optimizer put on it (an applied SCHEDULED_SCALING).
    scheduled_actions: Vec<ScheduledActionReport>,
}

/// One of fleet-optimizer's scheduled actions on a group.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ScheduledActionReport {
    name: String,
    recurrence: Option<String>,
    min_size: Option<u32>,
    desired_capacity: Option<u32>,
    max_size: Option<u32>,
    end_time: Option<String>,
}

/// What a completed change did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OutcomeReport {
    recommendation_id: String,
    #[serde(rename = "type")]
    kind: RecommendationType,
    verdict: &'static str,
    score_before: f64,
    score_after: f64,
    cpu_before: Option<f64>,
    cpu_after: Option<f64>,
}

/// A group's last scaling activity.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivityReport {
    id: String,
    /// The Auto Scaling status code it was reduced to: InProgress, Successful, Failed, Cancelled.
    status: &'static str,
    start_time: String,
    end_time: Option<String>,
    description: String,
}

/// An open recommendation for a group.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OpenRecommendation {
    id: String,
    #[serde(rename = "type")]
    kind: RecommendationType,
    status: Status,
    priority: Priority,
    /// Why the engine last held it back (its `lastCheck.reason`).
    waiting_reason: Option<String>,
}

/// Runs `fleetopt scaling`.
pub async fn run(global: &Global, args: &ScalingArgs) -> Result<()> {
    let table = args
        .table
        .clone()
        .unwrap_or_else(|| default_table_name(&global.application, global.environment));
    let progress =
        crate::terminal::Progress::steps(global, 1, "reading the groups and their recommendations");
    let config = global.sdk_config().await;
    let clients = Clients::new(&config);
    let fleet = clients.fleet();
    let selector = if args.groups.is_empty() {
        GroupSelector::Tag {
            key: args.tag.0.clone(),
            value: args.tag.1.clone(),
        }
    } else {
        GroupSelector::Names(args.groups.clone())
    };
    let groups = fleet
        .groups(&selector)
        .await
        .context("reading the Auto Scaling groups")?;
    if let Some(message) = missing(&args.groups, &groups) {
        bail!(message);
    }
    let store = clients.store(&table);
    let names = fleetopt_scoring::scheduled_action_names();
    let (activities, open, scheduled) = tokio::join!(
        last_activities(&fleet, &groups),
        open_recommendations(&store),
        fleet.scheduled_actions(&names)
    );
    let activities = activities?;
    let scheduled = scheduled.context("reading the groups' scheduled actions")?;
    let (open, skipped) =
        open.with_context(|| format!("reading open recommendations from table {table}"))?;
    crate::terminal::warn_skipped(&skipped);
    let report = report(groups, activities, open, &scheduled);
    drop(progress);
    match global.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Table => print!("{}", render(&report, &selector, &table)),
    }
    Ok(())
}

/// The named groups the directory did not find, as an error message.
fn missing(asked: &[String], found: &[GroupInfo]) -> Option<String> {
    let missing: Vec<&str> = asked
        .iter()
        .filter(|name| !found.iter().any(|g| &g.name == *name))
        .map(String::as_str)
        .collect();
    match missing.as_slice() {
        [] => None,
        [one] => Some(format!("Auto Scaling group {one} not found")),
        many => Some(format!("Auto Scaling groups {} not found", many.join(", "))),
    }
}

/// Each group's last scaling activity, in the order of `groups`, a few reads at a time.
async fn last_activities(
    fleet: &AwsFleetDirectory,
    groups: &[GroupInfo],
) -> Result<Vec<Option<ScalingActivity>>> {
    let mut activities = vec![None; groups.len()];
    let mut waiting = groups.iter().enumerate();
    let mut reads = JoinSet::new();
    loop {
        while reads.len() < ACTIVITY_READS_IN_FLIGHT {
            let Some((i, g)) = waiting.next() else {
                break;
            };
            let (fleet, name) = (fleet.clone(), g.name.clone());
            reads.spawn(async move {
                let activity = fleet.last_activity(&name).await;
                (i, name, activity)
            });
        }
        let Some(read) = reads.join_next().await else {
            break;
        };
        let (i, name, activity) = read.context("reading a last scaling activity")?;
        activities[i] =
            activity.with_context(|| format!("reading the last scaling activity of {name}"))?;
    }
    Ok(activities)
}

/// Every open recommendation, by group, newest first, and the capacity changes completed in
/// the last 7 days (for their outcomes): one GSI query per open status (each reads
/// `TypeIndex` once per type) and one per scale type, never a scan. Also what was skipped.
async fn open_recommendations(
    store: &DynamoRecommendationStore,
) -> Result<(BTreeMap<String, Vec<Recommendation>>, Found), fleetopt_ports::StoreError> {
    let [a, b, c, d] = OPEN.map(|status| RecommendationQuery {
        status: Some(status),
        ..RecommendationQuery::default()
    });
    let since = Some(rfc3339(chrono::Utc::now() - chrono::Duration::days(7)));
    let [e, f] = [RecommendationType::ScaleUp, RecommendationType::ScaleDown].map(|kind| {
        RecommendationQuery {
            kind: Some(kind),
            status: Some(Status::Completed),
            since: since.clone(),
            ..RecommendationQuery::default()
        }
    });
    let found = tokio::try_join!(
        store.query(&a),
        store.query(&b),
        store.query(&c),
        store.query(&d),
        store.query(&e),
        store.query(&f)
    )?;
    let mut all = Found::default();
    for part in [found.0, found.1, found.2, found.3, found.4, found.5] {
        all.extend(part);
    }
    let skipped = Found {
        items: Vec::new(),
        skipped: std::mem::take(&mut all.skipped),
    };
    let mut by_group: BTreeMap<String, Vec<Recommendation>> = BTreeMap::new();
    for r in all {
        by_group
            .entry(r.auto_scaling_group_name.clone())
            .or_default()
            .push(r);
    }
    for list in by_group.values_mut() {
        list.sort_by(newest_first);
    }
    Ok((by_group, skipped))
}

/// The report, one entry per group in the directory's order (by name).
fn report(
    groups: Vec<GroupInfo>,
    activities: Vec<Option<ScalingActivity>>,
    mut open: BTreeMap<String, Vec<Recommendation>>,
    scheduled: &[ScheduledAction],
) -> ScalingReport {
    let groups = groups
        .into_iter()
        .zip(activities)
        .map(|(g, activity)| {
            let mine = open.remove(&g.name).unwrap_or_default();
            let last_outcome = mine
                .iter()
                .filter(|r| r.status == Status::Completed)
                .find_map(|r| {
                    let o = r.outcome.as_ref()?;
                    Some(OutcomeReport {
                        recommendation_id: r.id.clone(),
                        kind: r.kind,
                        verdict: o.verdict.as_str(),
                        score_before: o.score_before,
                        score_after: o.score_after,
                        cpu_before: o.cpu_before,
                        cpu_after: o.cpu_after,
                    })
                });
            GroupReport {
                scheduled_actions: scheduled
                    .iter()
                    .filter(|a| a.group == g.name)
                    .map(|a| ScheduledActionReport {
                        name: a.name.clone(),
                        recurrence: a.recurrence.clone(),
                        min_size: a.min_size,
                        desired_capacity: a.desired_capacity,
                        max_size: a.max_size,
                        end_time: a.end_time.map(rfc3339),
                    })
                    .collect(),
                last_outcome,
                open_recommendations: mine
                    .into_iter()
                    .filter(|r| r.status != Status::Completed)
                    .map(|r| OpenRecommendation {
                        waiting_reason: r.last_check.map(|c| c.reason),
                        id: r.id,
                        kind: r.kind,
                        status: r.status,
                        priority: r.priority,
                    })
                    .collect(),
                last_activity: activity.map(|a| ActivityReport {
                    id: a.id,
                    status: a.status.as_str(),
                    start_time: rfc3339(a.start),
                    end_time: a.end.map(rfc3339),
                    description: a.description,
                }),
                auto_scaling_group_name: g.name,
                min_size: g.min_size,
                desired_capacity: g.desired,
                max_size: g.max_size,
                in_service: g.in_service,
                healthy: g.healthy,
            }
        })
        .collect();
    ScalingReport { groups }
}

fn describe(selector: &GroupSelector) -> String {
    match selector {
        GroupSelector::Names(_) => String::new(),
        GroupSelector::Tag { key, value } => format!(" tagged {key}={value}"),
    }
}

fn activity_cell(activity: Option<&ActivityReport>) -> String {
    let Some(a) = activity else {
        return "none".to_owned();
    };
    let when = match &a.end_time {
        Some(end) => format!("ended {end}"),
        None => format!("since {}", a.start_time),
    };
    if a.description.is_empty() {
        format!("{} {when}", a.status)
    } else {
        format!("{} {when}\n{}", a.status, printable(&a.description))
    }
}

/// The schedule in force, under the activity: "schedule: fleetopt-quiet 0 11 * * * -> 2, ...".
fn schedule_line(actions: &[ScheduledActionReport]) -> String {
    if actions.is_empty() {
        return String::new();
    }
    let each: Vec<String> = actions
        .iter()
        .map(|a| {
            format!(
                "{} {} -> {}",
                a.name,
                a.recurrence.as_deref().unwrap_or("once"),
                a.desired_capacity
                    .map_or_else(|| "-".to_owned(), |d| d.to_string())
            )
        })
        .collect();
    format!("\nschedule: {}", printable(&each.join(", ")))
}

/// The last measured outcome, under the activity: "outcome IMPROVED: score 61 -> 74".
fn outcome_line(outcome: Option<&OutcomeReport>) -> String {
    outcome.map_or_else(String::new, |o| {
        format!(
            "\noutcome {}: score {:.0} -> {:.0}",
            o.verdict, o.score_before, o.score_after
        )
    })
}

fn open_cell(open: &[OpenRecommendation]) -> String {
    if open.is_empty() {
        return "none".to_owned();
    }
    let mut cell = format!("{} open", open.len());
    for r in open {
        cell.push_str(&format!("\n{} {}", r.kind, r.status));
    }
    if let Some(reason) = open.iter().find_map(|r| r.waiting_reason.as_deref()) {
        cell.push_str(&format!("\nwaiting: {}", printable(reason)));
    }
    cell
}

fn render(report: &ScalingReport, selector: &GroupSelector, table_name: &str) -> String {
    if report.groups.is_empty() {
        return format!("No Auto Scaling groups{}.\n", describe(selector));
    }
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header([
            "Group",
            "Min",
            "Desired",
            "Max",
            "In service",
            "Healthy",
            "Last scaling activity",
            "Open recommendations",
        ]);
    if table.width().is_none() {
        // Not a terminal: wrap at a width that reads well in logs and pagers.
        table.set_width(140);
    }
    for g in &report.groups {
        let number = |n: u32| Cell::new(n).set_alignment(CellAlignment::Right);
        table.add_row([
            Cell::new(&g.auto_scaling_group_name),
            number(g.min_size),
            number(g.desired_capacity),
            number(g.max_size),
            number(g.in_service),
            number(g.healthy),
            Cell::new(format!(
                "{}{}{}",
                activity_cell(g.last_activity.as_ref()),
                outcome_line(g.last_outcome.as_ref()),
                schedule_line(&g.scheduled_actions)
            )),
            Cell::new(open_cell(&g.open_recommendations)),
        ]);
    }
    format!(
        "{} Auto Scaling group(s){}; open recommendations from {table_name}\n{table}\n",
        report.groups.len(),
        describe(selector)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chrono::{TimeZone, Utc};
    use fleetopt_model::Check;
    use fleetopt_ports::ActivityStatus;
    use fleetopt_ports::Transition;
    use fleetopt_ports::fakes::contract::{now, sample};
    use serde_json::json;

    fn group(name: &str) -> GroupInfo {
        GroupInfo {
            name: name.to_owned(),
            min_size: 2,
            max_size: 10,
            desired: 4,
            in_service: 4,
            healthy: 3,
            default_cooldown_seconds: 300,
            health_check_grace_period_seconds: 300,
            instance_type: Some("m5.large".into()),
            availability_zones: vec!["us-east-1a".into()],
            target_groups: vec![],
            exclusions: Default::default(),
        }
    }

    fn waiting(group: &str, hour: u32) -> Recommendation {
        let mut r = sample(group, hour);
        r.last_check = Some(Check {
            at: "2026-11-23T10:00:00Z".into(),
            by: "optimization-engine".into(),
            reason: "cooldown until 2026-11-23T10:05:00Z".into(),
        });
        r
    }

    fn activity() -> ScalingActivity {
        ScalingActivity {
            id: "a-1".into(),
            status: ActivityStatus::Successful,
            start: Utc.with_ymd_and_hms(2026, 11, 23, 9, 58, 0).unwrap(),
            end: Some(Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()),
            description: "Launching a new EC2 instance: i-0abc".into(),
        }
    }

    #[test]
    fn json_has_the_documented_keys_and_each_groups_own_recommendations() {
        let approved = Transition::new(Status::AwaitingApproval, now(), "analyzer")
            .apply_to(&sample("api", 8))
            .unwrap();
        let open = BTreeMap::from([
            ("web".to_owned(), vec![waiting("web", 7)]),
            ("api".to_owned(), vec![approved.clone()]),
            ("gone".to_owned(), vec![sample("gone", 7)]),
        ]);
        let report = report(
            vec![group("api"), group("web")],
            vec![None, Some(activity())],
            open,
            &[],
        );
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(
            v["groups"][0],
            json!({
                "autoScalingGroupName": "api", "minSize": 2, "desiredCapacity": 4, "maxSize": 10,
                "inService": 4, "healthy": 3, "lastActivity": null,
                "openRecommendations": [{
                    "id": approved.id, "type": "SCALE_UP", "status": "AWAITING_APPROVAL",
                    "priority": approved.priority.as_str(), "waitingReason": null,
                }],
                "lastOutcome": null, "scheduledActions": [],
            })
        );
        assert_eq!(
            v["groups"][1]["lastActivity"],
            json!({
                "id": "a-1", "status": "Successful", "startTime": "2026-11-23T09:58:00Z",
                "endTime": "2026-11-23T10:00:00Z",
                "description": "Launching a new EC2 instance: i-0abc",
            })
        );
        assert_eq!(
            v["groups"][1]["openRecommendations"][0]["waitingReason"],
            "cooldown until 2026-11-23T10:05:00Z"
        );
        // A completed change with its outcome is the group's last outcome, not an open one.
        let mut done = sample("web", 5);
        done.status = Status::Completed;
        done.outcome = Some(fleetopt_model::ChangeOutcome {
            score_before: 61.0,
            score_after: 74.0,
            cpu_before: Some(85.0),
            cpu_after: Some(66.0),
            verdict: fleetopt_model::OutcomeVerdict::Improved,
            measured_at: "2026-11-23T07:05:00Z".into(),
        });
        let with_outcome = super::report(
            vec![group("web")],
            vec![None],
            BTreeMap::from([("web".to_owned(), vec![done.clone()])]),
            &[],
        );
        let w = serde_json::to_value(&with_outcome).unwrap();
        assert_eq!(w["groups"][0]["openRecommendations"], json!([]));
        assert_eq!(w["groups"][0]["lastOutcome"]["verdict"], "IMPROVED");
        assert_eq!(
            w["groups"][0]["lastOutcome"]["recommendationId"],
            done.id.as_str()
        );
        assert!(
            outcome_line(with_outcome.groups[0].last_outcome.as_ref())
                .contains("outcome IMPROVED: score 61 -> 74")
        );
        assert_eq!(v["groups"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn the_table_shows_size_activity_and_why_a_recommendation_waits() {
        let open = BTreeMap::from([("web".to_owned(), vec![waiting("web", 8), sample("web", 7)])]);
        // web runs a schedule; api's actions are its own, and another group's never show.
        let action = |group: &str, name: &str, cron: &str, desired| ScheduledAction {
            group: group.into(),
            name: name.into(),
            recurrence: Some(cron.into()),
            min_size: Some(2),
            max_size: Some(10),
            desired_capacity: Some(desired),
            end_time: None,
        };
        let report = report(
            vec![group("api"), group("web")],
            vec![None, Some(activity())],
            open,
            &[
                action("web", "fleetopt-quiet", "0 20 * * *", 2),
                action("web", "fleetopt-busy", "0 7 * * *", 4),
                action("other", "fleetopt-quiet", "0 1 * * *", 1),
            ],
        );
        assert_eq!(report.groups[0].scheduled_actions.len(), 0);
        assert_eq!(report.groups[1].scheduled_actions.len(), 2);
        assert_eq!(
            schedule_line(&report.groups[1].scheduled_actions),
            "\nschedule: fleetopt-quiet 0 20 * * * -> 2, fleetopt-busy 0 7 * * * -> 4"
        );
        let selector = GroupSelector::Tag {
            key: "fleet-optimizer:enabled".into(),
            value: "true".into(),
        };
        let text = render(&report, &selector, "t");
        assert!(
            text.starts_with(
                "2 Auto Scaling group(s) tagged fleet-optimizer:enabled=true; open \
                 recommendations from t\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("Successful ended 2026-11-23T10:00:00Z"),
            "{text}"
        );
        assert!(text.contains("2 open"), "{text}");
        assert_eq!(text.matches("SCALE_UP PENDING").count(), 2, "{text}");
        // The cell wraps at the table's width; the reason's start is on the "waiting" line.
        assert!(text.contains("waiting: cooldown until"), "{text}");
        assert!(text.contains("none"), "{text}");
    }

    #[test]
    fn an_activity_in_progress_shows_when_it_started() {
        let a = ActivityReport {
            id: "a-2".into(),
            status: "InProgress",
            start_time: "2026-11-23T10:01:00Z".into(),
            end_time: None,
            description: String::new(),
        };
        assert_eq!(
            activity_cell(Some(&a)),
            "InProgress since 2026-11-23T10:01:00Z"
        );
        assert_eq!(activity_cell(None), "none");
    }

    #[test]
    fn no_group_found_by_tag_says_which_tag() {
        let selector = GroupSelector::Tag {
            key: "team".into(),
            value: "checkout".into(),
        };
        let empty = ScalingReport { groups: vec![] };
        assert_eq!(
            render(&empty, &selector, "t"),
            "No Auto Scaling groups tagged team=checkout.\n"
        );
    }

    #[test]
    fn named_groups_that_do_not_exist_are_named() {
        let asked = ["web".to_owned(), "nope".to_owned(), "gone".to_owned()];
        assert_eq!(missing(&asked[..1], &[group("web")]), None);
        assert_eq!(
            missing(&asked[..2], &[group("web")]).unwrap(),
            "Auto Scaling group nope not found"
        );
        assert_eq!(
            missing(&asked, &[group("web")]).unwrap(),
            "Auto Scaling groups nope, gone not found"
        );
    }
}
