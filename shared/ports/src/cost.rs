//! Costs and prices as our model sees them (docs/design.md): what Cost Explorer says the
//! account spent and will spend, what it recommends buying, and what instances cost.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, NaiveDate, Utc};

use crate::ServiceError;

/// One month's unblended cost.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthCost {
    /// The month's first day.
    pub month: NaiveDate,
    /// USD per service (`Amazon Elastic Compute Cloud - Compute`, ...).
    pub by_service: BTreeMap<String, f64>,
}

impl MonthCost {
    /// The month's total, USD.
    pub fn total(&self) -> f64 {
        self.by_service.values().sum()
    }
}

/// A reserved-capacity purchase Cost Explorer recommends.
#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseRecommendation {
    /// What to buy, in Cost Explorer's words.
    pub offer: String,
    /// Estimated monthly saving, USD.
    pub monthly_savings_usd: f64,
    /// Estimated saving, percent of the covered on-demand cost.
    pub savings_percent: f64,
    /// Cost Explorer's figures behind it, stored as the recommendation's evidence.
    pub figures: fleetopt_model::CommitmentFigures,
}

/// Whether a cost allocation tag is activated, as ListCostAllocationTags reports it: only an
/// active tag filters costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagActivation {
    /// Active: Cost Explorer filters costs by it (from the day it was activated).
    Active,
    /// Known to Billing but not activated for cost allocation.
    Inactive,
    /// Billing has never seen the key on a resource.
    Unknown,
}

/// A Cost Explorer answer that may be unavailable (an account without Cost Explorer enabled,
/// no data yet, no permission): the run goes on with what it has and says what was missing.
pub type CostResult<T> = Result<T, CostUnavailable>;

/// Why a Cost Explorer figure is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostUnavailable {
    /// `DataUnavailableException`: no data for the period (new account, Cost Explorer just
    /// enabled).
    #[error("{operation}: no data yet (DataUnavailableException): {message}")]
    NoData {
        /// The API operation.
        operation: &'static str,
        /// The service's message.
        message: String,
    },
    /// `AccessDeniedException`: Cost Explorer not enabled, or the role may not call it.
    #[error("{operation}: access denied: {message}")]
    AccessDenied {
        /// The API operation.
        operation: &'static str,
        /// The service's message.
        message: String,
    },
    /// Any other failure, retries included.
    #[error(transparent)]
    Failed(#[from] ServiceError),
}

/// Cost Explorer: a handful of calls per run, never one per resource (it bills per request).
pub trait CostSource {
    /// GetCostAndUsage: unblended cost per month and service over `[start, end)`.
    fn monthly_by_service(
        &self,
        start: NaiveDate,
        end: NaiveDate,
    ) -> impl Future<Output = CostResult<Vec<MonthCost>>> + Send;

    /// GetCostAndUsage: unblended cost per day over `[start, end)`, filtered to resources
    /// carrying the cost allocation tag `key` = `value`.
    fn daily_for_tag(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        tag: (&str, &str),
    ) -> impl Future<Output = CostResult<Vec<(NaiveDate, f64)>>> + Send;

    /// GetCostForecast: the unblended cost forecast for `[start, end)`, USD; with `tag`, of the
    /// resources carrying the cost allocation tag `key` = `value` only.
    fn forecast(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        tag: Option<(&str, &str)>,
    ) -> impl Future<Output = CostResult<f64>> + Send;

    /// ListCostAllocationTags: whether the user-defined cost allocation tag `key` is activated.
    fn tag_activation(&self, key: &str) -> impl Future<Output = CostResult<TagActivation>> + Send;

    /// GetReservationPurchaseRecommendation for EC2, if Cost Explorer has one.
    fn reservation_recommendation(
        &self,
    ) -> impl Future<Output = CostResult<Option<PurchaseRecommendation>>> + Send;

    /// GetSavingsPlansPurchaseRecommendation (Compute Savings Plans), if it has one.
    fn savings_plans_recommendation(
        &self,
    ) -> impl Future<Output = CostResult<Option<PurchaseRecommendation>>> + Send;
}

/// An instance type as DescribeInstanceTypes reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceTypeInfo {
    /// For example `m5.large`.
    pub name: String,
    /// Default vCPUs.
    pub vcpus: u32,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// Supported architectures (`x86_64`, `arm64`, ...).
    pub architectures: Vec<String>,
}

/// One spot price.
#[derive(Debug, Clone, PartialEq)]
pub struct SpotPrice {
    /// Instance type.
    pub instance_type: String,
    /// Availability zone.
    pub availability_zone: String,
    /// USD per hour.
    pub price: f64,
    /// When it took effect.
    pub timestamp: DateTime<Utc>,
}

/// Instance prices and the instance catalog.
pub trait PriceSource {
    /// The on-demand Linux, shared-tenancy price of each type in `region` (Pricing
    /// GetProducts), USD per hour; types without a price are absent.
    fn on_demand_hourly(
        &self,
        region: &str,
        instance_types: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, f64>, ServiceError>> + Send;

    /// Linux spot prices of these types in these zones over `[start, end)`
    /// (DescribeSpotPriceHistory, paginated), oldest first.
    fn spot_prices(
        &self,
        instance_types: &[String],
        availability_zones: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<SpotPrice>, ServiceError>> + Send;

    /// The catalog entries whose names match these patterns, `*` a wildcard (`m5.*`):
    /// DescribeInstanceTypes with the `instance-type` filter, paginated. A pattern that
    /// matches nothing is no error.
    fn instance_types(
        &self,
        patterns: &[String],
    ) -> impl Future<Output = Result<Vec<InstanceTypeInfo>, ServiceError>> + Send;
}
