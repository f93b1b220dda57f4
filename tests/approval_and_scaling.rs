//! `fleetopt approve`, `fleetopt reject` and `fleetopt scaling` against the emulator: a
//! decision is one conditional status change recorded with who made it and why, refused with
//! exit 1 unless the recommendation awaits approval; `scaling` shows a group's size beside its
//! open recommendations.

use chrono::Utc;
use fleetopt_aws::emulator::{SeedGroup, create_group};
use fleetopt_aws::{Clients, DynamoRecommendationStore, KmsKeys};
use fleetopt_model::{Check, Recommendation, Status};
use fleetopt_ports::{RecommendationStore, Transition, Verifier};
use serde_json::Value;

use crate::support::{
    approval_key, emulator_config, emulator_endpoint, fleetopt_at, fleetopt_at_with, fresh_table,
    recent_sample, stderr, stdout, unique_name,
};

/// Who the emulator's STS says the test credentials are: what every CLI status change records.
const CALLER: &str = "arn:aws:sts::123456789012:user/moto";

/// A fresh recommendations table (and the approvals key `fleetopt approve` signs with).
async fn table() -> (String, DynamoRecommendationStore) {
    approval_key().await;
    fresh_table("e2e-approval").await
}

/// Writes the sample for `group` at `hour` (PENDING) and moves it along `path`.
async fn seeded(
    store: &DynamoRecommendationStore,
    group: &str,
    hour: u32,
    path: &[Status],
) -> Recommendation {
    let mut r = recent_sample(group, hour);
    store.put_new(&r).await.unwrap();
    for &to in path {
        r = store
            .transition(&r, &Transition::new(to, Utc::now(), "e2e"))
            .await
            .unwrap();
    }
    r
}

async fn awaiting_approval(store: &DynamoRecommendationStore, hour: u32) -> Recommendation {
    seeded(store, "web", hour, &[Status::AwaitingApproval]).await
}

fn json(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_str(&stdout(output)).unwrap()
}

#[tokio::test]
async fn approve_moves_awaiting_approval_to_approved_recording_the_actor() {
    let (table, store) = table().await;
    let r = awaiting_approval(&store, 7).await;
    let output = fleetopt_at(
        &emulator_endpoint(),
        &[
            "approve",
            &r.id,
            "--table",
            &table,
            "--actor",
            "alice",
            "--note",
            "after the sale",
            "--output",
            "json",
        ],
    );
    let v = json(&output);
    assert_eq!(v["id"], r.id.as_str());
    assert_eq!(v["status"], "APPROVED");
    assert_eq!(v["version"], r.version + 1);
    assert_eq!(v["type"], "SCALE_UP");
    assert_eq!(v["autoScalingGroupName"], "web");
    let last = v["statusHistory"].as_array().unwrap().last().unwrap();
    assert_eq!(last["from"], "AWAITING_APPROVAL");
    assert_eq!(last["to"], "APPROVED");
    assert_eq!(last["by"], format!("alice ({CALLER})"));
    assert_eq!(last["reason"], "after the sale");
    let stored = store.get(&r.id).await.unwrap().unwrap();
    assert_eq!(serde_json::to_value(&stored).unwrap(), v);
}

#[tokio::test]
async fn approve_in_a_table_says_what_was_approved_and_that_the_engine_applies_it() {
    let (table, store) = table().await;
    let r = awaiting_approval(&store, 7).await;
    let output = fleetopt_at_with(
        &emulator_endpoint(),
        &["approve", &r.id, "--table", &table],
        &[("FLEETOPT_ACTOR", "bob")],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with(&format!("APPROVED {}: SCALE_UP for group web", r.id)),
        "{text}"
    );
    assert!(text.contains(&format!("by bob ({CALLER}).")), "{text}");
    assert!(
        text.contains(
            "the optimization engine applies it on its next run (stream or 15-minute sweep)"
        ),
        "{text}"
    );
    let stored = store.get(&r.id).await.unwrap().unwrap();
    assert_eq!(
        stored.status_history.last().unwrap().by,
        format!("bob ({CALLER})")
    );
    // The approval is signed with the approvals key: KMS verifies it over the item as stored.
    let approval = stored.approval.clone().unwrap();
    assert_eq!(
        (approval.by.as_str(), approval.version),
        (CALLER, stored.version)
    );
    assert!(
        text.contains(&format!("Signed with {}", approval.key_id)),
        "{text}"
    );
    let keys = KmsKeys::new(Clients::new(&emulator_config().await).kms);
    let message = fleetopt_model::approval_message(&stored, &approval);
    let signature = fleetopt_model::from_hex(&approval.signature).unwrap();
    assert!(
        keys.verify(&approval_key().await, &message, &signature)
            .await
            .unwrap()
    );
    // The same signature over another target does not verify.
    let mut other = stored.clone();
    other.implementation.action =
        Some(fleetopt_model::Action::SetDesiredCapacity { from: 4, to: 9 });
    let message = fleetopt_model::approval_message(&other, &approval);
    assert!(
        !keys
            .verify(&approval_key().await, &message, &signature)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn approve_without_the_approvals_key_writes_nothing_and_says_what_is_missing() {
    let (table, store) = table().await;
    let r = awaiting_approval(&store, 7).await;
    let output = fleetopt_at_with(
        &emulator_endpoint(),
        &["approve", &r.id, "--table", &table],
        &[("FLEETOPT_APPROVAL_KEY", "alias/e2e-no-such-key")],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("the approvals key alias/e2e-no-such-key does not exist here"),
        "{err}"
    );
    assert_eq!(store.get(&r.id).await.unwrap().unwrap(), r);
}

#[tokio::test]
async fn done_completes_an_approved_manual_change_with_the_note_and_refuses_a_scale_change() {
    let (table, store) = table().await;
    let mut r = recent_sample("web", 6);
    r.kind = fleetopt_model::RecommendationType::InstanceTypeChange;
    r.implementation.action = None;
    store.put_new(&r).await.unwrap();
    for to in [Status::AwaitingApproval, Status::Approved] {
        r = store
            .transition(&r, &Transition::new(to, Utc::now(), "e2e"))
            .await
            .unwrap();
    }
    let note = "instance refresh to m6g.large finished";
    let output = fleetopt_at(
        &emulator_endpoint(),
        &["done", &r.id, "--note", note, "--table", &table],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let stored = store.get(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.status, Status::Completed);
    let last = stored.status_history.last().unwrap();
    assert_eq!(
        (last.by.as_str(), last.reason.as_deref()),
        (CALLER, Some(note))
    );

    let scale = seeded(
        &store,
        "web",
        5,
        &[Status::AwaitingApproval, Status::Approved],
    )
    .await;
    let output = fleetopt_at(
        &emulator_endpoint(),
        &["done", &scale.id, "--note", "x", "--table", &table],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("which the engine applies and completes"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn approving_twice_fails_the_second_time_saying_it_is_already_approved() {
    let (table, store) = table().await;
    let r = awaiting_approval(&store, 7).await;
    let endpoint = emulator_endpoint();
    let args = ["approve", &r.id, "--table", &table];
    let first = fleetopt_at(&endpoint, &args);
    assert!(first.status.success(), "{}", stderr(&first));
    let second = fleetopt_at(&endpoint, &args);
    assert_eq!(second.status.code(), Some(1), "{}", stdout(&second));
    let err = stderr(&second);
    assert!(
        err.contains(&format!("recommendation {} is already APPROVED", r.id)),
        "{err}"
    );
    assert!(err.contains("AWAITING_APPROVAL"), "{err}");
    let stored = store.get(&r.id).await.unwrap().unwrap();
    assert_eq!(
        stored.version,
        r.version + 1,
        "the second run wrote nothing"
    );
}

#[tokio::test]
async fn approve_of_a_pending_recommendation_is_refused() {
    let (table, store) = table().await;
    let r = seeded(&store, "web", 7, &[]).await;
    let output = fleetopt_at(&emulator_endpoint(), &["approve", &r.id, "--table", &table]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "recommendation {} is PENDING: only a recommendation that awaits approval \
             (AWAITING_APPROVAL) can be approved",
            r.id
        )),
        "{err}"
    );
    assert_eq!(store.get(&r.id).await.unwrap().unwrap(), r);
}

#[tokio::test]
async fn reject_records_the_reason_and_the_actor() {
    let (table, store) = table().await;
    let r = awaiting_approval(&store, 7).await;
    let output = fleetopt_at(
        &emulator_endpoint(),
        &[
            "reject",
            &r.id,
            "--table",
            &table,
            "--reason",
            "peak season: keep the capacity",
            "--actor",
            "carol",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with(&format!("REJECTED {}: SCALE_UP for group web", r.id)),
        "{text}"
    );
    assert!(text.contains("Nothing will be done for it."), "{text}");
    let stored = store.get(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.status, Status::Rejected);
    let last = stored.status_history.last().unwrap();
    assert_eq!(
        (last.from, last.to, last.by.clone(), last.reason.as_deref()),
        (
            Some(Status::AwaitingApproval),
            Status::Rejected,
            format!("carol ({CALLER})"),
            Some("peak season: keep the capacity")
        )
    );
}

#[test]
fn reject_without_a_reason_is_a_usage_error() {
    let endpoint = emulator_endpoint();
    for args in [
        &["reject", "rec-0"][..],
        &["reject", "rec-0", "--reason", ""][..],
    ] {
        let output = fleetopt_at(&endpoint, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains("--reason"), "{}", stderr(&output));
    }
}

#[tokio::test]
async fn approve_or_reject_of_an_unknown_id_fails_naming_it() {
    let (table, _store) = table().await;
    let endpoint = emulator_endpoint();
    for args in [
        &["approve", "rec-000000000000000000000000", "--table", &table][..],
        &[
            "reject",
            "rec-000000000000000000000000",
            "--reason",
            "no",
            "--table",
            &table,
        ][..],
    ] {
        let output = fleetopt_at(&endpoint, args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let err = stderr(&output);
        assert!(
            err.contains(&format!(
                "recommendation rec-000000000000000000000000 not found in table {table}"
            )),
            "{err}"
        );
    }
}

#[tokio::test]
async fn scaling_json_shows_a_groups_size_and_its_open_recommendations() {
    let (table, store) = table().await;
    let clients = Clients::new(&emulator_config().await);
    let group = unique_name("e2e-scaling");
    let tag = unique_name("e2e-scaling-run");
    create_group(
        &clients,
        &SeedGroup {
            name: group.clone(),
            min_size: 1,
            max_size: 6,
            desired: 3,
            tags: vec![("fleetopt-e2e".into(), tag.clone())],
            instance_type: "t3.small".into(),
            target_group_arns: vec![],
        },
    )
    .await
    .unwrap();
    let awaiting = seeded(&store, &group, 7, &[Status::AwaitingApproval]).await;
    let pending = seeded(&store, &group, 8, &[]).await;
    let check = Check {
        at: "2026-11-23T10:00:00Z".into(),
        by: "optimization-engine".into(),
        reason: "cooldown until 2026-11-23T10:05:00Z".into(),
    };
    store.note(&pending, &check).await.unwrap();
    seeded(
        &store,
        &group,
        6,
        &[Status::AwaitingApproval, Status::Rejected],
    )
    .await;
    seeded(&store, "some-other-group", 7, &[]).await;

    let endpoint = emulator_endpoint();
    let tagged = format!("fleetopt-e2e={tag}");
    for selection in [["--group", group.as_str()], ["--tag", tagged.as_str()]] {
        let mut args = vec!["scaling", "--table", &table, "--output", "json"];
        args.extend(selection);
        let v = json(&fleetopt_at(&endpoint, &args));
        let groups = v["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 1, "{v}");
        let g = &groups[0];
        assert_eq!(g["autoScalingGroupName"], group.as_str());
        assert_eq!(
            (
                &g["minSize"],
                &g["desiredCapacity"],
                &g["maxSize"],
                &g["inService"],
                &g["healthy"]
            ),
            (&1.into(), &3.into(), &6.into(), &3.into(), &3.into()),
            "{g}"
        );
        assert!(g.get("lastActivity").is_some(), "{g}");
        assert_eq!(
            g["openRecommendations"],
            serde_json::json!([
                {
                    "id": pending.id, "type": "SCALE_UP", "status": "PENDING",
                    "priority": pending.priority.as_str(),
                    "waitingReason": "cooldown until 2026-11-23T10:05:00Z",
                },
                {
                    "id": awaiting.id, "type": "SCALE_UP", "status": "AWAITING_APPROVAL",
                    "priority": awaiting.priority.as_str(), "waitingReason": null,
                },
            ])
        );
    }

    let text = stdout(&fleetopt_at(
        &endpoint,
        &["scaling", "--table", &table, "--group", &group],
    ));
    assert!(text.starts_with("1 Auto Scaling group(s);"), "{text}");
    assert!(text.contains("2 open"), "{text}");
    assert!(
        text.contains("SCALE_UP PENDING") && text.contains("SCALE_UP AWAITING_APPROVAL"),
        "{text}"
    );
    assert!(text.contains("waiting: cooldown until"), "{text}");
}

#[tokio::test]
async fn scaling_of_a_group_that_does_not_exist_fails_naming_it() {
    let (table, _store) = table().await;
    let output = fleetopt_at(
        &emulator_endpoint(),
        &["scaling", "--table", &table, "--group", "nope"],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("Auto Scaling group nope not found"), "{err}");
}

#[tokio::test]
async fn snooze_sets_a_recommendation_aside_recording_the_callers_identity_and_why() {
    let (table, store) = table().await;
    let r = awaiting_approval(&store, 7).await;
    let before = Utc::now();
    let output = fleetopt_at(
        &emulator_endpoint(),
        &[
            "snooze",
            &r.id,
            "--for",
            "7d",
            "--reason",
            "month-end batch",
            "--table",
            &table,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with(&format!("SNOOZED {}: SCALE_UP for group web", r.id)),
        "{text}"
    );
    assert!(
        text.contains(&format!("by {CALLER}: month-end batch\nUntil ")),
        "{text}"
    );
    assert!(text.contains("puts it back to AWAITING_APPROVAL"), "{text}");
    let stored = store.get(&r.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.version),
        (Status::Snoozed, r.version + 1)
    );
    let snooze = stored.snooze.clone().unwrap();
    assert_eq!(snooze.previous_status, Status::AwaitingApproval);
    let until = snooze.until().unwrap();
    let week = chrono::Duration::days(7);
    assert!(
        until >= before + week - chrono::Duration::seconds(1) && until <= Utc::now() + week,
        "{until}"
    );
    let last = stored.status_history.last().unwrap();
    assert_eq!(
        (last.to, last.by.as_str(), last.reason.as_deref()),
        (Status::Snoozed, CALLER, Some("month-end batch"))
    );

    // Snoozing it again is refused, and says until when it sleeps.
    let again = fleetopt_at(
        &emulator_endpoint(),
        &[
            "snooze", &r.id, "--for", "1d", "--reason", "x", "--table", &table,
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains(&format!("is already SNOOZED until {}", snooze.until)),
        "{}",
        stderr(&again)
    );
    assert_eq!(store.get(&r.id).await.unwrap().unwrap(), stored);
}

#[tokio::test]
async fn snooze_refuses_a_settled_recommendation_an_unknown_id_and_a_duration_that_is_not_ahead() {
    let (table, store) = table().await;
    let rejected = seeded(
        &store,
        "web",
        7,
        &[Status::AwaitingApproval, Status::Rejected],
    )
    .await;
    let endpoint = emulator_endpoint();
    let refused = fleetopt_at(
        &endpoint,
        &[
            "snooze",
            &rejected.id,
            "--for",
            "7d",
            "--reason",
            "x",
            "--table",
            &table,
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains(&format!(
            "recommendation {} is REJECTED: only a recommendation that is PENDING, \
             AWAITING_APPROVAL or APPROVED can be snoozed",
            rejected.id
        )),
        "{}",
        stderr(&refused)
    );
    assert_eq!(store.get(&rejected.id).await.unwrap().unwrap(), rejected);

    let unknown = fleetopt_at(
        &endpoint,
        &[
            "snooze",
            "rec-nosuchthing",
            "--for",
            "7d",
            "--reason",
            "x",
            "--table",
            &table,
        ],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains(&format!(
            "recommendation rec-nosuchthing not found in table {table}"
        )),
        "{}",
        stderr(&unknown)
    );

    for bad in ["0m", "-1d", "3 days", "400d"] {
        let output = fleetopt_at(
            &endpoint,
            &[
                "snooze",
                &rejected.id,
                &format!("--for={bad}"),
                "--reason",
                "x",
                "--table",
                &table,
            ],
        );
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("--for <DURATION>"),
            "{bad}: {}",
            stderr(&output)
        );
    }
}

#[tokio::test]
async fn recommendations_id_shows_the_audit_trail_of_every_status_change() {
    let (table, store) = table().await;
    let r = awaiting_approval(&store, 7).await;
    let endpoint = emulator_endpoint();
    let approved = fleetopt_at(
        &endpoint,
        &[
            "approve",
            &r.id,
            "--note",
            "after the sale",
            "--actor",
            "alice",
            "--table",
            &table,
        ],
    );
    assert!(approved.status.success(), "{}", stderr(&approved));
    let output = fleetopt_at(
        &endpoint,
        &["recommendations", "--id", &r.id, "--table", &table],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with(&format!("APPROVED {}: SCALE_UP for group web", r.id)),
        "{text}"
    );
    assert!(
        text.contains("Status history (3 change(s), oldest first):"),
        "{text}"
    );
    // One row per change, oldest first: written, sent for approval (by the seed), approved.
    let stored = store.get(&r.id).await.unwrap().unwrap();
    let rows: Vec<&str> = text
        .lines()
        .filter(|line| {
            line.starts_with("│ ") && stored.status_history.iter().any(|c| line.contains(&c.at))
        })
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(
        rows[1].contains("AWAITING_APPROVAL") && rows[1].contains("e2e"),
        "{text}"
    );
    assert!(
        rows[2].contains("APPROVED")
            && rows[2].contains(&format!("alice ({CALLER})"))
            && rows[2].contains("after the sale"),
        "{text}"
    );

    let json = json(&fleetopt_at(
        &endpoint,
        &[
            "recommendations",
            "--id",
            &r.id,
            "--table",
            &table,
            "--output",
            "json",
        ],
    ));
    assert_eq!(json, serde_json::to_value(&stored).unwrap());

    let unknown = fleetopt_at(
        &endpoint,
        &[
            "recommendations",
            "--id",
            "rec-nosuchthing",
            "--table",
            &table,
        ],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains(&format!(
            "recommendation rec-nosuchthing not found in table {table}"
        )),
        "{}",
        stderr(&unknown)
    );
}
