//! Daily and weekly cycles in an hourly series (docs/scoring.md, "Cycles").
//!
//! The method is a seasonal profile and the share of variance it explains, the "seasonal
//! strength" of classical decomposition:
//! - **Daily.** The hour-of-day profile is the mean of the series at each hour of the day (UTC).
//!   Its strength is `1 - SS_within / SS_total`: the share of the series' variance around its
//!   mean that the 24 hourly means explain (0: none, 1: every day repeats exactly).
//! - **Weekly.** The day-of-week profile is the mean, for each day of the week, of what the daily
//!   profile leaves (the series minus its hour-of-day mean), so a daily cycle does not pass for a
//!   weekly one. Its strength is the share of the series' variance around its mean that those 7
//!   means explain.
//!
//! Noise explains a little by chance (about `(k - 1) / (n - 1)` for `k` means over `n` hours:
//! 0.07 for the daily profile over 14 days), so a cycle counts as strong from
//! [`STRONG_CYCLE`]. A profile needs enough data to stand on: every hour of the day seen on at
//! least [`MIN_DAYS_DAILY`] days, every day of the week at least [`MIN_WEEKS_WEEKLY`] times.
//!
//! Hours are Unix hours (seconds since 1970-01-01T00:00:00Z divided by 3600), so this module
//! needs no clock and no calendar.

use serde::{Deserialize, Serialize};

/// Days each hour of the day must be seen for a daily profile.
pub const MIN_DAYS_DAILY: usize = 7;
/// Dates each day of the week must be seen on for a weekly profile.
pub const MIN_WEEKS_WEEKLY: usize = 2;
/// The strength from which a cycle counts as strong.
pub const STRONG_CYCLE: f64 = 0.5;
/// Below this variance (percentage points squared) a series is flat: no cycle at all.
const FLAT_VARIANCE: f64 = 1e-9;

/// A profile and how much of the series it explains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The means: 24 (hour of day, 0 = 00:00 to 01:00 UTC) or 7 (day of week, 0 = Monday).
    /// For the weekly profile, each day's mean departure from the daily profile.
    pub means: Vec<f64>,
    /// The share of the series' variance the profile explains, 0 to 1.
    pub strength: f64,
    /// The hours it stands on.
    pub hours: usize,
}

impl Profile {
    /// Whether the cycle is strong ([`STRONG_CYCLE`]).
    pub fn is_strong(&self) -> bool {
        self.strength >= STRONG_CYCLE
    }
}

/// A profile, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum Cycle {
    /// Enough data: the profile.
    Found(Profile),
    /// Not enough data to tell: why.
    InsufficientData {
        /// What is missing.
        reason: String,
    },
}

impl Cycle {
    /// The profile, when there is one.
    pub fn profile(&self) -> Option<&Profile> {
        match self {
            Cycle::Found(p) => Some(p),
            Cycle::InsufficientData { .. } => None,
        }
    }
}

/// A series' daily and weekly cycles.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cycles {
    /// The hour-of-day profile.
    pub daily: Cycle,
    /// The day-of-week profile.
    pub weekly: Cycle,
}

/// The hour of the day (0-23, UTC) of a Unix hour.
pub fn hour_of_day(unix_hour: i64) -> usize {
    // rem_euclid(24) is in 0..24: the cast cannot truncate.
    unix_hour.rem_euclid(24) as usize
}

/// The day of the week (0 = Monday) of a Unix hour: 1970-01-01 was a Thursday.
pub fn day_of_week(unix_hour: i64) -> usize {
    (unix_hour.div_euclid(24) + 3).rem_euclid(7) as usize
}

/// Means of `values` grouped by `key` into `k` buckets, with their counts.
fn bucket_means(series: &[(i64, f64)], k: usize, key: impl Fn(i64) -> usize) -> Vec<(f64, usize)> {
    let mut sums = vec![(0.0, 0usize); k];
    for &(h, v) in series {
        let b = &mut sums[key(h) % k];
        b.0 += v;
        b.1 += 1;
    }
    sums.into_iter()
        .map(|(sum, n)| (if n == 0 { 0.0 } else { sum / n as f64 }, n))
        .collect()
}

/// The share of `total` (a sum of squares) that a residual sum of squares `within` leaves
/// explained, in 0..=1; 0 for a flat series.
fn explained(total: f64, within: f64) -> f64 {
    if total <= FLAT_VARIANCE {
        return 0.0;
    }
    (1.0 - within / total).clamp(0.0, 1.0)
}

/// The daily and weekly cycles of an hourly series: `(unix hour, value)`, one value an hour
/// (duplicated hours count twice; missing hours are simply absent).
pub fn cycles(series: &[(i64, f64)]) -> Cycles {
    let finite: Vec<(i64, f64)> = series
        .iter()
        .copied()
        .filter(|(_, v)| v.is_finite())
        .collect();
    let n = finite.len();
    let mean = if n == 0 {
        0.0
    } else {
        finite.iter().map(|(_, v)| v).sum::<f64>() / n as f64
    };
    let total: f64 = finite.iter().map(|(_, v)| (v - mean).powi(2)).sum();

    let hourly = bucket_means(&finite, 24, hour_of_day);
    let fewest_days = hourly.iter().map(|(_, n)| *n).min().unwrap_or(0);
    let daily = if fewest_days < MIN_DAYS_DAILY {
        Cycle::InsufficientData {
            reason: format!(
                "a daily cycle needs every hour of the day on at least {MIN_DAYS_DAILY} days; the \
                 least seen was seen on {fewest_days}"
            ),
        }
    } else {
        let within: f64 = finite
            .iter()
            .map(|&(h, v)| (v - hourly[hour_of_day(h)].0).powi(2))
            .sum();
        Cycle::Found(Profile {
            means: hourly.iter().map(|(m, _)| *m).collect(),
            strength: explained(total, within),
            hours: n,
        })
    };

    // What the daily profile leaves, by day of the week (without a daily profile, the series
    // around its mean).
    let residual: Vec<(i64, f64)> = finite
        .iter()
        .map(|&(h, v)| {
            let base = match &daily {
                Cycle::Found(p) => p.means[hour_of_day(h)],
                Cycle::InsufficientData { .. } => mean,
            };
            (h, v - base)
        })
        .collect();
    let by_day = bucket_means(&residual, 7, day_of_week);
    // How many distinct dates each day of the week was seen on.
    let mut dates: [std::collections::BTreeSet<i64>; 7] = Default::default();
    for &(h, _) in &finite {
        dates[day_of_week(h)].insert(h.div_euclid(24));
    }
    let fewest_weeks = dates.iter().map(|d| d.len()).min().unwrap_or(0);
    let weekly = if fewest_weeks < MIN_WEEKS_WEEKLY {
        Cycle::InsufficientData {
            reason: format!(
                "a weekly cycle needs every day of the week at least {MIN_WEEKS_WEEKLY} times; the \
                 least seen was seen {fewest_weeks} time(s)"
            ),
        }
    } else {
        // The variance the day-of-week means remove from what the daily profile left.
        let before: f64 = residual.iter().map(|(_, r)| r.powi(2)).sum();
        let after: f64 = residual
            .iter()
            .map(|&(h, r)| (r - by_day[day_of_week(h)].0).powi(2))
            .sum();
        Cycle::Found(Profile {
            means: by_day.iter().map(|(m, _)| *m).collect(),
            strength: explained(total, total - (before - after)),
            hours: n,
        })
    };
    Cycles { daily, weekly }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Monday 2026-11-16 00:00 UTC as a Unix hour.
    const MONDAY: i64 = 1_794_787_200 / 3600;

    fn series(days: i64, mut f: impl FnMut(i64) -> f64) -> Vec<(i64, f64)> {
        (0..days * 24).map(|i| (MONDAY + i, f(i))).collect()
    }

    fn strength(c: &Cycle) -> f64 {
        c.profile().unwrap().strength
    }

    #[test]
    fn the_calendar_of_unix_hours() {
        assert_eq!((hour_of_day(MONDAY), day_of_week(MONDAY)), (0, 0));
        assert_eq!(day_of_week(MONDAY + 24 * 5 + 13), 5);
        assert_eq!(hour_of_day(MONDAY + 24 * 5 + 13), 13);
        // 1970-01-01 (hour 0) was a Thursday; the hour before it a Wednesday at 23:00.
        assert_eq!(
            (day_of_week(0), hour_of_day(-1), day_of_week(-1)),
            (3, 23, 2)
        );
    }

    #[test]
    fn a_pure_daily_sine_is_all_daily_cycle() {
        // 50 % +- 30 around the day, peaking at 06:00: 14 days.
        let s = series(14, |i| {
            50.0 + 30.0 * (2.0 * std::f64::consts::PI * (i % 24) as f64 / 24.0).sin()
        });
        let c = cycles(&s);
        let daily = c.daily.profile().unwrap();
        assert!((daily.strength - 1.0).abs() < 1e-12, "{daily:?}");
        assert!(daily.is_strong());
        assert!((daily.means[6] - 80.0).abs() < 1e-9 && (daily.means[18] - 20.0).abs() < 1e-9);
        assert!((daily.means[0] - 50.0).abs() < 1e-9);
        assert_eq!(daily.hours, 336);
        // Nothing is left for a weekly cycle.
        assert!(strength(&c.weekly) < 1e-12);
    }

    #[test]
    fn a_flat_series_has_no_cycle() {
        let c = cycles(&series(14, |_| 42.0));
        assert_eq!(strength(&c.daily), 0.0);
        assert_eq!(strength(&c.weekly), 0.0);
        assert!(c.daily.profile().unwrap().means.iter().all(|m| *m == 42.0));
    }

    #[test]
    fn noise_explains_only_what_chance_does() {
        // A fixed linear congruential generator: uniform in 0..100.
        let mut x: u64 = 12_345;
        let s = series(14, |_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 33) as f64 / (1u64 << 31) as f64 * 100.0
        });
        let c = cycles(&s);
        // Chance alone: about 23/335 = 0.07 daily, 6/335 = 0.02 weekly.
        assert!(strength(&c.daily) < 0.15, "{:?}", c.daily);
        assert!(strength(&c.weekly) < 0.06, "{:?}", c.weekly);
        assert!(!c.daily.profile().unwrap().is_strong());
    }

    #[test]
    fn a_weekly_only_pattern_is_weekly_not_daily() {
        // 70 % on weekdays, 20 % at the weekend, the same all day long.
        let s = series(28, |i| if (i / 24) % 7 < 5 { 70.0 } else { 20.0 });
        let c = cycles(&s);
        assert!(strength(&c.daily) < 1e-12, "{:?}", c.daily);
        let weekly = c.weekly.profile().unwrap();
        assert!((weekly.strength - 1.0).abs() < 1e-12, "{weekly:?}");
        // Each weekday sits 70 - 55.71 above the mean of all hours, a weekend day 35.71 below.
        let mean = (5.0 * 70.0 + 2.0 * 20.0) / 7.0;
        assert!((weekly.means[0] - (70.0 - mean)).abs() < 1e-9);
        assert!((weekly.means[6] - (20.0 - mean)).abs() < 1e-9);
    }

    #[test]
    fn a_daily_and_a_weekly_cycle_split_the_variance() {
        // A daily square wave of +-10 and a weekend drop of 20: hand-computed shares.
        let s = series(28, |i| {
            let day = if (i % 24) < 12 { 10.0 } else { -10.0 };
            let week = if (i / 24) % 7 < 5 { 0.0 } else { -20.0 };
            50.0 + day + week
        });
        let c = cycles(&s);
        // Variance: daily 100; weekly 20^2 x (5/7)(2/7) = 81.63; total 181.63.
        let total = 100.0 + 400.0 * 10.0 / 49.0;
        assert!(
            (strength(&c.daily) - 100.0 / total).abs() < 1e-9,
            "{:?}",
            c.daily
        );
        assert!(
            (strength(&c.weekly) - (total - 100.0) / total).abs() < 1e-9,
            "{:?}",
            c.weekly
        );
    }

    #[test]
    fn too_little_data_is_insufficient_not_a_cycle() {
        let c = cycles(&series(5, |i| (i % 24) as f64));
        assert!(matches!(&c.daily, Cycle::InsufficientData { reason } if reason.contains("on 5")));
        assert!(matches!(c.weekly, Cycle::InsufficientData { .. }));
        // A week is enough for the daily profile, not for the weekly one.
        let c = cycles(&series(7, |i| (i % 24) as f64));
        assert!(c.daily.profile().is_some());
        assert!(
            matches!(&c.weekly, Cycle::InsufficientData { reason } if reason.contains("1 time"))
        );
        // Values that are not numbers are left out, never counted as 0.
        let mut s = series(14, |_| 30.0);
        s[5].1 = f64::NAN;
        assert_eq!(cycles(&s).daily.profile().unwrap().hours, 335);
        assert!(cycles(&[]).daily.profile().is_none());
    }
}
