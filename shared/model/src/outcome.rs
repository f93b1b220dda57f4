//! What an applied change did: the performance score and CPU before (the recommendation's
//! evidence) and one analysis interval after it completed (CloudWatch), and the verdict.

use serde::{Deserialize, Serialize};

/// How many score points a change must move the performance score to count as better or
/// worse; smaller moves are noise between two hourly analyses.
pub const SCORE_MARGIN: f64 = 5.0;

/// Whether a change helped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutcomeVerdict {
    /// The score rose by at least [`SCORE_MARGIN`].
    Improved,
    /// Within [`SCORE_MARGIN`] either way.
    Unchanged,
    /// The score fell by at least [`SCORE_MARGIN`].
    Worse,
}

impl OutcomeVerdict {
    /// The name written in DynamoDB and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeVerdict::Improved => "IMPROVED",
            OutcomeVerdict::Unchanged => "UNCHANGED",
            OutcomeVerdict::Worse => "WORSE",
        }
    }
}

/// The measured outcome of a completed change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeOutcome {
    /// Performance score the recommendation was computed with.
    pub score_before: f64,
    /// Performance score the analyzer published for the interval after the change.
    pub score_after: f64,
    /// CPU average the recommendation was computed with, percent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cpu_before: Option<f64>,
    /// CPU average over the interval after the change, percent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cpu_after: Option<f64>,
    /// The verdict ([`judge`]).
    pub verdict: OutcomeVerdict,
    /// When it was measured, RFC 3339 UTC.
    pub measured_at: String,
}

/// IMPROVED when the score rose by [`SCORE_MARGIN`] or more, WORSE when it fell by as much,
/// UNCHANGED in between.
pub fn judge(score_before: f64, score_after: f64) -> OutcomeVerdict {
    let delta = score_after - score_before;
    if delta >= SCORE_MARGIN {
        OutcomeVerdict::Improved
    } else if delta <= -SCORE_MARGIN {
        OutcomeVerdict::Worse
    } else {
        OutcomeVerdict::Unchanged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_points_either_way_decide_the_verdict() {
        assert_eq!(judge(60.0, 65.0), OutcomeVerdict::Improved);
        assert_eq!(judge(60.0, 64.9), OutcomeVerdict::Unchanged);
        assert_eq!(judge(60.0, 55.1), OutcomeVerdict::Unchanged);
        assert_eq!(judge(60.0, 55.0), OutcomeVerdict::Worse);
        assert_eq!(
            serde_json::to_string(&OutcomeVerdict::Worse).unwrap(),
            "\"WORSE\""
        );
    }
}
