//! The targets an environment scores against, and the ranges derived from them (docs/scoring.md):
//! CPU, memory and response time for the score, and the two thresholds capacity planning reads,
//! the throughput one instance should serve and the utilization under which a group counts as
//! under-utilized.

use serde::Serialize;

/// An inclusive range of percentages, `low..=high`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Range {
    /// Lower bound, inclusive.
    pub low: f64,
    /// Upper bound, inclusive.
    pub high: f64,
}

impl Range {
    /// Whether `value` lies inside the range, bounds included.
    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

/// Why a set of targets was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TargetError {
    /// A utilization target outside 20..=90 %: the ranges derived from it would leave 0..=100.
    #[error("{field} must be between 20 and 90 (percent), got {value}")]
    UtilizationOutOfRange {
        /// Which target (`cpuUtilizationTarget` or `memoryUtilizationTarget`).
        field: &'static str,
        /// The refused value.
        value: f64,
    },
    /// A percentage outside 0..=100.
    #[error("{field} must be between 0 and 100 (percent), got {value}")]
    PercentOutOfRange {
        /// Which target (`utilizationThreshold`).
        field: &'static str,
        /// The refused value.
        value: f64,
    },
    /// A target that must be a positive number was not.
    #[error("{field} must be a number greater than 0, got {value}")]
    NotPositive {
        /// Which target.
        field: &'static str,
        /// The refused value.
        value: f64,
    },
}

/// The utilization, latency and throughput targets of one environment, validated on
/// construction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Targets {
    cpu_utilization: f64,
    memory_utilization: f64,
    response_time_ms: f64,
    throughput_target: f64,
    utilization_threshold: f64,
}

impl Targets {
    /// Lowest utilization target accepted, in percent.
    pub const MIN_UTILIZATION: f64 = 20.0;
    /// Highest utilization target accepted, in percent.
    pub const MAX_UTILIZATION: f64 = 90.0;

    /// Validated targets: CPU and memory within 20..=90 %, response time > 0 ms, throughput
    /// (requests a minute per instance) > 0, utilization threshold within 0..=100 %. The
    /// configuration's names, in order: `cpuUtilizationTarget`, `memoryUtilizationTarget`,
    /// `responseTimeTarget`, `throughputTarget`, `utilizationThreshold`.
    pub fn new(
        cpu_utilization: f64,
        memory_utilization: f64,
        response_time_ms: f64,
        throughput_target: f64,
        utilization_threshold: f64,
    ) -> Result<Self, TargetError> {
        for (field, value) in [
            ("cpuUtilizationTarget", cpu_utilization),
            ("memoryUtilizationTarget", memory_utilization),
        ] {
            if !(Self::MIN_UTILIZATION..=Self::MAX_UTILIZATION).contains(&value) {
                return Err(TargetError::UtilizationOutOfRange { field, value });
            }
        }
        for (field, value) in [
            ("responseTimeTarget", response_time_ms),
            ("throughputTarget", throughput_target),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(TargetError::NotPositive { field, value });
            }
        }
        if !(0.0..=100.0).contains(&utilization_threshold) {
            return Err(TargetError::PercentOutOfRange {
                field: "utilizationThreshold",
                value: utilization_threshold,
            });
        }
        Ok(Self {
            cpu_utilization,
            memory_utilization,
            response_time_ms,
            throughput_target,
            utilization_threshold,
        })
    }

    /// CPU utilization target, percent.
    pub fn cpu_utilization(&self) -> f64 {
        self.cpu_utilization
    }

    /// Memory utilization target, percent.
    pub fn memory_utilization(&self) -> f64 {
        self.memory_utilization
    }

    /// Response time target, milliseconds.
    pub fn response_time_ms(&self) -> f64 {
        self.response_time_ms
    }

    /// Requests a minute one instance should serve at most (`throughputTarget`), counted from
    /// the load balancer's RequestCount: more per instance asks for capacity.
    pub fn throughput_target(&self) -> f64 {
        self.throughput_target
    }

    /// Utilization under which a group counts as under-utilized, percent
    /// (`utilizationThreshold`): the analyzer's scale-in and right-sizing's smaller
    /// configurations both need the group's CPU under it.
    pub fn utilization_threshold(&self) -> f64 {
        self.utilization_threshold
    }

    /// `[cpuTarget - 10, cpuTarget + 10]`.
    pub fn cpu_range(&self) -> Range {
        Range {
            low: self.cpu_utilization - 10.0,
            high: self.cpu_utilization + 10.0,
        }
    }

    /// `[memTarget - 10, memTarget + 5]`.
    pub fn memory_range(&self) -> Range {
        Range {
            low: self.memory_utilization - 10.0,
            high: self.memory_utilization + 5.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_ranges_are_60_80_and_70_85() {
        let t = Targets::new(70.0, 80.0, 500.0, 1000.0, 60.0).unwrap();
        assert_eq!(
            t.cpu_range(),
            Range {
                low: 60.0,
                high: 80.0
            }
        );
        assert_eq!(
            t.memory_range(),
            Range {
                low: 70.0,
                high: 85.0
            }
        );
    }

    #[test]
    fn utilization_targets_outside_20_to_90_are_refused() {
        assert_eq!(
            Targets::new(19.9, 80.0, 500.0, 1000.0, 60.0),
            Err(TargetError::UtilizationOutOfRange {
                field: "cpuUtilizationTarget",
                value: 19.9
            })
        );
        assert!(Targets::new(70.0, 90.5, 500.0, 1000.0, 60.0).is_err());
        assert!(Targets::new(f64::NAN, 80.0, 500.0, 1000.0, 60.0).is_err());
        assert!(Targets::new(20.0, 90.0, 1.0, 1.0, 0.0).is_ok());
    }

    #[test]
    fn response_time_target_must_be_positive() {
        let err = Targets::new(70.0, 80.0, 0.0, 1000.0, 60.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "responseTimeTarget must be a number greater than 0, got 0"
        );
        assert!(Targets::new(70.0, 80.0, f64::INFINITY, 1000.0, 60.0).is_err());
    }

    #[test]
    fn throughput_target_must_be_positive() {
        assert_eq!(
            Targets::new(70.0, 80.0, 500.0, 0.0, 60.0),
            Err(TargetError::NotPositive {
                field: "throughputTarget",
                value: 0.0
            })
        );
        assert!(Targets::new(70.0, 80.0, 500.0, f64::NAN, 60.0).is_err());
        assert_eq!(
            Targets::new(70.0, 80.0, 500.0, 250.0, 60.0)
                .unwrap()
                .throughput_target(),
            250.0
        );
    }

    #[test]
    fn utilization_threshold_is_a_percentage() {
        let err = Targets::new(70.0, 80.0, 500.0, 1000.0, 100.5).unwrap_err();
        assert_eq!(
            err.to_string(),
            "utilizationThreshold must be between 0 and 100 (percent), got 100.5"
        );
        assert!(Targets::new(70.0, 80.0, 500.0, 1000.0, -1.0).is_err());
        assert!(Targets::new(70.0, 80.0, 500.0, 1000.0, f64::NAN).is_err());
        for bound in [0.0, 100.0] {
            assert_eq!(
                Targets::new(70.0, 80.0, 500.0, 1000.0, bound)
                    .unwrap()
                    .utilization_threshold(),
                bound
            );
        }
    }
}
