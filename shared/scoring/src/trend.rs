//! Least-squares trend of an hourly series, and when a rising one crosses a bound
//! (docs/scoring.md).

use serde::Serialize;

/// Slopes smaller than this (percentage points per hour, either way) count as stable: 0.1 pp/h
/// is 2.4 pp a day, below the noise of an hourly average.
pub const STABLE_SLOPE_PER_HOUR: f64 = 0.1;

/// One datapoint of a series: its time in hours (from any origin) and its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Hours from the series' origin; need not be evenly spaced (missing hours are fine).
    pub hours: f64,
    /// The value, for example CPU utilization in percent.
    pub value: f64,
}

/// Which way a series is heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrendDirection {
    /// Slope above [`STABLE_SLOPE_PER_HOUR`].
    Rising,
    /// Slope within +-[`STABLE_SLOPE_PER_HOUR`].
    Stable,
    /// Slope below -[`STABLE_SLOPE_PER_HOUR`].
    Falling,
}

/// The fitted trend of a series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trend {
    /// Least-squares slope, units per hour.
    pub slope_per_hour: f64,
    /// The fitted value at the latest point.
    pub latest_fitted: f64,
    /// Rising, stable or falling.
    pub direction: TrendDirection,
    /// When rising: hours from the latest point until the fitted line reaches the upper bound
    /// (0 when it is already there). `None` when not rising.
    pub hours_to_upper_bound: Option<f64>,
}

/// Fits `value = a + b * hours` by least squares. `None` with fewer than two distinct times or a
/// non-finite value: no trend can be claimed from that.
pub fn trend(points: &[Point], upper_bound: f64) -> Option<Trend> {
    if points.len() < 2
        || points
            .iter()
            .any(|p| !p.hours.is_finite() || !p.value.is_finite())
    {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.hours).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.value).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.hours - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points
        .iter()
        .map(|p| (p.hours - mean_x) * (p.value - mean_y))
        .sum();
    let slope = sxy / sxx;
    let latest = points
        .iter()
        .map(|p| p.hours)
        .fold(f64::NEG_INFINITY, f64::max);
    let latest_fitted = mean_y + slope * (latest - mean_x);
    let direction = if slope > STABLE_SLOPE_PER_HOUR {
        TrendDirection::Rising
    } else if slope < -STABLE_SLOPE_PER_HOUR {
        TrendDirection::Falling
    } else {
        TrendDirection::Stable
    };
    let hours_to_upper_bound = (direction == TrendDirection::Rising)
        .then(|| ((upper_bound - latest_fitted) / slope).max(0.0));
    Some(Trend {
        slope_per_hour: slope,
        latest_fitted,
        direction,
        hours_to_upper_bound,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[f64]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, &value)| Point {
                hours: i as f64,
                value,
            })
            .collect()
    }

    #[test]
    fn a_straight_rising_line_gives_its_slope_and_crossing_time() {
        // 50, 52, ..., 60 over 5 hours: slope 2 pp/h, at 60 now, 80 is 10 hours away.
        let t = trend(&series(&[50.0, 52.0, 54.0, 56.0, 58.0, 60.0]), 80.0).unwrap();
        assert!((t.slope_per_hour - 2.0).abs() < 1e-12);
        assert!((t.latest_fitted - 60.0).abs() < 1e-12);
        assert_eq!(t.direction, TrendDirection::Rising);
        assert!((t.hours_to_upper_bound.unwrap() - 10.0).abs() < 1e-9);
    }

    #[test]
    fn noisy_series_is_fitted_by_least_squares() {
        // x = 0, 1, 2, 3 (mean 1.5); y = 1, 3, 2, 6 (mean 3)
        // sxy = (-1.5)(-2) + (-0.5)(0) + (0.5)(-1) + (1.5)(3) = 7; sxx = 5 -> slope 1.4
        let t = trend(&series(&[1.0, 3.0, 2.0, 6.0]), 100.0).unwrap();
        assert!((t.slope_per_hour - 1.4).abs() < 1e-12);
        // fitted at x = 3: 3 + 1.4 * 1.5 = 5.1
        assert!((t.latest_fitted - 5.1).abs() < 1e-12);
    }

    #[test]
    fn already_above_the_bound_is_zero_hours_away() {
        let t = trend(&series(&[85.0, 86.0, 87.0]), 80.0).unwrap();
        assert_eq!(t.hours_to_upper_bound, Some(0.0));
    }

    #[test]
    fn flat_and_falling_series_have_no_crossing_time() {
        let flat = trend(&series(&[40.0, 40.05, 40.0, 40.05]), 80.0).unwrap();
        assert_eq!(flat.direction, TrendDirection::Stable);
        assert_eq!(flat.hours_to_upper_bound, None);
        let falling = trend(&series(&[70.0, 60.0, 50.0]), 80.0).unwrap();
        assert_eq!(falling.direction, TrendDirection::Falling);
        assert_eq!(falling.hours_to_upper_bound, None);
    }

    #[test]
    fn gaps_in_the_hours_are_respected() {
        let points = [
            Point {
                hours: 0.0,
                value: 10.0,
            },
            Point {
                hours: 10.0,
                value: 30.0,
            },
        ];
        assert!((trend(&points, 100.0).unwrap().slope_per_hour - 2.0).abs() < 1e-12);
    }

    #[test]
    fn too_few_or_bad_points_give_no_trend() {
        assert!(trend(&series(&[50.0]), 80.0).is_none());
        assert!(trend(&series(&[50.0, f64::NAN]), 80.0).is_none());
        let same_time = [
            Point {
                hours: 1.0,
                value: 1.0,
            },
            Point {
                hours: 1.0,
                value: 2.0,
            },
        ];
        assert!(trend(&same_time, 80.0).is_none());
    }
}
