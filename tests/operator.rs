//! What every `fleetopt` command shares, as an operator meets it: help with an example,
//! completions, one error style and exit codes, and a quick, clear failure when AWS (here the
//! emulator) cannot be reached.

use std::time::{Duration, Instant};

use crate::support::{fleetopt, fleetopt_at, free_port, stderr, stdout};

/// Every command, as `fleetopt <command> --help` names it.
const COMMANDS: [&str; 12] = [
    "score",
    "recommendations",
    "analyze",
    "metrics",
    "approve",
    "reject",
    "snooze",
    "scaling",
    "cost",
    "dashboard",
    "report",
    "completions",
];

#[test]
fn every_commands_help_has_an_example() {
    for command in COMMANDS {
        let output = fleetopt(&[command, "--help"]);
        assert!(output.status.success(), "{command}: {}", stderr(&output));
        let help = stdout(&output);
        assert!(
            help.contains("Example"),
            "{command} --help has no example:\n{help}"
        );
        assert!(
            help.contains(&format!("fleetopt {command}")),
            "{command}'s example does not run it:\n{help}"
        );
    }
    let top = stdout(&fleetopt(&["--help"]));
    for command in COMMANDS {
        assert!(top.contains(command), "{command} not listed in --help");
    }
    assert!(
        top.contains("--profile") && top.contains("--region"),
        "{top}"
    );
}

#[test]
fn completions_cover_every_command_in_each_shell() {
    for (shell, marker) in [
        ("bash", "_fleetopt()"),
        ("zsh", "#compdef fleetopt"),
        ("fish", "complete -c fleetopt"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[fleetopt]"),
    ] {
        let output = fleetopt(&["completions", shell]);
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        assert!(
            script.contains(marker),
            "{shell}: {marker} not in the script"
        );
        for command in ["dashboard", "report", "approve", "completions"] {
            assert!(script.contains(command), "{shell}: {command} not completed");
        }
    }
    let output = fleetopt(&["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("invalid value 'tcsh'"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn with_the_emulator_down_every_aws_command_fails_quickly_with_one_clear_line() {
    // A loopback port nothing listens on: every request is refused.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let out = std::env::temp_dir().join("fleetopt-e2e-never-written.html");
    let commands: [&[&str]; 9] = [
        &["recommendations"],
        &["metrics", "--group", "web"],
        &["approve", "rec-000000000000000000000000"],
        &["reject", "rec-000000000000000000000000", "--reason", "no"],
        &["scaling"],
        &["cost"],
        &["dashboard"],
        &["report", "--out", out.to_str().unwrap()],
        &["analyze"],
    ];
    for args in commands {
        let started = Instant::now();
        let output = fleetopt_at(&endpoint, args);
        let took = started.elapsed();
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(
            err.contains("Connection refused")
                || err.contains("dispatch failure")
                || err.contains("DispatchFailure"),
            "{args:?} does not say AWS could not be reached: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(stdout(&output), "", "{args:?}");
        assert!(took < Duration::from_secs(20), "{args:?} took {took:?}");
    }
    assert!(!out.exists());
}

#[test]
fn usage_errors_exit_2_and_name_the_option() {
    for (args, says) in [
        (&["dashboard", "--period", "0"][..], "--period"),
        (&["dashboard", "--period", "337"][..], "--period"),
        (&["report"][..], "--out"),
        (
            &["dashboard", "--group", "web", "--tag", "a=b"][..],
            "--tag",
        ),
        (&["dashboard", "--tag", "novalue"][..], "--tag"),
    ] {
        let output = fleetopt(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(says),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn the_error_style_is_one_line_starting_with_error() {
    let output = fleetopt_at(
        &format!("http://127.0.0.1:{}", free_port()),
        &["metrics", "--group", "web"],
    );
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
}
