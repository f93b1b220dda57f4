//! The engine against the local emulator, with the real adapters: groups in moto's Auto
//! Scaling, recommendations in a fresh table, stream records built from the stored items.
//! moto records no scaling activities and accepts a desired capacity above max size, so the
//! max-size clamp these tests see is the engine's own; cooldowns and activities in progress
//! are covered on fakes in `src/engine.rs`.

// A test that cannot set up must fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use fleetopt_aws::emulator::{SeedGroup, create_group, sdk_config, signing_key};
use fleetopt_aws::{Clients, KmsKeys, create_table};
use fleetopt_config::Config;
use fleetopt_model::{Action, Recommendation, RecommendationType, Status, recommendations_table};
use fleetopt_ports::fakes::contract::sample;
use fleetopt_ports::{
    GroupLocks, PutOutcome, RecommendationStore, Transition, attest, sign_approval,
};
use optimization_engine::engine::{Outcome, Response, run};
use optimization_engine::event::{ItemChange, Trigger, decode, stream_event};
use optimization_engine::lambda::App;

/// Ten past the end of the sample's analysis window (09:00-10:00).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 5, 0).unwrap()
}

fn unique_prefix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "e{}{}x{}",
        std::process::id(),
        Utc::now().timestamp_subsec_nanos(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

struct Fleet {
    clients: Clients,
    config: Config,
    prefix: String,
}

/// Who approves in these tests.
const APPROVER: &str = "arn:aws:sts::123456789012:assumed-role/ops/alice";

impl Fleet {
    /// A fresh table, and groups `(name, min, desired, max)` targeted by name.
    async fn new(groups: &[(&str, i32, i32, i32)], extra: &[(&str, &str)]) -> Fleet {
        let prefix = unique_prefix();
        let clients = Clients::new(&sdk_config().await);
        let table = format!("{prefix}-recommendations");
        create_table(&clients.dynamodb, recommendations_table(), &table)
            .await
            .unwrap();
        let mut names = Vec::new();
        for (name, min, desired, max) in groups {
            let name = format!("{prefix}-{name}");
            create_group(
                &clients,
                &SeedGroup {
                    name: name.clone(),
                    min_size: *min,
                    max_size: *max,
                    desired: *desired,
                    tags: Vec::new(),
                    instance_type: "m5.large".into(),
                    target_group_arns: Vec::new(),
                },
            )
            .await
            .unwrap();
            names.push(name);
        }
        // The environment's two signing keys, as the stack makes them (ECC_NIST_P256).
        let approvals = signing_key(&clients, &format!("alias/{prefix}-approvals"))
            .await
            .unwrap();
        let findings = signing_key(&clients, &format!("alias/{prefix}-findings"))
            .await
            .unwrap();
        let mut vars: HashMap<String, String> = HashMap::from([
            ("FLEETOPT_ENVIRONMENT".into(), "production".into()),
            ("FLEETOPT_APPLICATION".into(), "it".into()),
            ("FLEETOPT_TABLE".into(), table),
            ("FLEETOPT_TARGET_GROUPS".into(), names.join(",")),
            ("FLEETOPT_APPROVAL_KEY".into(), approvals),
            ("FLEETOPT_FINDING_KEY".into(), findings),
        ]);
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let config = Config::from_lookup(&|name| vars.get(name).cloned()).unwrap();
        Fleet {
            clients,
            config,
            prefix,
        }
    }

    fn name(&self, group: &str) -> String {
        format!("{}-{group}", self.prefix)
    }

    /// A new process's worth of clients and adapters.
    async fn app(&self) -> App {
        App::new(self.config.clone(), &sdk_config().await)
    }

    /// The sample SCALE_UP (4 -> 5 at CPU 85 %), for this fleet's `group`, with `to` as its
    /// recommended capacity; written to the table.
    async fn scale(&self, group: &str, kind: RecommendationType, to: u32) -> Recommendation {
        self.scale_at(group, kind, to, 9).await
    }

    /// The same, computed from the hour starting at `hour` o'clock.
    async fn scale_at(
        &self,
        group: &str,
        kind: RecommendationType,
        to: u32,
        hour: u32,
    ) -> Recommendation {
        let mut r = sample(&self.name(group), hour);
        r.kind = kind;
        r.implementation.action = Some(Action::SetDesiredCapacity { from: 4, to });
        r.implementation.automated = kind == RecommendationType::ScaleUp;
        // As the analyzer writes it: automated scale-ups signed with the findings key.
        if r.implementation.automated {
            attest(&self.keys(), &self.config.approvals.finding_key, &mut r)
                .await
                .unwrap();
        }
        let app = self.app().await;
        assert_eq!(app.deps.store.put_new(&r).await, Ok(PutOutcome::Written));
        r
    }

    fn keys(&self) -> KmsKeys {
        self.clients.keys()
    }

    /// `waiting` approved by [`APPROVER`], as `fleetopt approve` does it: signed with the
    /// approvals key, in the same conditional write as the move to APPROVED.
    async fn approve(&self, waiting: &Recommendation) -> Recommendation {
        let approval = sign_approval(
            &self.keys(),
            &self.config.approvals.approval_key,
            waiting,
            APPROVER,
            now(),
            Duration::hours(6),
        )
        .await
        .unwrap();
        self.app()
            .await
            .deps
            .store
            .transition(
                waiting,
                &Transition::new(Status::Approved, now(), APPROVER).approving(&approval),
            )
            .await
            .unwrap()
    }

    async fn desired(&self, group: &str) -> (i32, usize) {
        let out = self
            .clients
            .autoscaling
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(self.name(group))
            .send()
            .await
            .unwrap();
        let g = &out.auto_scaling_groups()[0];
        (g.desired_capacity().unwrap(), g.instances().len())
    }

    async fn stored(&self, id: &str) -> Recommendation {
        self.app()
            .await
            .deps
            .store
            .get(id)
            .await
            .unwrap()
            .expect("the item is there")
    }

    /// One invocation through a fresh App, with its AWS call counts (in the response, and
    /// SetDesiredCapacity's on its own).
    async fn invoke(&self, trigger: &Trigger, at: DateTime<Utc>) -> (Response, u64) {
        let app = self.app().await;
        let mut response = run(&app.config, &app.deps, trigger, at).await.unwrap();
        response.aws_calls = app.calls.take();
        let sets = response
            .aws_calls
            .get("autoscaling:SetDesiredCapacity")
            .copied()
            .unwrap_or(0);
        (response, sets)
    }
}

fn inserted(r: &Recommendation, sequence_number: &str) -> Trigger {
    decode(
        stream_event(&[ItemChange {
            event_name: "INSERT",
            old: None,
            new: Some(r),
            sequence_number,
        }])
        .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_pending_scale_up_moves_desired_capacity_to_the_recommended_value() {
    let fleet = Fleet::new(&[("web", 2, 4, 10)], &[]).await;
    let r = fleet.scale("web", RecommendationType::ScaleUp, 6).await;
    let (response, sets) = fleet.invoke(&inserted(&r, "1"), now()).await;
    assert_eq!(response.actions_applied, 1, "{response:?}");
    assert_eq!(sets, 1);
    assert_eq!(fleet.desired("web").await, (6, 6));
    let item = fleet.stored(&r.id).await;
    assert_eq!(item.status, Status::InProgress);
    let execution = item.execution.unwrap();
    assert_eq!(
        (execution.previous_capacity, execution.new_capacity),
        (4, 6)
    );

    // The sweep finds the group at its new size with healthy instances.
    let (sweep, _) = fleet
        .invoke(
            &Trigger::Sweep { dry_run: false },
            now() + Duration::minutes(15),
        )
        .await;
    assert_eq!(sweep.decisions[0].outcome, Outcome::Completed, "{sweep:?}");
    assert_eq!(fleet.stored(&r.id).await.status, Status::Completed);
}

#[tokio::test]
async fn scale_up_never_exceeds_max_size_even_where_the_emulator_would_allow_it() {
    let fleet = Fleet::new(&[("web", 2, 4, 5)], &[]).await;
    let r = fleet.scale("web", RecommendationType::ScaleUp, 9).await;
    let (response, _) = fleet.invoke(&inserted(&r, "1"), now()).await;
    assert_eq!(response.actions_applied, 1);
    assert_eq!(fleet.desired("web").await, (5, 5));
    // The emulator itself takes a desired capacity above max size: the clamp above is ours.
    fleet
        .clients
        .autoscaling
        .set_desired_capacity()
        .auto_scaling_group_name(fleet.name("web"))
        .desired_capacity(9)
        .send()
        .await
        .expect("moto accepts desired > max; AWS would refuse it");
    assert_eq!(fleet.desired("web").await.0, 9);
}

#[tokio::test]
async fn two_concurrent_invocations_with_the_same_record_apply_it_exactly_once() {
    const TRIALS: usize = 10;
    let fleet = Fleet::new(&[("web", 2, 4, 10)], &[]).await;
    for trial in 0..TRIALS {
        // Each trial its own item (its own hour's window), the group back at 4.
        let hour = u32::try_from(trial).unwrap();
        let r = fleet
            .scale_at("web", RecommendationType::ScaleUp, 5, hour)
            .await;
        let at = r.analysis_window.end + Duration::minutes(5);
        let trigger = inserted(&r, "1");
        let ((a, sets_a), (b, sets_b)) =
            tokio::join!(fleet.invoke(&trigger, at), fleet.invoke(&trigger, at));
        assert_eq!(sets_a + sets_b, 1, "trial {trial}: {a:?} {b:?}");
        let outcomes = [a.decisions[0].outcome, b.decisions[0].outcome];
        assert!(
            outcomes.contains(&Outcome::Applied) && outcomes.contains(&Outcome::AlreadyHandled),
            "trial {trial}: {outcomes:?}"
        );
        assert_eq!(fleet.desired("web").await.0, 5);
        let claimed = fleet.stored(&r.id).await;
        assert_eq!(claimed.status, Status::InProgress);
        fleet
            .app()
            .await
            .deps
            .store
            .transition(&claimed, &Transition::new(Status::Completed, at, "test"))
            .await
            .unwrap();
        // Completed by the test, not the engine's sweep: the group's lock is let go here.
        fleet
            .app()
            .await
            .deps
            .store
            .unlock(&fleet.name("web"), &r.id)
            .await
            .unwrap();
        fleet
            .clients
            .autoscaling
            .set_desired_capacity()
            .auto_scaling_group_name(fleet.name("web"))
            .desired_capacity(4)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn two_invocations_with_different_items_for_one_group_change_it_once() {
    // Two analyses' items for the same group reach two invocations at once: each reads no
    // change in progress (the index lags the claim), so only the group's lock keeps the
    // second from moving the group again.
    let fleet = Fleet::new(&[("web", 2, 4, 10)], &[]).await;
    let first = fleet
        .scale_at("web", RecommendationType::ScaleUp, 5, 8)
        .await;
    let second = fleet
        .scale_at("web", RecommendationType::ScaleUp, 6, 9)
        .await;
    let (one, two) = (inserted(&first, "1"), inserted(&second, "2"));
    let ((a, sets_a), (b, sets_b)) =
        tokio::join!(fleet.invoke(&one, now()), fleet.invoke(&two, now()));
    assert_eq!(sets_a + sets_b, 1, "{a:?} {b:?}");
    let outcomes = [a.decisions[0].outcome, b.decisions[0].outcome];
    assert!(outcomes.contains(&Outcome::Applied), "{outcomes:?}");
    assert!(outcomes.contains(&Outcome::Waiting), "{outcomes:?}");
}

#[tokio::test]
async fn a_scale_down_leaves_the_group_alone_until_approved_then_goes_no_further() {
    let topic = Clients::new(&sdk_config().await)
        .sns
        .create_topic()
        .name(unique_prefix())
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let fleet = Fleet::new(
        &[("idle", 2, 4, 10)],
        &[("FLEETOPT_RECOMMENDATION_TOPIC_ARN", topic.as_str())],
    )
    .await;
    let r = fleet.scale("idle", RecommendationType::ScaleDown, 3).await;
    let (response, sets) = fleet.invoke(&inserted(&r, "1"), now()).await;
    assert_eq!(sets, 0);
    assert_eq!(response.decisions[0].outcome, Outcome::AwaitingApproval);
    // One approval message, one PutMetricData, through the real adapters.
    assert_eq!(response.aws_calls.get("sns:Publish"), Some(&1));
    assert_eq!(response.aws_calls.get("cloudwatch:PutMetricData"), Some(&1));
    assert_eq!(fleet.desired("idle").await.0, 4);
    let waiting = fleet.stored(&r.id).await;
    assert_eq!(waiting.status, Status::AwaitingApproval);
    // A sweep does not touch it either.
    let (_, sets) = fleet
        .invoke(&Trigger::Sweep { dry_run: false }, now())
        .await;
    assert_eq!(sets, 0);

    // Written straight to the table as APPROVED (table access, no approval): refused,
    // alerted, the group untouched.
    let app = fleet.app().await;
    let unsigned = app
        .deps
        .store
        .transition(
            &waiting,
            &Transition::new(Status::Approved, now(), "mallory"),
        )
        .await
        .unwrap();
    let forged = decode(
        stream_event(&[ItemChange {
            event_name: "MODIFY",
            old: Some(&waiting),
            new: Some(&unsigned),
            sequence_number: "2",
        }])
        .unwrap(),
    )
    .unwrap();
    let (response, sets) = fleet.invoke(&forged, now()).await;
    assert_eq!(sets, 0);
    assert_eq!(response.decisions[0].outcome, Outcome::Failed);
    assert!(
        response.decisions[0]
            .reason
            .contains("without a signed approval"),
        "{response:?}"
    );
    assert_eq!(fleet.desired("idle").await.0, 4);
    assert_eq!(fleet.stored(&r.id).await.status, Status::Failed);

    // The same finding, approved by a person who holds kms:Sign: the stream delivers the
    // MODIFY, the engine verifies the signature (one kms:Verify) and applies it.
    let r = fleet
        .scale_at("idle", RecommendationType::ScaleDown, 3, 8)
        .await;
    let (_, _) = fleet.invoke(&inserted(&r, "3"), now()).await;
    let waiting = fleet.stored(&r.id).await;
    assert_eq!(waiting.status, Status::AwaitingApproval);
    let approved = fleet.approve(&waiting).await;
    let modify = decode(
        stream_event(&[ItemChange {
            event_name: "MODIFY",
            old: Some(&waiting),
            new: Some(&approved),
            sequence_number: "2",
        }])
        .unwrap(),
    )
    .unwrap();
    let (response, sets) = fleet.invoke(&modify, now()).await;
    assert_eq!((response.actions_applied, sets), (1, 1), "{response:?}");
    assert_eq!(response.aws_calls.get("kms:Verify"), Some(&1));
    assert_eq!(response.signatures_verified, 1);
    assert_eq!(fleet.desired("idle").await, (3, 3));
    assert_eq!(fleet.stored(&r.id).await.status, Status::InProgress);
}

#[tokio::test]
async fn an_automated_scale_up_signed_with_another_key_is_refused() {
    let fleet = Fleet::new(&[("web", 2, 4, 10)], &[]).await;
    let mut forged = sample(&fleet.name("web"), 9);
    // Signed, but with a key of the forger's own (they hold table write access, not the
    // analyzer's kms:Sign on the findings key).
    let theirs = signing_key(&fleet.clients, &format!("alias/{}-theirs", fleet.prefix))
        .await
        .unwrap();
    attest(&fleet.keys(), &theirs, &mut forged).await.unwrap();
    let app = fleet.app().await;
    app.deps.store.put_new(&forged).await.unwrap();
    let (response, sets) = fleet.invoke(&inserted(&forged, "1"), now()).await;
    assert_eq!(sets, 0);
    assert_eq!(response.decisions[0].outcome, Outcome::Failed);
    assert!(
        response.decisions[0].reason.contains("does not verify"),
        "{response:?}"
    );
    assert_eq!(fleet.desired("web").await.0, 4);
}

#[tokio::test]
async fn a_dry_run_changes_nothing() {
    let fleet = Fleet::new(&[("web", 2, 4, 10), ("idle", 2, 4, 10)], &[]).await;
    let up = fleet.scale("web", RecommendationType::ScaleUp, 6).await;
    let down = fleet.scale("idle", RecommendationType::ScaleDown, 3).await;
    let (response, sets) = fleet.invoke(&Trigger::Sweep { dry_run: true }, now()).await;
    assert!(response.dry_run);
    assert_eq!(sets, 0);
    let outcomes: Vec<Outcome> = response.decisions.iter().map(|d| d.outcome).collect();
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.contains(&Outcome::Applied) && outcomes.contains(&Outcome::AwaitingApproval));
    assert_eq!(fleet.desired("web").await.0, 4);
    assert_eq!(fleet.desired("idle").await.0, 4);
    assert_eq!(fleet.stored(&up.id).await, up);
    assert_eq!(fleet.stored(&down.id).await, down);
}

#[tokio::test]
async fn an_item_another_version_wrote_is_skipped_while_the_rest_of_its_batch_succeeds() {
    let fleet = Fleet::new(&[("web", 2, 4, 10)], &[]).await;
    let r = fleet.scale("web", RecommendationType::ScaleUp, 5).await;
    let mut event = stream_event(&[ItemChange {
        event_name: "INSERT",
        old: None,
        new: Some(&r),
        sequence_number: "200",
    }])
    .unwrap();
    let mut poison = event["Records"][0].clone();
    poison["dynamodb"]["SequenceNumber"] = "100".into();
    poison["dynamodb"]["NewImage"]["version"] = serde_json::json!({"S": "not a number"});
    event["Records"].as_array_mut().unwrap().insert(0, poison);
    let (response, sets) = fleet.invoke(&decode(event).unwrap(), now()).await;
    // Skipped and named, never retried: retrying an item that will never decode would only
    // hold the shard back.
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(response.items_skipped, std::slice::from_ref(&r.id));
    assert_eq!((response.actions_applied, sets), (1, 1));
    assert_eq!(fleet.desired("web").await.0, 5);
}

#[tokio::test]
async fn rollback_restores_the_previous_capacity_when_new_instances_are_unhealthy() {
    let fleet = Fleet::new(&[("web", 2, 4, 10)], &[]).await;
    let before: Vec<String> = instance_ids(&fleet, "web").await;
    let r = fleet.scale("web", RecommendationType::ScaleUp, 6).await;
    let (response, _) = fleet.invoke(&inserted(&r, "1"), now()).await;
    assert_eq!(response.actions_applied, 1);
    let after = instance_ids(&fleet, "web").await;
    let new: Vec<&String> = after.iter().filter(|i| !before.contains(i)).collect();
    assert_eq!(new.len(), 2);
    for id in new {
        fleet
            .clients
            .autoscaling
            .set_instance_health()
            .instance_id(id)
            .health_status("Unhealthy")
            .send()
            .await
            .unwrap();
    }
    // Within the grace period (moto's default 300 s): it waits.
    let (early, sets) = fleet
        .invoke(
            &Trigger::Sweep { dry_run: false },
            now() + Duration::minutes(2),
        )
        .await;
    assert_eq!((early.decisions[0].outcome, sets), (Outcome::Waiting, 0));
    let (late, sets) = fleet
        .invoke(
            &Trigger::Sweep { dry_run: false },
            now() + Duration::minutes(6),
        )
        .await;
    assert_eq!(late.actions_rolled_back, 1, "{late:?}");
    assert_eq!(sets, 1);
    assert_eq!(fleet.desired("web").await.0, 4);
    let item = fleet.stored(&r.id).await;
    assert_eq!(item.status, Status::RolledBack);
    let reason = item.status_history.last().unwrap().reason.clone().unwrap();
    assert!(reason.contains("restored desired capacity 4"), "{reason}");
}

async fn instance_ids(fleet: &Fleet, group: &str) -> Vec<String> {
    let out = fleet
        .clients
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(fleet.name(group))
        .send()
        .await
        .unwrap();
    out.auto_scaling_groups()[0]
        .instances()
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_snoozed_recommendation_sleeps_until_its_time_then_returns_to_where_it_was() {
    let fleet = Fleet::new(&[("idle", 2, 4, 10)], &[]).await;
    let r = fleet.scale("idle", RecommendationType::ScaleDown, 3).await;
    fleet.invoke(&inserted(&r, "1"), now()).await;
    let waiting = fleet.stored(&r.id).await;
    assert_eq!(waiting.status, Status::AwaitingApproval);

    // A person snoozes it for an hour, through the real conditional write.
    let app = fleet.app().await;
    let until = now() + Duration::hours(1);
    let snoozed = app
        .deps
        .store
        .transition(
            &waiting,
            &Transition::snooze(until, now(), "arn:aws:iam::123456789012:user/alice")
                .because("month-end batch"),
        )
        .await
        .unwrap();
    assert_eq!(fleet.stored(&r.id).await, snoozed);
    assert_eq!(snoozed.status, Status::Snoozed);

    // Half way through, a sweep leaves it asleep.
    let (early, sets) = fleet
        .invoke(
            &Trigger::Sweep { dry_run: false },
            now() + Duration::minutes(30),
        )
        .await;
    assert_eq!(sets, 0);
    assert!(early.decisions.is_empty(), "{early:#?}");
    assert_eq!(fleet.stored(&r.id).await, snoozed);

    // Once the hour is over, it is back to AWAITING_APPROVAL, and the group was never touched.
    let (late, sets) = fleet
        .invoke(
            &Trigger::Sweep { dry_run: false },
            until + Duration::minutes(1),
        )
        .await;
    assert_eq!(sets, 0);
    // Woken, then (the same sweep) left to wait for a person.
    let outcomes: Vec<Outcome> = late.decisions.iter().map(|d| d.outcome).collect();
    assert_eq!(outcomes, [Outcome::Woken, Outcome::Ignored], "{late:#?}");
    let woken = fleet.stored(&r.id).await;
    assert_eq!(
        (woken.status, woken.snooze.clone()),
        (Status::AwaitingApproval, None)
    );
    let trail: Vec<(Status, &str)> = woken
        .status_history
        .iter()
        .map(|c| (c.to, c.by.as_str()))
        .collect();
    assert_eq!(
        trail[trail.len() - 2..],
        [
            (Status::Snoozed, "arn:aws:iam::123456789012:user/alice"),
            (Status::AwaitingApproval, "optimization-engine"),
        ]
    );
    assert_eq!(
        woken.status_history[trail.len() - 2].reason.as_deref(),
        Some("month-end batch")
    );
    assert_eq!(fleet.desired("idle").await.0, 4);
}

#[tokio::test]
async fn an_approved_schedule_is_put_as_scheduled_actions_and_removed_when_it_expires() {
    use fleetopt_ports::FleetDirectory;
    let fleet = Fleet::new(&[("nightly", 2, 4, 10)], &[]).await;
    let group = fleet.name("nightly");
    let r = fleetopt_ports::fakes::contract::scheduled_sample(&group, 9);
    let app = fleet.app().await;
    assert_eq!(app.deps.store.put_new(&r).await, Ok(PutOutcome::Written));
    let sweep = Trigger::Sweep { dry_run: false };
    let (response, _) = fleet.invoke(&sweep, now()).await;
    assert_eq!(response.decisions[0].outcome, Outcome::AwaitingApproval);
    let approved = fleet.approve(&fleet.stored(&r.id).await).await;
    let names = vec!["fleetopt-quiet".to_owned(), "fleetopt-busy".to_owned()];
    let on_group = || async {
        let mut found = fleet
            .clients
            .fleet()
            .scheduled_actions(&names)
            .await
            .unwrap();
        found.retain(|a| a.group == group);
        found.sort_by(|a, b| a.name.cmp(&b.name));
        found
    };

    // A dry run says what it would put, and puts nothing.
    let (dry, _) = fleet.invoke(&Trigger::Sweep { dry_run: true }, now()).await;
    assert!(
        dry.decisions[0]
            .reason
            .starts_with("dry run: would put fleetopt-quiet (0 20 * * *"),
        "{dry:?}"
    );
    assert!(on_group().await.is_empty());

    let (response, _) = fleet.invoke(&sweep, now()).await;
    assert_eq!(
        response.decisions[0].outcome,
        Outcome::Applied,
        "{response:?}"
    );
    assert_eq!(
        response
            .aws_calls
            .get("autoscaling:BatchPutScheduledUpdateGroupAction"),
        Some(&1)
    );
    assert_eq!(response.aws_calls.get("kms:Verify"), Some(&1));
    let put = on_group().await;
    assert_eq!(
        put.iter()
            .map(|a| (a.name.as_str(), a.recurrence.as_deref(), a.desired_capacity))
            .collect::<Vec<_>>(),
        vec![
            ("fleetopt-busy", Some("0 7 * * *"), Some(4)),
            ("fleetopt-quiet", Some("0 20 * * *"), Some(2)),
        ]
    );
    assert_eq!(
        fleet.desired("nightly").await.0,
        4,
        "the size is the schedule's to change"
    );
    assert_eq!(fleet.stored(&approved.id).await.status, Status::Completed);

    // Thirty days on, it expires: its actions are removed in one call.
    let (response, _) = fleet.invoke(&sweep, now() + Duration::days(30)).await;
    let expired: Vec<_> = response
        .decisions
        .iter()
        .filter(|d| d.recommendation_id.as_deref() == Some(r.id.as_str()))
        .collect();
    assert_eq!(expired[0].outcome, Outcome::Expired, "{response:?}");
    assert_eq!(
        response
            .aws_calls
            .get("autoscaling:BatchDeleteScheduledAction"),
        Some(&1)
    );
    assert!(on_group().await.is_empty());
    assert_eq!(fleet.stored(&r.id).await.status, Status::Expired);
}
