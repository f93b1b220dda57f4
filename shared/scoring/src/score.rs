//! Sub-scores, the weighted performance score, the efficiency rating and their labels
//! (docs/scoring.md). Every result is clamped to `[0, 100]` and never rounded here: rounding
//! is the display's business.

use serde::Serialize;

use crate::status::MetricStatus;
use crate::targets::{Range, Targets};

// Weights in tenths (0.4, 0.3, 0.2, 0.1): whole numbers add up exactly, so a fleet whose
// every part scores 100 scores exactly 100, not 99.99999999999999.
const CPU_WEIGHT: f64 = 4.0;
const MEMORY_WEIGHT: f64 = 3.0;
const CAPACITY_WEIGHT: f64 = 2.0;
const RESPONSE_TIME_WEIGHT: f64 = 1.0;

fn clamp_score(value: f64) -> f64 {
    value.clamp(0.0, 100.0)
}

/// Shared shape of the CPU and memory sub-scores: 100 inside the range, falling by 50 points
/// over the distance from 0 to the lower bound, and by 100 points over the distance from the
/// upper bound to 100 %.
fn utilization_score(value: f64, range: Range) -> f64 {
    let score = if range.contains(value) {
        100.0
    } else if value < range.low {
        100.0 - (range.low - value) * 50.0 / range.low
    } else {
        100.0 - (value - range.high) * 100.0 / (100.0 - range.high)
    };
    clamp_score(score)
}

/// `cpu(u)`: the CPU sub-score of an average utilization `u` (%) against the CPU range.
pub fn cpu_score(cpu_average: f64, range: Range) -> f64 {
    utilization_score(cpu_average, range)
}

/// `mem(m)`: the memory sub-score, the same shape as [`cpu_score`] over the memory range.
pub fn memory_score(memory_average: f64, range: Range) -> f64 {
    utilization_score(memory_average, range)
}

/// `cap(c)` for `c = 100 * inService / maxSize`: 100 up to 80 %, then 5 points per point over.
pub fn capacity_score(capacity_percent: f64) -> f64 {
    if capacity_percent <= 80.0 {
        100.0
    } else {
        clamp_score(100.0 - (capacity_percent - 80.0) * 5.0)
    }
}

/// `rt(r)` for `r = response / target`: 100 up to the target, then 100 points per target over.
pub fn response_time_score(ratio: f64) -> f64 {
    if ratio <= 1.0 {
        100.0
    } else {
        clamp_score(100.0 - (ratio - 1.0) * 100.0)
    }
}

/// A part of the score whose metric can be unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Part {
    /// `CWAgent` mem_used_percent: absent when the agent is not installed.
    Memory,
    /// Load balancer TargetResponseTime: absent when the group has no target group.
    ResponseTime,
}

impl Part {
    /// The name used in JSON and in messages (`memory`, `responseTime`).
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Memory => "memory",
            Part::ResponseTime => "responseTime",
        }
    }
}

/// The four sub-scores; the optional ones are `None` when their metric is unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubScores {
    /// CPU sub-score.
    pub cpu: f64,
    /// Memory sub-score.
    pub memory: Option<f64>,
    /// Capacity sub-score.
    pub capacity: f64,
    /// Response time sub-score.
    pub response_time: Option<f64>,
}

/// **Performance score** = 0.4 cpu + 0.3 mem + 0.2 cap + 0.1 rt. A missing part's weight is
/// shared among the available parts in proportion to their weights, which is the weighted mean
/// over the parts present.
pub fn performance_score(sub: &SubScores) -> f64 {
    let parts = [
        (CPU_WEIGHT, Some(sub.cpu)),
        (MEMORY_WEIGHT, sub.memory),
        (CAPACITY_WEIGHT, Some(sub.capacity)),
        (RESPONSE_TIME_WEIGHT, sub.response_time),
    ];
    let (weighted, weights) = parts
        .iter()
        .filter_map(|(weight, score)| score.map(|s| (weight * s, *weight)))
        .fold((0.0, 0.0), |(sum, total), (ws, w)| (sum + ws, total + w));
    clamp_score(weighted / weights)
}

/// **Efficiency rating**, exactly as the original design: the mean of resource use (CPU and
/// memory averaged, CPU alone without memory) and capacity use, rated 100 inside 60..=80.
pub fn efficiency_rating(
    cpu_average: f64,
    memory_average: Option<f64>,
    capacity_percent: f64,
) -> f64 {
    let resource = match memory_average {
        Some(memory) => (cpu_average + memory) / 2.0,
        None => cpu_average,
    };
    let average = (resource + capacity_percent) / 2.0;
    let rating = if (60.0..=80.0).contains(&average) {
        100.0
    } else if average < 60.0 {
        average / 60.0 * 100.0
    } else {
        (100.0 - (average - 80.0)).max(0.0)
    };
    clamp_score(rating)
}

/// The word for a score or rating: >= 90 EXCELLENT, >= 75 GOOD, >= 60 FAIR, else POOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Label {
    /// 90 and above.
    Excellent,
    /// 75 to under 90.
    Good,
    /// 60 to under 75.
    Fair,
    /// Under 60.
    Poor,
}

impl Label {
    /// The label of an unrounded score.
    pub fn of(score: f64) -> Self {
        if score >= 90.0 {
            Label::Excellent
        } else if score >= 75.0 {
            Label::Good
        } else if score >= 60.0 {
            Label::Fair
        } else {
            Label::Poor
        }
    }

    /// The label as written in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Excellent => "EXCELLENT",
            Label::Good => "GOOD",
            Label::Fair => "FAIR",
            Label::Poor => "POOR",
        }
    }
}

/// The figures a score is computed from. `None` means the metric had no datapoints.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScoreInput {
    /// CPU utilization average, percent.
    pub cpu_average: Option<f64>,
    /// Memory utilization average, percent.
    pub memory_average: Option<f64>,
    /// In-service instances.
    pub in_service: Option<u32>,
    /// The group's maximum size.
    pub max_size: Option<u32>,
    /// Load balancer response time, milliseconds.
    pub response_time_ms: Option<f64>,
}

/// The result of scoring a group that had enough data.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scored {
    /// 0-100, weighted over the parts available.
    pub performance_score: f64,
    /// 0-100.
    pub efficiency_rating: f64,
    /// Label of the performance score.
    pub performance_label: Label,
    /// Label of the efficiency rating.
    pub efficiency_label: Label,
    /// The four sub-scores.
    pub sub_scores: SubScores,
    /// The parts whose metric was unavailable, whose weight went to the others.
    pub missing: Vec<Part>,
    /// `100 * inService / maxSize`.
    pub capacity_percent: f64,
    /// Status of the CPU average against its range.
    pub cpu_status: MetricStatus,
    /// Status of the memory average against its range, when known.
    pub memory_status: Option<MetricStatus>,
    /// Status of the capacity in use.
    pub capacity_status: MetricStatus,
    /// Status of the response time against its target, when known.
    pub response_time_status: Option<MetricStatus>,
}

/// A score, or the reason there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Assessment {
    /// Enough data to score.
    Scored(Scored),
    /// No CPU datapoints, no capacity figure, or a group with maxSize 0: no score and no
    /// recommendation, never a score of 0.
    InsufficientData {
        /// What was missing, for the operator.
        reason: String,
    },
}

impl Assessment {
    /// Scores `input` against `targets`.
    pub fn of(input: &ScoreInput, targets: &Targets) -> Self {
        let insufficient = |reason: &str| Assessment::InsufficientData {
            reason: reason.to_owned(),
        };
        let Some(cpu_average) = input.cpu_average.filter(|v| v.is_finite()) else {
            return insufficient("no CPU utilization datapoints");
        };
        let (Some(in_service), Some(max_size)) = (input.in_service, input.max_size) else {
            return insufficient("no capacity figure (in-service instances and max size)");
        };
        if max_size == 0 {
            return insufficient("the group's max size is 0");
        }
        let memory_average = input.memory_average.filter(|v| v.is_finite());
        let response_time_ms = input.response_time_ms.filter(|v| v.is_finite());

        let capacity_percent = 100.0 * f64::from(in_service) / f64::from(max_size);
        let sub_scores = SubScores {
            cpu: cpu_score(cpu_average, targets.cpu_range()),
            memory: memory_average.map(|m| memory_score(m, targets.memory_range())),
            capacity: capacity_score(capacity_percent),
            response_time: response_time_ms
                .map(|ms| response_time_score(ms / targets.response_time_ms())),
        };
        let mut missing = Vec::new();
        if memory_average.is_none() {
            missing.push(Part::Memory);
        }
        if response_time_ms.is_none() {
            missing.push(Part::ResponseTime);
        }
        let performance_score = performance_score(&sub_scores);
        let efficiency_rating = efficiency_rating(cpu_average, memory_average, capacity_percent);
        Assessment::Scored(Scored {
            performance_score,
            efficiency_rating,
            performance_label: Label::of(performance_score),
            efficiency_label: Label::of(efficiency_rating),
            sub_scores,
            missing,
            capacity_percent,
            cpu_status: MetricStatus::of_utilization(cpu_average, targets.cpu_range()),
            memory_status: memory_average
                .map(|m| MetricStatus::of_utilization(m, targets.memory_range())),
            capacity_status: MetricStatus::of_capacity(capacity_percent),
            response_time_status: response_time_ms
                .map(|ms| MetricStatus::of_response_time(ms, targets.response_time_ms())),
        })
    }

    /// The scores, when there are any.
    pub fn scored(&self) -> Option<&Scored> {
        match self {
            Assessment::Scored(scored) => Some(scored),
            Assessment::InsufficientData { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EPS: f64 = 1e-9;

    fn production() -> Targets {
        Targets::new(70.0, 80.0, 500.0, 1000.0, 60.0).unwrap()
    }

    fn staging() -> Targets {
        Targets::new(75.0, 85.0, 1000.0, 1000.0, 50.0).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < EPS
    }

    #[test]
    fn cpu_score_is_100_inside_the_range_bounds_included() {
        let r = production().cpu_range();
        for u in [60.0, 70.0, 80.0] {
            assert_eq!(cpu_score(u, r), 100.0);
        }
    }

    #[test]
    fn cpu_score_below_the_range_loses_50_points_over_the_lower_bound() {
        let r = production().cpu_range();
        // 100 - (60 - 30) * 50 / 60 = 75
        assert!(close(cpu_score(30.0, r), 75.0));
        // 100 - 60 * 50 / 60 = 50 at 0 %
        assert!(close(cpu_score(0.0, r), 50.0));
    }

    #[test]
    fn cpu_score_above_the_range_loses_100_points_up_to_full_use() {
        let r = production().cpu_range();
        // 100 - (90 - 80) * 100 / 20 = 50
        assert!(close(cpu_score(90.0, r), 50.0));
        assert!(close(cpu_score(100.0, r), 0.0));
        // Above 100 % (a bad datapoint) the score stays clamped at 0.
        assert_eq!(cpu_score(130.0, r), 0.0);
    }

    #[test]
    fn memory_score_uses_the_asymmetric_memory_range() {
        let r = production().memory_range(); // 70..=85
        assert_eq!(memory_score(85.0, r), 100.0);
        // 100 - (90 - 85) * 100 / 15 = 66.666...
        assert!(close(memory_score(90.0, r), 100.0 - 500.0 / 15.0));
        // 100 - (70 - 35) * 50 / 70 = 75
        assert!(close(memory_score(35.0, r), 75.0));
    }

    #[test]
    fn capacity_score_drops_5_points_per_point_over_80_percent() {
        assert_eq!(capacity_score(80.0), 100.0);
        assert!(close(capacity_score(90.0), 50.0));
        assert_eq!(capacity_score(100.0), 0.0);
        assert_eq!(capacity_score(150.0), 0.0);
    }

    #[test]
    fn response_time_score_drops_100_points_per_target_over() {
        assert_eq!(response_time_score(1.0), 100.0);
        assert!(close(response_time_score(1.25), 75.0));
        assert_eq!(response_time_score(3.0), 0.0);
    }

    #[test]
    fn efficiency_rating_follows_the_original_three_branches() {
        // resource (65 + 75) / 2 = 70, capacity 50 -> avg 60 -> 100
        assert_eq!(efficiency_rating(65.0, Some(75.0), 50.0), 100.0);
        // resource 20 (CPU alone), capacity 40 -> avg 30 -> 50
        assert!(close(efficiency_rating(20.0, None, 40.0), 50.0));
        // resource 95, capacity 100 -> avg 97.5 -> 100 - 17.5 = 82.5
        assert!(close(efficiency_rating(95.0, Some(95.0), 100.0), 82.5));
        // avg 190 (bad datapoints) -> max(100 - 110, 0) = 0
        assert_eq!(efficiency_rating(280.0, None, 100.0), 0.0);
    }

    #[test]
    fn labels_use_the_90_75_60_thresholds_on_unrounded_values() {
        assert_eq!(Label::of(90.0), Label::Excellent);
        assert_eq!(Label::of(89.999), Label::Good);
        assert_eq!(Label::of(75.0), Label::Good);
        assert_eq!(Label::of(74.99), Label::Fair);
        assert_eq!(Label::of(60.0), Label::Fair);
        assert_eq!(Label::of(59.99), Label::Poor);
    }

    #[test]
    fn staging_example_from_the_issue_is_scored_by_hand() {
        // staging: CPU 65-85, memory 75-90, response 1000 ms.
        // cpu(83) = 100; mem(71) = 100 - 4 * 50 / 75; cap(75) = 100; rt(0.9) = 100.
        let input = ScoreInput {
            cpu_average: Some(83.0),
            memory_average: Some(71.0),
            in_service: Some(3),
            max_size: Some(4),
            response_time_ms: Some(900.0),
        };
        let scored = Assessment::of(&input, &staging())
            .scored()
            .cloned()
            .unwrap();
        let mem = 100.0 - 4.0 * 50.0 / 75.0;
        assert!(close(scored.sub_scores.memory.unwrap(), mem));
        assert!(close(
            scored.performance_score,
            0.4 * 100.0 + 0.3 * mem + 0.2 * 100.0 + 0.1 * 100.0
        ));
        // resource 77, capacity 75 -> avg 76 -> 100
        assert_eq!(scored.efficiency_rating, 100.0);
        assert!(scored.missing.is_empty());
        assert_eq!(scored.memory_status, Some(MetricStatus::Low));
    }

    #[test]
    fn missing_memory_shares_its_weight_in_proportion() {
        // production; cpu(90) = 50, cap(50) = 100, rt(1.5) = 50, memory missing.
        let input = ScoreInput {
            cpu_average: Some(90.0),
            memory_average: None,
            in_service: Some(2),
            max_size: Some(4),
            response_time_ms: Some(750.0),
        };
        let scored = Assessment::of(&input, &production())
            .scored()
            .cloned()
            .unwrap();
        let expected = (0.4 * 50.0 + 0.2 * 100.0 + 0.1 * 50.0) / 0.7;
        assert!(close(scored.performance_score, expected));
        assert_eq!(scored.missing, vec![Part::Memory]);
        assert_eq!(scored.memory_status, None);
    }

    #[test]
    fn perfect_parts_score_exactly_100_whatever_is_missing() {
        for (memory, response) in [(None, None), (Some(75.0), None), (None, Some(100.0))] {
            let input = ScoreInput {
                cpu_average: Some(70.0),
                memory_average: memory,
                in_service: Some(2),
                max_size: Some(10),
                response_time_ms: response,
            };
            let scored = Assessment::of(&input, &production())
                .scored()
                .cloned()
                .unwrap();
            assert_eq!(scored.performance_score, 100.0);
        }
    }

    #[test]
    fn missing_memory_and_response_time_leave_cpu_and_capacity() {
        let input = ScoreInput {
            cpu_average: Some(30.0),
            in_service: Some(9),
            max_size: Some(10),
            ..ScoreInput::default()
        };
        let scored = Assessment::of(&input, &production())
            .scored()
            .cloned()
            .unwrap();
        // cpu 75, cap(90) = 50 -> (0.4 * 75 + 0.2 * 50) / 0.6
        assert!(close(scored.performance_score, (30.0 + 10.0) / 0.6));
        assert_eq!(scored.missing, vec![Part::Memory, Part::ResponseTime]);
    }

    #[test]
    fn no_cpu_no_capacity_or_zero_max_size_is_insufficient_data() {
        let full = ScoreInput {
            cpu_average: Some(50.0),
            in_service: Some(1),
            max_size: Some(2),
            ..ScoreInput::default()
        };
        for input in [
            ScoreInput {
                cpu_average: None,
                ..full
            },
            ScoreInput {
                cpu_average: Some(f64::NAN),
                ..full
            },
            ScoreInput {
                max_size: None,
                ..full
            },
            ScoreInput {
                in_service: None,
                ..full
            },
            ScoreInput {
                in_service: Some(0),
                max_size: Some(0),
                ..full
            },
        ] {
            assert!(matches!(
                Assessment::of(&input, &production()),
                Assessment::InsufficientData { .. }
            ));
        }
        assert!(Assessment::of(&full, &production()).scored().is_some());
    }

    fn any_targets() -> impl Strategy<Value = Targets> {
        (20.0..=90.0f64, 20.0..=90.0f64, 1.0..5000.0f64)
            .prop_map(|(c, m, r)| Targets::new(c, m, r, 1000.0, 60.0).unwrap())
    }

    proptest! {
        #[test]
        fn scores_stay_within_0_and_100(
            targets in any_targets(),
            cpu in -50.0..250.0f64,
            memory in proptest::option::of(-50.0..250.0f64),
            max_size in 1u32..500,
            in_service in 0u32..1000,
            response in proptest::option::of(0.0..100_000.0f64),
        ) {
            let input = ScoreInput {
                cpu_average: Some(cpu),
                memory_average: memory,
                in_service: Some(in_service),
                max_size: Some(max_size),
                response_time_ms: response,
            };
            let scored = Assessment::of(&input, &targets).scored().cloned().unwrap();
            for value in [
                scored.performance_score,
                scored.efficiency_rating,
                scored.sub_scores.cpu,
                scored.sub_scores.capacity,
                scored.sub_scores.memory.unwrap_or(50.0),
                scored.sub_scores.response_time.unwrap_or(50.0),
            ] {
                prop_assert!((0.0..=100.0).contains(&value), "{value} out of [0, 100]");
            }
        }
    }
}
