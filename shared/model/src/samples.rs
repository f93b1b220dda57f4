//! Sample values for tests, here and in the crates that test against the model (the `samples`
//! feature, which fleetopt-ports' `fakes` turns on).

use crate::RealizedSavings;

/// A measured figure: 4 -> 5 m5.xlarge (0.192 $/h) over 24-hour windows around 2026-11-23
/// 09:00-10:00, measured two days later, saving `monthly_usd` a month.
pub fn realized_savings(monthly_usd: f64) -> RealizedSavings {
    RealizedSavings {
        monthly_usd,
        instances_before: 4.0,
        instances_after: 5.0,
        hourly_price_before: 0.192,
        hourly_price_after: 0.192,
        instance_type_before: "m5.xlarge".into(),
        instance_type_after: "m5.xlarge".into(),
        window_hours: 24,
        before_window_end: "2026-11-23T09:00:00Z".into(),
        after_window_start: "2026-11-23T10:00:00Z".into(),
        measured_at: "2026-11-25T06:00:00Z".into(),
    }
}
