//! Where a metric stands against its target (docs/scoring.md).

use serde::Serialize;

use crate::targets::Range;

/// CPU or memory at or above this percentage is CRITICAL, whatever the range.
pub const CRITICAL_UTILIZATION: f64 = 90.0;

/// A metric's standing: OPTIMAL inside its range, LOW below, HIGH above, CRITICAL at the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MetricStatus {
    /// Inside the range.
    Optimal,
    /// Below the range.
    Low,
    /// Above the range.
    High,
    /// At or beyond the hard limit.
    Critical,
}

impl MetricStatus {
    /// CPU or memory: CRITICAL at >= 90 % (even where a high target puts 90 inside the range),
    /// otherwise LOW / OPTIMAL / HIGH against the range.
    pub fn of_utilization(value: f64, range: Range) -> Self {
        if value >= CRITICAL_UTILIZATION {
            MetricStatus::Critical
        } else if value < range.low {
            MetricStatus::Low
        } else if value > range.high {
            MetricStatus::High
        } else {
            MetricStatus::Optimal
        }
    }

    /// Capacity in use (`100 * inService / maxSize`): our choice, mirroring the capacity
    /// sub-score: OPTIMAL up to 80 %, HIGH above, CRITICAL when exhausted (>= 100 %).
    pub fn of_capacity(percent: f64) -> Self {
        if percent >= 100.0 {
            MetricStatus::Critical
        } else if percent > 80.0 {
            MetricStatus::High
        } else {
            MetricStatus::Optimal
        }
    }

    /// Response time: our choice, mirroring the HIGH-priority rule of section 6: OPTIMAL up to
    /// the target, HIGH above it, CRITICAL above 1.5 x the target.
    pub fn of_response_time(ms: f64, target_ms: f64) -> Self {
        if ms > 1.5 * target_ms {
            MetricStatus::Critical
        } else if ms > target_ms {
            MetricStatus::High
        } else {
            MetricStatus::Optimal
        }
    }

    /// The status as written in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricStatus::Optimal => "OPTIMAL",
            MetricStatus::Low => "LOW",
            MetricStatus::High => "HIGH",
            MetricStatus::Critical => "CRITICAL",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPU: Range = Range {
        low: 60.0,
        high: 80.0,
    };

    #[test]
    fn utilization_status_covers_every_band() {
        assert_eq!(MetricStatus::of_utilization(59.9, CPU), MetricStatus::Low);
        assert_eq!(
            MetricStatus::of_utilization(60.0, CPU),
            MetricStatus::Optimal
        );
        assert_eq!(
            MetricStatus::of_utilization(80.0, CPU),
            MetricStatus::Optimal
        );
        assert_eq!(MetricStatus::of_utilization(80.1, CPU), MetricStatus::High);
        assert_eq!(
            MetricStatus::of_utilization(90.0, CPU),
            MetricStatus::Critical
        );
    }

    #[test]
    fn critical_wins_even_inside_a_high_range() {
        let development_memory = Range {
            low: 80.0,
            high: 95.0,
        };
        assert_eq!(
            MetricStatus::of_utilization(92.0, development_memory),
            MetricStatus::Critical
        );
    }

    #[test]
    fn capacity_and_response_time_statuses() {
        assert_eq!(MetricStatus::of_capacity(80.0), MetricStatus::Optimal);
        assert_eq!(MetricStatus::of_capacity(90.0), MetricStatus::High);
        assert_eq!(MetricStatus::of_capacity(100.0), MetricStatus::Critical);
        assert_eq!(
            MetricStatus::of_response_time(500.0, 500.0),
            MetricStatus::Optimal
        );
        assert_eq!(
            MetricStatus::of_response_time(750.0, 500.0),
            MetricStatus::High
        );
        assert_eq!(
            MetricStatus::of_response_time(751.0, 500.0),
            MetricStatus::Critical
        );
    }
}
