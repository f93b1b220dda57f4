//! The report's charts, drawn as SVG by `plotters` (SVG backend only: no bitmap, no system
//! fonts; labels are SVG `<text>` the browser sets). One chart per widget and group, with time
//! on the x axis in hours from the period's start and a "no data" note over an empty series.

use anyhow::{Result, anyhow};
use chrono::{DateTime, TimeDelta, Utc};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::history::{Datapoint, GroupView};

/// Pixel size of every chart.
const SIZE: (u32, u32) = (560, 230);
const CPU: RGBColor = RGBColor(31, 119, 180);
const MEMORY: RGBColor = RGBColor(148, 103, 189);
const SCORE: RGBColor = RGBColor(44, 160, 44);
const RATING: RGBColor = RGBColor(255, 127, 14);
const LIMIT: RGBColor = RGBColor(214, 39, 40);
const BAND: RGBColor = RGBColor(44, 160, 44);

/// The period charted: its start, its length in hours.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub hours: f64,
}

impl Span {
    fn x(&self, t: DateTime<Utc>) -> f64 {
        (t - self.start).num_seconds() as f64 / 3600.0
    }

    fn label(&self, x: f64) -> String {
        let t = self.start + TimeDelta::seconds((x * 3600.0) as i64);
        if self.hours > 48.0 {
            t.format("%m-%d %H:%M").to_string()
        } else {
            t.format("%H:%M").to_string()
        }
    }
}

/// A line to draw: its name, color and points.
struct Line<'a> {
    name: &'a str,
    color: RGBColor,
    points: &'a [Datapoint],
    dashed: bool,
}

/// A shaded band between two values, named.
struct Band<'a> {
    name: &'a str,
    low: f64,
    high: f64,
}

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("drawing a chart: {e}")
}

/// The frame every chart shares: a white SVG of [`SIZE`], axes over `0..x_max` by `0..y_max`
/// with `x_labels` labels written by `label` and the y axis named `y_desc`. `draw` adds the
/// series and says whether they had no data at all; then the legend, and a "no data" note over
/// an empty chart.
fn frame(
    (x_max, y_max): (f64, f64),
    (x_labels, label): (usize, &dyn Fn(&f64) -> String),
    y_desc: &str,
    draw: impl FnOnce(&mut Chart<'_, '_>) -> Result<bool>,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(x_labels)
            .y_labels(6)
            .x_label_formatter(label)
            .y_desc(y_desc)
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(err)?;
        let empty = draw(&mut chart)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .draw()
            .map_err(err)?;
        if empty {
            let (w, h) = SIZE;
            root.draw(&Text::new(
                "no data in this period",
                (w as i32 / 2 - 70, h as i32 / 2),
                ("sans-serif", 15)
                    .into_font()
                    .color(&RGBColor(120, 120, 120)),
            ))
            .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// A chart over time, as [`frame`] draws it.
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws one chart and returns its SVG.
fn chart(
    span: Span,
    y_max: f64,
    y_desc: &str,
    band: Option<Band>,
    lines: &[Line],
) -> Result<String> {
    let label = |x: &f64| span.label(*x);
    frame((span.hours, y_max), (7, &label), y_desc, |chart| {
        if let Some(band) = band {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, band.low), (span.hours, band.high)],
                    BAND.mix(0.15).filled(),
                )))
                .map_err(err)?
                .label(band.name)
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], BAND.mix(0.3).filled())
                });
        }
        let mut empty = true;
        for line in lines {
            let points: Vec<(f64, f64)> = line
                .points
                .iter()
                .map(|p| (span.x(p.timestamp), p.value))
                .collect();
            empty &= points.is_empty();
            let color = line.color;
            let style = color.stroke_width(2);
            let drawn = if line.dashed {
                chart
                    .draw_series(DashedLineSeries::new(points.clone(), 6, 4, style))
                    .map_err(err)?
            } else {
                chart
                    .draw_series(LineSeries::new(points.clone(), style))
                    .map_err(err)?
            };
            drawn.label(line.name).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2))
            });
            // A lone datapoint draws no line: mark every point when there are few.
            if points.len() <= 3 {
                chart
                    .draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))
                    .map_err(err)?;
            }
        }
        Ok(empty)
    })
}

/// The four charts of a group, as (key, caption, SVG): CPU against the target band, memory
/// against its range, score and rating over time, capacity against max.
pub fn group_charts(span: Span, g: &GroupView) -> Result<Vec<(&'static str, String, String)>> {
    let s = &g.series;
    let cpu = chart(
        span,
        100.0,
        "CPU %",
        Some(Band {
            name: "target range",
            low: g.cpu_range[0],
            high: g.cpu_range[1],
        }),
        &[Line {
            name: "CPU average",
            color: CPU,
            points: &s.cpu_average,
            dashed: false,
        }],
    )?;
    let memory = chart(
        span,
        100.0,
        "memory %",
        Some(Band {
            name: "target range",
            low: g.memory_range[0],
            high: g.memory_range[1],
        }),
        &[Line {
            name: "memory used",
            color: MEMORY,
            points: &s.memory_average,
            dashed: false,
        }],
    )?;
    let score = chart(
        span,
        100.0,
        "score",
        None,
        &[
            Line {
                name: "performance score",
                color: SCORE,
                points: &s.performance_score,
                dashed: false,
            },
            Line {
                name: "efficiency rating",
                color: RATING,
                points: &s.efficiency_rating,
                dashed: false,
            },
        ],
    )?;
    // The max line: the metric when group metrics are collected, else today's figure across.
    let max_now = [
        Datapoint {
            timestamp: span.start,
            value: f64::from(g.capacity.max_size),
        },
        Datapoint {
            timestamp: span.start + TimeDelta::seconds((span.hours * 3600.0) as i64),
            value: f64::from(g.capacity.max_size),
        },
    ];
    let max_series: &[Datapoint] = if s.max_size.is_empty() {
        &max_now
    } else {
        &s.max_size
    };
    // Without group metrics collection only today's figures are known: one point at the end.
    let end = max_now[1].timestamp;
    let now_point = |value: u32| {
        [Datapoint {
            timestamp: end,
            value: f64::from(value),
        }]
    };
    let (in_service_now, desired_now) = (
        now_point(g.capacity.in_service),
        now_point(g.capacity.desired_capacity),
    );
    let (in_service, desired): (&[Datapoint], &[Datapoint]) = if s.in_service.is_empty() {
        (&in_service_now, &desired_now)
    } else {
        (&s.in_service, &s.desired_capacity)
    };
    let top = max_series
        .iter()
        .chain(&s.in_service)
        .chain(&s.desired_capacity)
        .map(|p| p.value)
        .fold(1.0, f64::max);
    let capacity = chart(
        span,
        (top * 1.15).ceil(),
        "instances",
        None,
        &[
            Line {
                name: "in service",
                color: CPU,
                points: in_service,
                dashed: false,
            },
            Line {
                name: "desired",
                color: SCORE,
                points: desired,
                dashed: true,
            },
            Line {
                name: "max size",
                color: LIMIT,
                points: max_series,
                dashed: true,
            },
        ],
    )?;
    Ok(vec![
        (
            "cpu",
            format!(
                "CPU utilization against the {}-{} % target range",
                g.cpu_range[0], g.cpu_range[1]
            ),
            cpu,
        ),
        (
            "memory",
            format!(
                "Memory used against the {}-{} % range",
                g.memory_range[0], g.memory_range[1]
            ),
            memory,
        ),
        (
            "score",
            "Performance score and efficiency rating over time".to_owned(),
            score,
        ),
        (
            "capacity",
            format!(
                "Capacity against max size (now {} in service, {} desired, max {})",
                g.capacity.in_service, g.capacity.desired_capacity, g.capacity.max_size
            ),
            capacity,
        ),
    ])
}

/// Draws bars: `(x0, x1, height, color)` over `0..x_max` by `0..100` percent, with the x
/// labels `label(x)` and a legend of `(name, color)`.
fn bars(
    x_max: f64,
    y_desc: &str,
    label: &dyn Fn(&f64) -> String,
    rects: &[(f64, f64, f64, RGBColor)],
    legend: &[(&str, RGBColor)],
) -> Result<String> {
    frame((x_max, 100.0), (12, label), y_desc, |chart| {
        for (name, color) in legend {
            let color = *color;
            chart
                .draw_series(
                    rects
                        .iter()
                        .filter(|r| r.3 == color)
                        .map(|(x0, x1, h, c)| Rectangle::new([(*x0, 0.0), (*x1, *h)], c.filled())),
                )
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
                });
        }
        Ok(rects.is_empty())
    })
}

/// A group's 24-hour CPU profile: the mean hourly CPU peak at each hour of the day (UTC).
pub fn profile_chart(hourly: &[f64]) -> Result<String> {
    let rects: Vec<(f64, f64, f64, RGBColor)> = hourly
        .iter()
        .enumerate()
        .map(|(h, v)| (h as f64 + 0.1, h as f64 + 0.9, v.clamp(0.0, 100.0), CPU))
        .collect();
    bars(
        24.0,
        "CPU % (mean hourly peak)",
        &|x: &f64| format!("{:02}", x.floor() as u32),
        &rects,
        &[("hour of the day, UTC", CPU)],
    )
}

/// A backtest: actual against projected CPU at p50, p95, p99 and the maximum.
pub fn backtest_chart(b: &fleetopt_scoring::Backtests) -> Result<String> {
    let stats = |t: &fleetopt_scoring::Backtest| [t.cpu_p50, t.cpu_p95, t.cpu_p99, t.cpu_max];
    let mut rects = Vec::new();
    for (i, (actual, projected)) in stats(&b.current)
        .into_iter()
        .zip(stats(&b.proposed))
        .enumerate()
    {
        let x = i as f64;
        rects.push((x + 0.1, x + 0.5, actual.clamp(0.0, 100.0), CPU));
        rects.push((x + 0.5, x + 0.9, projected.clamp(0.0, 100.0), RATING));
    }
    bars(
        4.0,
        "CPU %",
        &|x: &f64| ["p50", "p95", "p99", "max", ""][(x.floor() as usize).min(4)].to_owned(),
        &rects,
        &[("actual", CPU), ("projected", RATING)],
    )
}
