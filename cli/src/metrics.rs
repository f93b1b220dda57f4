//! `fleetopt metrics`: a group's figures (docs/design.md) over `--period` hours, read the
//! way the analyzer reads them, each with its status, then its score and rating.

use anyhow::{Result, bail};
use chrono::{DurationRound, TimeDelta, Utc};
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use fleetopt_aws::Clients;
use fleetopt_ports::{FleetDirectory, GroupSelector, MetricsSource, TimeWindow};
use fleetopt_scoring::{Analysis, Assessment, MetricStatus, Snapshot, Targets, analyze};
use fleetopt_snapshot::{Windows, assessment_queries, snapshot, trend_queries};
use serde_json::{Value, json};

use crate::cli::{Global, MetricsArgs, Output};

/// Runs `fleetopt metrics`.
pub async fn run(global: &Global, args: &MetricsArgs) -> Result<()> {
    let progress = crate::terminal::Progress::steps(global, 1, "reading the group and its metrics");
    let config = global.sdk_config().await;
    let clients = Clients::new(&config);
    let groups = clients
        .fleet()
        .groups(&GroupSelector::Names(vec![args.group.clone()]))
        .await?;
    let Some(group) = groups.into_iter().next() else {
        bail!("Auto Scaling group {} not found", args.group);
    };
    let now = Utc::now();
    let end = now.duration_trunc(TimeDelta::minutes(5))?;
    let windows = Windows {
        assessment: TimeWindow {
            start: end - TimeDelta::hours(i64::from(args.period)),
            end,
        },
        trend: Windows::ending_before(now, 60).trend,
    };
    let metrics = clients.metrics();
    let groups = [group];
    let (assessment_queries, trend_queries) = (assessment_queries(&groups), trend_queries(&groups));
    let (assessment, trend) = tokio::join!(
        metrics.read(&windows.assessment, &assessment_queries),
        metrics.read(&windows.trend, &trend_queries),
    );
    // After the figures, not beside them: 14 days of hours are the heaviest read, and alone it
    // has the whole timeout to itself.
    let profile = crate::profile::read(&metrics, &groups, now).await;
    let snapshot = snapshot(0, &groups[0], &windows, &assessment?, &trend?);
    let targets = global.environment.preset().targets;
    let analysis = analyze(&snapshot, &targets);
    let mut report = report(&snapshot, &analysis, &targets, args, &windows);
    if let Some(p) = profile?.first() {
        report["profile"] = serde_json::to_value(p)?;
    }
    drop(progress);
    match global.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Table => print!("{}", render(&report)),
    }
    Ok(())
}

fn status(s: Option<MetricStatus>) -> Value {
    s.map_or(Value::Null, |s| json!(s.as_str()))
}

/// The JSON document (stable keys) both outputs are drawn from.
fn report(
    s: &Snapshot,
    analysis: &Analysis,
    targets: &Targets,
    args: &MetricsArgs,
    windows: &Windows,
) -> Value {
    let capacity = s.capacity.unwrap_or(fleetopt_scoring::Capacity {
        min_size: 0,
        max_size: 0,
        desired: 0,
        in_service: 0,
    });
    let scored = analysis.assessment.scored();
    let cpu_range = targets.cpu_range();
    let memory_range = targets.memory_range();
    json!({
        "autoScalingGroupName": s.group,
        "periodHours": args.period,
        "window": { "start": windows.assessment.start, "end": windows.assessment.end },
        "figures": {
            "cpuAverage": s.cpu_average,
            "cpuPeak": s.cpu_peak,
            "memoryAverage": s.memory_average,
            "networkInBytes": s.network_in_bytes,
            "networkOutBytes": s.network_out_bytes,
            "inService": capacity.in_service,
            "desiredCapacity": capacity.desired,
            "minSize": capacity.min_size,
            "maxSize": capacity.max_size,
            "responseTimeMs": s.response_time_ms,
            "requestsPerMinute": s.requests_per_minute,
        },
        "targets": {
            "cpuRange": [cpu_range.low, cpu_range.high],
            "memoryRange": [memory_range.low, memory_range.high],
            "responseTimeMs": targets.response_time_ms(),
        },
        "statuses": {
            "cpu": status(scored.map(|x| x.cpu_status)),
            "memory": status(scored.and_then(|x| x.memory_status)),
            "capacity": status(scored.map(|x| x.capacity_status)),
            "responseTime": status(scored.and_then(|x| x.response_time_status)),
        },
        "trends": {
            "cpuSlopePerHour": analysis.cpu_trend.map(|t| t.slope_per_hour),
            "cpuHoursToUpperBound": analysis.cpu_trend.and_then(|t| t.hours_to_upper_bound),
            "memorySlopePerHour": analysis.memory_trend.map(|t| t.slope_per_hour),
        },
        "status": if scored.is_some() { "SCORED" } else { "INSUFFICIENT_DATA" },
        "reason": match &analysis.assessment {
            Assessment::InsufficientData { reason } => json!(reason),
            Assessment::Scored(_) => Value::Null,
        },
        "performanceScore": scored.map(|x| x.performance_score),
        "efficiencyRating": scored.map(|x| x.efficiency_rating),
        "performanceLabel": scored.map(|x| x.performance_label.as_str()),
        "efficiencyLabel": scored.map(|x| x.efficiency_label.as_str()),
        "missing": scored.map(|x| x.missing.iter().map(|p| p.as_str()).collect::<Vec<_>>()),
    })
}

fn fmt(value: &Value, unit: &str, decimals: usize) -> String {
    value
        .as_f64()
        .map(|v| format!("{v:.decimals$}{unit}"))
        .unwrap_or_else(|| "no data".to_owned())
}

fn render(r: &Value) -> String {
    let f = &r["figures"];
    let t = &r["targets"];
    let s = &r["statuses"];
    let range = |key: &str| {
        format!(
            "{}-{} %",
            t[key][0].as_f64().unwrap_or_default(),
            t[key][1].as_f64().unwrap_or_default()
        )
    };
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(["Metric", "Value", "Target", "Status"]);
    let mut row = |name: &str, value: String, target: String, status: &Value| {
        table.add_row([
            Cell::new(name),
            Cell::new(value).set_alignment(CellAlignment::Right),
            Cell::new(target),
            Cell::new(status.as_str().unwrap_or("-")),
        ]);
    };
    row(
        "CPU average",
        fmt(&f["cpuAverage"], " %", 1),
        range("cpuRange"),
        &s["cpu"],
    );
    row(
        "CPU peak",
        fmt(&f["cpuPeak"], " %", 1),
        "< 90 %".into(),
        &Value::Null,
    );
    row(
        "Memory average",
        fmt(&f["memoryAverage"], " %", 1),
        range("memoryRange"),
        &s["memory"],
    );
    row(
        "Capacity",
        format!(
            "{} in service, {} desired, max {}",
            f["inService"], f["desiredCapacity"], f["maxSize"]
        ),
        "<= 80 % of max".into(),
        &s["capacity"],
    );
    row(
        "Response time",
        fmt(&f["responseTimeMs"], " ms", 0),
        format!(
            "<= {:.0} ms",
            t["responseTimeMs"].as_f64().unwrap_or_default()
        ),
        &s["responseTime"],
    );
    row(
        "Requests",
        fmt(&f["requestsPerMinute"], " /min", 0),
        String::new(),
        &Value::Null,
    );
    row(
        "Network in",
        fmt(
            &(f["networkInBytes"].as_f64().map(|b| b / 1e6).into()),
            " MB",
            1,
        ),
        String::new(),
        &Value::Null,
    );
    row(
        "Network out",
        fmt(
            &(f["networkOutBytes"].as_f64().map(|b| b / 1e6).into()),
            " MB",
            1,
        ),
        String::new(),
        &Value::Null,
    );
    let mut out = format!(
        "{} over the last {} h (to {})\n{table}\n",
        r["autoScalingGroupName"].as_str().unwrap_or("?"),
        r["periodHours"],
        r["window"]["end"].as_str().unwrap_or("?"),
    );
    match r["performanceScore"].as_f64() {
        Some(score) => out.push_str(&format!(
            "Performance score {score:.1} {}, efficiency rating {:.1} {}\n",
            r["performanceLabel"].as_str().unwrap_or(""),
            r["efficiencyRating"].as_f64().unwrap_or_default(),
            r["efficiencyLabel"].as_str().unwrap_or(""),
        )),
        None => out.push_str(&format!(
            "Insufficient data: {}\n",
            r["reason"].as_str().unwrap_or("")
        )),
    }
    if let Some(slope) = r["trends"]["cpuSlopePerHour"].as_f64() {
        out.push_str(&format!("CPU trend over 24 h: {slope:+.2} points an hour"));
        if let Some(hours) = r["trends"]["cpuHoursToUpperBound"].as_f64() {
            out.push_str(&format!(", reaching the range's top in about {hours:.0} h"));
        }
        out.push('\n');
    }
    if let Ok(p) = serde_json::from_value::<crate::profile::DayProfile>(r["profile"].clone()) {
        out.push_str(&format!(
            "24-hour CPU profile, last 14 days: {}\n",
            p.line()
        ));
    }
    out
}
