//! `fleetopt dashboard` and `fleetopt report` against the emulator: a fleet of two groups of
//! this test's own (tagged with a value no other test uses), with CPU, memory for one of them,
//! group capacity metrics, published scores and three recommendations in a fresh table. The
//! report is opened in headless Chromium with the network off, and its rendered DOM checked.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DurationRound, TimeDelta, Utc};
use fleetopt_aws::emulator::{SeedGroup, create_group, put_datapoints, put_load};
use fleetopt_aws::{Clients, DynamoRecommendationStore, create_table};
use fleetopt_model::recommendations_table;
use fleetopt_ports::RecommendationStore;
use fleetopt_ports::fakes::contract::sample;
use serde_json::Value;

use crate::support::{
    emulator_config, emulator_endpoint, fleetopt_at, output_within, stderr, stdout, unique_name,
};

/// This test's fleet: its tag, its two groups (the first with memory), its table, the ids of
/// the recommendations by group.
struct Fleet {
    tag: String,
    groups: [String; 2],
    table: String,
    ids: [Vec<String>; 2],
}

async fn fleet() -> Fleet {
    let config = emulator_config().await;
    let clients = Clients::new(&config);
    let tag_value = unique_name("dash");
    let groups = [unique_name("e2e-dash-web"), unique_name("e2e-dash-batch")];
    let end = Utc::now().duration_trunc(TimeDelta::minutes(5)).unwrap() + TimeDelta::minutes(5);
    for (i, name) in groups.iter().enumerate() {
        create_group(
            &clients,
            &SeedGroup {
                name: name.clone(),
                min_size: 1,
                max_size: 10,
                desired: 4,
                tags: vec![("e2e-dashboard".into(), tag_value.clone())],
                instance_type: "m5.large".into(),
                target_group_arns: vec![],
            },
        )
        .await
        .unwrap();
        let load = if i == 0 { (85.0, 95.0) } else { (30.0, 40.0) };
        put_load(&clients, ("AWS/EC2", "CPUUtilization"), name, load, end, 13)
            .await
            .unwrap();
        let hours: Vec<_> = (1..=3).map(|k| end - TimeDelta::minutes(40 * k)).collect();
        let ours = [
            ("Environment", "production".to_owned()),
            ("AutoScalingGroupName", name.clone()),
        ];
        let scores: Vec<_> = hours.iter().map(|t| (*t, 80.0 + 2.0 * i as f64)).collect();
        put_datapoints(
            &clients,
            ("FleetOptimizer", "PerformanceScore", "None"),
            &ours,
            &scores,
        )
        .await
        .unwrap();
        put_datapoints(
            &clients,
            ("FleetOptimizer", "EfficiencyRating", "None"),
            &ours,
            &scores,
        )
        .await
        .unwrap();
        let sizes: Vec<_> = hours.iter().map(|t| (*t, 4.0)).collect();
        put_datapoints(
            &clients,
            ("AWS/AutoScaling", "GroupInServiceInstances", "None"),
            &[("AutoScalingGroupName", name.clone())],
            &sizes,
        )
        .await
        .unwrap();
    }
    put_load(
        &clients,
        ("CWAgent", "mem_used_percent"),
        &groups[0],
        (75.0, 75.0),
        end,
        13,
    )
    .await
    .unwrap();
    let table = unique_name("e2e-dash");
    create_table(
        &aws_sdk_dynamodb::Client::new(&config),
        recommendations_table(),
        &table,
    )
    .await
    .unwrap();
    let store = DynamoRecommendationStore::from_config(&config, &table);
    let mut ids = [Vec::new(), Vec::new()];
    for (i, hour) in [(0, 7), (0, 8), (1, 8)] {
        let r = sample(&groups[i], hour);
        store.put_new(&r).await.unwrap();
        ids[i].push(r.id);
    }
    Fleet {
        tag: format!("e2e-dashboard={tag_value}"),
        groups,
        table,
        ids,
    }
}

fn json(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| panic!("{e}: {}", stdout(output)))
}

fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn dashboard_json_has_every_widget_per_group_with_stable_keys() {
    let f = fleet().await;
    let v = json(&fleetopt_at(
        &emulator_endpoint(),
        &[
            "dashboard",
            "--tag",
            &f.tag,
            "--table",
            &f.table,
            "--period",
            "2",
            "--output",
            "json",
        ],
    ));
    assert_eq!(
        keys(&v),
        [
            "application",
            "awsCalls",
            "dashboard",
            "environment",
            "environmentMetrics",
            "groups",
            "periodHours",
            "periodSeconds",
            "recommendations",
            "region",
            "table",
            "window"
        ]
    );
    assert_eq!(
        v["dashboard"]["url"],
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1\
         #dashboards/dashboard/app-production-fleet-optimizer"
    );
    assert_eq!(v["dashboard"]["name"], "app-production-fleet-optimizer");
    assert_eq!(
        (v["periodHours"].as_u64(), v["periodSeconds"].as_u64()),
        (Some(2), Some(300))
    );
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    let group = |name: &str| {
        groups
            .iter()
            .find(|g| g["autoScalingGroupName"] == name)
            .unwrap_or_else(|| panic!("{name} not in {v}"))
    };
    let web = group(&f.groups[0]);
    assert_eq!(
        keys(web),
        [
            "autoScalingGroupName",
            "capacity",
            "cpuRange",
            "cpuTimeInRange",
            "latest",
            "memoryRange",
            "memoryTrendPerHour",
            "profile",
            "series"
        ]
    );
    assert_eq!(
        keys(&web["series"]),
        [
            "costSavingsPotential",
            "cpuAverage",
            "desiredCapacity",
            "efficiencyRating",
            "inService",
            "maxSize",
            "memoryAverage",
            "performanceScore"
        ]
    );
    assert_eq!(
        keys(&web["latest"]),
        [
            "costSavingsPotential",
            "cpuAverage",
            "cpuStatus",
            "efficiencyLabel",
            "efficiencyRating",
            "memoryAverage",
            "memoryStatus",
            "performanceLabel",
            "performanceScore"
        ]
    );
    assert_eq!(web["cpuRange"], serde_json::json!([60.0, 80.0]));
    assert!((web["latest"]["cpuAverage"].as_f64().unwrap() - 85.0).abs() < 1e-9);
    assert_eq!(web["latest"]["cpuStatus"], "HIGH");
    assert_eq!(web["latest"]["memoryStatus"], "OPTIMAL");
    assert_eq!(web["cpuTimeInRange"]["above"], 100.0);
    assert_eq!(web["latest"]["performanceScore"], 80.0);
    assert_eq!(web["latest"]["performanceLabel"], "GOOD");
    assert_eq!(
        web["series"]["performanceScore"].as_array().unwrap().len(),
        3
    );
    assert_eq!(
        keys(&web["series"]["cpuAverage"][0]),
        ["timestamp", "value"]
    );
    assert_eq!(web["capacity"]["maxSize"], 10);
    assert_eq!(web["series"]["inService"][0]["value"], 4.0);
    let batch = group(&f.groups[1]);
    assert_eq!(batch["latest"]["cpuStatus"], "LOW");
    assert_eq!(
        batch["latest"]["memoryAverage"],
        Value::Null,
        "no memory is no data, not 0"
    );
    assert!(
        batch["series"]["memoryAverage"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(batch["latest"]["performanceScore"], 82.0);

    let r = &v["recommendations"];
    assert_eq!(
        keys(r),
        [
            "byAccount",
            "byPriority",
            "byStatus",
            "byType",
            "open",
            "total"
        ]
    );
    assert_eq!(r["byAccount"]["own"]["open"], 3, "{r}");
    assert_eq!(
        (r["total"].as_u64(), r["open"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(r["byType"]["SCALE_UP"], 3);
    assert_eq!(r["byType"]["SCALE_DOWN"], 0);
    assert_eq!(r["byStatus"]["PENDING"], 3);
    assert_eq!(
        keys(&v["environmentMetrics"]),
        [
            "actionsApplied",
            "actionsFailed",
            "actionsRolledBack",
            "costSavingsPotential"
        ]
    );
    // One request each: the groups, every series (20 queries), the 14 days of the 24-hour
    // profiles (another window, so another request), and TypeIndex once per type.
    assert_eq!(v["awsCalls"]["autoscaling:DescribeAutoScalingGroups"], 1);
    assert_eq!(v["awsCalls"]["cloudwatch:GetMetricData"], 2);
    assert_eq!(v["awsCalls"]["dynamodb:Query"], 6);
}

#[tokio::test]
async fn dashboard_table_shows_sparklines_statuses_and_the_console_url_without_escapes() {
    let f = fleet().await;
    let output = fleetopt_at(
        &emulator_endpoint(),
        &[
            "dashboard",
            "--tag",
            &f.tag,
            "--table",
            &f.table,
            "--period",
            "2",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "Fleet dashboard app-production-fleet-optimizer\n2 group(s) in production, last 2 h"
        ),
        "{text}"
    );
    for expected in [
        f.groups[0].as_str(),
        f.groups[1].as_str(),
        "Performance score",
        "Efficiency rating",
        "CPU vs 60-80 %",
        "Memory trend",
        "Cost savings potential",
        "Capacity",
        "85.0 % HIGH",
        "80.0 GOOD",
        "no mem_used_percent",
        "3 in ",
        "by type:     SCALE_UP 3",
        "by status:   PENDING 3",
        "CloudWatch dashboard: https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/app-production-fleet-optimizer",
        "AWS calls: 9 (",
    ] {
        assert!(text.contains(expected), "{expected:?} not in\n{text}");
    }
    assert!(text.contains('▇') || text.contains('█'), "{text}");
    assert!(!text.contains('\x1b'), "colors off the terminal: {text:?}");
    assert_eq!(stderr(&output), "", "no progress off the terminal");
}

/// Chromium on PATH, or `None` (outside CI only: in CI a missing browser fails the test).
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is not installed: .ci/run installs Debian's `chromium` package with apt-get"
        );
        eprintln!("chromium not found on PATH: the report's browser check is skipped (not in CI)");
    }
    found
}

/// The DOM Chromium renders for `file`, headless, with every network request refused.
fn rendered_dom(browser: &Path, file: &Path, profile: &Path) -> String {
    let mut command = Command::new(browser);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        // The browser only renders a file: it needs no moved clock from scripts/test-clock,
        // and under libfaketime its many processes start too slowly to finish in time.
        .env_remove("LD_PRELOAD")
        .env_remove("FAKETIME")
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()));
    let output = output_within(command, 120);
    assert!(
        output.status.success(),
        "chromium failed: {}",
        stderr(&output)
    );
    stdout(&output)
}

/// The part of `dom` that is the section of `group`.
fn section<'a>(dom: &'a str, group: &str) -> &'a str {
    dom.split("<section ")
        .find(|s| s.contains(&format!("data-group=\"{group}\"")))
        .unwrap_or_else(|| panic!("no section for {group}"))
}

#[tokio::test]
async fn the_report_is_one_self_contained_file_whose_rendered_dom_has_every_groups_charts_and_recommendations()
 {
    let f = fleet().await;
    let dir = std::env::temp_dir().join(unique_name("e2e-report"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fleet report.html");
    let v = json(&fleetopt_at(
        &emulator_endpoint(),
        &[
            "report",
            "--out",
            file.to_str().unwrap(),
            "--tag",
            &f.tag,
            "--table",
            &f.table,
            "--period",
            "2",
            "--output",
            "json",
        ],
    ));
    assert_eq!(
        keys(&v),
        [
            "awsCalls",
            "bytes",
            "charts",
            "groups",
            "openRecommendations",
            "path",
            "periodHours"
        ]
    );
    assert_eq!(v["path"], file.to_str().unwrap());
    assert_eq!(
        (v["charts"].as_u64(), v["openRecommendations"].as_u64()),
        (Some(8), Some(3))
    );
    assert_eq!(v["awsCalls"]["cloudwatch:GetMetricData"], 2);

    let html = std::fs::read_to_string(&file).unwrap();
    assert_eq!(v["bytes"].as_u64(), Some(html.len() as u64));
    assert!(html.starts_with("<!DOCTYPE html>"));
    for external in ["<script", "<link", "src=", "url(", "@import"] {
        assert!(
            !html.contains(external),
            "the report must not load {external}"
        );
    }
    assert_eq!(html.matches("<svg").count(), 8, "four charts per group");

    let Some(browser) = chromium() else { return };
    let dom = rendered_dom(&browser, &file, &dir.join("chromium-profile"));
    assert!(dom.contains("Fleet report: app production"), "{dom}");
    for (i, group) in f.groups.iter().enumerate() {
        let part = section(&dom, group);
        for chart in ["cpu", "memory", "score", "capacity"] {
            let figure = part
                .split("<figure ")
                .find(|s| s.contains(&format!("data-chart=\"{chart}\"")))
                .unwrap_or_else(|| panic!("{group} has no {chart} chart"));
            assert!(figure.contains("<svg"), "{group} {chart}: {figure}");
            assert!(figure.contains("</svg>"), "{group} {chart}");
        }
        assert!(part.contains(&format!("Open recommendations ({})", f.ids[i].len())));
        for id in &f.ids[i] {
            assert!(
                part.contains(&format!("data-id=\"{id}\"")),
                "{id} not in {group}'s section"
            );
        }
        assert!(
            part.contains("<dl class=\"evidence\">"),
            "evidence of {group}"
        );
        assert!(part.contains("cpuAverage"), "evidence figures of {group}");
    }
    assert!(
        section(&dom, &f.groups[1]).contains("no data in this period"),
        "the group without memory says so"
    );

    // The Content-Security-Policy holds in the browser: a script slipped into the report (as
    // if stored text had escaped the escaping) does not run, and the styles still apply.
    assert!(
        dom.contains("http-equiv=\"Content-Security-Policy\"")
            && dom.contains("default-src 'none'"),
        "no CSP in {dom}"
    );
    let tampered = dir.join("tampered.html");
    std::fs::write(
        &tampered,
        html.replace(
            "</body>",
            "<script>document.body.setAttribute('data-script-ran','yes')</script>\
             <img src=\"http://127.0.0.1:9/pixel.png\"></body>",
        ),
    )
    .unwrap();
    let dom = rendered_dom(&browser, &tampered, &dir.join("chromium-profile"));
    assert!(dom.contains("Fleet report: app production"), "{dom}");
    // The script's own text is in the DOM; the attribute it would set is not.
    assert!(
        dom.contains("setAttribute('data-script-ran','yes')"),
        "the script is in the page"
    );
    assert!(
        !dom.contains("data-script-ran=\"yes\""),
        "a script ran despite the CSP"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn report_in_a_table_says_where_it_wrote() {
    let f = fleet().await;
    let file = std::env::temp_dir().join(format!("{}.html", unique_name("e2e-report")));
    let output = fleetopt_at(
        &emulator_endpoint(),
        &[
            "report",
            "--out",
            file.to_str().unwrap(),
            "--group",
            &f.groups[0],
            "--table",
            &f.table,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with(&format!(
            "Report written to {} (1 group(s), 4 charts, 3 open recommendation(s), ",
            file.display()
        )),
        "{text}"
    );
    assert_eq!(stderr(&output), "");
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(
        html.contains(&f.ids[1][0]),
        "other groups' open ones are listed apart"
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn dashboard_and_report_with_no_targeted_group_fail_saying_so() {
    let endpoint = emulator_endpoint();
    let tag = format!("e2e-dashboard={}", unique_name("nothing"));
    let out = std::env::temp_dir().join(format!("{}.html", unique_name("e2e-none")));
    for args in [
        vec!["dashboard", "--tag", &tag],
        vec!["report", "--tag", &tag, "--out", out.to_str().unwrap()],
    ] {
        let output = fleetopt_at(&endpoint, &args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let err = stderr(&output);
        assert!(
            err.starts_with(&format!(
                "error: no Auto Scaling groups targeted: none is tagged {tag}; tag the groups"
            )),
            "{err}"
        );
        assert_eq!(stdout(&output), "");
    }
    assert!(!out.exists(), "no report without groups");
}

#[test]
fn dashboard_of_a_group_that_does_not_exist_fails_naming_it() {
    let output = fleetopt_at(
        &emulator_endpoint(),
        &["dashboard", "--group", "no-such-group"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: Auto Scaling group no-such-group not found\n"
    );
}
