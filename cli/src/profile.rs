//! A group's 24-hour CPU profile (docs/scoring.md, "Cycles"): the mean of its hourly CPU
//! maxima at each hour of the day (UTC) over the last 14 days, with the strength of its daily
//! and weekly cycles. Read in one GetMetricData request for every group (one query a group, the
//! cost optimizer's CPU peak query); shown as a sparkline in the terminal and a chart in the
//! report.

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, DurationRound, Utc};
use fleetopt_ports::{GroupInfo, MetricsSource, TimeWindow};
use fleetopt_scoring::{Cycle, DemandHour, cycles};
use fleetopt_snapshot::{cpu_peak_queries, hourly_demand};
use serde::{Deserialize, Serialize};

/// Days of hours a profile stands on.
pub const PROFILE_DAYS: i64 = 14;

/// A group's 24-hour profile, or why there is none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DayProfile {
    /// Mean CPU maximum at each hour of the day, percent (hour 0 = 00:00 UTC); empty without
    /// enough data.
    pub hourly: Vec<f64>,
    /// The share of the hourly CPU's variance the daily profile explains, 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub daily_strength: Option<f64>,
    /// The share the day-of-week profile explains on top, 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub weekly_strength: Option<f64>,
    /// Hours with a CPU datapoint.
    pub hours: usize,
    /// Why there is no profile.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

impl DayProfile {
    /// The profile of these hours.
    pub fn of(demand: &[DemandHour]) -> DayProfile {
        let cpu: Vec<(i64, f64)> = demand.iter().map(|h| (h.hour, h.cpu)).collect();
        let found = cycles(&cpu);
        let (hourly, daily_strength, reason) = match found.daily {
            Cycle::Found(p) => (p.means, Some(p.strength), None),
            Cycle::InsufficientData { reason } => (Vec::new(), None, Some(reason)),
        };
        DayProfile {
            hourly,
            daily_strength,
            weekly_strength: found.weekly.profile().map(|p| p.strength),
            hours: cpu.len(),
            reason,
        }
    }

    /// The profile as one line: `▁▁▁▂▅▇██▇▆… 12-78 % (daily cycle 91 %)`, or why there is none.
    pub fn line(&self) -> String {
        let (Some(low), Some(high)) = (
            self.hourly.iter().copied().reduce(f64::min),
            self.hourly.iter().copied().reduce(f64::max),
        ) else {
            return format!(
                "no profile: {}",
                self.reason.as_deref().unwrap_or("no hourly CPU data")
            );
        };
        let weekly = self
            .weekly_strength
            .map_or(String::new(), |w| format!(", weekly {:.0} %", w * 100.0));
        format!(
            "{} {low:.0}-{high:.0} % (00-23 UTC; daily cycle {:.0} %{weekly}, {} hours)",
            sparkline(&self.hourly),
            self.daily_strength.unwrap_or_default() * 100.0,
            self.hours
        )
    }
}

/// Values as block characters from their lowest (▁) to their highest (█).
pub fn sparkline(values: &[f64]) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values
        .iter()
        .map(|v| {
            let share = if high > low {
                (v - low) / (high - low)
            } else {
                0.0
            };
            // In 0..=7 by the clamp: the cast cannot truncate.
            BLOCKS[(share * 7.0).round().clamp(0.0, 7.0) as usize]
        })
        .collect()
}

/// Every group's profile over the last [`PROFILE_DAYS`] days, in one read.
pub async fn read<M: MetricsSource + Sync>(
    metrics: &M,
    groups: &[GroupInfo],
    now: DateTime<Utc>,
) -> Result<Vec<DayProfile>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let end = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let window = TimeWindow {
        start: end - Duration::days(PROFILE_DAYS),
        end,
    };
    let results = metrics
        .read(&window, &cpu_peak_queries(groups))
        .await
        .context("reading the hourly CPU of the last 14 days (GetMetricData)")?;
    Ok(groups
        .iter()
        .enumerate()
        .map(|(i, g)| DayProfile::of(&hourly_demand(&results, i, g.desired)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_draws_its_hours_and_says_why_when_there_is_none() {
        assert_eq!(sparkline(&[0.0, 50.0, 100.0]), "▁▅█");
        assert_eq!(sparkline(&[3.0, 3.0]), "▁▁");
        let days: Vec<DemandHour> = (0..14 * 24)
            .map(|h| DemandHour {
                hour: h,
                cpu: if (7..20).contains(&(h % 24)) {
                    60.0
                } else {
                    10.0
                },
                instances: 4.0,
            })
            .collect();
        let p = DayProfile::of(&days);
        assert_eq!(p.hourly.len(), 24);
        assert_eq!((p.hourly[3], p.hourly[12]), (10.0, 60.0));
        assert_eq!(p.daily_strength, Some(1.0));
        let expected = format!(
            "{}{}{} 10-60 % (00-23 UTC; daily cycle 100 %",
            "▁".repeat(7),
            "█".repeat(13),
            "▁".repeat(4)
        );
        assert!(p.line().starts_with(&expected), "{}", p.line());
        let short = DayProfile::of(&days[..48]);
        assert!(short.hourly.is_empty());
        assert!(
            short.line().starts_with("no profile: a daily cycle needs"),
            "{}",
            short.line()
        );
    }
}
