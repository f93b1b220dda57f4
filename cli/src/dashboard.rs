//! `fleetopt dashboard`: the seven widgets of the CloudWatch dashboard (docs/construct.md) in
//! the terminal, with sparklines over `--period` hours, and the deployed dashboard's console
//! address.

use anyhow::Result;
use chrono::{DateTime, Utc};
use comfy_table::{Cell, CellAlignment, Color, Table, presets::UTF8_FULL_CONDENSED};

use crate::cli::{Global, HistoryArgs, Output};
use crate::history::{Datapoint, FleetHistory, GroupView, read};
use crate::recommendations::OWN;
use crate::terminal::{Tone, bold, colors};

/// Columns of a sparkline at most.
const SPARK_COLUMNS: i64 = 24;
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// A stretch of time with no datapoint: never drawn as 0.
const NO_DATA: char = '·';

/// Runs `fleetopt dashboard`.
pub async fn run(global: &Global, args: &HistoryArgs) -> Result<()> {
    let history = read(global, args, 0).await?;
    match global.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&history)?),
        Output::Table => print!("{}", render(&history, colors())),
    }
    Ok(())
}

/// A sparkline of `series` over `[start, end)`: one column per equal slice of time (at most 24,
/// at least one per datapoint period), each the mean of its datapoints scaled to `[low, high]`.
pub fn sparkline(
    series: &[Datapoint],
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    period_seconds: u32,
    (low, high): (f64, f64),
) -> String {
    let span = (end - start).num_seconds().max(1);
    let columns = (span / i64::from(period_seconds.max(1))).clamp(1, SPARK_COLUMNS);
    let width = span as f64 / columns as f64;
    let mut sums = vec![(0.0, 0u32); columns as usize];
    for p in series {
        let offset = (p.timestamp - start).num_seconds();
        if offset < 0 || offset >= span {
            continue;
        }
        let column = ((offset as f64 / width) as usize).min(sums.len() - 1);
        sums[column].0 += p.value;
        sums[column].1 += 1;
    }
    sums.iter()
        .map(|(sum, n)| {
            if *n == 0 {
                return NO_DATA;
            }
            let fraction =
                ((sum / f64::from(*n) - low) / (high - low).max(f64::EPSILON)).clamp(0.0, 1.0);
            BARS[(fraction * 7.0).round() as usize]
        })
        .collect()
}

fn number(value: Option<f64>, unit: &str) -> String {
    value.map_or_else(|| "no data".to_owned(), |v| format!("{v:.1}{unit}"))
}

fn toned(text: String, word: Option<&str>, colors: bool) -> Cell {
    let cell = Cell::new(text).set_alignment(CellAlignment::Right);
    match (colors, word.map(Tone::of)) {
        (true, Some(Tone::Good)) => cell.fg(Color::Green),
        (true, Some(Tone::Warn)) => cell.fg(Color::Yellow),
        (true, Some(Tone::Bad)) => cell.fg(Color::Red),
        _ => cell,
    }
}

fn with_word(value: Option<f64>, unit: &str, word: Option<&str>) -> String {
    match (value, word) {
        (Some(_), Some(w)) => format!("{} {w}", number(value, unit)),
        _ => number(value, unit),
    }
}

fn trend_note(slope: Option<f64>) -> String {
    // Rounded to what is shown, and -0.00 shown as +0.00.
    match slope.map(|s| (s * 100.0).round() / 100.0 + 0.0) {
        None => String::new(),
        Some(s) if s.abs() <= fleetopt_scoring::STABLE_SLOPE_PER_HOUR => {
            format!("stable ({s:+.2} points/h)")
        }
        Some(s) if s > 0.0 => format!("rising {s:+.2} points/h"),
        Some(s) => format!("falling {s:+.2} points/h"),
    }
}

fn group_rows(table: &mut Table, h: &FleetHistory, g: &GroupView, colors: bool) {
    let window = (h.window.start, h.window.end);
    let spark = |series: &[Datapoint], scale: (f64, f64)| {
        sparkline(series, window, h.period_seconds, scale)
    };
    let percent = (0.0, 100.0);
    let l = &g.latest;
    let cpu_note = g.cpu_time_in_range.as_ref().map_or_else(String::new, |t| {
        format!(
            "in range {:.0} %, below {:.0} %, above {:.0} % of the time",
            t.inside, t.below, t.above
        )
    });
    let capacity = &g.capacity;
    let capacity_note = if g.series.in_service.is_empty() {
        "now; no group metrics in the period (group metrics collection off?)"
    } else {
        "now (in service/desired); the line: in service, scaled to max"
    };
    let rows: [(String, String, Cell, String); 6] = [
        (
            "Performance score".into(),
            spark(&g.series.performance_score, percent),
            toned(
                with_word(l.performance_score, "", l.performance_label),
                l.performance_label,
                colors,
            ),
            if l.performance_score.is_none() {
                "the analyzer published no score in the period".into()
            } else {
                String::new()
            },
        ),
        (
            "Efficiency rating".into(),
            spark(&g.series.efficiency_rating, percent),
            toned(
                with_word(l.efficiency_rating, "", l.efficiency_label),
                l.efficiency_label,
                colors,
            ),
            String::new(),
        ),
        (
            format!("CPU vs {}-{} %", g.cpu_range[0], g.cpu_range[1]),
            spark(&g.series.cpu_average, percent),
            toned(
                with_word(l.cpu_average, " %", l.cpu_status),
                l.cpu_status,
                colors,
            ),
            cpu_note,
        ),
        (
            "Memory trend".into(),
            spark(&g.series.memory_average, percent),
            toned(
                with_word(l.memory_average, " %", l.memory_status),
                l.memory_status,
                colors,
            ),
            if g.series.memory_average.is_empty() {
                "no mem_used_percent (CloudWatch agent not installed?)".into()
            } else {
                trend_note(g.memory_trend_per_hour)
            },
        ),
        (
            "Cost savings potential".into(),
            spark(&g.series.cost_savings_potential, percent),
            toned(number(l.cost_savings_potential, " %"), None, colors),
            if l.cost_savings_potential.is_some() {
                "of the group's monthly cost".into()
            } else {
                "the cost optimizer published none in the period".into()
            },
        ),
        (
            "Capacity".into(),
            spark(&g.series.in_service, (0.0, f64::from(capacity.max_size))),
            Cell::new(format!(
                "{}/{} of max {}",
                capacity.in_service, capacity.desired_capacity, capacity.max_size
            ))
            .set_alignment(CellAlignment::Right),
            capacity_note.to_owned(),
        ),
    ];
    for (i, (widget, line, latest, note)) in rows.into_iter().enumerate() {
        let group = if i == 0 {
            g.auto_scaling_group_name.as_str()
        } else {
            ""
        };
        table.add_row([
            Cell::new(group),
            Cell::new(widget),
            Cell::new(line),
            latest,
            Cell::new(note),
        ]);
    }
}

fn counts(map: &std::collections::BTreeMap<&'static str, usize>) -> String {
    let shown: Vec<String> = map
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if shown.is_empty() {
        "none".to_owned()
    } else {
        shown.join(", ")
    }
}

fn action(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.0}"))
}

/// The dashboard as text.
pub fn render(h: &FleetHistory, colors: bool) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "Group",
        "Widget",
        &format!("Last {} h", h.period_hours),
        "Latest",
        "Note",
    ]);
    if colors {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    for g in &h.groups {
        group_rows(&mut table, h, g, colors);
    }
    let r = &h.recommendations;
    let step = if h.period_seconds.is_multiple_of(3600) {
        format!("{} h", h.period_seconds / 3600)
    } else {
        format!("{} min", h.period_seconds / 60)
    };
    let mut out = format!(
        "{}\n{} group(s) in {}, last {} h since {} ({step} datapoints)\n{table}\n",
        bold(&format!("Fleet dashboard {}", h.dashboard.name), colors),
        h.groups.len(),
        h.environment,
        h.period_hours,
        h.window.start.format("%Y-%m-%dT%H:%M:%SZ"),
    );
    out.push_str(&format!(
        "\n{}\n",
        bold("24-hour CPU profiles (last 14 days, UTC)", colors)
    ));
    for g in &h.groups {
        out.push_str(&format!(
            "  {:<12} {}\n",
            g.auto_scaling_group_name,
            g.profile.line()
        ));
    }
    out.push_str(&format!(
        "\n{}\n{} in {}, {} open\n  by type:     {}\n  by priority: {}\n  by status:   {}\n",
        bold("Recommendations", colors),
        r.total,
        h.table,
        r.open,
        counts(&r.by_type),
        counts(&r.by_priority),
        counts(&r.by_status),
    ));
    // Only when another account or region holds items: one line per place.
    if r.by_account.keys().any(|place| place != OWN) {
        out.push_str("  by account (groups above are the own account's):\n");
        for (place, n) in &r.by_account {
            out.push_str(&format!("    {place:<28} {} ({} open)\n", n.total, n.open));
        }
    }
    let e = &h.environment_metrics;
    out.push_str(&format!(
        "Engine actions over the period: applied {}, failed {}, rolled back {}; environment cost \
         savings potential {}\n",
        action(e.actions_applied),
        action(e.actions_failed),
        action(e.actions_rolled_back),
        number(e.cost_savings_potential, " %"),
    ));
    match &h.dashboard.url {
        Some(url) => out.push_str(&format!("\nCloudWatch dashboard: {url}\n")),
        None => out.push_str(&format!(
            "\nCloudWatch dashboard: {} (no region configured: give --region for its address)\n",
            h.dashboard.name
        )),
    }
    let calls: u64 = h.aws_calls.values().sum();
    let detail: Vec<String> = h
        .aws_calls
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    out.push_str(&format!("AWS calls: {calls} ({})\n", detail.join(", ")));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chrono::{TimeDelta, TimeZone};

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, hour, 0, 0).unwrap()
    }

    fn point(hour: u32, value: f64) -> Datapoint {
        Datapoint {
            timestamp: at(hour),
            value,
        }
    }

    #[test]
    fn a_sparkline_scales_to_its_range_and_marks_missing_data() {
        let series = [point(0, 0.0), point(1, 50.0), point(3, 100.0)];
        assert_eq!(
            sparkline(&series, (at(0), at(4)), 3600, (0.0, 100.0)),
            "▁▅·█"
        );
    }

    #[test]
    fn a_sparkline_has_at_most_24_columns_averaging_each() {
        let series: Vec<Datapoint> = (0..48)
            .map(|i| Datapoint {
                timestamp: at(0) + TimeDelta::minutes(30 * i),
                value: if i % 2 == 0 { 0.0 } else { 100.0 },
            })
            .collect();
        let line = sparkline(
            &series,
            (at(0), at(0) + TimeDelta::hours(24)),
            1800,
            (0.0, 100.0),
        );
        assert_eq!(line.chars().count(), 24);
        assert!(line.chars().all(|c| c == '▅'), "{line}");
        assert_eq!(sparkline(&[], (at(0), at(2)), 3600, (0.0, 100.0)), "··");
    }

    #[test]
    fn trends_say_which_way_memory_heads() {
        assert_eq!(trend_note(Some(0.05)), "stable (+0.05 points/h)");
        assert_eq!(trend_note(Some(0.5)), "rising +0.50 points/h");
        assert_eq!(trend_note(Some(-0.5)), "falling -0.50 points/h");
        assert_eq!(trend_note(Some(-0.001)), "stable (+0.00 points/h)");
        assert_eq!(trend_note(None), "");
    }
}
