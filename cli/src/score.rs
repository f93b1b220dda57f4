//! `fleetopt score`: the section 5 scores of the figures given, with no AWS call.

use anyhow::Result;
use clap::CommandFactory;
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use fleetopt_config::Environment;
use fleetopt_scoring::{Assessment, MetricStatus, Part, ScoreInput, Scored, SubScores, Targets};
use serde::Serialize;

use crate::cli::{Cli, Global, Output, ScoreArgs};

/// The JSON document `score --output json` prints. Keys are stable.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreReport {
    environment: &'static str,
    performance_score: f64,
    efficiency_rating: f64,
    performance_label: &'static str,
    efficiency_label: &'static str,
    sub_scores: SubScores,
    missing: Vec<Part>,
    capacity_percent: f64,
    statuses: Statuses,
    targets: TargetsReport,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Statuses {
    cpu: MetricStatus,
    memory: Option<MetricStatus>,
    capacity: MetricStatus,
    response_time: Option<MetricStatus>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TargetsReport {
    cpu_utilization: f64,
    cpu_range: [f64; 2],
    memory_utilization: f64,
    memory_range: [f64; 2],
    response_time_ms: f64,
}

/// Runs `fleetopt score`; invalid input exits 2 through clap, like every usage error.
pub fn run(global: &Global, args: &ScoreArgs) -> Result<()> {
    if args.in_service > args.max_size {
        Cli::command()
            .error(
                clap::error::ErrorKind::ValueValidation,
                format!(
                    "--in-service {} is above --max-size {}: a group cannot have more instances \
                     in service than its max size",
                    args.in_service, args.max_size
                ),
            )
            .exit();
    }
    let targets = targets(global.environment, args);
    let report = report(global.environment, &targets, args);
    match global.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Table => print!("{}", table(&report, args)),
    }
    Ok(())
}

fn targets(environment: Environment, args: &ScoreArgs) -> Targets {
    let preset = environment.preset().targets;
    let cpu = args.cpu_target.unwrap_or(preset.cpu_utilization());
    let memory = args.memory_target.unwrap_or(preset.memory_utilization());
    let response = args.response_target_ms.unwrap_or(preset.response_time_ms());
    // Scoring reads neither the throughput target nor the utilization threshold: the preset's
    // stand. The value parsers enforce the same ranges as `Targets::new`, so this cannot fail;
    // should the two ever disagree, refuse as a usage error rather than panic.
    Targets::new(
        cpu,
        memory,
        response,
        preset.throughput_target(),
        preset.utilization_threshold(),
    )
    .unwrap_or_else(|e| {
        Cli::command()
            .error(clap::error::ErrorKind::ValueValidation, e.to_string())
            .exit()
    })
}

fn report(environment: Environment, targets: &Targets, args: &ScoreArgs) -> ScoreReport {
    let input = ScoreInput {
        cpu_average: Some(args.cpu_avg),
        memory_average: args.memory_avg,
        in_service: Some(args.in_service),
        max_size: Some(args.max_size),
        response_time_ms: args.response_ms,
    };
    let scored: Scored = match Assessment::of(&input, targets) {
        Assessment::Scored(scored) => scored,
        // Every input that reaches here has CPU and max size >= 1 (checked by the parsers).
        Assessment::InsufficientData { reason } => Cli::command()
            .error(clap::error::ErrorKind::ValueValidation, reason)
            .exit(),
    };
    let cpu = targets.cpu_range();
    let memory = targets.memory_range();
    ScoreReport {
        environment: environment.as_str(),
        performance_score: scored.performance_score,
        efficiency_rating: scored.efficiency_rating,
        performance_label: scored.performance_label.as_str(),
        efficiency_label: scored.efficiency_label.as_str(),
        sub_scores: scored.sub_scores,
        missing: scored.missing,
        capacity_percent: scored.capacity_percent,
        statuses: Statuses {
            cpu: scored.cpu_status,
            memory: scored.memory_status,
            capacity: scored.capacity_status,
            response_time: scored.response_time_status,
        },
        targets: TargetsReport {
            cpu_utilization: targets.cpu_utilization(),
            cpu_range: [cpu.low, cpu.high],
            memory_utilization: targets.memory_utilization(),
            memory_range: [memory.low, memory.high],
            response_time_ms: targets.response_time_ms(),
        },
    }
}

fn table(report: &ScoreReport, args: &ScoreArgs) -> String {
    let t = &report.targets;
    let mut metrics = Table::new();
    metrics.load_preset(UTF8_FULL_CONDENSED);
    metrics.set_header(["Metric", "Value", "Target", "Status", "Sub-score"]);
    let unavailable = || {
        vec![
            "n/a".to_owned(),
            "-".to_owned(),
            "no data (weight shared)".to_owned(),
        ]
    };
    let mut row = |name: &str, cells: Vec<String>| {
        let mut line = vec![Cell::new(name)];
        for (i, text) in cells.into_iter().enumerate() {
            let cell = Cell::new(text);
            line.push(if i == 0 || i == 3 {
                cell.set_alignment(CellAlignment::Right)
            } else {
                cell
            });
        }
        metrics.add_row(line);
    };
    row(
        "CPU average",
        vec![
            format!("{:.1} %", args.cpu_avg),
            format!("{:.0}-{:.0} %", t.cpu_range[0], t.cpu_range[1]),
            report.statuses.cpu.as_str().to_owned(),
            format!("{:.1}", report.sub_scores.cpu),
        ],
    );
    row(
        "Memory average",
        match (
            args.memory_avg,
            report.statuses.memory,
            report.sub_scores.memory,
        ) {
            (Some(value), Some(status), Some(score)) => vec![
                format!("{value:.1} %"),
                format!("{:.0}-{:.0} %", t.memory_range[0], t.memory_range[1]),
                status.as_str().to_owned(),
                format!("{score:.1}"),
            ],
            _ => {
                let mut cells = unavailable();
                cells.insert(
                    1,
                    format!("{:.0}-{:.0} %", t.memory_range[0], t.memory_range[1]),
                );
                cells
            }
        },
    );
    row(
        "Capacity in use",
        vec![
            format!(
                "{:.1} % ({}/{})",
                report.capacity_percent, args.in_service, args.max_size
            ),
            "<= 80 %".to_owned(),
            report.statuses.capacity.as_str().to_owned(),
            format!("{:.1}", report.sub_scores.capacity),
        ],
    );
    row(
        "Response time",
        match (
            args.response_ms,
            report.statuses.response_time,
            report.sub_scores.response_time,
        ) {
            (Some(value), Some(status), Some(score)) => vec![
                format!("{value:.0} ms"),
                format!("<= {:.0} ms", t.response_time_ms),
                status.as_str().to_owned(),
                format!("{score:.1}"),
            ],
            _ => {
                let mut cells = unavailable();
                cells.insert(1, format!("<= {:.0} ms", t.response_time_ms));
                cells
            }
        },
    );

    let mut summary = Table::new();
    summary.load_preset(UTF8_FULL_CONDENSED);
    summary.add_row([
        Cell::new("Performance score"),
        Cell::new(format!("{:.1}", report.performance_score)).set_alignment(CellAlignment::Right),
        Cell::new(report.performance_label),
    ]);
    summary.add_row([
        Cell::new("Efficiency rating"),
        Cell::new(format!("{:.1}", report.efficiency_rating)).set_alignment(CellAlignment::Right),
        Cell::new(report.efficiency_label),
    ]);

    let mut out = format!(
        "Performance assessment with {} targets\n{metrics}\n{summary}\n",
        report.environment
    );
    if !report.missing.is_empty() {
        let names: Vec<&str> = report.missing.iter().map(|p| p.as_str()).collect();
        out.push_str(&format!(
            "Missing: {} (weight shared among the other parts)\n",
            names.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(memory: Option<f64>, response: Option<f64>) -> ScoreArgs {
        ScoreArgs {
            cpu_avg: 83.0,
            memory_avg: memory,
            in_service: 3,
            max_size: 4,
            response_ms: response,
            cpu_target: None,
            memory_target: None,
            response_target_ms: None,
        }
    }

    #[test]
    fn json_report_has_the_keys_of_section_12() {
        let a = args(Some(71.0), Some(900.0));
        let targets = targets(Environment::Staging, &a);
        let value = serde_json::to_value(report(Environment::Staging, &targets, &a)).unwrap();
        for key in [
            "performanceScore",
            "efficiencyRating",
            "performanceLabel",
            "efficiencyLabel",
            "subScores",
            "missing",
        ] {
            assert!(value.get(key).is_some(), "missing key {key}");
        }
        assert_eq!(value["subScores"]["responseTime"], 100.0);
        assert_eq!(
            value["targets"]["cpuRange"],
            serde_json::json!([65.0, 85.0])
        );
        assert_eq!(value["missing"], serde_json::json!([]));
    }

    #[test]
    fn overrides_replace_the_preset_targets() {
        let mut a = args(None, None);
        a.cpu_target = Some(50.0);
        let t = targets(Environment::Production, &a);
        assert_eq!(t.cpu_range().high, 60.0);
        assert_eq!(t.memory_utilization(), 80.0);
    }

    #[test]
    fn table_shows_value_status_and_label_and_names_missing_parts() {
        let a = args(None, Some(900.0));
        let t = targets(Environment::Production, &a);
        let text = table(&report(Environment::Production, &t, &a), &a);
        assert!(text.contains("Performance assessment with production targets"));
        assert!(text.contains("83.0 %"));
        assert!(text.contains("60-80 %"));
        assert!(text.contains("HIGH"));
        assert!(text.contains("CRITICAL"));
        assert!(text.contains("no data (weight shared)"));
        assert!(text.contains("Missing: memory"));
    }
}
