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

/// A group's scheduled action (PutScheduledUpdateGroupAction): from each time its recurrence
/// names on, the group runs these sizes; a size not given stays as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledAction {
    /// AutoScalingGroupName.
    pub group: String,
    /// ScheduledActionName (unique within the group).
    pub name: String,
    /// Recurrence, cron in UTC.
    pub recurrence: Option<String>,
    /// MinSize.
    pub min_size: Option<u32>,
    /// MaxSize.
    pub max_size: Option<u32>,
    /// DesiredCapacity.
    pub desired_capacity: Option<u32>,
    /// EndTime: the action does not recur after it.
    pub end_time: Option<DateTime<Utc>>,
}

/// A scheduled action a batch call did not put or delete, with Auto Scaling's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionFailure {
    /// ScheduledActionName.
    pub name: String,
    /// The AWS error code.
    pub code: String,
    /// The AWS error message.
    pub message: String,
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

    /// Puts (creates or replaces, by name) the group's scheduled actions in one
    /// BatchPutScheduledUpdateGroupAction call per 50; the actions Auto Scaling refused come
    /// back, the others are in place.
    fn put_scheduled_actions(
        &self,
        group: &str,
        actions: &[ScheduledAction],
    ) -> impl Future<Output = Result<Vec<ActionFailure>, ServiceError>> + Send;

    /// Deletes the group's scheduled actions of these names in one BatchDeleteScheduledAction
    /// call per 50; the ones Auto Scaling could not delete come back (an action that does not
    /// exist is not a failure: it is gone).
    fn delete_scheduled_actions(
        &self,
        group: &str,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<ActionFailure>, ServiceError>> + Send;
}
