//! Changing an Auto Scaling group's size, and reading what its last scaling activity did: what
//! the optimization engine needs beyond [`FleetDirectory`](crate::FleetDirectory).

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::ServiceError;

/// The AWS error code of a SetDesiredCapacity refused because an activity is in progress or
/// the group is in its cooldown: a "not now", never a "never".
pub const SCALING_ACTIVITY_IN_PROGRESS: &str = "ScalingActivityInProgress";

/// Where a scaling activity stands (the Auto Scaling `StatusCode`, reduced to what the engine
/// decides on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityStatus {
    /// Still running (every status before a final one: pending, waiting for a spot request,
    /// for instance warm-up, for ELB connection draining, `InProgress`, ...).
    InProgress,
    /// `Successful`.
    Successful,
    /// `Failed`.
    Failed,
    /// `Cancelled`.
    Cancelled,
}

impl ActivityStatus {
    /// The status for an Auto Scaling `StatusCode`.
    pub fn from_code(code: &str) -> Self {
        match code {
            "Successful" => ActivityStatus::Successful,
            "Failed" => ActivityStatus::Failed,
            "Cancelled" => ActivityStatus::Cancelled,
            _ => ActivityStatus::InProgress,
        }
    }

    /// The Auto Scaling word for it (`InProgress` for every status before a final one).
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityStatus::InProgress => "InProgress",
            ActivityStatus::Successful => "Successful",
            ActivityStatus::Failed => "Failed",
            ActivityStatus::Cancelled => "Cancelled",
        }
    }

    /// Whether the activity has ended.
    pub fn is_finished(self) -> bool {
        self != ActivityStatus::InProgress
    }
}

/// A group's most recent scaling activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingActivity {
    /// ActivityId.
    pub id: String,
    /// Where it stands.
    pub status: ActivityStatus,
    /// StartTime.
    pub start: DateTime<Utc>,
    /// EndTime, once it ended.
    pub end: Option<DateTime<Utc>>,
    /// Description, or StatusMessage when it failed.
    pub description: String,
}

/// Scales Auto Scaling groups.
pub trait FleetControl {
    /// The group's most recent scaling activity, if it has any (DescribeScalingActivities,
    /// one record).
    fn last_activity(
        &self,
        group: &str,
    ) -> impl Future<Output = Result<Option<ScalingActivity>, ServiceError>> + Send;

    /// SetDesiredCapacity. With `honor_cooldown`, AWS refuses the change while an activity is
    /// in progress or the cooldown runs, with the code [`SCALING_ACTIVITY_IN_PROGRESS`].
    fn set_desired_capacity(
        &self,
        group: &str,
        desired: u32,
        honor_cooldown: bool,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}
