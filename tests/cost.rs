//! `fleetopt cost` against the emulator: moto answers GetCostAndUsage with results queued
//! through its own API (`/moto-api/static/ce/cost-and-usage-results`), the emulator proxy
//! answers GetCostForecast from a seed file (DataUnavailableException without one) and injects
//! faults; open cost recommendations come from a fresh table.
//!
//! **Independence.** moto keeps queued Cost Explorer results per account, and hands the next one
//! to each request whose body it has not seen before (the same body gets the same result again
//! until moto restarts). Two tests, the demo or the cost optimizer's tests queueing in one
//! account would take each other's results, and the request bodies of every run on one day are
//! the same. So every test here works in an account of its own: it assumes a role in a new
//! account id through STS (moto makes temporary credentials in that account), queues its
//! results for that account, keeps its forecast seed under the proxy's `keys/<AccessKeyId>/`,
//! scopes its faults to its access key id, creates its table there, and runs `fleetopt` with
//! those credentials.

use std::process::Output;

use aws_sdk_dynamodb::config::Credentials;
use chrono::{Datelike, Months, NaiveDate, Utc};
use fleetopt_aws::{DynamoRecommendationStore, create_table};
use fleetopt_model::{
    RealizedSavings, Recommendation, RecommendationType, Source, Status, recommendation_id,
    recommendations_table,
};
use fleetopt_ports::{RecommendationStore, Transition};
use serde_json::{Value, json};

use crate::support::{
    emulator_endpoint, fleetopt, fleetopt_at_with, recent_sample, stderr, stdout, unique_name,
};

const EC2: &str = "Amazon Elastic Compute Cloud - Compute";
const ELB: &str = "Amazon Elastic Load Balancing";

/// The dates a run on `today` reads, computed here independently of the CLI.
struct Dates {
    /// The first day of this month.
    this_month: NaiveDate,
    /// The first day of next month.
    next_month: NaiveDate,
    tomorrow: NaiveDate,
}

impl Dates {
    /// Today's dates, for a test that seeds them and then runs the CLI. In the last
    /// `SETTLING` of a day it first waits for the next one: the CLI reads the clock again when
    /// it starts, and a day (or month) that turns in between makes it ask for other months
    /// than the ones seeded. `scripts/test-clock` runs the suite across a month's end, so this
    /// happens there every time; these tests take seconds, far less than `SETTLING`.
    async fn today() -> Dates {
        const SETTLING: chrono::Duration = chrono::Duration::seconds(90);
        let now = Utc::now();
        let next_day = now
            .date_naive()
            .succ_opt()
            .unwrap()
            .and_time(chrono::NaiveTime::MIN);
        let left = next_day.and_utc() - now;
        if left < SETTLING {
            tokio::time::sleep(
                left.to_std().unwrap_or_default() + std::time::Duration::from_secs(1),
            )
            .await;
        }
        let today = Utc::now().date_naive();
        let this_month = today.with_day(1).unwrap();
        Dates {
            this_month,
            next_month: this_month + Months::new(1),
            tomorrow: today.succ_opt().unwrap(),
        }
    }

    /// The first day of the month `n` months before this one.
    fn months_ago(&self, n: u32) -> NaiveDate {
        self.this_month - Months::new(n)
    }

    /// Whether today is the month's last day: then there is nothing to forecast.
    fn last_day(&self) -> bool {
        self.tomorrow == self.next_month
    }
}

/// A raw HTTP/1.1 request to the emulator's endpoint (moto's API through the proxy, or the
/// proxy's own admin API): the status and the body.
fn http(method: &str, path: &str, body: &str) -> (u16, String) {
    fleetopt_aws::emulator::proxy_admin(method, path, body)
}

/// An account of this test's own in the emulator, with its recommendations table.
struct Account {
    id: String,
    credentials: Credentials,
    table: String,
    store: DynamoRecommendationStore,
    /// The proxy's seed directory for this account's access key, once written.
    seeds: std::sync::OnceLock<std::path::PathBuf>,
    /// The operations this account's fault rules apply to.
    faults: std::sync::Mutex<Vec<String>>,
}

impl Drop for Account {
    fn drop(&mut self) {
        // The proxy's seed directory is shared: leave nothing of this test behind.
        if let Some(dir) = self.seeds.get() {
            let _ = std::fs::remove_dir_all(dir);
        }
        // Nor fault rules: the proxy keeps them until they are cleared.
        for operation in self.faults.lock().map(|f| f.clone()).unwrap_or_default() {
            let path = format!(
                "/_fleetopt/faults?operation={operation}&accessKeyId={}",
                self.access_key_id()
            );
            let _ = http("DELETE", &path, "");
        }
    }
}

impl Account {
    async fn new() -> Account {
        let id = fleetopt_aws::emulator::new_account_id();
        let (config, credentials) = fleetopt_aws::emulator::sdk_config_in(&id).await.unwrap();
        let table = unique_name("e2e-cost");
        create_table(
            &aws_sdk_dynamodb::Client::new(&config),
            recommendations_table(),
            &table,
        )
        .await
        .unwrap();
        let store = DynamoRecommendationStore::from_config(&config, &table);
        Account {
            id,
            credentials,
            table,
            store,
            seeds: std::sync::OnceLock::new(),
            faults: std::sync::Mutex::default(),
        }
    }

    fn access_key_id(&self) -> &str {
        self.credentials.access_key_id()
    }

    /// `fleetopt cost <args> --table <its table>` with this account's credentials.
    fn cost(&self, args: &[&str]) -> Output {
        let mut all = vec!["cost", "--table", self.table.as_str()];
        all.extend_from_slice(args);
        fleetopt_at_with(
            &emulator_endpoint(),
            &all,
            &[
                ("AWS_ACCESS_KEY_ID", self.credentials.access_key_id()),
                (
                    "AWS_SECRET_ACCESS_KEY",
                    self.credentials.secret_access_key(),
                ),
                (
                    "AWS_SESSION_TOKEN",
                    self.credentials.session_token().unwrap(),
                ),
            ],
        )
    }

    /// Queues GetCostAndUsage results in moto for this account, in order.
    fn queue_cost_and_usage(&self, results: Vec<Value>) {
        let body = json!({"account_id": self.id, "results": results}).to_string();
        let (status, answer) = http("POST", "/moto-api/static/ce/cost-and-usage-results", &body);
        assert_eq!(status, 201, "{answer}");
    }

    /// The proxy's answer to this account's GetCostForecast requests.
    fn seed_forecast(&self, dates: &Dates, usd: &str) {
        let own = seed_dir().join("keys").join(self.access_key_id());
        let dir = self.seeds.get_or_init(|| own).join("ce");
        std::fs::create_dir_all(&dir).unwrap();
        let body = json!({
            "Total": {"Amount": usd, "Unit": "USD"},
            "ForecastResultsByTime": [{
                "TimePeriod": {"Start": dates.tomorrow.to_string(),
                               "End": dates.next_month.to_string()},
                "MeanValue": usd,
            }],
        });
        std::fs::write(dir.join("GetCostForecast.json"), body.to_string()).unwrap();
    }

    /// A fault the proxy injects into this account's requests to `operation` alone.
    fn fault(&self, operation: &str, rule: Value) {
        let mut rule = rule;
        rule["operation"] = json!(operation);
        rule["accessKeyId"] = json!(self.access_key_id());
        let (status, answer) = http("POST", "/_fleetopt/faults", &rule.to_string());
        assert_eq!(status, 200, "{answer}");
        self.faults.lock().unwrap().push(operation.to_owned());
    }

    /// Writes a cost recommendation for `group` saving `usd` a month and moves it along `path`.
    async fn recommendation(
        &self,
        group: &str,
        kind: RecommendationType,
        usd: f64,
        path: &[Status],
    ) -> Recommendation {
        let mut r = recent_sample(group, 7);
        r.kind = kind;
        r.source = Source::CostOptimizer;
        r.id = recommendation_id(Source::CostOptimizer, None, group, kind, &r.analysis_window);
        r.expected_impact.monthly_savings_usd = Some(usd);
        r.expected_impact.cost_savings = Some(18.5);
        r.implementation.automated = false;
        r.implementation.action = None;
        self.store.put_new(&r).await.unwrap();
        for &to in path {
            r = self
                .store
                .transition(&r, &Transition::new(to, Utc::now(), "e2e"))
                .await
                .unwrap();
        }
        r
    }
}

/// The running proxy's seed directory; fails plainly when the proxy predates seeded answers.
fn seed_dir() -> std::path::PathBuf {
    let (status, body) = http("GET", "/_fleetopt/", "");
    assert_eq!(
        status, 200,
        "the emulator's proxy does not answer GET /_fleetopt/: it predates seeded Cost Explorer \
         answers; restart it (scripts/emulator stop && scripts/emulator start)"
    );
    let settings: Value = serde_json::from_str(&body).unwrap();
    settings["seedDir"].as_str().unwrap().into()
}

/// One GetCostAndUsage result page: `months` (first day, [(service, amount)]) and a page token.
fn page(months: &[(NaiveDate, &[(&str, &str)])], next: Option<&str>) -> Value {
    let results: Vec<Value> = months
        .iter()
        .map(|(first, services)| {
            let groups: Vec<Value> = services
                .iter()
                .map(|(service, usd)| {
                    json!({"Keys": [service],
                           "Metrics": {"UnblendedCost": {"Amount": usd, "Unit": "USD"}}})
                })
                .collect();
            json!({
                "TimePeriod": {"Start": first.to_string(),
                               "End": (*first + Months::new(1)).to_string()},
                "Total": {},
                "Groups": groups,
                "Estimated": false,
            })
        })
        .collect();
    let mut page = json!({"ResultsByTime": results, "DimensionValueAttributes": []});
    if let Some(token) = next {
        page["NextPageToken"] = json!(token);
    }
    page
}

/// The text with every run of white space made one space: what a reader sees, whatever the
/// alignment.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(output),
        stderr(output)
    );
    serde_json::from_str(&stdout(output)).unwrap()
}

#[tokio::test]
async fn cost_shows_paged_months_the_forecast_and_open_cost_recommendations() {
    let dates = Dates::today().await;
    let account = Account::new().await;
    // Two pages: moto gives the second queued result to the request that carries the token.
    account.queue_cost_and_usage(vec![
        page(
            &[
                (dates.months_ago(3), &[(EC2, "800.00"), (ELB, "20.00")]),
                (dates.months_ago(2), &[(EC2, "812.40"), (ELB, "21.50")]),
            ],
            Some("page-2"),
        ),
        page(
            &[
                (dates.months_ago(1), &[(EC2, "850.00"), (ELB, "22.25")]),
                (dates.this_month, &[(EC2, "600.10"), (ELB, "15.00")]),
            ],
            None,
        ),
    ]);
    account.seed_forecast(&dates, "412.35");
    let web = account
        .recommendation("web", RecommendationType::CostOptimization, 120.0, &[])
        .await;
    let api = account
        .recommendation(
            "api",
            RecommendationType::InstanceTypeChange,
            310.25,
            &[Status::AwaitingApproval],
        )
        .await;
    let batch = account
        .recommendation(
            "batch",
            RecommendationType::CostOptimization,
            45.5,
            &[Status::AwaitingApproval, Status::Approved],
        )
        .await;
    // Done, or not a cost type: not open cost recommendations.
    account
        .recommendation(
            "old",
            RecommendationType::CostOptimization,
            999.0,
            &[Status::InProgress, Status::Completed],
        )
        .await;
    account
        .store
        .put_new(&recent_sample("web", 8))
        .await
        .unwrap();
    // A scale-down carried out and measured by the cost optimizer: savings achieved.
    let scaled = account
        .recommendation(
            "api",
            RecommendationType::ScaleDown,
            0.0,
            &[
                Status::AwaitingApproval,
                Status::Approved,
                Status::InProgress,
                Status::Completed,
            ],
        )
        .await;
    account
        .store
        .record_realized_savings(
            &scaled,
            &RealizedSavings {
                instances_before: 6.0,
                instances_after: 4.0,
                ..fleetopt_ports::fakes::contract::realized_savings(140.16)
            },
        )
        .await
        .unwrap();

    let v = json_of(&account.cost(&["--output", "json"]));
    let (forecast, calls) = if dates.last_day() {
        (0.0, 2)
    } else {
        (412.35, 3)
    };
    assert_eq!(v["monthToDate"], 615.1);
    assert_eq!(v["forecastToMonthEnd"], forecast);
    assert_eq!(
        v["projectedMonth"],
        ((615.1 + forecast) * 100.0_f64).round() / 100.0
    );
    assert_eq!(v["currency"], "USD");
    let month = |n: u32| dates.months_ago(n).format("%Y-%m").to_string();
    assert_eq!(
        v["months"],
        json!([
            {"month": month(3), "byService": {EC2: 800.0, ELB: 20.0}, "total": 820.0},
            {"month": month(2), "byService": {EC2: 812.4, ELB: 21.5}, "total": 833.9},
            {"month": month(1), "byService": {EC2: 850.0, ELB: 22.25}, "total": 872.25},
        ])
    );
    assert_eq!(v["monthToDateByService"], json!({EC2: 600.1, ELB: 15.0}));
    let open: Vec<(&str, &str, &str, f64)> = v["openRecommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["type"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["monthlySavingsUsd"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        open,
        [
            (
                api.id.as_str(),
                "INSTANCE_TYPE_CHANGE",
                "AWAITING_APPROVAL",
                310.25
            ),
            (web.id.as_str(), "COST_OPTIMIZATION", "PENDING", 120.0),
            (batch.id.as_str(), "COST_OPTIMIZATION", "APPROVED", 45.5),
        ]
    );
    assert_eq!(v["openRecommendations"][0]["autoScalingGroupName"], "api");
    assert_eq!(v["openRecommendations"][0]["costSavingsPercent"], 18.5);
    assert_eq!(v["totalMonthlySavingsUsd"], 475.75);
    assert_eq!(v["savingsAchieved"]["monthlyUsd"], 140.16);
    assert_eq!(v["savingsAchieved"]["days"], 30);
    assert_eq!(
        v["savingsAchieved"]["changes"][0]["id"].as_str(),
        Some(scaled.id.as_str())
    );
    assert_eq!(v["savingsAchieved"]["changes"][0]["instancesAfter"], 4.0);
    assert_eq!(v["unavailable"], json!([]));
    assert_eq!(v["costExplorerCalls"], calls);

    // The same requests again: moto answers the same bodies with the same results.
    let output = account.cost(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let summary = words(&text);
    assert!(
        summary.contains(&format!(
            "Month to date ({} to {}) 615.10 Forecast to month end",
            dates.this_month,
            dates.tomorrow.pred_opt().unwrap()
        )),
        "{text}"
    );
    if !dates.last_day() {
        assert!(
            summary.contains(&format!(
                "Forecast to month end 412.35 Cost Explorer's forecast, {} to {} \
                 Projected month 1027.45",
                dates.tomorrow,
                dates.next_month.pred_opt().unwrap()
            )),
            "{text}"
        );
    }
    assert!(
        text.contains(&format!(
            "By service, {} to {} to date:",
            month(3),
            dates.this_month.format("%Y-%m")
        )),
        "{text}"
    );
    for figure in ["812.40", "872.25", "600.10", "615.10", "310.25", "475.75"] {
        assert!(text.contains(figure), "{figure}: {text}");
    }
    assert!(
        text.contains(&format!(
            "3 open cost recommendation(s) in {}, 475.75 USD a month in all",
            account.table
        )),
        "{text}"
    );
    assert!(!text.contains("999.00"), "{text}");
    assert!(
        words(&text).contains(
            "Savings achieved by 1 change(s) completed in the last 30 days: 140.16 USD a month \
             (projected by the open cost recommendations: 475.75 USD a month):"
        ),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            "Cost Explorer requests: {calls} (each is billed).\n"
        )),
        "{text}"
    );
}

#[tokio::test]
async fn without_forecast_data_cost_says_so_shows_the_rest_and_exits_0() {
    let dates = Dates::today().await;
    let account = Account::new().await;
    account.queue_cost_and_usage(vec![page(
        &[
            (dates.months_ago(1), &[(EC2, "850.00")]),
            (dates.this_month, &[(EC2, "600.10")]),
        ],
        None,
    )]);
    // The proxy answers DataUnavailableException when it has no forecast seed at all; another
    // test or the demo may have installed a shared one, so this account gets that answer from
    // a fault rule of its own (a 400 with that code: what Cost Explorer sends, not retried).
    account.fault(
        "ce:GetCostForecast",
        json!({"error": 1, "errorCode": "DataUnavailableException",
               "errorMessage": "Insufficient amount of historical data to generate forecast."}),
    );
    account
        .recommendation("web", RecommendationType::CostOptimization, 120.0, &[])
        .await;

    let output = account.cost(&["--months", "1"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("Month to date ("), "{text}");
    assert!(text.contains("600.10"), "{text}");
    assert!(text.contains("850.00"), "{text}");
    assert!(text.contains("120.00"), "{text}");
    let summary = words(&text);
    if dates.last_day() {
        assert!(
            summary.contains("today is the last day of the month: nothing to forecast"),
            "{text}"
        );
    } else {
        assert!(
            summary
                .contains("Forecast to month end unavailable Projected month unavailable forecast"),
            "{text}"
        );
        assert!(
            text.contains(
                "  forecast unavailable: Cost Explorer has no data yet (ce:GetCostForecast: "
            ),
            "{text}"
        );
    }
}

#[tokio::test]
async fn when_cost_explorer_denies_access_cost_shows_the_forecast_and_recommendations() {
    let dates = Dates::today().await;
    let account = Account::new().await;
    account.fault(
        "ce:GetCostAndUsage",
        json!({"error": 1, "errorCode": "AccessDeniedException",
               "errorMessage": "User: arn:aws:sts::123456789012:assumed-role/fleetopt-e2e is \
                                not authorized to perform: ce:GetCostAndUsage"}),
    );
    account.seed_forecast(&dates, "412.35");
    account
        .recommendation(
            "api",
            RecommendationType::InstanceTypeChange,
            45.5,
            &[Status::AwaitingApproval],
        )
        .await;

    let v = json_of(&account.cost(&["--output", "json"]));
    assert_eq!(v["monthToDate"], Value::Null);
    assert_eq!(v["projectedMonth"], Value::Null);
    assert_eq!(v["months"], json!([]));
    if !dates.last_day() {
        assert_eq!(v["forecastToMonthEnd"], 412.35);
    }
    assert_eq!(v["totalMonthlySavingsUsd"], 45.5);
    let unavailable = v["unavailable"].as_array().unwrap();
    assert_eq!(unavailable.len(), 1, "{unavailable:?}");
    assert!(
        unavailable[0]
            .as_str()
            .unwrap()
            .starts_with("costs unavailable: access to Cost Explorer denied"),
        "{unavailable:?}"
    );
    assert!(
        unavailable[0]
            .as_str()
            .unwrap()
            .contains("(ce:GetCostAndUsage: "),
        "{unavailable:?}"
    );
}

#[tokio::test]
async fn a_cost_explorer_failure_exits_1_naming_the_call() {
    let account = Account::new().await;
    // Every attempt of the SDK's standard retry mode (3) fails.
    account.fault("ce:GetCostAndUsage", json!({"serverError": 3}));
    let output = account.cost(&[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(err.starts_with("error: reading costs: "), "{err}");
    assert!(
        err.contains("ce:GetCostAndUsage failed: InternalFailure"),
        "{err}"
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn cost_help_has_examples_and_bad_months_are_usage_errors() {
    let help = fleetopt(&["cost", "--help"]);
    assert!(help.status.success());
    let text = stdout(&help);
    for line in [
        "fleetopt cost --months 6",
        "fleetopt cost --output json",
        "--months <N>",
        "GetCostForecast",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    let bad = fleetopt(&["cost", "--months", "13"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("13"), "{}", stderr(&bad));
}
