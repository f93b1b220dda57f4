//! Savings achieved, not only projected: what a completed change saves a month, measured from
//! the group's capacity before and after it (AWS Compute Optimizer's Automation reports the
//! same "savings achieved" for the actions it applies).
//!
//! The figure is the on-demand cost of the instance-hours the group ran before the change
//! against those it runs after it: (mean in-service instances before × the hourly price of
//! the type before − the same after) × [`HOURS_PER_MONTH`]. A capacity change keeps the type,
//! so only the instances move; a type change (right-sizing) moves the price, and often the
//! count too. A change that added cost (a scale-up) comes out negative, and is reported so:
//! nothing is clamped. Missing capacity data or a missing price is [`NotMeasurable`] with the
//! reason, never a saving of 0.

use std::fmt;

use serde::Serialize;

use crate::HOURS_PER_MONTH;

/// The share of a window's hours that must have a capacity datapoint for its mean to stand
/// for the window: half. Fewer, and a gap (group metrics collection switched off, a new
/// group) could decide the figure.
pub const MIN_COVERAGE: f64 = 0.5;

/// What a change saves a month, as measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Realized {
    /// USD a month, to the cent: positive saved, negative added cost.
    pub monthly_usd: f64,
    /// Mean in-service instances over the window before the change.
    pub instances_before: f64,
    /// Mean in-service instances over the window after it.
    pub instances_after: f64,
}

/// Why a change's savings cannot be measured (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotMeasurable {
    /// Too few hours with a capacity datapoint in the window before the change.
    CapacityBefore {
        /// Hours with a datapoint.
        hours: u32,
        /// Hours needed at least.
        needed: u32,
    },
    /// Too few hours with a capacity datapoint in the window after the change.
    CapacityAfter {
        /// Hours with a datapoint.
        hours: u32,
        /// Hours needed at least.
        needed: u32,
    },
    /// No on-demand price for the type the group ran before the change.
    PriceBefore,
    /// No on-demand price for the type it runs after the change.
    PriceAfter,
}

impl fmt::Display for NotMeasurable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (side, hours, needed) = match *self {
            NotMeasurable::CapacityBefore { hours, needed } => ("before", hours, needed),
            NotMeasurable::CapacityAfter { hours, needed } => ("after", hours, needed),
            NotMeasurable::PriceBefore => {
                return f.write_str("insufficient data: no on-demand price for the type before");
            }
            NotMeasurable::PriceAfter => {
                return f.write_str("insufficient data: no on-demand price for the type after");
            }
        };
        write!(
            f,
            "insufficient data: {hours} of the {needed} hours of GroupInServiceInstances needed \
             {side} the change (is group metrics collection enabled?)"
        )
    }
}

/// The hours of a `window_hours` window that must have a datapoint ([`MIN_COVERAGE`]), at
/// least one.
pub fn hours_needed(window_hours: u32) -> u32 {
    // At most 2^32 hours: exact in f64, and the ceiling fits back.
    ((f64::from(window_hours) * MIN_COVERAGE).ceil() as u32).max(1)
}

/// The mean of the finite, non-negative values when at least `needed` of them are there.
fn mean(values: &[f64], needed: u32) -> Result<f64, u32> {
    let valid: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .collect();
    let hours = u32::try_from(valid.len()).unwrap_or(u32::MAX);
    if hours < needed {
        return Err(hours);
    }
    Ok(valid.iter().sum::<f64>() / f64::from(hours))
}

/// A usable hourly price: finite and above 0.
fn price(p: Option<f64>) -> Option<f64> {
    p.filter(|p| p.is_finite() && *p > 0.0)
}

/// The monthly savings a change reached, from the hourly means of the group's in-service
/// instances over a window of `window_hours` before it (`before`) and after it (`after`),
/// and the on-demand hourly price of the instance type before and after. Positive saved,
/// negative added cost; see [`NotMeasurable`] for when there is no figure.
pub fn realized_savings(
    before: &[f64],
    after: &[f64],
    window_hours: u32,
    price_before: Option<f64>,
    price_after: Option<f64>,
) -> Result<Realized, NotMeasurable> {
    let needed = hours_needed(window_hours);
    let instances_before =
        mean(before, needed).map_err(|hours| NotMeasurable::CapacityBefore { hours, needed })?;
    let instances_after =
        mean(after, needed).map_err(|hours| NotMeasurable::CapacityAfter { hours, needed })?;
    let price_before = price(price_before).ok_or(NotMeasurable::PriceBefore)?;
    let price_after = price(price_after).ok_or(NotMeasurable::PriceAfter)?;
    let hourly = instances_before * price_before - instances_after * price_after;
    Ok(Realized {
        // + 0.0: a change that saved nothing is 0, never "-0".
        monthly_usd: (hourly * HOURS_PER_MONTH * 100.0).round() / 100.0 + 0.0,
        instances_before,
        instances_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(n: usize, value: f64) -> Vec<f64> {
        vec![value; n]
    }

    #[test]
    fn a_scale_down_saves_the_instances_it_removed() {
        // 6 -> 4 m5.large (0.096 $/h): 2 x 0.096 x 730 = 140.16 $.
        let r = realized_savings(
            &hours(24, 6.0),
            &hours(24, 4.0),
            24,
            Some(0.096),
            Some(0.096),
        )
        .unwrap();
        assert_eq!(
            r,
            Realized {
                monthly_usd: 140.16,
                instances_before: 6.0,
                instances_after: 4.0
            }
        );
    }

    #[test]
    fn a_scale_up_is_an_added_cost_not_a_saving() {
        // 4 -> 5 m5.xlarge (0.192 $/h): -1 x 0.192 x 730 = -140.16 $.
        let r = realized_savings(
            &hours(24, 4.0),
            &hours(24, 5.0),
            24,
            Some(0.192),
            Some(0.192),
        )
        .unwrap();
        assert_eq!(r.monthly_usd, -140.16);
    }

    #[test]
    fn a_type_change_saves_the_price_difference_on_what_runs() {
        // 4 x m5.xlarge (0.192) -> 4 x m6g.large (0.077): 4 x 0.115 x 730 = 335.80 $.
        let r = realized_savings(
            &hours(24, 4.0),
            &hours(24, 4.0),
            24,
            Some(0.192),
            Some(0.077),
        )
        .unwrap();
        assert_eq!(r.monthly_usd, 335.8);
        // The means are of what ran: 3.5 on average before (half the day at 3, half at 4).
        let before: Vec<f64> = (0..24).map(|h| if h < 12 { 3.0 } else { 4.0 }).collect();
        let r = realized_savings(&before, &hours(24, 2.0), 24, Some(0.192), Some(0.192)).unwrap();
        assert_eq!(r.instances_before, 3.5);
        // 1.5 x 0.192 x 730 = 210.24 $.
        assert_eq!(r.monthly_usd, 210.24);
    }

    #[test]
    fn nothing_changed_is_zero_not_minus_zero() {
        let r =
            realized_savings(&hours(24, 4.0), &hours(24, 4.0), 24, Some(0.1), Some(0.1)).unwrap();
        assert_eq!(r.monthly_usd.to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn too_few_hours_or_no_price_is_insufficient_data_with_the_reason() {
        let full = hours(24, 4.0);
        assert_eq!(
            realized_savings(&hours(11, 4.0), &full, 24, Some(0.1), Some(0.1)),
            Err(NotMeasurable::CapacityBefore {
                hours: 11,
                needed: 12
            })
        );
        assert_eq!(
            realized_savings(&full, &[], 24, Some(0.1), Some(0.1)),
            Err(NotMeasurable::CapacityAfter {
                hours: 0,
                needed: 12
            })
        );
        // Twelve hours are enough; NaN and negative values are no datapoints.
        let mut half = hours(12, 4.0);
        half.extend([f64::NAN, -1.0]);
        assert!(realized_savings(&half, &full, 24, Some(0.1), Some(0.1)).is_ok());
        assert_eq!(
            realized_savings(&full, &full, 24, None, Some(0.1)),
            Err(NotMeasurable::PriceBefore)
        );
        assert_eq!(
            realized_savings(&full, &full, 24, Some(0.1), Some(0.0)),
            Err(NotMeasurable::PriceAfter)
        );
        assert_eq!(
            NotMeasurable::CapacityAfter {
                hours: 3,
                needed: 12
            }
            .to_string(),
            "insufficient data: 3 of the 12 hours of GroupInServiceInstances needed after the \
             change (is group metrics collection enabled?)"
        );
        assert_eq!(
            NotMeasurable::PriceBefore.to_string(),
            "insufficient data: no on-demand price for the type before"
        );
        assert_eq!(hours_needed(0), 1);
        assert_eq!(hours_needed(25), 13);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn series() -> impl Strategy<Value = Vec<f64>> {
            prop::collection::vec(0.0..200.0f64, 12..=24)
        }

        fn mean(values: &[f64]) -> f64 {
            values.iter().sum::<f64>() / values.len() as f64
        }

        proptest! {
            #[test]
            fn at_one_price_fewer_instances_save_and_more_cost(
                before in series(),
                after in series(),
                price in 0.001..10.0f64,
            ) {
                let r = realized_savings(&before, &after, 24, Some(price), Some(price)).unwrap();
                let (b, a) = (mean(&before), mean(&after));
                // Rounding to the cent may make a tiny difference 0, never flip its sign.
                if a < b {
                    prop_assert!(r.monthly_usd >= 0.0, "{r:?}");
                } else if a > b {
                    prop_assert!(r.monthly_usd <= 0.0, "{r:?}");
                } else {
                    prop_assert_eq!(r.monthly_usd, 0.0);
                }
            }

            #[test]
            fn the_figure_is_the_instance_hours_priced_over_a_month(
                before in series(),
                after in series(),
                price_before in 0.001..10.0f64,
                price_after in 0.001..10.0f64,
            ) {
                let r = realized_savings(&before, &after, 24, Some(price_before), Some(price_after))
                    .unwrap();
                let exact = (mean(&before) * price_before - mean(&after) * price_after) * 730.0;
                prop_assert!((r.monthly_usd - exact).abs() <= 0.005 + exact.abs() * 1e-12, "{r:?} vs {exact}");
                prop_assert!((r.instances_before - mean(&before)).abs() < 1e-9);
                prop_assert!((r.instances_after - mean(&after)).abs() < 1e-9);
            }

            #[test]
            fn undoing_a_change_negates_it_and_prices_scale_it(
                before in series(),
                after in series(),
                price_before in 0.001..10.0f64,
                price_after in 0.001..10.0f64,
                factor in 1u32..10,
            ) {
                let forth = realized_savings(&before, &after, 24, Some(price_before), Some(price_after)).unwrap();
                let back = realized_savings(&after, &before, 24, Some(price_after), Some(price_before)).unwrap();
                prop_assert_eq!(forth.monthly_usd, -back.monthly_usd + 0.0);
                let k = f64::from(factor);
                let scaled = realized_savings(&before, &after, 24, Some(price_before * k), Some(price_after * k)).unwrap();
                prop_assert!((scaled.monthly_usd - forth.monthly_usd * k).abs() <= 0.005 * (k + 1.0), "{scaled:?} vs {forth:?} x {k}");
            }

            #[test]
            fn missing_data_is_never_a_figure(
                before in prop::collection::vec(0.0..200.0f64, 0..12),
                after in series(),
                price in prop::option::of(0.001..10.0f64),
            ) {
                // Under half of a 24-hour window: no figure, whatever the prices.
                prop_assert!(realized_savings(&before, &after, 24, price, price).is_err());
                prop_assert!(realized_savings(&after, &before, 24, price, price).is_err());
                prop_assert!(realized_savings(&after, &after, 24, None, price).is_err());
            }
        }
    }
}
