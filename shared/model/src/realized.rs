//! Savings achieved by a completed change, as stored on its item (`realizedSavings`): the
//! monthly figure the cost optimizer measured from the group's capacity and the on-demand
//! prices before and after the change, with the figures it came from, so that a person can
//! check it against CloudWatch. And the one rule for "savings achieved in the last 30 days"
//! that `fleetopt cost`, the report and the RealizedSavings metric share.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::recommendation::{Recommendation, parse_time};
use crate::status::Status;

/// How far back "savings achieved" looks: changes completed in the last 30 days.
pub const ACHIEVED_DAYS: i64 = 30;

/// What a completed change saves a month, measured after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RealizedSavings {
    /// USD a month, to the cent: positive saved, negative added cost (a scale-up).
    pub monthly_usd: f64,
    /// Mean in-service instances over the window before the change
    /// (AWS/AutoScaling GroupInServiceInstances).
    pub instances_before: f64,
    /// Mean in-service instances over the window after it.
    pub instances_after: f64,
    /// On-demand price of the type before, USD per hour.
    pub hourly_price_before: f64,
    /// On-demand price of the type after, USD per hour.
    pub hourly_price_after: f64,
    /// The instance type before the change.
    pub instance_type_before: String,
    /// The instance type after it (the same for a capacity change).
    pub instance_type_after: String,
    /// Length of each window, hours.
    pub window_hours: u32,
    /// End of the window before, RFC 3339 UTC: the hour the change could first have begun.
    pub before_window_end: String,
    /// Start of the window after, RFC 3339 UTC: the first whole hour after it completed.
    pub after_window_start: String,
    /// When it was measured, RFC 3339 UTC.
    pub measured_at: String,
}

impl Recommendation {
    /// When it reached COMPLETED (the last time).
    pub fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.status_history
            .iter()
            .rev()
            .find(|c| c.to == Status::Completed)
            .and_then(|c| parse_time(&c.at))
    }

    /// When the change it completed could first have begun: the status change just before
    /// COMPLETED, which is the engine's claim (IN_PROGRESS, made right before it calls Auto
    /// Scaling) or the approval a person acted on (APPROVED). `None` when it never completed.
    pub fn change_began_at(&self) -> Option<DateTime<Utc>> {
        let done = self
            .status_history
            .iter()
            .rposition(|c| c.to == Status::Completed)?;
        let began = self.status_history.get(done.checked_sub(1)?)?;
        parse_time(&began.at)
    }
}

/// The savings completed changes achieved: those COMPLETED in the [`ACHIEVED_DAYS`] before
/// `now` with a measured `realizedSavings`.
#[derive(Debug, Clone, PartialEq)]
pub struct Achieved<'a> {
    /// Their monthly savings together, USD to the cent (negative when they added cost).
    pub monthly_usd: f64,
    /// The changes, as given.
    pub items: Vec<&'a Recommendation>,
}

/// The changes among `items` that count as savings achieved at `now`, and their sum.
pub fn savings_achieved(items: &[Recommendation], now: DateTime<Utc>) -> Achieved<'_> {
    let since = now - Duration::days(ACHIEVED_DAYS);
    let items: Vec<&Recommendation> = items
        .iter()
        .filter(|r| r.status == Status::Completed && r.realized_savings.is_some())
        .filter(|r| r.completed_at().is_some_and(|t| t > since && t <= now))
        .collect();
    let sum: f64 = items
        .iter()
        .filter_map(|r| r.realized_savings.as_ref())
        .map(|s| s.monthly_usd)
        .sum();
    Achieved {
        // + 0.0: the sum of nothing is 0, never "-0".
        monthly_usd: (sum * 100.0).round() / 100.0 + 0.0,
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommendation::tests::sample_scale_up;
    use crate::samples::realized_savings as realized;

    /// The sample scale-up claimed at `began` and completed at `done`.
    fn completed(began: DateTime<Utc>, done: DateTime<Utc>) -> Recommendation {
        sample_scale_up()
            .transitioned(Status::InProgress, began, "optimization-engine", None)
            .unwrap()
            .transitioned(Status::Completed, done, "optimization-engine", None)
            .unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        parse_time(text).unwrap()
    }

    #[test]
    fn the_change_began_at_the_status_before_completed_and_ended_there() {
        let r = completed(at("2026-11-23T09:05:00Z"), at("2026-11-23T09:20:00Z"));
        assert_eq!(r.change_began_at(), Some(at("2026-11-23T09:05:00Z")));
        assert_eq!(r.completed_at(), Some(at("2026-11-23T09:20:00Z")));
        // A person's change: from the approval to `fleetopt done`.
        let manual = sample_scale_up()
            .transitioned(
                Status::AwaitingApproval,
                at("2026-11-23T09:03:00Z"),
                "e",
                None,
            )
            .unwrap()
            .transitioned(Status::Approved, at("2026-11-23T11:00:00Z"), "alice", None)
            .unwrap()
            .transitioned(Status::Completed, at("2026-11-24T08:00:00Z"), "alice", None)
            .unwrap();
        assert_eq!(manual.change_began_at(), Some(at("2026-11-23T11:00:00Z")));
        assert_eq!(manual.completed_at(), Some(at("2026-11-24T08:00:00Z")));
        let open = sample_scale_up();
        assert_eq!((open.completed_at(), open.change_began_at()), (None, None));
    }

    #[test]
    fn savings_achieved_count_measured_changes_completed_in_the_last_30_days() {
        let now = at("2026-12-20T06:00:00Z");
        let mut recent = completed(now - Duration::days(3), now - Duration::days(2));
        recent.id = "rec-recent".into();
        recent.realized_savings = Some(realized(140.16));
        let mut added = completed(now - Duration::days(6), now - Duration::days(5));
        added.id = "rec-added".into();
        added.realized_savings = Some(realized(-70.08));
        let mut old = completed(now - Duration::days(32), now - Duration::days(31));
        old.realized_savings = Some(realized(999.0));
        let unmeasured = completed(now - Duration::days(3), now - Duration::days(2));
        let mut rolled_back = recent
            .transitioned(Status::RolledBack, now, "optimization-engine", None)
            .unwrap();
        rolled_back.id = "rec-rolled-back".into();
        let items = [recent, added, old, unmeasured, rolled_back];
        let achieved = savings_achieved(&items, now);
        let ids: Vec<&str> = achieved.items.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["rec-recent", "rec-added"]);
        assert_eq!(achieved.monthly_usd, 70.08);
        let none = savings_achieved(&[], now);
        assert_eq!(none.monthly_usd.to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn realized_savings_round_trip_under_camel_case_keys() {
        let mut r = completed(at("2026-11-23T09:05:00Z"), at("2026-11-23T09:20:00Z"));
        r.realized_savings = Some(realized(-140.16));
        let item = r.to_item().unwrap();
        let Some(serde_dynamo::AttributeValue::M(saved)) = item.get("realizedSavings") else {
            panic!("no realizedSavings map in {item:?}");
        };
        for key in [
            "monthlyUsd",
            "instancesBefore",
            "instancesAfter",
            "hourlyPriceBefore",
            "hourlyPriceAfter",
            "instanceTypeBefore",
            "instanceTypeAfter",
            "windowHours",
            "beforeWindowEnd",
            "afterWindowStart",
            "measuredAt",
        ] {
            assert!(saved.contains_key(key), "missing {key} in {saved:?}");
        }
        assert_eq!(
            saved.get("monthlyUsd"),
            Some(&serde_dynamo::AttributeValue::N("-140.16".into()))
        );
        assert_eq!(Recommendation::from_item(item).unwrap(), r);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["realizedSavings"]["instanceTypeAfter"], "m5.xlarge");
    }
}
