//! How a proposal's backtest (docs/scoring.md, "Backtests") and a schedule's actions are shown:
//! the same rows in the terminal (`fleetopt recommendations --id`) and the report.

use fleetopt_model::Recommendation;
use fleetopt_scoring::{Backtest, Backtests, Schedule};

/// The columns of a backtest table, in order.
pub const HEADERS: [&str; 8] = [
    "Configuration",
    "Hours",
    "CPU p50 %",
    "p95 %",
    "p99 %",
    "max %",
    "Hours over target",
    "Hours over 90 %",
];

/// One configuration's cells, in [`HEADERS`] order.
pub fn cells(name: &str, b: &Backtest) -> [String; 8] {
    [
        name.to_owned(),
        b.hours.to_string(),
        format!("{:.1}", b.cpu_p50),
        format!("{:.1}", b.cpu_p95),
        format!("{:.1}", b.cpu_p99),
        format!("{:.1}", b.cpu_max),
        b.hours_over_target.to_string(),
        b.hours_over_90.to_string(),
    ]
}

/// The two rows: the configuration as it ran (actual) and the proposal (projected).
pub fn rows(b: &Backtests) -> [[String; 8]; 2] {
    [
        cells("actual (as it ran)", &b.current),
        cells("projected (proposal)", &b.proposed),
    ]
}

/// What the backtest covers, in one sentence.
pub fn basis(b: &Backtests) -> String {
    format!(
        "each of the last {} hours replayed with its demand (CPU peak x instances in service) \
         conserved; a proposal may run at most {} % of its hours over 90 % CPU",
        b.current.hours, b.max_saturated_percent
    )
}

/// A schedule's actions, one line each.
pub fn actions(s: &Schedule) -> Vec<String> {
    s.actions
        .iter()
        .map(|a| {
            format!(
                "{}: {} ({}), desired {}, min {}, max {}",
                a.action_name(),
                a.recurrence,
                a.starts,
                a.desired_capacity,
                a.min_size,
                a.max_size
            )
        })
        .collect()
}

/// The recommendation's schedule and backtest as terminal text (empty without either).
pub fn text(r: &Recommendation) -> String {
    let mut text = String::new();
    if let Some(s) = &r.evidence.schedule {
        text.push_str("Scheduled actions (cron, UTC):\n");
        for line in actions(s) {
            text.push_str(&format!("  {line}\n"));
        }
        if !s.cpu_profile.is_empty() {
            text.push_str(&format!(
                "24-hour CPU profile: {} (00-23 UTC)\n",
                crate::profile::sparkline(&s.cpu_profile)
            ));
        }
    }
    if let Some(b) = &r.evidence.backtest {
        let mut table = comfy_table::Table::new();
        table
            .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_header(HEADERS);
        for row in rows(b) {
            table.add_row(row);
        }
        text.push_str(&format!("Backtest: {}.\n{table}\n", basis(b)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_shows_its_actions_and_its_backtest_as_a_table() {
        let mut r = fleetopt_ports::fakes::contract::scheduled_sample("web", 9);
        let b = |p50, max, over| Backtest {
            hours: 336,
            cpu_p50: p50,
            cpu_p95: max,
            cpu_p99: max,
            cpu_max: max,
            hours_over_target: over,
            hours_over_90: 0,
        };
        r.evidence.backtest = Some(Backtests {
            current: b(30.0, 60.0, 0),
            proposed: b(45.5, 60.0, 2),
            max_saturated_percent: 1.0,
        });
        let shown = text(&r);
        assert!(
            shown.contains("fleetopt-quiet: 0 20 * * * (), desired 2, min 2, max 10"),
            "{shown}"
        );
        assert!(shown.contains("last 336 hours"), "{shown}");
        for cell in [
            "actual (as it ran)",
            "projected (proposal)",
            "45.5",
            "Hours over 90 %",
        ] {
            assert!(shown.contains(cell), "{cell}: {shown}");
        }
        r.evidence.schedule = None;
        r.evidence.backtest = None;
        assert_eq!(text(&r), "");
    }
}
