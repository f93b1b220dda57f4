//! One analysis run: discover the groups, read their metrics in batches, score them, keep one
//! open request per finding (new ones written, open ones refreshed or replaced, all
//! conditionally; automated scale changes signed), publish our metrics and alert.
//! Generic over the ports, so tests run it on fakes and on the emulator alike.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use fleetopt_config::Config;
use fleetopt_model::{AnalysisWindow, Origin, Recommendation, Shard, Source, recommendation_id};
use fleetopt_policy::screen::{Recorded, Rules, Screened, Suppressed, record, screen_new};
use fleetopt_ports::{
    FleetDirectory, GroupInfo, Members, MetricDatum, MetricsPublisher, MetricsSource, Notifier,
    Reach, RecommendationStore, ServiceError, Signer, StoreError, attest_all, placed_in,
};
use fleetopt_scoring::{Assessment, Part, Priority, analyze_with};
use serde::Serialize;

use crate::event::{EventError, Trigger};
use fleetopt_snapshot::{Windows, assessment_queries, snapshot, trend_queries};

/// How many table writes run at once.
const WRITE_CONCURRENCY: usize = 16;
/// Who the analyzer is in status histories.
const ACTOR: &str = "analyzer";

/// The capabilities an analysis needs.
#[derive(Debug, Clone)]
pub struct Deps<F, M, N, S, K, R> {
    /// The Auto Scaling groups.
    pub fleet: F,
    /// CloudWatch, read and published.
    pub metrics: M,
    /// SNS.
    pub notifier: N,
    /// The recommendations table.
    pub store: S,
    /// The findings key, to sign the automated scale changes it writes.
    pub signer: K,
    /// Other accounts and regions: a shard's groups and metrics, through the member role.
    pub members: R,
}

/// What happened to one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GroupStatus {
    /// Scored; recommendations written.
    Scored,
    /// Not enough data to score: no score, no recommendation.
    InsufficientData,
    /// Something failed for this group; the others went on.
    Error,
}

/// One group in the response (docs/responses.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupOutcome {
    /// The group.
    pub auto_scaling_group_name: String,
    /// What happened.
    pub status: GroupStatus,
    /// 0-100, when scored.
    pub performance_score: Option<f64>,
    /// 0-100, when scored.
    pub efficiency_rating: Option<f64>,
    /// Parts of the score without data.
    pub missing: Vec<Part>,
    /// The recommendations for this window (written now, or already there).
    pub recommendation_ids: Vec<String>,
    /// Why there is no score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Findings the backtest held back, each with its type and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<Withheld>,
}

/// A finding the backtest held back: it would have saturated more hours than allowed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Withheld {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: fleetopt_model::RecommendationType,
    /// Why.
    pub reason: String,
}

impl GroupOutcome {
    fn failed(name: &str, error: String) -> Self {
        GroupOutcome {
            auto_scaling_group_name: name.to_owned(),
            status: GroupStatus::Error,
            performance_score: None,
            efficiency_rating: None,
            missing: Vec::new(),
            recommendation_ids: Vec::new(),
            reason: None,
            error: Some(error),
            withheld: Vec::new(),
        }
    }
}

/// The analyzer's response (docs/responses.md).
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
    /// One entry per group analyzed or asked for.
    pub groups: Vec<GroupOutcome>,
    /// New items written.
    pub recommendations_written: usize,
    /// Open requests found again and refreshed in place (no new item, no new message).
    pub recommendations_refreshed: usize,
    /// Open requests a materially different one replaced, marked SUPERSEDED.
    pub recommendations_superseded: usize,
    /// New findings the operator's controls held back (exclusion tag, snooze, anti-churn).
    pub recommendations_suppressed: usize,
    /// Each of them, with the rule and the figures.
    pub suppressed: Vec<Suppressed>,
    /// Items of the table that are not recommendations (another version's, or written by
    /// hand), skipped by the history read and logged with their keys: their ids.
    pub items_skipped: Vec<String>,
    /// AWS calls made, per API.
    pub aws_calls: BTreeMap<String, u64>,
}

impl Response {
    /// A response for an event that asks for nothing.
    pub fn skipped(config: &Config, reason: String) -> Self {
        Response {
            environment: config.environment.as_str().to_owned(),
            dry_run: config.dry_run,
            skipped: Some(reason),
            groups: Vec::new(),
            recommendations_written: 0,
            recommendations_refreshed: 0,
            recommendations_superseded: 0,
            recommendations_suppressed: 0,
            suppressed: Vec::new(),
            items_skipped: Vec::new(),
            aws_calls: BTreeMap::new(),
        }
    }
}

/// Why an invocation could not do its job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyzerError {
    /// The event is not one the analyzer accepts.
    #[error(transparent)]
    InvalidEvent(#[from] EventError),
    /// The shard's account could not be reached (the member role).
    #[error("reaching {shard} through the member role: {error}")]
    Member {
        /// The account and region asked for.
        shard: Shard,
        /// What failed.
        error: ServiceError,
    },
    /// The groups could not be listed.
    #[error("discovering the Auto Scaling groups: {0}")]
    Discovery(ServiceError),
    /// The metrics could not be read.
    #[error("reading metrics: {0}")]
    Metrics(ServiceError),
    /// Our metrics could not be published.
    #[error("publishing FleetOptimizer metrics: {0}")]
    Publish(ServiceError),
    /// The alert could not be sent.
    #[error("sending the performance alert: {0}")]
    Notify(ServiceError),
    /// Earlier recommendations (for the operator's controls) could not be read.
    #[error("reading earlier recommendations for the operator's controls: {0}")]
    History(StoreError),
}

impl AnalyzerError {
    /// The fixed error type the Lambda runtime reports.
    pub fn error_type(&self) -> &'static str {
        let service = match self {
            AnalyzerError::InvalidEvent(_) => return "InvalidEvent",
            AnalyzerError::Member { error: e, .. }
            | AnalyzerError::Discovery(e)
            | AnalyzerError::Metrics(e)
            | AnalyzerError::Publish(e)
            | AnalyzerError::Notify(e) => e,
            AnalyzerError::History(StoreError::Throttled { .. }) => return "Throttled",
            AnalyzerError::History(_) => return "StoreError",
        };
        if service.is_throttling() {
            "Throttled"
        } else {
            "AwsServiceError"
        }
    }
}

/// Runs one analysis for `trigger` at `now`.
pub async fn run<F, M, N, S, K, R>(
    config: &Config,
    deps: &Deps<F, M, N, S, K, R>,
    trigger: &Trigger,
    now: DateTime<Utc>,
) -> Result<Response, AnalyzerError>
where
    F: FleetDirectory + Sync,
    M: MetricsSource + MetricsPublisher + Sync,
    N: Notifier + Sync,
    S: RecommendationStore + Sync,
    K: Signer + Sync,
    R: Members<Reach = Reach<F, M>> + Sync,
{
    let dry_run = config.dry_run || trigger.dry_run();
    if !config.settings.enable_performance_monitoring {
        return Ok(Response::skipped(
            config,
            "performance monitoring is disabled for this environment".to_owned(),
        ));
    }
    // A shard in another account or region is read through its own adapters; what the
    // analyzer writes, sends and publishes stays in its own account.
    let shard = trigger.shard();
    let member = fleetopt_ports::reach(&deps.members, shard)
        .await
        .map_err(|(shard, error)| AnalyzerError::Member { shard, error })?;
    let (fleet, metrics) = member
        .as_ref()
        .map_or((&deps.fleet, &deps.metrics), |m| (&m.fleet, &m.metrics));
    let targeted = fleet
        .groups(&fleetopt_policy::selector(&config.fleet))
        .await
        .map_err(AnalyzerError::Discovery)?;
    let (groups, mut outcomes) = select(targeted, trigger.groups());

    let windows = Windows::ending_before(now, config.settings.analysis_interval_minutes);
    let (assessment, trend) = if groups.is_empty() {
        Default::default()
    } else {
        let (assessment_queries, trend_queries) =
            (assessment_queries(&groups), trend_queries(&groups));
        let (a, t) = futures::join!(
            metrics.read(&windows.assessment, &assessment_queries),
            metrics.read(&windows.trend, &trend_queries),
        );
        (
            a.map_err(AnalyzerError::Metrics)?,
            t.map_err(AnalyzerError::Metrics)?,
        )
    };

    let origin = Origin {
        source: Source::Analyzer,
        shard,
        environment: config.environment.as_str(),
        window: AnalysisWindow {
            start: windows.assessment.start,
            end: windows.assessment.end,
        },
        now,
        automation_enabled: config.settings.enable_auto_scaling_optimization,
    };
    let mut fresh: Vec<Recommendation> = Vec::new();
    for (i, group) in groups.iter().enumerate() {
        let analysis = analyze_with(
            &snapshot(i, group, &windows, &assessment, &trend),
            &config.settings.targets,
            config.right_sizing.max_saturated_percent,
        );
        let recommendations: Vec<Recommendation> = analysis
            .proposals
            .iter()
            .map(|p| Recommendation::from_proposal(p, &group.name, &origin))
            .collect();
        let outcome = match &analysis.assessment {
            Assessment::Scored(s) => GroupOutcome {
                auto_scaling_group_name: group.name.clone(),
                status: GroupStatus::Scored,
                performance_score: Some(s.performance_score),
                efficiency_rating: Some(s.efficiency_rating),
                missing: s.missing.clone(),
                recommendation_ids: recommendations.iter().map(|r| r.id.clone()).collect(),
                reason: None,
                error: None,
                withheld: analysis
                    .withheld
                    .iter()
                    .map(|(kind, reason)| Withheld {
                        kind: *kind,
                        reason: reason.clone(),
                    })
                    .collect(),
            },
            Assessment::InsufficientData { reason } => GroupOutcome {
                auto_scaling_group_name: group.name.clone(),
                status: GroupStatus::InsufficientData,
                performance_score: None,
                efficiency_rating: None,
                missing: Vec::new(),
                recommendation_ids: Vec::new(),
                reason: Some(reason.clone()),
                error: None,
                withheld: Vec::new(),
            },
        };
        tracing::info!(
            group = %group.name,
            status = ?outcome.status,
            score = ?outcome.performance_score,
            recommendations = recommendations.len(),
            "group analyzed"
        );
        outcomes.push(outcome);
        fresh.extend(recommendations);
    }

    // The operator's controls: what the tags, snoozes and recent actions rule out, and how
    // many analyses in a row found each SCALE_UP.
    let rules = Rules {
        controls: config.controls,
        analysis_interval: chrono::Duration::minutes(i64::from(
            config.settings.analysis_interval_minutes,
        )),
    };
    let mut screened = screen_new(&deps.store, fresh, &groups, &rules, now)
        .await
        .map_err(AnalyzerError::History)?;
    for s in &screened.suppressed {
        if let Some(o) = outcomes
            .iter_mut()
            .find(|o| o.auto_scaling_group_name == s.auto_scaling_group_name)
        {
            o.recommendation_ids.retain(|id| *id != s.recommendation_id);
        }
    }
    // A finding that refreshes an open request is that request: report its id. (The
    // refreshed item carries the finding's window, from which the finding's id follows.)
    for refresh in &screened.refreshed {
        let n = &refresh.next;
        let found_as = recommendation_id(
            n.source,
            shard,
            &n.auto_scaling_group_name,
            n.kind,
            &n.analysis_window,
        );
        for o in outcomes
            .iter_mut()
            .filter(|o| o.auto_scaling_group_name == n.auto_scaling_group_name)
        {
            for id in o
                .recommendation_ids
                .iter_mut()
                .filter(|id| **id == found_as)
            {
                refresh.current.id.clone_into(id);
            }
        }
    }

    let mut recorded = Recorded::default();
    if !dry_run {
        sign_automated(&deps.signer, &config.approvals.finding_key, &mut screened).await;
        recorded = record(&deps.store, &screened, now, ACTOR, WRITE_CONCURRENCY).await;
        for (group, (id, error)) in &recorded.failures {
            if let Some(o) = outcomes
                .iter_mut()
                .find(|o| &o.auto_scaling_group_name == group)
            {
                o.status = GroupStatus::Error;
                o.error = Some(format!("writing {id}: {error}"));
            }
        }
        publish(
            config,
            &deps.metrics,
            (&outcomes, &screened.suppressed),
            shard.filter(|_| member.is_some()),
            windows.assessment.end,
        )
        .await?;
        alert(config, &deps.notifier, &screened.kept).await?;
    }
    let Screened {
        suppressed,
        skipped,
        ..
    } = screened;
    outcomes.sort_by(|a, b| a.auto_scaling_group_name.cmp(&b.auto_scaling_group_name));
    Ok(Response {
        environment: config.environment.as_str().to_owned(),
        dry_run,
        skipped: None,
        groups: outcomes,
        recommendations_written: recorded.written,
        recommendations_refreshed: recorded.refreshed,
        recommendations_superseded: recorded.superseded,
        recommendations_suppressed: suppressed.len(),
        suppressed,
        items_skipped: skipped,
        aws_calls: BTreeMap::new(),
    })
}

/// The targeted groups the trigger asks for, and an ERROR outcome for each name asked for that
/// is not among them.
fn select(
    targeted: Vec<GroupInfo>,
    asked: Option<&[String]>,
) -> (Vec<GroupInfo>, Vec<GroupOutcome>) {
    let Some(asked) = asked else {
        return (targeted, Vec::new());
    };
    let wanted: HashSet<&str> = asked.iter().map(String::as_str).collect();
    let found: HashSet<String> = targeted.iter().map(|g| g.name.clone()).collect();
    let missing = asked
        .iter()
        .filter(|name| !found.contains(*name))
        .map(|name| {
            GroupOutcome::failed(
                name,
                format!("{name} is not among the targeted Auto Scaling groups"),
            )
        })
        .collect();
    let groups = targeted
        .into_iter()
        .filter(|g| wanted.contains(g.name.as_str()))
        .collect();
    (groups, missing)
}

/// Signs every automated scale change about to be written or refreshed with the findings key,
/// all in one `kms:Sign` (a Merkle root over them, `attest_all`), so the engine can tell the
/// analyzer's own from anything else in the table. When the signature cannot be made the
/// changes are written as not automated: they then wait for a person instead of being refused.
async fn sign_automated<K: Signer + Sync>(signer: &K, key: &str, screened: &mut Screened) {
    let Screened {
        kept, refreshed, ..
    } = screened;
    let mut items: Vec<&mut Recommendation> = kept
        .iter_mut()
        .chain(refreshed.iter_mut().map(|r| &mut r.next))
        .filter(|r| r.implementation.automated)
        .collect();
    if let Err(e) = attest_all(signer, key, &mut items).await {
        tracing::error!(changes = items.len(), error = %e, "could not sign the automated changes: they will need approval");
        for r in items {
            r.implementation.automated = false;
            r.attestation = None;
        }
    }
}

/// PerformanceScore, EfficiencyRating, OptimizationRecommendations and
/// RecommendationsSuppressed for every group that has a score, in one PutMetricData call (the
/// adapter splits past the API's limit); with `AccountId` and `Region` dimensions for another
/// account's or region's groups (`member`).
async fn publish<M: MetricsPublisher + Sync>(
    config: &Config,
    metrics: &M,
    (outcomes, suppressed): (&[GroupOutcome], &[Suppressed]),
    member: Option<&Shard>,
    at: DateTime<Utc>,
) -> Result<(), AnalyzerError> {
    let scored: Vec<(&String, f64, f64, usize, usize)> = outcomes
        .iter()
        .filter_map(|o| {
            let held = suppressed
                .iter()
                .filter(|s| s.auto_scaling_group_name == o.auto_scaling_group_name)
                .count();
            Some((
                &o.auto_scaling_group_name,
                o.performance_score?,
                o.efficiency_rating?,
                o.recommendation_ids.len(),
                held,
            ))
        })
        .collect();
    if scored.is_empty() {
        return Ok(());
    }
    let environment = config.environment.as_str();
    let mut data: Vec<MetricDatum> = scored
        .into_iter()
        .flat_map(|(group, score, rating, count, held)| {
            let dims = vec![
                ("Environment", environment.to_owned()),
                ("AutoScalingGroupName", group.clone()),
            ];
            [
                ("PerformanceScore", score, "None"),
                ("EfficiencyRating", rating, "None"),
                ("OptimizationRecommendations", count as f64, "Count"),
                ("RecommendationsSuppressed", held as f64, "Count"),
            ]
            .map(|(name, value, unit)| MetricDatum {
                name,
                dimensions: dims.clone(),
                value,
                unit,
                timestamp: at,
            })
        })
        .collect();
    if let Some(shard) = member {
        placed_in(&mut data, shard);
    }
    metrics
        .publish(&config.metrics_namespace, &data)
        .await
        .map_err(AnalyzerError::Publish)
}

/// One message per run summarizing the HIGH-priority recommendations, when the topic is set.
async fn alert<N: Notifier + Sync>(
    config: &Config,
    notifier: &N,
    fresh: &[Recommendation],
) -> Result<(), AnalyzerError> {
    let Some(topic) = &config.topics.performance_alert else {
        return Ok(());
    };
    let high: Vec<&Recommendation> = fresh
        .iter()
        .filter(|r| r.priority == Priority::High)
        .collect();
    if high.is_empty() {
        return Ok(());
    }
    let subject = format!(
        "fleet-optimizer {}: {} HIGH-priority recommendation(s)",
        config.environment,
        high.len()
    );
    let mut message = String::new();
    for r in &high {
        message.push_str(&format!(
            "- [{}] {} ({}): {}\n",
            r.kind.as_str(),
            r.auto_scaling_group_name,
            r.id,
            r.description
        ));
    }
    notifier
        .notify(topic, &subject, &message)
        .await
        .map_err(AnalyzerError::Notify)
}
