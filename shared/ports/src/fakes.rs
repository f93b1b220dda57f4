//! In-memory implementations with the same conditional semantics as the AWS adapters, and the
//! contract suite both must pass.

use std::collections::BTreeMap;
use std::sync::Mutex;

use fleetopt_model::{Check, Execution, Recommendation};

use crate::store::{PutOutcome, RecommendationQuery, RecommendationStore, StoreError, Transition};
use crate::{
    CostResult, CostSource, CostUnavailable, FleetControl, FleetDirectory, GroupInfo,
    GroupSelector, InstanceTypeInfo, MetricDatum, MetricQuery, MetricResults, MetricsPublisher,
    MetricsSource, MonthCost, Notifier, PriceSource, PurchaseRecommendation, ScalingActivity,
    ServiceError, SpotPrice, TimeWindow,
};

/// A recommendations table in memory.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    items: Mutex<BTreeMap<(String, String), Recommendation>>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn items(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), Recommendation>> {
        // A panic while holding the lock leaves plain data behind, still consistent.
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl RecommendationStore for InMemoryStore {
    async fn put_new(&self, recommendation: &Recommendation) -> Result<PutOutcome, StoreError> {
        let key = (recommendation.id.clone(), recommendation.timestamp.clone());
        let mut items = self.items();
        if items.contains_key(&key) {
            return Ok(PutOutcome::AlreadyExists);
        }
        items.insert(key, recommendation.clone());
        Ok(PutOutcome::Written)
    }

    async fn get(&self, id: &str) -> Result<Option<Recommendation>, StoreError> {
        Ok(self
            .items()
            .values()
            .filter(|r| r.id == id)
            .max_by(|a, b| a.timestamp.cmp(&b.timestamp))
            .cloned())
    }

    async fn query(&self, query: &RecommendationQuery) -> Result<Vec<Recommendation>, StoreError> {
        let found: Vec<Recommendation> = self
            .items()
            .values()
            .filter(|r| query.matches(r))
            .cloned()
            .collect();
        Ok(query.finish(found))
    }

    async fn transition(
        &self,
        current: &Recommendation,
        transition: &Transition<'_>,
    ) -> Result<Recommendation, StoreError> {
        let next = transition.apply_to(current)?;
        self.replace_if_unchanged(current, next)
    }

    async fn note(
        &self,
        current: &Recommendation,
        check: &Check,
    ) -> Result<Recommendation, StoreError> {
        let mut next = current.clone();
        next.last_check = Some(check.clone());
        self.replace_if_unchanged(current, next)
    }

    async fn record_execution(
        &self,
        current: &Recommendation,
        execution: &Execution,
    ) -> Result<Recommendation, StoreError> {
        let mut next = current.clone();
        next.execution = Some(execution.clone());
        self.replace_if_unchanged(current, next)
    }
}

impl InMemoryStore {
    /// Stores `next` in place of `current` if the stored status and version are still
    /// `current`'s: DynamoDB's condition expression, in memory.
    fn replace_if_unchanged(
        &self,
        current: &Recommendation,
        next: Recommendation,
    ) -> Result<Recommendation, StoreError> {
        let mut items = self.items();
        let key = (current.id.clone(), current.timestamp.clone());
        let stored = items.get(&key).ok_or_else(|| StoreError::NotFound {
            id: current.id.clone(),
        })?;
        if stored.status != current.status || stored.version != current.version {
            return Err(StoreError::Conflict {
                id: current.id.clone(),
                status: current.status,
                version: current.version,
            });
        }
        items.insert(key, next.clone());
        Ok(next)
    }
}

/// A healthy group `name` for tests: 4 of 2..=10 m5.large instances in us-east-1a, all in
/// service and healthy, 300 s cooldown and grace period, no load balancer, no exclusion tag.
/// Tests change what they need with struct update syntax.
pub fn group(name: &str) -> GroupInfo {
    GroupInfo {
        name: name.into(),
        min_size: 2,
        max_size: 10,
        desired: 4,
        in_service: 4,
        healthy: 4,
        default_cooldown_seconds: 300,
        health_check_grace_period_seconds: 300,
        instance_type: Some("m5.large".into()),
        availability_zones: vec!["us-east-1a".into()],
        target_groups: Vec::new(),
        exclusions: fleetopt_model::Exclusions::None,
    }
}

/// Auto Scaling groups in memory, for the states the emulator cannot show (an activity in
/// progress, a cooldown, unhealthy instances): groups and last activities are set by the
/// test, SetDesiredCapacity calls are recorded and change the group's desired capacity.
#[derive(Debug, Default)]
pub struct FakeFleet {
    state: Mutex<FakeFleetState>,
}

#[derive(Debug, Default)]
struct FakeFleetState {
    groups: BTreeMap<String, GroupInfo>,
    activities: BTreeMap<String, ScalingActivity>,
    calls: Vec<(String, u32, bool)>,
}

impl FakeFleet {
    /// A fleet of these groups, without activities.
    pub fn new(groups: impl IntoIterator<Item = GroupInfo>) -> Self {
        let fleet = Self::default();
        for g in groups {
            fleet.set_group(g);
        }
        fleet
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FakeFleetState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds or replaces a group.
    pub fn set_group(&self, group: GroupInfo) {
        self.state().groups.insert(group.name.clone(), group);
    }

    /// Sets a group's last scaling activity.
    pub fn set_activity(&self, group: &str, activity: ScalingActivity) {
        self.state().activities.insert(group.to_owned(), activity);
    }

    /// A group as it stands.
    pub fn group(&self, name: &str) -> Option<GroupInfo> {
        self.state().groups.get(name).cloned()
    }

    /// Every SetDesiredCapacity call: (group, desired, honor cooldown).
    pub fn calls(&self) -> Vec<(String, u32, bool)> {
        self.state().calls.clone()
    }
}

impl FleetDirectory for FakeFleet {
    async fn groups(&self, selector: &GroupSelector) -> Result<Vec<GroupInfo>, ServiceError> {
        let state = self.state();
        Ok(match selector {
            GroupSelector::Names(names) => names
                .iter()
                .filter_map(|n| state.groups.get(n).cloned())
                .collect(),
            GroupSelector::Tag { .. } => state.groups.values().cloned().collect(),
        })
    }
}

impl FleetControl for FakeFleet {
    async fn last_activity(&self, group: &str) -> Result<Option<ScalingActivity>, ServiceError> {
        Ok(self.state().activities.get(group).cloned())
    }

    async fn set_desired_capacity(
        &self,
        group: &str,
        desired: u32,
        honor_cooldown: bool,
    ) -> Result<(), ServiceError> {
        let mut state = self.state();
        state
            .calls
            .push((group.to_owned(), desired, honor_cooldown));
        match state.groups.get_mut(group) {
            Some(g) => {
                g.desired = desired;
                Ok(())
            }
            None => Err(ServiceError {
                operation: "autoscaling:SetDesiredCapacity",
                code: "ValidationError".to_owned(),
                message: format!("AutoScalingGroup name not found - {group}"),
            }),
        }
    }
}

/// A notifier and metrics publisher that keeps what it is given, or fails every call when
/// built with [`Recorder::failing`].
#[derive(Debug, Default)]
pub struct Recorder {
    fail_with: Option<String>,
    notifications: Mutex<Vec<(String, String, String)>>,
    published: Mutex<Vec<Vec<MetricDatum>>>,
}

impl Recorder {
    /// A recorder whose calls succeed.
    pub fn new() -> Self {
        Self::default()
    }

    /// A recorder whose every call fails with this AWS error code.
    pub fn failing(code: &str) -> Self {
        Recorder {
            fail_with: Some(code.to_owned()),
            ..Self::default()
        }
    }

    fn outcome(&self, operation: &'static str) -> Result<(), ServiceError> {
        match &self.fail_with {
            None => Ok(()),
            Some(code) => Err(ServiceError {
                operation,
                code: code.clone(),
                message: "injected by the test".to_owned(),
            }),
        }
    }

    /// Every notification: (topic, subject, message).
    pub fn notifications(&self) -> Vec<(String, String, String)> {
        self.notifications
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every publish call's datums.
    pub fn published(&self) -> Vec<Vec<MetricDatum>> {
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Notifier for Recorder {
    async fn notify(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
    ) -> Result<(), ServiceError> {
        self.outcome("sns:Publish")?;
        self.notifications
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((topic_arn.to_owned(), subject.to_owned(), message.to_owned()));
        Ok(())
    }
}

impl MetricsPublisher for Recorder {
    async fn publish(&self, _namespace: &str, data: &[MetricDatum]) -> Result<(), ServiceError> {
        self.outcome("cloudwatch:PutMetricData")?;
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(data.to_vec());
        Ok(())
    }
}

impl MetricsSource for Recorder {
    /// No datapoints for any query: "no data", as a new fleet has.
    async fn read(
        &self,
        _window: &TimeWindow,
        _queries: &[MetricQuery],
    ) -> Result<MetricResults, ServiceError> {
        self.outcome("cloudwatch:GetMetricData")?;
        Ok(MetricResults::new())
    }
}

/// Cost Explorer in memory: every figure the same small account, or every call answering
/// the same [`CostUnavailable`].
#[derive(Debug, Default)]
pub struct FakeCosts {
    unavailable: Option<CostUnavailable>,
}

impl FakeCosts {
    /// An account spending 100 $ a month, with a 40 $ forecast and no purchase
    /// recommendation.
    pub fn new() -> Self {
        Self::default()
    }

    /// An account where every call answers `why`.
    pub fn unavailable(why: CostUnavailable) -> Self {
        FakeCosts {
            unavailable: Some(why),
        }
    }

    fn answer<T>(&self, value: T) -> CostResult<T> {
        match &self.unavailable {
            Some(why) => Err(why.clone()),
            None => Ok(value),
        }
    }
}

impl CostSource for FakeCosts {
    async fn monthly_by_service(
        &self,
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
    ) -> CostResult<Vec<MonthCost>> {
        use chrono::Datelike;
        // 100 $ of EC2 in every month the period touches.
        let mut months = Vec::new();
        let mut month = start.with_day(1).unwrap_or(start);
        while month < end {
            months.push(MonthCost {
                month,
                by_service: BTreeMap::from([(
                    "Amazon Elastic Compute Cloud - Compute".to_owned(),
                    100.0,
                )]),
            });
            month = month
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(end);
        }
        self.answer(months)
    }

    async fn daily_for_tag(
        &self,
        start: chrono::NaiveDate,
        _end: chrono::NaiveDate,
        _tag: (&str, &str),
    ) -> CostResult<Vec<(chrono::NaiveDate, f64)>> {
        self.answer(vec![(start, 3.5)])
    }

    async fn forecast(
        &self,
        _start: chrono::NaiveDate,
        _end: chrono::NaiveDate,
    ) -> CostResult<f64> {
        self.answer(40.0)
    }

    async fn reservation_recommendation(&self) -> CostResult<Option<PurchaseRecommendation>> {
        self.answer(None)
    }

    async fn savings_plans_recommendation(&self) -> CostResult<Option<PurchaseRecommendation>> {
        self.answer(None)
    }
}

/// Prices and a catalog in memory: m5.large and m5.xlarge at their us-east-1 prices, no spot
/// history.
#[derive(Debug, Default)]
pub struct FakePrices;

impl PriceSource for FakePrices {
    async fn on_demand_hourly(
        &self,
        _region: &str,
        instance_types: &[String],
    ) -> Result<BTreeMap<String, f64>, ServiceError> {
        let known = BTreeMap::from([("m5.large", 0.096), ("m5.xlarge", 0.192)]);
        Ok(instance_types
            .iter()
            .filter_map(|t| known.get(t.as_str()).map(|p| (t.clone(), *p)))
            .collect())
    }

    async fn spot_prices(
        &self,
        _instance_types: &[String],
        _availability_zones: &[String],
        _start: chrono::DateTime<chrono::Utc>,
        _end: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<SpotPrice>, ServiceError> {
        Ok(Vec::new())
    }

    async fn instance_types(
        &self,
        patterns: &[String],
    ) -> Result<Vec<InstanceTypeInfo>, ServiceError> {
        let catalog = [("m5.large", 2, 8192), ("m5.xlarge", 4, 16384)];
        Ok(catalog
            .iter()
            .filter(|(name, _, _)| {
                patterns
                    .iter()
                    .any(|p| name.starts_with(p.trim_end_matches('*')))
            })
            .map(|(name, vcpus, memory)| InstanceTypeInfo {
                name: (*name).to_owned(),
                vcpus: *vcpus,
                memory_mib: *memory,
                architectures: vec!["x86_64".to_owned()],
            })
            .collect())
    }
}

/// The behaviour every [`RecommendationStore`] must show; run against the fake in unit tests
/// and against DynamoDB on the emulator in the adapters' integration tests.
// Test support: a broken expectation must panic, like an assertion.
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub mod contract {
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use fleetopt_model::{
        AnalysisWindow, Check, Execution, Origin, Priority, Recommendation, RecommendationType,
        Source, Status,
    };

    use crate::store::{
        PutOutcome, RecommendationQuery, RecommendationStore, StoreError, Transition,
    };

    fn window(hour: u32) -> AnalysisWindow {
        let start = Utc.with_ymd_and_hms(2026, 11, 23, hour, 0, 0).unwrap();
        AnalysisWindow {
            start,
            end: start + Duration::hours(1),
        }
    }

    /// The clock of the samples: two minutes after hour 9's window ends. Tests that move a
    /// sample through statuses take their time from here, never from the real clock, so they
    /// pass on any day.
    pub fn now() -> DateTime<Utc> {
        window(9).end + Duration::minutes(2)
    }

    /// A sample recommendation for `group`, computed by the real rules from a snapshot with
    /// CPU 85 % (peak 93 %) on 4 of 10 instances.
    pub fn sample(group: &str, hour: u32) -> Recommendation {
        sample_over(group, window(hour), now())
    }

    /// The same sample over another analysis window, written at `now`: for tests that run
    /// code reading the real clock (the built binaries), which build both from that clock.
    pub fn sample_over(group: &str, window: AnalysisWindow, now: DateTime<Utc>) -> Recommendation {
        use fleetopt_scoring::{Capacity, Snapshot, Targets, analyze};
        let snapshot = Snapshot {
            group: group.to_owned(),
            capacity: Some(Capacity {
                min_size: 2,
                max_size: 10,
                desired: 4,
                in_service: 4,
            }),
            cpu_average: Some(85.0),
            cpu_peak: Some(93.0),
            memory_average: Some(72.5),
            response_time_ms: Some(420.0),
            ..Snapshot::default()
        };
        let targets = Targets::new(70.0, 80.0, 500.0).unwrap();
        let proposal = analyze(&snapshot, &targets)
            .proposals
            .into_iter()
            .next()
            .expect("the rules propose a scale-up for CPU at 85 %");
        Recommendation::from_proposal(
            &proposal,
            group,
            &Origin {
                source: Source::Analyzer,
                environment: "production",
                window,
                now,
                automation_enabled: true,
            },
        )
    }

    fn claim<'a>(by: &'a str) -> Transition<'a> {
        Transition::new(Status::InProgress, now(), by).because("contract test")
    }

    /// Writing the same recommendation twice leaves exactly one item.
    pub async fn put_twice_keeps_one(store: &impl RecommendationStore, group: &str) {
        let r = sample(group, 9);
        assert_eq!(store.put_new(&r).await, Ok(PutOutcome::Written));
        assert_eq!(store.put_new(&r).await, Ok(PutOutcome::AlreadyExists));
        let q = RecommendationQuery {
            kind: Some(RecommendationType::ScaleUp),
            ..RecommendationQuery::default()
        };
        let found = store.query(&q).await.unwrap();
        assert_eq!(found.iter().filter(|f| f.id == r.id).count(), 1);
        assert_eq!(store.get(&r.id).await, Ok(Some(r)));
    }

    /// A recommendation reads back whole through both GSIs, newest first, with filters, and
    /// through the per-type fan-out when no index key is given.
    pub async fn reads_back_whole_through_both_indexes(
        store: &impl RecommendationStore,
        group: &str,
    ) {
        let older = sample(group, 7);
        let newer = sample(group, 8);
        for r in [&older, &newer] {
            assert_eq!(store.put_new(r).await, Ok(PutOutcome::Written));
        }
        let ours = |found: Vec<Recommendation>| -> Vec<Recommendation> {
            found
                .into_iter()
                .filter(|r| r.auto_scaling_group_name == group)
                .collect()
        };
        for query in [
            RecommendationQuery {
                kind: Some(RecommendationType::ScaleUp),
                status: Some(Status::Pending),
                ..RecommendationQuery::default()
            },
            RecommendationQuery {
                priority: Some(Priority::High),
                status: Some(Status::Pending),
                ..RecommendationQuery::default()
            },
            RecommendationQuery {
                kind: Some(RecommendationType::ScaleUp),
                priority: Some(Priority::High),
                ..RecommendationQuery::default()
            },
            RecommendationQuery::default(),
        ] {
            let found = ours(store.query(&query).await.unwrap());
            assert_eq!(
                found,
                vec![newer.clone(), older.clone()],
                "through {query:?}"
            );
        }
        for query in [
            RecommendationQuery {
                priority: Some(Priority::Low),
                ..RecommendationQuery::default()
            },
            RecommendationQuery {
                kind: Some(RecommendationType::ScaleUp),
                priority: Some(Priority::Medium),
                ..RecommendationQuery::default()
            },
            RecommendationQuery {
                status: Some(Status::Completed),
                ..RecommendationQuery::default()
            },
        ] {
            assert!(
                ours(store.query(&query).await.unwrap()).is_empty(),
                "{query:?}"
            );
        }
        let since = RecommendationQuery {
            kind: Some(RecommendationType::ScaleUp),
            since: Some(newer.timestamp.clone()),
            ..RecommendationQuery::default()
        };
        assert_eq!(
            ours(store.query(&since).await.unwrap()),
            vec![newer.clone()]
        );
        let limited = store
            .query(&RecommendationQuery {
                status: Some(Status::Pending),
                limit: Some(1),
                ..RecommendationQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(limited.len(), 1);
    }

    /// A snooze stores its end and the status to go back to; waking goes back to that status
    /// only, and clears the snooze.
    pub async fn snooze_round_trips(store: &impl RecommendationStore, group: &str) {
        let r = sample(group, 5);
        assert_eq!(store.put_new(&r).await, Ok(PutOutcome::Written));
        let until = now() + chrono::Duration::days(7);
        let snoozed = store
            .transition(
                &r,
                &Transition::snooze(until, now(), "arn:aws:iam::1:user/ops").because("peak season"),
            )
            .await
            .unwrap();
        assert_eq!(snoozed.status, Status::Snoozed);
        let snooze = snoozed.snooze.clone().unwrap();
        assert_eq!(
            (snooze.until(), snooze.previous_status),
            (Some(until), Status::Pending)
        );
        assert_eq!(store.get(&r.id).await.unwrap().as_ref(), Some(&snoozed));
        assert!(matches!(
            store
                .transition(
                    &snoozed,
                    &Transition::new(Status::InProgress, now(), "engine")
                )
                .await,
            Err(StoreError::InvalidTransition(_))
        ));
        let woken = store
            .transition(
                &snoozed,
                &Transition::new(Status::Pending, now(), "engine").because("snooze ended"),
            )
            .await
            .unwrap();
        assert_eq!(
            (woken.status, woken.snooze.as_ref(), woken.version),
            (Status::Pending, None, 3)
        );
        assert_eq!(store.get(&r.id).await.unwrap(), Some(woken.clone()));
        let last = woken.status_history.last().unwrap();
        assert_eq!(
            (last.from, last.to, last.by.as_str()),
            (Some(Status::Snoozed), Status::Pending, "engine")
        );
        assert_eq!(
            woken.status_history[woken.status_history.len() - 2]
                .reason
                .as_deref(),
            Some("peak season")
        );
        // A snooze past the item's 30-day TTL moves the TTL out, so that it wakes up.
        assert_eq!(snoozed.ttl, r.ttl, "a 7-day snooze keeps the TTL");
        let long = sample(group, 4);
        assert_eq!(store.put_new(&long).await, Ok(PutOutcome::Written));
        let until = now() + chrono::Duration::days(60);
        let asleep = store
            .transition(&long, &Transition::snooze(until, now(), "ops"))
            .await
            .unwrap();
        let keep = until + chrono::Duration::days(fleetopt_model::SNOOZE_KEEP_DAYS);
        assert_eq!(asleep.ttl, keep.timestamp());
        assert_eq!(store.get(&long.id).await.unwrap(), Some(asleep));
    }

    /// A transition with a stale version is refused and changes nothing; a fresh one succeeds.
    pub async fn stale_transition_is_refused(store: &impl RecommendationStore, group: &str) {
        let r = sample(group, 6);
        assert_eq!(store.put_new(&r).await, Ok(PutOutcome::Written));
        let claimed = store.transition(&r, &claim("engine-a")).await.unwrap();
        assert_eq!((claimed.status, claimed.version), (Status::InProgress, 2));
        // A second invocation still holding the PENDING version 1 copy loses.
        assert_eq!(
            store.transition(&r, &claim("engine-b")).await,
            Err(StoreError::Conflict {
                id: r.id.clone(),
                status: Status::Pending,
                version: 1
            })
        );
        let stored = store.get(&r.id).await.unwrap();
        assert_eq!(stored, Some(claimed.clone()));
        let done = store
            .transition(
                &claimed,
                &Transition::new(Status::Completed, now(), "engine-a"),
            )
            .await
            .unwrap();
        assert_eq!(done.version, 3);
        assert_eq!(done.status_history.len(), 3);
        // A move the model forbids never reaches the table.
        assert!(matches!(
            store.transition(&done, &claim("engine-a")).await,
            Err(StoreError::InvalidTransition(_))
        ));
    }

    /// A claim records what the engine did in the same write; a note keeps the version, is
    /// cleared by the next status change, and loses to a claim made after it was read.
    pub async fn execution_and_notes_are_conditional_too(
        store: &impl RecommendationStore,
        group: &str,
    ) {
        let r = sample(group, 4);
        assert_eq!(store.put_new(&r).await, Ok(PutOutcome::Written));
        let check = Check {
            at: "2026-11-23T10:00:00Z".to_owned(),
            by: "engine-a".to_owned(),
            reason: "cooldown until 2026-11-23T10:05:00Z".to_owned(),
        };
        let noted = store.note(&r, &check).await.unwrap();
        assert_eq!(
            (noted.version, noted.last_check.as_ref()),
            (1, Some(&check))
        );
        assert_eq!(store.get(&r.id).await.unwrap(), Some(noted.clone()));
        let execution = Execution {
            previous_capacity: 4,
            new_capacity: 6,
            applied_at: "2026-11-23T10:06:00Z".to_owned(),
            activity_id: Some("a-1".to_owned()),
            target_capacity: None,
        };
        let claimed = store
            .transition(&noted, &claim("engine-a").recording(&execution))
            .await
            .unwrap();
        assert_eq!(claimed.execution.as_ref(), Some(&execution));
        assert_eq!(claimed.last_check, None);
        let started = Execution {
            activity_id: Some("a-2".to_owned()),
            target_capacity: None,
            ..execution
        };
        let recorded = store.record_execution(&claimed, &started).await.unwrap();
        assert_eq!(
            (recorded.version, recorded.execution.as_ref()),
            (claimed.version, Some(&started))
        );
        assert_eq!(store.get(&r.id).await.unwrap(), Some(recorded));
        assert!(matches!(
            store.note(&noted, &check).await,
            Err(StoreError::Conflict { .. })
        ));
    }

    /// Transitioning an item that was never written is NotFound (or a conflict, for a store
    /// that cannot tell the two apart in one conditional write).
    pub async fn transition_of_a_missing_item_fails(store: &impl RecommendationStore, group: &str) {
        let r = sample(group, 5);
        let result = store.transition(&r, &claim("engine-a")).await;
        assert!(
            matches!(
                result,
                Err(StoreError::NotFound { .. } | StoreError::Conflict { .. })
            ),
            "{result:?}"
        );
        assert_eq!(store.get(&r.id).await, Ok(None));
    }
}

#[cfg(test)]
mod tests {
    use super::contract;
    use super::*;

    #[tokio::test]
    async fn in_memory_store_keeps_one_of_two_identical_writes() {
        contract::put_twice_keeps_one(&InMemoryStore::new(), "web").await;
    }

    #[tokio::test]
    async fn in_memory_store_reads_back_through_both_indexes() {
        contract::reads_back_whole_through_both_indexes(&InMemoryStore::new(), "web").await;
    }

    #[tokio::test]
    async fn in_memory_store_refuses_stale_transitions() {
        contract::stale_transition_is_refused(&InMemoryStore::new(), "web").await;
    }

    #[tokio::test]
    async fn in_memory_store_snoozes_and_wakes() {
        contract::snooze_round_trips(&InMemoryStore::new(), "web").await;
    }

    #[tokio::test]
    async fn in_memory_store_records_executions_and_notes_conditionally() {
        contract::execution_and_notes_are_conditional_too(&InMemoryStore::new(), "web").await;
    }

    #[tokio::test]
    async fn in_memory_store_refuses_transitions_of_missing_items() {
        contract::transition_of_a_missing_item_fails(&InMemoryStore::new(), "web").await;
    }
}
