//! `fleetopt score` as a black box: its JSON agrees with an independent reading of docs/scoring.md on random inputs, and bad input exits 2 with a clear message and no panic.

use proptest::prelude::*;
use serde_json::Value;

use crate::support::{fleetopt, stderr, stdout};

/// docs/scoring.md, written out again from the text, independently of `fleetopt-scoring`:
/// the oracle the binary is checked against.
mod oracle {
    pub struct Targets {
        pub cpu: f64,
        pub mem: f64,
        pub rt: f64,
    }

    pub const PRODUCTION: Targets = Targets {
        cpu: 70.0,
        mem: 80.0,
        rt: 500.0,
    };
    pub const STAGING: Targets = Targets {
        cpu: 75.0,
        mem: 85.0,
        rt: 1000.0,
    };
    pub const DEVELOPMENT: Targets = Targets {
        cpu: 80.0,
        mem: 90.0,
        rt: 2000.0,
    };

    fn clamp(x: f64) -> f64 {
        x.clamp(0.0, 100.0)
    }

    fn banded(v: f64, lo: f64, hi: f64) -> f64 {
        if v >= lo && v <= hi {
            100.0
        } else if v < lo {
            clamp(100.0 - (lo - v) * 50.0 / lo)
        } else {
            clamp(100.0 - (v - hi) * 100.0 / (100.0 - hi))
        }
    }

    pub fn label(x: f64) -> &'static str {
        if x >= 90.0 {
            "EXCELLENT"
        } else if x >= 75.0 {
            "GOOD"
        } else if x >= 60.0 {
            "FAIR"
        } else {
            "POOR"
        }
    }

    /// (performance score, efficiency rating)
    pub fn scores(
        t: &Targets,
        u: f64,
        m: Option<f64>,
        in_service: u32,
        max: u32,
        response: Option<f64>,
    ) -> (f64, f64) {
        let c = 100.0 * in_service as f64 / max as f64;
        let mut parts = vec![(0.4, banded(u, t.cpu - 10.0, t.cpu + 10.0))];
        if let Some(m) = m {
            parts.push((0.3, banded(m, t.mem - 10.0, t.mem + 5.0)));
        }
        parts.push((
            0.2,
            if c <= 80.0 {
                100.0
            } else {
                clamp(100.0 - (c - 80.0) * 5.0)
            },
        ));
        if let Some(ms) = response {
            let r = ms / t.rt;
            parts.push((
                0.1,
                if r <= 1.0 {
                    100.0
                } else {
                    clamp(100.0 - (r - 1.0) * 100.0)
                },
            ));
        }
        let total: f64 = parts.iter().map(|(w, _)| w).sum();
        let performance = parts.iter().map(|(w, s)| w * s).sum::<f64>() / total;

        let resource = match m {
            Some(m) => (u + m) / 2.0,
            None => u,
        };
        let avg = (resource + in_service as f64 / max as f64 * 100.0) / 2.0;
        let efficiency = if (60.0..=80.0).contains(&avg) {
            100.0
        } else if avg < 60.0 {
            avg / 60.0 * 100.0
        } else {
            (100.0 - (avg - 80.0)).max(0.0)
        };
        (clamp(performance), clamp(efficiency))
    }
}

fn score_json(args: &[String]) -> Value {
    let mut all = vec!["score".to_owned(), "--output".to_owned(), "json".to_owned()];
    all.extend_from_slice(args);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let output = fleetopt(&refs);
    assert!(output.status.success(), "{refs:?}: {}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn the_issue_example_is_scored_as_section_5_says() {
    let v = score_json(
        &"--environment staging --cpu-avg 83 --memory-avg 71 --in-service 3 --max-size 4 --response-ms 900"
            .split(' ')
            .map(str::to_owned)
            .collect::<Vec<_>>(),
    );
    let (performance, efficiency) =
        oracle::scores(&oracle::STAGING, 83.0, Some(71.0), 3, 4, Some(900.0));
    assert!((v["performanceScore"].as_f64().unwrap() - performance).abs() < 0.01);
    assert!((v["efficiencyRating"].as_f64().unwrap() - efficiency).abs() < 0.01);
    assert_eq!(v["performanceLabel"], oracle::label(performance));
    assert_eq!(v["efficiencyLabel"], oracle::label(efficiency));
    assert_eq!(v["missing"], serde_json::json!([]));
    for key in ["cpu", "memory", "capacity", "responseTime"] {
        assert!(v["subScores"][key].is_number(), "subScores.{key}");
    }
}

#[test]
fn environment_defaults_to_production() {
    let v =
        score_json(&["--cpu-avg", "50", "--in-service", "1", "--max-size", "2"].map(String::from));
    assert_eq!(v["environment"], "production");
    assert_eq!(v["missing"], serde_json::json!(["memory", "responseTime"]));
    let (performance, _) = oracle::scores(&oracle::PRODUCTION, 50.0, None, 1, 2, None);
    assert!((v["performanceScore"].as_f64().unwrap() - performance).abs() < 0.01);
}

proptest! {
    // Each case starts a process: 64 cases keep this under a few seconds.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn json_agrees_with_an_independent_implementation_on_random_inputs(
        env in 0usize..3,
        cpu in 0.0..=100.0f64,
        memory in proptest::option::of(0.0..=100.0f64),
        max in 1u32..200,
        in_service_share in 0.0..=1.0f64,
        response in proptest::option::of(0.0..6000.0f64),
    ) {
        let (name, targets) = [
            ("production", &oracle::PRODUCTION),
            ("staging", &oracle::STAGING),
            ("development", &oracle::DEVELOPMENT),
        ][env];
        let in_service = (f64::from(max) * in_service_share).round() as u32;
        let mut args = vec![
            "--environment".to_owned(), name.to_owned(),
            "--cpu-avg".to_owned(), cpu.to_string(),
            "--in-service".to_owned(), in_service.to_string(),
            "--max-size".to_owned(), max.to_string(),
        ];
        if let Some(m) = memory {
            args.extend(["--memory-avg".to_owned(), m.to_string()]);
        }
        if let Some(r) = response {
            args.extend(["--response-ms".to_owned(), r.to_string()]);
        }
        let v = score_json(&args);
        let (performance, efficiency) =
            oracle::scores(targets, cpu, memory, in_service, max, response);
        let got_p = v["performanceScore"].as_f64().unwrap();
        let got_e = v["efficiencyRating"].as_f64().unwrap();
        prop_assert!((got_p - performance).abs() < 0.01, "performance {got_p} vs {performance} for {args:?}");
        prop_assert!((got_e - efficiency).abs() < 0.01, "efficiency {got_e} vs {efficiency} for {args:?}");
        prop_assert_eq!(v["performanceLabel"].as_str().unwrap(), oracle::label(got_p));
        prop_assert_eq!(v["efficiencyLabel"].as_str().unwrap(), oracle::label(got_e));
        let mut missing = Vec::new();
        if memory.is_none() { missing.push("memory"); }
        if response.is_none() { missing.push("responseTime"); }
        prop_assert_eq!(v["missing"].clone(), serde_json::json!(missing));
    }
}

#[test]
fn table_output_shows_value_status_and_label() {
    let output = fleetopt(&[
        "score",
        "--cpu-avg",
        "85",
        "--memory-avg",
        "72",
        "--in-service",
        "4",
        "--max-size",
        "5",
        "--response-ms",
        "300",
    ]);
    assert!(output.status.success());
    let text = stdout(&output);
    for expected in [
        "Performance assessment with production targets",
        "CPU average",
        "85.0 %",
        "60-80 %",
        "HIGH",
        "OPTIMAL",
        "Performance score",
        "Efficiency rating",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
}

#[test]
fn bad_input_exits_2_with_a_clear_message_and_no_panic() {
    let base = ["score", "--in-service", "1", "--max-size", "2"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--cpu-avg", "101"],
            "not a percentage between 0 and 100",
        ),
        (
            vec!["--cpu-avg", "-0.5"],
            "not a percentage between 0 and 100",
        ),
        (
            vec!["--cpu-avg", "50", "--memory-avg", "250"],
            "not a percentage between 0 and 100",
        ),
        (vec!["--cpu-avg", "fifty"], "is not a number"),
        (vec!["--cpu-avg", "NaN"], "is not a number"),
        (vec!["--cpu-avg", "50", "--response-ms", "-1"], "negative"),
        (
            vec!["--cpu-avg", "50", "--environment", "prod"],
            "expected production, staging or development",
        ),
        (
            vec!["--cpu-avg", "50", "--output", "yaml"],
            "possible values: table, json",
        ),
    ];
    for (extra, message) in cases {
        let mut args = base.to_vec();
        args.extend(extra.iter());
        let output = fleetopt(&args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(stdout(&output).is_empty());
    }
}

#[test]
fn impossible_groups_exit_2() {
    for (args, message) in [
        (
            vec![
                "score",
                "--cpu-avg",
                "50",
                "--in-service",
                "0",
                "--max-size",
                "0",
            ],
            "max size 0 cannot be scored",
        ),
        (
            vec![
                "score",
                "--cpu-avg",
                "50",
                "--in-service",
                "5",
                "--max-size",
                "4",
            ],
            "--in-service 5 is above --max-size 4",
        ),
        (
            vec![
                "score",
                "--cpu-avg",
                "50",
                "--in-service",
                "2.5",
                "--max-size",
                "4",
            ],
            "not a whole number of instances",
        ),
        (
            vec!["score", "--cpu-avg", "50", "--max-size", "4"],
            "--in-service <COUNT>",
        ),
    ] {
        let output = fleetopt(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn help_explains_with_an_example_and_exits_0() {
    let output = fleetopt(&["score", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.contains("Example:"));
    assert!(text.contains("--cpu-avg <PERCENT>"));
}
