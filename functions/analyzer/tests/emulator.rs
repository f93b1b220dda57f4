//! The analyzer against the local emulator, with the real adapters: groups created in moto's
//! Auto Scaling, metrics stored in moto's CloudWatch, recommendations in a fresh table.
//! Every test uses its own group names and table, so tests run in parallel.

// A test that cannot set up must fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use analyzer::event::{Decision, Trigger, decode};
use analyzer::lambda::App;
use analyzer::{GroupStatus, Response, run};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use fleetopt_aws::emulator::{SeedGroup, create_group, put_datapoints, put_load, sdk_config};
use fleetopt_aws::{Clients, create_table};
use fleetopt_config::Config;
use fleetopt_model::{Execution, Priority, RecommendationType, Status, recommendations_table};
use fleetopt_policy::screen::Suppression;
use fleetopt_ports::{
    MetricQuery, MetricsSource, RecommendationQuery, RecommendationStore, Statistic, TimeWindow,
    Transition,
};
use fleetopt_scoring::Part;

/// A fixed, aligned "now": the emulator keeps whatever timestamps it is given.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

struct Fleet {
    clients: Clients,
    app: App,
    prefix: String,
}

fn unique_prefix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "t{}{}x{}",
        std::process::id(),
        Utc::now().timestamp_subsec_nanos(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl Fleet {
    /// A fresh table and a config targeting `groups` (by name, prefixed).
    async fn new(groups: &[&str], extra: &[(&str, &str)]) -> Fleet {
        let prefix = unique_prefix();
        let sdk = sdk_config().await;
        let clients = Clients::new(&sdk);
        let table = format!("{prefix}-recommendations");
        create_table(&clients.dynamodb, recommendations_table(), &table)
            .await
            .unwrap();
        let names: Vec<String> = groups.iter().map(|g| format!("{prefix}-{g}")).collect();
        let finding_key =
            fleetopt_aws::emulator::signing_key(&clients, &format!("alias/{prefix}-findings"))
                .await
                .unwrap();
        let mut vars: HashMap<String, String> = HashMap::from([
            ("FLEETOPT_ENVIRONMENT".into(), "production".into()),
            ("FLEETOPT_APPLICATION".into(), "it".into()),
            ("FLEETOPT_FINDING_KEY".into(), finding_key),
            ("FLEETOPT_TABLE".into(), table),
            ("FLEETOPT_TARGET_GROUPS".into(), names.join(",")),
        ]);
        for (k, v) in extra {
            vars.insert((*k).into(), (*v).into());
        }
        let config = Config::from_lookup(&move |k| vars.get(k).cloned()).unwrap();
        Fleet {
            app: App::new(config, &sdk),
            clients,
            prefix,
        }
    }

    fn name(&self, group: &str) -> String {
        format!("{}-{group}", self.prefix)
    }

    async fn group(&self, group: &str, sizes: (i32, i32, i32)) {
        self.tagged_group(group, sizes, &[]).await;
    }

    async fn tagged_group(&self, group: &str, sizes: (i32, i32, i32), tags: &[(&str, &str)]) {
        self.seed_group(group, sizes, tags, Vec::new()).await;
    }

    /// A group of m5.large `group` (prefixed) with `tags`, registered with `target_group_arns`.
    async fn seed_group(
        &self,
        group: &str,
        (min, desired, max): (i32, i32, i32),
        tags: &[(&str, &str)],
        target_group_arns: Vec<String>,
    ) {
        create_group(
            &self.clients,
            &SeedGroup {
                name: self.name(group),
                min_size: min,
                max_size: max,
                desired,
                tags: tags
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                instance_type: "m5.large".into(),
                target_group_arns,
            },
        )
        .await
        .unwrap();
    }

    async fn metric(
        &self,
        namespace: &str,
        name: &'static str,
        group: &str,
        average: f64,
        peak: f64,
        end: DateTime<Utc>,
    ) {
        put_load(
            &self.clients,
            (namespace, name),
            &self.name(group),
            (average, peak),
            end,
            12,
        )
        .await
        .unwrap();
    }

    async fn cpu(&self, group: &str, average: f64, peak: f64) {
        self.metric("AWS/EC2", "CPUUtilization", group, average, peak, now())
            .await;
    }

    async fn memory(&self, group: &str, average: f64) {
        self.metric(
            "CWAgent",
            "mem_used_percent",
            group,
            average,
            average,
            now(),
        )
        .await;
    }

    async fn run(&self, trigger: Trigger, at: DateTime<Utc>) -> Response {
        let mut response = run(&self.app.config, &self.app.deps, &trigger, at)
            .await
            .unwrap();
        response.aws_calls = self.app.calls.take();
        response
    }
}

fn outcome<'a>(response: &'a Response, name: &str) -> &'a analyzer::GroupOutcome {
    response
        .groups
        .iter()
        .find(|g| g.auto_scaling_group_name == name)
        .unwrap_or_else(|| panic!("{name} not in {response:#?}"))
}

#[tokio::test]
async fn an_overloaded_group_gets_scale_up_to_the_exact_target_capacity() {
    let fleet = Fleet::new(&["web"], &[]).await;
    fleet.group("web", (1, 4, 10)).await;
    fleet.cpu("web", 85.0, 95.0).await;
    fleet.memory("web", 75.0).await;
    let response = fleet.run(Trigger::Schedule, now()).await;
    let web = outcome(&response, &fleet.name("web"));
    assert_eq!(web.status, GroupStatus::Scored);
    assert_eq!(web.missing, vec![Part::ResponseTime]);
    assert_eq!(web.recommendation_ids.len(), 1);
    let stored = fleet
        .app
        .deps
        .store
        .get(&web.recommendation_ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.kind, RecommendationType::ScaleUp);
    // Peak 95 % >= 90 %: HIGH. ceil(4 * 85 / 70) = 5.
    assert_eq!(stored.priority, Priority::High);
    assert_eq!(stored.evidence.target_desired_capacity, Some(5));
    assert_eq!(stored.evidence.in_service, Some(4));
    assert!((stored.evidence.cpu_average.unwrap() - 85.0).abs() < 1e-9);
    assert_eq!(stored.evidence.cpu_peak, Some(95.0));
    assert_eq!(stored.status, Status::Pending);
    assert_eq!(stored.timestamp, "2026-11-20T12:00:00Z");
    assert_eq!(response.recommendations_written, 1);
    // One GetMetricData per window (5 + 2 queries), one describe, one put.
    assert_eq!(response.aws_calls.get("cloudwatch:GetMetricData"), Some(&2));
    assert_eq!(
        response
            .aws_calls
            .get("autoscaling:DescribeAutoScalingGroups"),
        Some(&1)
    );
    assert_eq!(response.aws_calls.get("dynamodb:PutItem"), Some(&1));
    assert_eq!(response.aws_calls.get("cloudwatch:PutMetricData"), Some(&1));
}

#[tokio::test]
async fn a_group_at_max_size_gets_an_instance_type_change() {
    let fleet = Fleet::new(&["batch"], &[]).await;
    fleet.group("batch", (1, 3, 3)).await;
    fleet.cpu("batch", 88.0, 89.0).await;
    let response = fleet.run(Trigger::Schedule, now()).await;
    let batch = outcome(&response, &fleet.name("batch"));
    let stored = fleet
        .app
        .deps
        .store
        .get(&batch.recommendation_ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.kind, RecommendationType::InstanceTypeChange);
    assert_eq!(stored.priority, Priority::High);
    assert_eq!(batch.recommendation_ids.len(), 1);
}

#[tokio::test]
async fn memory_without_the_agent_is_missing_not_zero_and_no_cpu_is_insufficient_data() {
    let fleet = Fleet::new(&["noagent", "dark"], &[]).await;
    fleet.group("noagent", (1, 2, 10)).await;
    fleet.group("dark", (1, 2, 10)).await;
    fleet.cpu("noagent", 70.0, 75.0).await;
    let response = fleet.run(Trigger::Schedule, now()).await;
    let noagent = outcome(&response, &fleet.name("noagent"));
    assert_eq!(noagent.status, GroupStatus::Scored);
    assert_eq!(noagent.missing, vec![Part::Memory, Part::ResponseTime]);
    // CPU in range, capacity 20 %: every available part scores 100.
    assert_eq!(noagent.performance_score, Some(100.0));
    let dark = outcome(&response, &fleet.name("dark"));
    assert_eq!(dark.status, GroupStatus::InsufficientData);
    assert_eq!(dark.performance_score, None);
    assert!(dark.recommendation_ids.is_empty());
    assert_eq!(
        dark.reason.as_deref(),
        Some("no CPU utilization datapoints")
    );
}

#[tokio::test]
async fn a_second_run_over_the_same_window_writes_nothing_new() {
    let fleet = Fleet::new(&["web"], &[]).await;
    fleet.group("web", (1, 4, 10)).await;
    fleet.cpu("web", 85.0, 95.0).await;
    let first = fleet.run(Trigger::Schedule, now()).await;
    let second = fleet
        .run(Trigger::Schedule, now() + TimeDelta::minutes(3))
        .await;
    assert_eq!(first.recommendations_written, 1);
    assert_eq!(second.recommendations_written, 0);
    assert_eq!(
        outcome(&first, &fleet.name("web")).recommendation_ids,
        outcome(&second, &fleet.name("web")).recommendation_ids
    );
    let all = fleet
        .app
        .deps
        .store
        .query(&RecommendationQuery::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
}

#[tokio::test]
async fn the_same_finding_an_hour_later_refreshes_its_open_request_and_a_new_target_replaces_it() {
    let fleet = Fleet::new(&["web"], &[]).await;
    fleet.group("web", (1, 4, 10)).await;
    for (hour, average) in [(0, 85.0), (1, 86.0), (2, 86.5), (3, 99.0)] {
        fleet
            .metric(
                "AWS/EC2",
                "CPUUtilization",
                "web",
                average,
                99.5,
                now() + TimeDelta::hours(hour),
            )
            .await;
    }
    let first = fleet.run(Trigger::Schedule, now()).await;
    let id = outcome(&first, &fleet.name("web")).recommendation_ids[0].clone();
    let stored = fleet.app.deps.store.get(&id).await.unwrap().unwrap();
    // The analyzer signed its automated scale-up with the findings key.
    assert!(stored.implementation.automated);
    assert!(stored.attestation.is_some());
    assert_eq!(first.aws_calls.get("kms:Sign"), Some(&1));
    // The engine asks a person about it meanwhile.
    let asked = fleet
        .app
        .deps
        .store
        .transition(
            &stored,
            &Transition::new(Status::AwaitingApproval, now(), "optimization-engine"),
        )
        .await
        .unwrap();
    for hour in [1, 2] {
        let again = fleet
            .run(Trigger::Schedule, now() + TimeDelta::hours(hour))
            .await;
        assert_eq!(
            (
                again.recommendations_written,
                again.recommendations_refreshed
            ),
            (0, 1),
            "{again:#?}"
        );
        assert_eq!(
            outcome(&again, &fleet.name("web")).recommendation_ids,
            std::slice::from_ref(&id)
        );
    }
    let refreshed = fleet.app.deps.store.get(&id).await.unwrap().unwrap();
    assert_eq!(
        (refreshed.status, refreshed.version, refreshed.seen()),
        (Status::AwaitingApproval, asked.version, 3)
    );
    assert_eq!(
        refreshed.analysis_window.end,
        now() + TimeDelta::hours(2),
        "the latest window"
    );
    assert_eq!(refreshed.timestamp, stored.timestamp, "the same item");
    // CPU 99 %: another target capacity. The new request replaces the open one and names it.
    let changed = fleet
        .run(Trigger::Schedule, now() + TimeDelta::hours(3))
        .await;
    assert_eq!(
        (
            changed.recommendations_written,
            changed.recommendations_superseded
        ),
        (1, 1)
    );
    let new_id = &outcome(&changed, &fleet.name("web")).recommendation_ids[0];
    let new = fleet.app.deps.store.get(new_id).await.unwrap().unwrap();
    assert_eq!(new.replaces.as_deref(), Some(id.as_str()));
    let old = fleet.app.deps.store.get(&id).await.unwrap().unwrap();
    assert_eq!(old.status, Status::Superseded);
    assert_eq!(
        old.status_history.last().unwrap().reason.as_deref(),
        Some(format!("replaced by {new_id}").as_str())
    );
    let open = fleet
        .app
        .deps
        .store
        .query(&RecommendationQuery::default())
        .await
        .unwrap()
        .iter()
        .filter(|r| r.status.is_open())
        .count();
    assert_eq!(open, 1);
}

#[tokio::test]
async fn an_item_another_version_wrote_is_skipped_and_named_and_the_analysis_goes_on() {
    let fleet = Fleet::new(&["web"], &[]).await;
    fleet.group("web", (1, 4, 10)).await;
    fleet.cpu("web", 85.0, 95.0).await;
    // A SCALE_UP item without a description: in the index the history reads, not decodable.
    fleetopt_aws::emulator::put_raw_item(
        &fleet.clients,
        &fleet.app.config.table,
        &[
            ("id", "foreign"),
            ("timestamp", "2026-11-20T11:00:00Z"),
            ("type", "SCALE_UP"),
            ("priority", "HIGH"),
            ("status", "PENDING"),
        ],
    )
    .await
    .unwrap();
    let response = fleet.run(Trigger::Schedule, now()).await;
    assert_eq!(response.items_skipped, ["foreign"]);
    assert_eq!(response.recommendations_written, 1, "{response:#?}");
    assert_eq!(
        outcome(&response, &fleet.name("web")).status,
        GroupStatus::Scored
    );
}

#[tokio::test]
async fn a_dry_run_computes_everything_and_writes_nothing() {
    let fleet = Fleet::new(&["web"], &[]).await;
    fleet.group("web", (1, 4, 10)).await;
    fleet.cpu("web", 85.0, 95.0).await;
    let trigger = Trigger::Manual {
        groups: Some(vec![fleet.name("web")]),
        dry_run: true,
        shard: None,
    };
    let response = fleet.run(trigger, now()).await;
    assert!(response.dry_run);
    assert_eq!(
        outcome(&response, &fleet.name("web"))
            .recommendation_ids
            .len(),
        1
    );
    assert_eq!(response.recommendations_written, 0);
    assert!(!response.aws_calls.contains_key("dynamodb:PutItem"));
    assert!(!response.aws_calls.contains_key("cloudwatch:PutMetricData"));
    let all = fleet
        .app
        .deps
        .store
        .query(&RecommendationQuery::default())
        .await
        .unwrap();
    assert!(all.is_empty());
}

#[tokio::test]
async fn published_scores_can_be_read_back_from_cloudwatch() {
    let fleet = Fleet::new(&["web"], &[]).await;
    fleet.group("web", (1, 4, 10)).await;
    fleet.cpu("web", 85.0, 95.0).await;
    let response = fleet.run(Trigger::Schedule, now()).await;
    let score = outcome(&response, &fleet.name("web"))
        .performance_score
        .unwrap();
    let read = fleet
        .app
        .deps
        .metrics
        .read(
            &TimeWindow {
                start: now() - TimeDelta::hours(1),
                end: now() + TimeDelta::hours(1),
            },
            &[MetricQuery {
                id: "score".into(),
                namespace: "FleetOptimizer".into(),
                name: "PerformanceScore",
                dimensions: vec![
                    ("Environment", "production".into()),
                    ("AutoScalingGroupName", fleet.name("web")),
                ],
                statistic: Statistic::Average,
                period_seconds: 3600,
            }],
        )
        .await
        .unwrap();
    let values: Vec<f64> = read["score"].iter().map(|(_, v)| *v).collect();
    assert_eq!(values.len(), 1);
    assert!((values[0] - score).abs() < 1e-6, "{values:?} vs {score}");
}

#[tokio::test]
async fn groups_are_discovered_by_tag_and_unknown_names_are_reported() {
    let prefix = unique_prefix();
    let key = format!("fleet-optimizer:{prefix}");
    let fleet = Fleet::new(
        &[],
        &[
            ("FLEETOPT_TARGET_GROUPS", ""),
            ("FLEETOPT_TARGET_TAG", &format!("{key}=true")),
        ],
    )
    .await;
    for (group, tagged) in [("tagged", true), ("untagged", false)] {
        create_group(
            &fleet.clients,
            &SeedGroup {
                name: fleet.name(group),
                min_size: 1,
                max_size: 4,
                desired: 1,
                tags: if tagged {
                    vec![(key.clone(), "true".into())]
                } else {
                    vec![]
                },
                instance_type: "m5.large".into(),
                target_group_arns: vec![],
            },
        )
        .await
        .unwrap();
    }
    let response = fleet.run(Trigger::Schedule, now()).await;
    let names: Vec<&str> = response
        .groups
        .iter()
        .map(|g| g.auto_scaling_group_name.as_str())
        .collect();
    assert_eq!(names, vec![fleet.name("tagged").as_str()]);
    let asked = Trigger::Manual {
        groups: Some(vec![fleet.name("tagged"), fleet.name("untagged")]),
        dry_run: true,
        shard: None,
    };
    let response = fleet.run(asked, now()).await;
    let untagged = outcome(&response, &fleet.name("untagged"));
    assert_eq!(untagged.status, GroupStatus::Error);
    assert!(
        untagged
            .error
            .as_deref()
            .unwrap()
            .contains("not among the targeted")
    );
    assert_eq!(
        outcome(&response, &fleet.name("tagged")).status,
        GroupStatus::InsufficientData
    );
}

#[tokio::test]
async fn a_malformed_event_is_an_error_naming_what_is_accepted() {
    // Through the shared Lambda entry, as the runtime calls it: a Diagnostic with the fixed type.
    let fleet = Fleet::new(&["web"], &[]).await;
    let event = lambda_runtime::LambdaEvent::new(
        serde_json::json!({"Records": []}),
        lambda_runtime::Context::default(),
    );
    let diagnostic = fleetopt_lambda::handle(&fleet.app, event)
        .await
        .unwrap_err();
    assert_eq!(diagnostic.error_type, "InvalidEvent");
    assert!(diagnostic.error_message.contains("Scheduled Event"));
    assert!(matches!(
        decode(serde_json::json!({})),
        Ok(Decision::Run(_))
    ));
}

#[tokio::test]
async fn high_priority_findings_send_one_alert_per_run() {
    let sdk = sdk_config().await;
    let topic = Clients::new(&sdk)
        .sns
        .create_topic()
        .name(unique_prefix())
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let fleet = Fleet::new(
        &["web", "api"],
        &[("FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN", topic.as_str())],
    )
    .await;
    for group in ["web", "api"] {
        fleet.group(group, (1, 4, 10)).await;
        fleet.cpu(group, 85.0, 95.0).await;
    }
    let response = fleet.run(Trigger::Schedule, now()).await;
    assert_eq!(response.recommendations_written, 2);
    assert_eq!(response.aws_calls.get("sns:Publish"), Some(&1));
    // Nothing HIGH, no message.
    let calm = Fleet::new(
        &["calm"],
        &[("FLEETOPT_PERFORMANCE_ALERT_TOPIC_ARN", topic.as_str())],
    )
    .await;
    calm.group("calm", (1, 4, 10)).await;
    calm.cpu("calm", 70.0, 75.0).await;
    let response = calm.run(Trigger::Schedule, now()).await;
    assert!(!response.aws_calls.contains_key("sns:Publish"));
}

/// Creates a VPC, an Application Load Balancer and a target group in the emulator with boto3
/// from the emulator's venv (the Rust workspace does not link the EC2 SDK for a test's VPC),
/// and returns the target group's ARN.
fn load_balanced_target_group(prefix: &str) -> String {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("FLEETOPT_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo.join(".venv"));
    let script = r#"
import sys, boto3
prefix = sys.argv[1][-20:]
ec2, elb = boto3.client("ec2"), boto3.client("elbv2")
vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
           for i, az in enumerate(["us-east-1a", "us-east-1b"])]
lb = elb.create_load_balancer(Name=f"lb{prefix}", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
tg = elb.create_target_group(Name=f"tg{prefix}", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                    DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
print(tg)
"#;
    let output = std::process::Command::new(venv.join("bin/python"))
        .args(["-c", script, prefix])
        .env("AWS_ENDPOINT_URL", fleetopt_aws::emulator::endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

impl Fleet {
    /// A group of m5.large behind a new load balancer's target group; returns the CloudWatch
    /// dimensions of that target group (the ARN suffixes of the target group and its ALB).
    async fn load_balanced_group(
        &self,
        group: &str,
        sizes: (i32, i32, i32),
    ) -> [(&'static str, String); 2] {
        let target_group = load_balanced_target_group(&self.prefix);
        self.seed_group(group, sizes, &[], vec![target_group.clone()])
            .await;
        let tg_dimension = target_group[target_group.find("targetgroup/").unwrap()..].to_owned();
        let described = self
            .clients
            .elbv2
            .describe_target_groups()
            .target_group_arns(&target_group)
            .send()
            .await
            .unwrap();
        let lb_arn = described.target_groups()[0].load_balancer_arns()[0].clone();
        let lb_dimension = lb_arn[lb_arn.find("app/").unwrap()..].to_owned();
        [
            ("TargetGroup", tg_dimension),
            ("LoadBalancer", lb_dimension),
        ]
    }

    /// A load-balanced group `name` (`load_balanced_group`) with CPU (65 %, peak 70 %) and
    /// memory (75 %) in range over the last hour, its target group answering in
    /// `response_seconds` and receiving `requests` requests every 5 minutes.
    async fn serving(
        &self,
        name: &str,
        capacity: (i32, i32, i32),
        response_seconds: f64,
        requests: f64,
    ) {
        let dimensions = self.load_balanced_group(name, capacity).await;
        self.cpu(name, 65.0, 70.0).await;
        self.memory(name, 75.0).await;
        for (metric, unit, value) in [
            ("TargetResponseTime", "Seconds", response_seconds),
            ("RequestCount", "Count", requests),
        ] {
            put_datapoints(
                &self.clients,
                ("AWS/ApplicationELB", metric, unit),
                &dimensions,
                &every_five_minutes(value),
            )
            .await
            .unwrap();
        }
    }
}

/// One datapoint per 5-minute period of the hour before `now()` (production's analysis window).
fn every_five_minutes(value: f64) -> Vec<(DateTime<Utc>, f64)> {
    (1..=12)
        .map(|k| {
            (
                now() - TimeDelta::minutes(5 * k) + TimeDelta::seconds(30),
                value,
            )
        })
        .collect()
}

#[tokio::test]
async fn load_balancer_metrics_are_read_through_the_groups_target_group() {
    let fleet = Fleet::new(&["shop"], &[]).await;
    fleet.serving("shop", (1, 3, 10), 0.9, 600.0).await;

    let response = fleet.run(Trigger::Schedule, now()).await;
    let shop = outcome(&response, &fleet.name("shop"));
    assert_eq!(shop.status, GroupStatus::Scored);
    assert!(shop.missing.is_empty(), "{:?}", shop.missing);
    assert_eq!(
        response
            .aws_calls
            .get("elasticloadbalancing:DescribeTargetGroups"),
        Some(&1)
    );
    // Response time 900 ms > 1.5 x 500 ms with CPU and memory in range: tuning, HIGH.
    let mut kinds = Vec::new();
    for id in &shop.recommendation_ids {
        let r = fleet.app.deps.store.get(id).await.unwrap().unwrap();
        assert!((r.evidence.response_time_ms.unwrap() - 900.0).abs() < 1e-6);
        kinds.push((r.kind, r.priority));
    }
    assert!(
        kinds.contains(&(RecommendationType::PerformanceTuning, Priority::High)),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn requests_above_the_throughput_target_scale_up_within_max_size() {
    let fleet = Fleet::new(&["shop", "quiet"], &[]).await;
    // CPU and memory in range, response time well under 500 ms: only the requests are high.
    // 30,000 requests every 5 minutes: 6,000 a minute, 2,000 per instance of 3, twice
    // production's 1,000. ceil(6000 / 1000) = 6 instances, bounded by max size 5.
    fleet.serving("shop", (1, 3, 5), 0.2, 30_000.0).await;
    // The same figures without a load balancer: no request count, no throughput finding.
    fleet.group("quiet", (1, 3, 5)).await;
    fleet.cpu("quiet", 65.0, 70.0).await;
    fleet.memory("quiet", 75.0).await;

    let response = fleet.run(Trigger::Schedule, now()).await;
    let shop = outcome(&response, &fleet.name("shop"));
    assert_eq!(shop.status, GroupStatus::Scored);
    assert_eq!(shop.recommendation_ids.len(), 1, "{shop:#?}");
    let r = fleet
        .app
        .deps
        .store
        .get(&shop.recommendation_ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.kind, r.priority),
        (RecommendationType::ScaleUp, Priority::Medium)
    );
    assert_eq!(r.evidence.target_desired_capacity, Some(5));
    assert!((r.evidence.requests_per_minute.unwrap() - 6000.0).abs() < 1e-6);
    assert_eq!(r.evidence.throughput_target, Some(1000.0));
    assert!(
        r.description
            .contains("2000 requests a minute per instance (6000 over 3 in service) is above the 1000 throughput target"),
        "{}",
        r.description
    );
    let quiet = outcome(&response, &fleet.name("quiet"));
    assert_eq!(quiet.status, GroupStatus::Scored);
    assert!(quiet.recommendation_ids.is_empty(), "{quiet:#?}");
}

#[tokio::test]
async fn the_exclude_tag_keeps_its_types_out_and_counts_them_as_suppressed() {
    let fleet = Fleet::new(&["web", "shop"], &[]).await;
    // Both overloaded alike; only web says "no scale up for me".
    fleet
        .tagged_group(
            "web",
            (1, 4, 10),
            &[("fleet-optimizer:exclude", "SCALE_UP, INSTANCE_TYPE_CHANGE")],
        )
        .await;
    fleet.group("shop", (1, 4, 10)).await;
    for group in ["web", "shop"] {
        fleet.cpu(group, 85.0, 95.0).await;
    }
    let response = fleet.run(Trigger::Schedule, now()).await;
    let web = outcome(&response, &fleet.name("web"));
    // Scored and published as usual: only the recommendation is held back.
    assert_eq!(web.status, GroupStatus::Scored);
    assert!(web.recommendation_ids.is_empty(), "{web:#?}");
    assert_eq!(
        outcome(&response, &fleet.name("shop"))
            .recommendation_ids
            .len(),
        1
    );
    assert_eq!(response.recommendations_written, 1);
    assert_eq!(response.recommendations_suppressed, 1);
    let held = &response.suppressed[0];
    assert_eq!(held.auto_scaling_group_name, fleet.name("web"));
    assert_eq!(held.kind, RecommendationType::ScaleUp);
    assert_eq!(held.suppression, Suppression::Excluded);
    assert!(
        held.reason.contains("fleet-optimizer:exclude"),
        "{}",
        held.reason
    );
    let stored = fleet
        .app
        .deps
        .store
        .query(&RecommendationQuery::default())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].auto_scaling_group_name, fleet.name("shop"));
}

#[tokio::test]
async fn a_scale_down_that_would_reverse_a_recent_scale_up_is_held_back() {
    // The backtest would hold this scale-down back too (the hours at 85 % are in the trend
    // window): allowed here, so that the anti-churn rule is what holds it.
    let fleet = Fleet::new(
        &["web"],
        &[("FLEETOPT_BACKTEST_MAX_SATURATED_PERCENT", "100")],
    )
    .await;
    fleet.group("web", (1, 4, 10)).await;
    fleet.cpu("web", 85.0, 95.0).await;
    let first = fleet.run(Trigger::Schedule, now()).await;
    let up = fleet
        .app
        .deps
        .store
        .get(&outcome(&first, &fleet.name("web")).recommendation_ids[0])
        .await
        .unwrap()
        .unwrap();
    // The engine applied it ten minutes after the analysis: 4 -> 5, IN_PROGRESS.
    let applied_at = now() + TimeDelta::minutes(10);
    let execution = Execution {
        previous_capacity: 4,
        new_capacity: 5,
        applied_at: fleetopt_model::rfc3339(applied_at),
        activity_id: None,
        target_capacity: None,
        ..Execution::default()
    };
    fleet
        .app
        .deps
        .store
        .transition(
            &up,
            &Transition::new(Status::InProgress, applied_at, "optimization-engine")
                .recording(&execution),
        )
        .await
        .unwrap();
    // What the test itself read and wrote is not the run's.
    fleet.app.calls.take();
    // Two hours later the group idles: a scale down, which would undo it within 6 hours.
    let later = now() + TimeDelta::hours(2);
    fleet
        .metric("AWS/EC2", "CPUUtilization", "web", 12.0, 18.0, later)
        .await;
    let second = fleet.run(Trigger::Schedule, later).await;
    assert_eq!(second.recommendations_written, 0, "{second:#?}");
    assert_eq!(second.recommendations_suppressed, 1);
    let held = &second.suppressed[0];
    assert_eq!(held.kind, RecommendationType::ScaleDown);
    assert_eq!(held.suppression, Suppression::AntiChurn);
    assert!(held.reason.contains(&up.id), "{}", held.reason);
    // Two GSI queries per type read the history (SCALE_DOWN and its opposite SCALE_UP), and
    // one per open status for the type found (SCALE_DOWN): its open requests, however old.
    assert_eq!(second.aws_calls.get("dynamodb:Query"), Some(&7));
    let downs = fleet
        .app
        .deps
        .store
        .query(&RecommendationQuery {
            kind: Some(RecommendationType::ScaleDown),
            ..RecommendationQuery::default()
        })
        .await
        .unwrap();
    assert!(downs.is_empty(), "{downs:#?}");
}

#[tokio::test]
async fn a_scale_down_the_last_hours_would_have_saturated_is_withheld_and_said() {
    let fleet = Fleet::new(&["web"], &[]).await;
    fleet.group("web", (1, 4, 10)).await;
    // An hour at 85 %, then two hours later idle: scaling down for the idle hour would have
    // run the busy one over 90 %.
    fleet.cpu("web", 85.0, 95.0).await;
    let later = now() + TimeDelta::hours(2);
    fleet
        .metric("AWS/EC2", "CPUUtilization", "web", 12.0, 18.0, later)
        .await;
    let response = fleet.run(Trigger::Schedule, later).await;
    let web = outcome(&response, &fleet.name("web"));
    assert!(web.recommendation_ids.is_empty(), "{response:#?}");
    assert_eq!(web.withheld.len(), 1, "{response:#?}");
    assert_eq!(web.withheld[0].kind, RecommendationType::ScaleDown);
    assert!(
        web.withheld[0]
            .reason
            .contains("above 90 % CPU, more than the 1 % allowed"),
        "{}",
        web.withheld[0].reason
    );
}
