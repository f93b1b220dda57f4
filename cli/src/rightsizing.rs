//! How `fleetopt cost` and `fleetopt report` show a right-sizing recommendation's ranked options
//! (issue 10, stored in its evidence as `rightSizing`): one row per option in rank order, with
//! the same cells in the terminal table and the HTML report.

use fleetopt_scoring::{
    Architecture, MigrationEffort, RightSizing, RightSizingAction, RightSizingOption,
};

/// The columns, in order.
pub const HEADERS: [&str; 8] = [
    "Rank",
    "Configuration",
    "Projected CPU %",
    "Projected memory %",
    "Risk (0-4)",
    "Savings (USD/month)",
    "Savings %",
    "Effort",
];

/// Columns holding numbers (right-aligned).
pub const NUMERIC: [bool; 8] = [true, false, true, true, true, true, true, false];

/// What the option runs: `4 x m6g.large (arm64)`, `2 x m5.xlarge (fewer instances)`,
/// `1 x m5.large (scale in the idle group)`.
pub fn configuration(o: &RightSizingOption) -> String {
    let what = match o.action {
        RightSizingAction::ChangeInstanceType => match o.architecture {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        },
        RightSizingAction::ReduceCapacity => "fewer instances",
        RightSizingAction::ScaleInIdleGroup => "scale in the idle group",
    };
    format!("{} x {} ({what})", o.desired_capacity, o.instance_type)
}

/// VERY_LOW, LOW or MEDIUM, as Compute Optimizer writes them.
pub fn effort(e: MigrationEffort) -> &'static str {
    match e {
        MigrationEffort::VeryLow => "VeryLow",
        MigrationEffort::Low => "Low",
        MigrationEffort::Medium => "Medium",
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or("n/a".to_owned(), |v| format!("{v:.1}"))
}

/// One option's cells, in [`HEADERS`] order.
pub fn cells(o: &RightSizingOption) -> [String; 8] {
    [
        o.rank.to_string(),
        configuration(o),
        percent(o.projected_cpu_percent),
        percent(o.projected_memory_percent),
        o.performance_risk.to_string(),
        format!("{:.2}", o.monthly_savings_usd),
        format!("{:.1}", o.savings_percent),
        effort(o.migration_effort).to_owned(),
    ]
}

/// The figures the options were sized from: `CPU p99.5 of hourly maxima 25.0 %, memory
/// 35.0 %, over 336 hours of the last 14 days`.
pub fn basis(r: &RightSizing) -> String {
    let memory = match r.memory_percent {
        Some(m) => format!("memory {m:.1} %"),
        None => "no memory metric".to_owned(),
    };
    format!(
        "CPU {} of hourly maxima {}, {memory}, over {} hours of the last {} days{}",
        r.percentile,
        r.cpu_percent
            .map_or("n/a".to_owned(), |c| format!("{c:.1} %")),
        r.cpu_hours,
        r.lookback_days,
        if r.idle { " (idle)" } else { "" }
    )
}

/// The options' notes, each once, in rank order.
pub fn notes(r: &RightSizing) -> Vec<String> {
    let mut notes: Vec<String> = Vec::new();
    for note in r.options.iter().flat_map(|o| &o.notes) {
        if !notes.contains(note) {
            notes.push(note.clone());
        }
    }
    if r.saturating > 0 {
        notes.push(format!(
            "{} more configuration(s) fit at the percentile but are not offered: replayed hour \
             by hour, they would have run too many of the lookback's hours above 90 % CPU",
            r.saturating
        ));
    }
    notes
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use fleetopt_scoring::{CpuPercentile, RightSizingStatus};

    pub(crate) fn sample() -> RightSizing {
        let option = |rank, action, instance_type: &str, architecture, desired, saving, effort| {
            RightSizingOption {
                rank,
                action,
                instance_type: instance_type.to_owned(),
                architecture,
                vcpus: 2,
                memory_mib: 8192,
                desired_capacity: desired,
                hourly_usd: 0.308,
                projected_cpu_percent: Some(50.0),
                projected_memory_percent: Some(70.0),
                performance_risk: 0,
                monthly_savings_usd: saving,
                savings_percent: 59.9,
                migration_effort: effort,
                notes: if architecture == Architecture::Arm64 {
                    vec!["arm64 (Graviton): the AMI must support arm64".to_owned()]
                } else {
                    Vec::new()
                },
                backtest: None,
            }
        };
        RightSizing {
            status: RightSizingStatus::OptionsFound,
            percentile: CpuPercentile::P99_5,
            lookback_days: 14,
            cpu_hours: 336,
            cpu_percent: Some(25.0),
            memory_percent: Some(35.0),
            idle: false,
            utilization_threshold: Some(60.0),
            saturating: 0,
            options: vec![
                option(
                    1,
                    RightSizingAction::ChangeInstanceType,
                    "m6g.large",
                    Architecture::Arm64,
                    4,
                    335.8,
                    MigrationEffort::Medium,
                ),
                option(
                    2,
                    RightSizingAction::ReduceCapacity,
                    "m5.xlarge",
                    Architecture::X86_64,
                    2,
                    280.32,
                    MigrationEffort::VeryLow,
                ),
            ],
        }
    }

    #[test]
    fn an_option_reads_as_its_configuration_figures_and_effort() {
        let r = sample();
        assert_eq!(
            cells(&r.options[0]),
            [
                "1",
                "4 x m6g.large (arm64)",
                "50.0",
                "70.0",
                "0",
                "335.80",
                "59.9",
                "Medium"
            ]
        );
        assert_eq!(
            configuration(&r.options[1]),
            "2 x m5.xlarge (fewer instances)"
        );
        assert_eq!(
            basis(&r),
            "CPU p99.5 of hourly maxima 25.0 %, memory 35.0 %, over 336 hours of the last 14 days"
        );
        assert_eq!(notes(&r), ["arm64 (Graviton): the AMI must support arm64"]);
    }
}
