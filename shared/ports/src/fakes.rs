//! In-memory implementations with the same conditional semantics as the AWS adapters, and the
//! contract suite both must pass.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use fleetopt_model::{
    ChangeOutcome, Check, DecodeError, Execution, RealizedSavings, Recommendation, Shard, Status,
};
use sha2::{Digest, Sha256};

use crate::sign::{Signature, Signer, Verifier};
use crate::store::{
    Found, GroupLocks, PutOutcome, RecommendationQuery, RecommendationStore, StoreError, Transition,
};
use crate::{
    ActionFailure, CostResult, CostSource, CostUnavailable, FleetControl, FleetDirectory,
    GroupInfo, GroupSelector, InstanceTypeInfo, Members, MetricDatum, MetricQuery, MetricResults,
    MetricsPublisher, MetricsSource, MonthCost, Notifier, Opened, PriceSource,
    PurchaseRecommendation, Reach, ScalingActivity, ScheduledAction, ServiceError, SpotPrice,
    TagActivation, TimeWindow,
};

/// A recommendations table in memory.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    items: Mutex<BTreeMap<(String, String), Recommendation>>,
    foreign: Mutex<Vec<String>>,
    locks: Mutex<BTreeMap<String, (String, DateTime<Utc>)>>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an item that does not decode as a recommendation (written by another version):
    /// every query skips it and names it in [`Found::skipped`].
    pub fn put_foreign(&self, id: &str) {
        self.foreign
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(id.to_owned());
    }

    /// Replaces the stored item with `r` whatever its status and version: what a holder of
    /// write access to the table can do, for tests of what the engine then refuses.
    pub fn overwrite(&self, r: &Recommendation) {
        self.items()
            .insert((r.id.clone(), r.timestamp.clone()), r.clone());
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

    async fn query(&self, query: &RecommendationQuery) -> Result<Found, StoreError> {
        let items: Vec<Recommendation> = self
            .items()
            .values()
            .filter(|r| query.matches(r))
            .cloned()
            .collect();
        let skipped = self
            .foreign
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|id| DecodeError {
                id: id.clone(),
                message: "missing field `description`".to_owned(),
            })
            .collect();
        Ok(query.finish(Found { items, skipped }))
    }

    async fn refresh(
        &self,
        current: &Recommendation,
        next: &Recommendation,
    ) -> Result<Recommendation, StoreError> {
        self.replace_if_unchanged(current, next.clone())
    }

    async fn record_outcome(
        &self,
        current: &Recommendation,
        outcome: &ChangeOutcome,
    ) -> Result<Recommendation, StoreError> {
        let mut next = current.clone();
        next.outcome = Some(outcome.clone());
        self.replace_if_unchanged(current, next)
    }

    async fn record_realized_savings(
        &self,
        current: &Recommendation,
        savings: &RealizedSavings,
    ) -> Result<Recommendation, StoreError> {
        let conflict = || StoreError::Conflict {
            id: current.id.clone(),
            status: current.status,
            version: current.version,
        };
        if current.status != Status::Completed {
            return Err(conflict());
        }
        let mut items = self.items();
        let key = (current.id.clone(), current.timestamp.clone());
        let stored = items.get(&key).ok_or_else(|| StoreError::NotFound {
            id: current.id.clone(),
        })?;
        // DynamoDB's condition: still COMPLETED at the version read, and no figure yet.
        if stored.status != Status::Completed
            || stored.version != current.version
            || stored.realized_savings.is_some()
        {
            return Err(conflict());
        }
        let mut next = stored.clone();
        next.realized_savings = Some(savings.clone());
        items.insert(key, next.clone());
        Ok(next)
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

impl GroupLocks for InMemoryStore {
    async fn lock(
        &self,
        group: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        match locks.get(group) {
            Some((other, expires)) if other != holder && *expires >= now => Ok(false),
            _ => {
                locks.insert(group.to_owned(), (holder.to_owned(), until));
                Ok(true)
            }
        }
    }

    async fn unlock(&self, group: &str, holder: &str) -> Result<(), StoreError> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks.get(group).is_some_and(|(h, _)| h == holder) {
            locks.remove(group);
        }
        Ok(())
    }
}

/// Signing keys in memory: a signature is SHA-256 over the key's name and the message, so it
/// verifies only for the same key and bytes. Signing needs the key to be among those the
/// signer holds ([`FakeKeys::holding`]), as `kms:Sign` needs the permission; anyone verifies.
#[derive(Debug, Default, Clone)]
pub struct FakeKeys {
    held: BTreeSet<String>,
}

impl FakeKeys {
    /// A signer that may sign with these keys (and verify with any).
    pub fn holding(keys: &[&str]) -> Self {
        FakeKeys {
            held: keys.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    fn digest(key: &str, message: &[u8]) -> Vec<u8> {
        let mut hasher = Sha256::new();
        hasher.update(key.as_bytes());
        hasher.update([0u8]);
        hasher.update(message);
        hasher.finalize().to_vec()
    }
}

impl Signer for FakeKeys {
    async fn sign(&self, key: &str, message: &[u8]) -> Result<Signature, ServiceError> {
        if !self.held.contains(key) {
            return Err(ServiceError {
                operation: "kms:Sign",
                code: "AccessDeniedException".to_owned(),
                message: format!("not authorized to perform kms:Sign on {key}"),
            });
        }
        Ok(Signature {
            key_id: format!("fake:{key}"),
            bytes: Self::digest(key, message),
        })
    }
}

impl Verifier for FakeKeys {
    async fn verify(
        &self,
        key: &str,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, ServiceError> {
        Ok(Self::digest(key, message) == signature)
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
/// Clones share the groups, activities and calls (a shard's fleet handed out by
/// [`FakeMembers`] is the test's).
#[derive(Debug, Default, Clone)]
pub struct FakeFleet {
    state: Arc<Mutex<FakeFleetState>>,
}

#[derive(Debug, Default)]
struct FakeFleetState {
    groups: BTreeMap<String, GroupInfo>,
    activities: BTreeMap<String, ScalingActivity>,
    calls: Vec<(String, u32, bool)>,
    refusals: Vec<String>,
    scheduled: BTreeMap<(String, String), ScheduledAction>,
    refused_actions: Vec<String>,
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

    /// Makes the next SetDesiredCapacity calls fail with these AWS error codes, in order (a
    /// refusal is still recorded as a call, and changes nothing).
    pub fn refuse_next(&self, codes: &[&str]) {
        self.state()
            .refusals
            .extend(codes.iter().map(|c| (*c).to_owned()));
    }

    /// Every SetDesiredCapacity call: (group, desired, honor cooldown).
    pub fn calls(&self) -> Vec<(String, u32, bool)> {
        self.state().calls.clone()
    }

    /// Makes every later put of a scheduled action of this name fail, as Auto Scaling refuses
    /// one it finds invalid.
    pub fn refuse_action(&self, name: &str) {
        self.state().refused_actions.push(name.to_owned());
    }

    /// The group's scheduled actions, by name.
    pub fn scheduled(&self, group: &str) -> Vec<ScheduledAction> {
        self.state()
            .scheduled
            .values()
            .filter(|a| a.group == group)
            .cloned()
            .collect()
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

    async fn scheduled_actions(
        &self,
        names: &[String],
    ) -> Result<Vec<ScheduledAction>, ServiceError> {
        Ok(self
            .state()
            .scheduled
            .values()
            .filter(|a| names.contains(&a.name))
            .cloned()
            .collect())
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
        if !state.refusals.is_empty() {
            let code = state.refusals.remove(0);
            return Err(ServiceError {
                operation: "autoscaling:SetDesiredCapacity",
                code,
                message: "injected by the test".to_owned(),
            });
        }
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

    async fn put_scheduled_actions(
        &self,
        group: &str,
        actions: &[ScheduledAction],
    ) -> Result<Vec<ActionFailure>, ServiceError> {
        let mut state = self.state();
        if !state.groups.contains_key(group) {
            return Err(ServiceError {
                operation: "autoscaling:BatchPutScheduledUpdateGroupAction",
                code: "ValidationError".to_owned(),
                message: format!("AutoScalingGroup name not found - {group}"),
            });
        }
        let mut failed = Vec::new();
        for a in actions {
            if state.refused_actions.contains(&a.name) {
                failed.push(ActionFailure {
                    name: a.name.clone(),
                    code: "ValidationError".to_owned(),
                    message: "injected by the test".to_owned(),
                });
            } else {
                state
                    .scheduled
                    .insert((group.to_owned(), a.name.clone()), a.clone());
            }
        }
        Ok(failed)
    }

    async fn delete_scheduled_actions(
        &self,
        group: &str,
        names: &[String],
    ) -> Result<Vec<ActionFailure>, ServiceError> {
        let mut state = self.state();
        for name in names {
            state.scheduled.remove(&(group.to_owned(), name.clone()));
        }
        Ok(Vec::new())
    }
}

/// Other accounts' fleets in memory: each shard a test adds is what the function reads there
/// (a [`Reach`] of clones of the test's [`FakeFleet`] and [`Recorder`] by default, or whatever
/// the test reads through); `home` is the functions' own shard; a shard never added fails as an
/// AccessDenied AssumeRole would.
#[derive(Debug, Clone)]
pub struct FakeMembers<T = Reach<FakeFleet, Recorder>> {
    home: Option<Shard>,
    shards: BTreeMap<Shard, T>,
}

impl<T> FakeMembers<T> {
    /// No shard but the functions' own, `home` (none: every shard is another account's).
    pub fn new(home: Option<Shard>) -> Self {
        FakeMembers {
            home,
            shards: BTreeMap::new(),
        }
    }

    /// With `shard` served by `reach`.
    pub fn reaching(mut self, shard: Shard, reach: T) -> Self {
        self.shards.insert(shard, reach);
        self
    }
}

impl<F, M> FakeMembers<Reach<F, M>> {
    /// With `shard` served by this fleet and these metrics.
    pub fn with(self, shard: Shard, fleet: F, metrics: M) -> Self {
        self.reaching(shard, Reach { fleet, metrics })
    }
}

impl<T: Clone + Send + Sync> Members for FakeMembers<T> {
    type Reach = T;

    async fn open(&self, shard: &Shard) -> Opened<T> {
        if self.home.as_ref() == Some(shard) {
            return Ok(None);
        }
        self.shards
            .get(shard)
            .map(|reach| Some(reach.clone()))
            .ok_or_else(|| ServiceError {
                operation: "sts:AssumeRole",
                code: "AccessDenied".to_owned(),
                message: format!("no member role is reachable in {shard}"),
            })
    }
}

/// A notifier and metrics publisher that keeps what it is given, or fails every call when
/// built with [`Recorder::failing`]. Clones share what they are given.
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    series: MetricResults,
    fail_with: Option<String>,
    notifications: Arc<Mutex<Vec<(String, String, String)>>>,
    published: Arc<Mutex<Vec<Vec<MetricDatum>>>>,
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

    /// A recorder whose reads answer these series (by query id; other queries: no data).
    pub fn answering(series: MetricResults) -> Self {
        Recorder {
            series,
            ..Self::default()
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
    /// The series it was built with, for the queries asked and inside the window; no
    /// datapoints for any other query: "no data", as a new fleet has.
    async fn read(
        &self,
        window: &TimeWindow,
        queries: &[MetricQuery],
    ) -> Result<MetricResults, ServiceError> {
        self.outcome("cloudwatch:GetMetricData")?;
        Ok(queries
            .iter()
            .filter_map(|q| {
                let points = self.series.get(&q.id)?;
                Some((
                    q.id.clone(),
                    points
                        .iter()
                        .filter(|(t, _)| *t >= window.start && *t < window.end)
                        .copied()
                        .collect(),
                ))
            })
            .collect())
    }
}

/// Cost Explorer in memory: a small account whose figures a test may change, or every call
/// answering the same [`CostUnavailable`].
#[derive(Debug, Clone)]
pub struct FakeCosts {
    /// What every call answers instead, when set.
    pub unavailable: Option<CostUnavailable>,
    /// The account's EC2 cost in every month a period touches, USD (100).
    pub account_monthly: f64,
    /// The application's cost every day, USD (3.5).
    pub application_daily: f64,
    /// The forecast of any period, USD (40); `None` answers DataUnavailableException.
    pub forecast: Option<f64>,
    /// What ListCostAllocationTags says of any key (active).
    pub tag: TagActivation,
    /// The reserved-instance purchase recommended (none).
    pub reservation: Option<PurchaseRecommendation>,
    /// The savings plan recommended (none).
    pub savings_plan: Option<PurchaseRecommendation>,
}

impl Default for FakeCosts {
    fn default() -> Self {
        FakeCosts {
            unavailable: None,
            account_monthly: 100.0,
            application_daily: 3.5,
            forecast: Some(40.0),
            tag: TagActivation::Active,
            reservation: None,
            savings_plan: None,
        }
    }
}

impl FakeCosts {
    /// An account spending 100 $ a month, the application 3.5 $ a day, a 40 $ forecast, its
    /// tag active and no purchase recommendation.
    pub fn new() -> Self {
        Self::default()
    }

    /// An account where every call answers `why`.
    pub fn unavailable(why: CostUnavailable) -> Self {
        FakeCosts {
            unavailable: Some(why),
            ..Self::default()
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
        let mut months = Vec::new();
        let mut month = start.with_day(1).unwrap_or(start);
        while month < end {
            months.push(MonthCost {
                month,
                by_service: BTreeMap::from([(
                    "Amazon Elastic Compute Cloud - Compute".to_owned(),
                    self.account_monthly,
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
        end: chrono::NaiveDate,
        _tag: (&str, &str),
    ) -> CostResult<Vec<(chrono::NaiveDate, f64)>> {
        let days = start
            .iter_days()
            .take_while(|d| *d < end)
            .map(|d| (d, self.application_daily))
            .collect();
        self.answer(days)
    }

    async fn forecast(
        &self,
        _start: chrono::NaiveDate,
        _end: chrono::NaiveDate,
        _tag: Option<(&str, &str)>,
    ) -> CostResult<f64> {
        let forecast = self.answer(self.forecast)?;
        forecast.ok_or_else(|| CostUnavailable::NoData {
            operation: "ce:GetCostForecast",
            message: "not enough data to forecast".to_owned(),
        })
    }

    async fn tag_activation(&self, _key: &str) -> CostResult<TagActivation> {
        self.answer(self.tag)
    }

    async fn reservation_recommendation(&self) -> CostResult<Option<PurchaseRecommendation>> {
        self.answer(self.reservation.clone())
    }

    async fn savings_plans_recommendation(&self) -> CostResult<Option<PurchaseRecommendation>> {
        self.answer(self.savings_plan.clone())
    }
}

/// Prices and a catalog in memory: m5.large and m5.xlarge at their us-east-1 prices, no spot
/// history.
#[derive(Debug, Default, Clone)]
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
        let targets = Targets::new(70.0, 80.0, 500.0, 1000.0, 60.0).unwrap();
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
                shard: None,
                environment: "production",
                window,
                now,
                automation_enabled: true,
            },
        )
    }

    /// A SCHEDULED_SCALING of `group` (2..=10, desired 4, the test group's sizes) from the
    /// cost optimizer over the window ending at `hour`: 2 instances from 20:00 to 07:00 UTC
    /// every day, 4 the rest of the time.
    pub fn scheduled_sample(group: &str, hour: u32) -> Recommendation {
        use fleetopt_scoring::{Recurrence, Schedule, ScheduledWindow};
        let mut r = sample(group, hour);
        r.id = format!("{}-schedule", r.id);
        r.kind = fleetopt_model::RecommendationType::ScheduledScaling;
        r.source = Source::CostOptimizer;
        r.implementation.automated = false;
        r.implementation.action = None;
        r.attestation = None;
        let action = |name: &str, recurrence: &str, desired| ScheduledWindow {
            name: name.to_owned(),
            recurrence: recurrence.to_owned(),
            starts: String::new(),
            min_size: 2,
            desired_capacity: desired,
            max_size: 10,
        };
        r.evidence.schedule = Some(Schedule {
            recurrence: Recurrence::Daily,
            strength: 0.9,
            quiet_from_slot: 20,
            quiet_hours: 11,
            busy_capacity: 4,
            quiet_capacity: 2,
            actions: vec![
                action("quiet", "0 20 * * *", 2),
                action("busy", "0 7 * * *", 4),
            ],
            instance_hours_saved_per_month: 669.17,
            cpu_profile: Vec::new(),
            requests_daily_strength: None,
            requests_weekly_strength: None,
        });
        r
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
        let ours = |found: crate::Found| -> Vec<Recommendation> {
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
            ..Execution::default()
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

    /// A refresh writes the newer evidence and window in place and keeps status and version;
    /// it loses to a status change made after it was read. An outcome is recorded the same
    /// way, and an approval travels with its status change.
    pub async fn refresh_outcome_and_approval_are_conditional(
        store: &impl RecommendationStore,
        group: &str,
    ) {
        use fleetopt_model::{ChangeOutcome, OutcomeVerdict, unsigned_approval};
        let r = sample(group, 3);
        assert_eq!(store.put_new(&r).await, Ok(PutOutcome::Written));
        let mut fresh = sample(group, 4);
        fresh.evidence.cpu_average = Some(91.5);
        let next = r.refreshed(&fresh, now());
        let stored = store.refresh(&r, &next).await.unwrap();
        assert_eq!(stored, next);
        assert_eq!((stored.version, stored.seen()), (1, 2));
        assert_eq!(store.get(&r.id).await.unwrap(), Some(next.clone()));
        let asked = store
            .transition(
                &stored,
                &Transition::new(Status::AwaitingApproval, now(), "engine"),
            )
            .await
            .unwrap();
        assert!(matches!(
            store
                .refresh(&stored, &stored.refreshed(&fresh, now()))
                .await,
            Err(StoreError::Conflict { .. })
        ));
        let mut approval =
            unsigned_approval(&asked, "arn:aws:iam::1:user/ops", now(), Duration::hours(6));
        approval.signature = "00ff".into();
        let approved = store
            .transition(
                &asked,
                &Transition::new(Status::Approved, now(), "ops").approving(&approval),
            )
            .await
            .unwrap();
        assert_eq!(approved.approval.as_ref(), Some(&approval));
        assert_eq!(approved.version, approval.version);
        assert_eq!(store.get(&r.id).await.unwrap(), Some(approved.clone()));
        let outcome = ChangeOutcome {
            score_before: 60.0,
            score_after: 72.0,
            cpu_before: Some(85.0),
            cpu_after: None,
            verdict: OutcomeVerdict::Improved,
            measured_at: "2026-11-23T12:00:00Z".into(),
        };
        let measured = store.record_outcome(&approved, &outcome).await.unwrap();
        assert_eq!(
            (measured.version, measured.outcome.as_ref()),
            (approved.version, Some(&outcome))
        );
        assert_eq!(store.get(&r.id).await.unwrap(), Some(measured));
        assert!(matches!(
            store.record_outcome(&asked, &outcome).await,
            Err(StoreError::Conflict { .. })
        ));
    }

    /// A measured figure for tests (`fleetopt_model::samples`).
    pub use fleetopt_model::samples::realized_savings;

    /// `r` written, claimed and completed by the engine.
    async fn completed(store: &impl RecommendationStore, r: &Recommendation) -> Recommendation {
        assert_eq!(store.put_new(r).await, Ok(PutOutcome::Written));
        let claimed = store.transition(r, &claim("engine-a")).await.unwrap();
        store
            .transition(
                &claimed,
                &Transition::new(Status::Completed, now(), "engine-a"),
            )
            .await
            .unwrap()
    }

    /// Realized savings are written once, on a COMPLETED item at the version read, without a
    /// status change: a second write (another run) and a write on an item that is not
    /// COMPLETED are conflicts that change nothing.
    pub async fn realized_savings_are_recorded_once(store: &impl RecommendationStore, group: &str) {
        let savings = realized_savings(-140.16);
        // Not COMPLETED: refused.
        let open = sample(group, 0);
        assert_eq!(store.put_new(&open).await, Ok(PutOutcome::Written));
        assert!(matches!(
            store.record_realized_savings(&open, &savings).await,
            Err(StoreError::Conflict { .. })
        ));
        let done = completed(store, &sample(group, 2)).await;
        let measured = store
            .record_realized_savings(&done, &savings)
            .await
            .unwrap();
        assert_eq!(
            (
                measured.status,
                measured.version,
                measured.realized_savings.as_ref()
            ),
            (Status::Completed, done.version, Some(&savings))
        );
        assert_eq!(store.get(&done.id).await.unwrap(), Some(measured.clone()));
        // A second run that read the item before the first wrote: nothing written twice.
        assert!(matches!(
            store
                .record_realized_savings(&done, &realized_savings(1.0))
                .await,
            Err(StoreError::Conflict { .. })
        ));
        assert_eq!(store.get(&done.id).await.unwrap(), Some(measured));
        // Rolled back since it was read: refused too.
        let done = completed(store, &sample(group, 1)).await;
        let rolled_back = store
            .transition(
                &done,
                &Transition::new(Status::RolledBack, now(), "engine-a"),
            )
            .await
            .unwrap();
        assert!(matches!(
            store.record_realized_savings(&done, &savings).await,
            Err(StoreError::Conflict { .. })
        ));
        assert_eq!(store.get(&done.id).await.unwrap(), Some(rolled_back));
    }

    /// A group's lock is held by one holder until it lets go or it expires.
    pub async fn group_locks_exclude_each_other(store: &impl crate::GroupLocks, group: &str) {
        let until = now() + Duration::minutes(5);
        assert_eq!(store.lock(group, "a", now(), until).await, Ok(true));
        assert_eq!(store.lock(group, "b", now(), until).await, Ok(false));
        // The holder may take it again (a retry); another group is free.
        assert_eq!(store.lock(group, "a", now(), until).await, Ok(true));
        assert_eq!(
            store.lock(&format!("{group}-2"), "b", now(), until).await,
            Ok(true)
        );
        // Only the holder lets it go.
        store.unlock(group, "b").await.unwrap();
        assert_eq!(store.lock(group, "b", now(), until).await, Ok(false));
        store.unlock(group, "a").await.unwrap();
        assert_eq!(store.lock(group, "b", now(), until).await, Ok(true));
        // A dead holder's lock expires.
        let later = until + Duration::seconds(1);
        assert_eq!(
            store
                .lock(group, "c", later, later + Duration::minutes(5))
                .await,
            Ok(true)
        );
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
    async fn in_memory_store_refreshes_and_records_outcomes_conditionally() {
        contract::refresh_outcome_and_approval_are_conditional(&InMemoryStore::new(), "web").await;
    }

    #[tokio::test]
    async fn in_memory_store_records_realized_savings_once() {
        contract::realized_savings_are_recorded_once(&InMemoryStore::new(), "web").await;
    }

    #[tokio::test]
    async fn in_memory_locks_exclude_each_other() {
        contract::group_locks_exclude_each_other(&InMemoryStore::new(), "web").await;
    }

    #[tokio::test]
    async fn fake_keys_sign_only_with_held_keys_and_verify_only_their_own() {
        let signer = FakeKeys::holding(&["approvals"]);
        let signature = signer.sign("approvals", b"message").await.unwrap();
        assert!(
            signer
                .verify("approvals", b"message", &signature.bytes)
                .await
                .unwrap()
        );
        assert!(
            !signer
                .verify("approvals", b"other", &signature.bytes)
                .await
                .unwrap()
        );
        assert!(
            !signer
                .verify("findings", b"message", &signature.bytes)
                .await
                .unwrap()
        );
        let denied = signer.sign("findings", b"message").await.unwrap_err();
        assert_eq!(denied.code, "AccessDeniedException");
    }

    #[tokio::test]
    async fn a_foreign_item_is_skipped_and_named_by_every_query() {
        let store = InMemoryStore::new();
        store.put_new(&contract::sample("web", 9)).await.unwrap();
        store.put_foreign("foreign");
        let found = store.query(&RecommendationQuery::default()).await.unwrap();
        assert_eq!(
            (found.len(), found.skipped_ids()),
            (1, "foreign".to_owned())
        );
    }

    #[tokio::test]
    async fn in_memory_store_refuses_transitions_of_missing_items() {
        contract::transition_of_a_missing_item_fails(&InMemoryStore::new(), "web").await;
    }
}
