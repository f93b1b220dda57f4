//! `fleetopt approve` and `fleetopt reject`: a person's decision on a recommendation that awaits
//! approval, written as one conditional status change (DESIGN sections 6 and 12).

use anyhow::{Context, Result, anyhow, bail};
use chrono::Utc;
use fleetopt_aws::DynamoRecommendationStore;
use fleetopt_config::default_table_name;
use fleetopt_model::{Recommendation, Status};
use fleetopt_ports::{RecommendationStore, StoreError, Transition};

use crate::cli::{ApproveArgs, DecisionOptions, Global, Output, RejectArgs};

/// Who is recorded when neither `--actor`, `FLEETOPT_ACTOR` nor `USER` names anyone.
const DEFAULT_ACTOR: &str = "fleetopt";

/// What a person decides about a recommendation that awaits approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Approve,
    Reject,
}

impl Decision {
    /// The status the decision moves the recommendation to.
    fn status(self) -> Status {
        match self {
            Decision::Approve => Status::Approved,
            Decision::Reject => Status::Rejected,
        }
    }

    /// The verb, as the command is named.
    fn verb(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }

    /// The verb's past participle.
    fn done(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
        }
    }
}

/// Runs `fleetopt approve`.
pub async fn approve(global: &Global, args: &ApproveArgs) -> Result<()> {
    decide(
        global,
        &args.id,
        Decision::Approve,
        args.note.as_deref(),
        &args.options,
    )
    .await
}

/// Runs `fleetopt reject`.
pub async fn reject(global: &Global, args: &RejectArgs) -> Result<()> {
    decide(
        global,
        &args.id,
        Decision::Reject,
        Some(&args.reason),
        &args.options,
    )
    .await
}

async fn decide(
    global: &Global,
    id: &str,
    decision: Decision,
    reason: Option<&str>,
    options: &DecisionOptions,
) -> Result<()> {
    let table = options
        .table
        .clone()
        .unwrap_or_else(|| default_table_name(&global.application, global.environment));
    // The login name is only a default for the audit trail, like git's author; clap has
    // already read FLEETOPT_ACTOR into `--actor`.
    let actor = actor(options.actor.as_deref(), std::env::var("USER").ok());
    let config = global.sdk_config().await;
    let store = DynamoRecommendationStore::from_config(&config, &table);
    let current = store
        .get(id)
        .await
        .with_context(|| format!("reading recommendation {id} from table {table}"))?
        .ok_or_else(|| anyhow!("recommendation {id} not found in table {table}"))?;
    if let Some(refusal) = refusal(&current, decision) {
        bail!(refusal);
    }
    let mut transition = Transition::new(decision.status(), Utc::now(), &actor);
    if let Some(reason) = reason {
        transition = transition.because(reason);
    }
    let stored = match store.transition(&current, &transition).await {
        Ok(stored) => stored,
        Err(StoreError::Conflict { .. }) => {
            // Only to say what it became; the refusal stands whatever this read returns.
            let now = store.get(id).await.ok().flatten().map(|r| r.status);
            bail!(conflict(&current, decision, now));
        }
        Err(e) => {
            return Err(anyhow::Error::new(e)).with_context(|| {
                format!(
                    "could not {} recommendation {id} in table {table}",
                    decision.verb()
                )
            });
        }
    };
    match global.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&stored)?),
        Output::Table => print!("{}", render(&stored, decision, &actor, reason)),
    }
    Ok(())
}

/// `--actor` (or `FLEETOPT_ACTOR`), else the login name, else [`DEFAULT_ACTOR`].
fn actor(given: Option<&str>, user: Option<String>) -> String {
    given
        .map(str::to_owned)
        .or(user.filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(|| DEFAULT_ACTOR.to_owned())
}

/// Why `current` cannot be decided on, if it cannot: only AWAITING_APPROVAL can.
fn refusal(current: &Recommendation, decision: Decision) -> Option<String> {
    let (id, status) = (&current.id, current.status);
    if status == Status::AwaitingApproval {
        None
    } else if status == decision.status() {
        Some(format!(
            "recommendation {id} is already {status}: only a recommendation that is \
             {} can be {}",
            Status::AwaitingApproval,
            decision.done()
        ))
    } else {
        Some(format!(
            "recommendation {id} is {status}, not {}: only a recommendation that awaits \
             approval can be {}",
            Status::AwaitingApproval,
            decision.done()
        ))
    }
}

/// The message for a conditional write that lost: someone else moved the item first.
fn conflict(current: &Recommendation, decision: Decision, now: Option<Status>) -> String {
    let became = now.map_or_else(String::new, |s| format!("; it is now {s}"));
    format!(
        "recommendation {} changed while it was being {}: someone else moved it first \
         (it was {}, version {}{became}); nothing was written",
        current.id,
        decision.done(),
        current.status,
        current.version
    )
}

/// What the table output says: what was decided, and what happens next.
fn render(r: &Recommendation, decision: Decision, actor: &str, reason: Option<&str>) -> String {
    let mut text = format!(
        "{} {}: {} for group {} (priority {}), by {actor}",
        r.status, r.id, r.kind, r.auto_scaling_group_name, r.priority
    );
    match reason {
        Some(reason) => text.push_str(&format!(": {reason}\n")),
        None => text.push_str(".\n"),
    }
    match decision {
        Decision::Reject => text.push_str("Nothing will be done for it.\n"),
        Decision::Approve => match r.scale_change() {
            Some((from, to)) => text.push_str(&format!(
                "Next: the optimization engine applies it on its next run (stream or \
                 15-minute sweep): desired capacity {from} -> {to}.\n"
            )),
            None if r.implementation.steps.is_empty() => text.push_str(&format!(
                "APPROVED: carry out the change described: {}\n",
                r.description
            )),
            None => {
                text.push_str("APPROVED: carry out these steps\n");
                for (n, step) in r.implementation.steps.iter().enumerate() {
                    text.push_str(&format!("  {}. {step}\n", n + 1));
                }
            }
        },
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use fleetopt_model::{Action, RecommendationType};
    use fleetopt_ports::fakes::contract::sample;

    fn awaiting() -> Recommendation {
        let r = sample("web", 7);
        Transition::new(Status::AwaitingApproval, Utc::now(), "analyzer")
            .apply_to(&r)
            .unwrap()
    }

    #[test]
    fn only_a_recommendation_awaiting_approval_can_be_decided() {
        let r = awaiting();
        assert_eq!(refusal(&r, Decision::Approve), None);
        assert_eq!(refusal(&r, Decision::Reject), None);
        let pending = sample("web", 7);
        let message = refusal(&pending, Decision::Approve).unwrap();
        assert!(
            message.contains(&pending.id) && message.contains("is PENDING, not AWAITING_APPROVAL"),
            "{message}"
        );
    }

    #[test]
    fn deciding_twice_says_it_is_already_decided() {
        let approved = Transition::new(Status::Approved, Utc::now(), "alice")
            .apply_to(&awaiting())
            .unwrap();
        let message = refusal(&approved, Decision::Approve).unwrap();
        assert!(message.contains("is already APPROVED"), "{message}");
        assert!(
            message.contains("AWAITING_APPROVAL can be approved"),
            "{message}"
        );
        let message = refusal(&approved, Decision::Reject).unwrap();
        assert!(
            message.contains("is APPROVED, not AWAITING_APPROVAL"),
            "{message}"
        );
    }

    #[test]
    fn the_actor_is_the_flag_then_the_login_then_fleetopt() {
        assert_eq!(actor(Some("alice"), Some("bob".into())), "alice");
        assert_eq!(actor(None, Some("bob".into())), "bob");
        assert_eq!(actor(None, Some(" ".into())), "fleetopt");
        assert_eq!(actor(None, None), "fleetopt");
    }

    #[test]
    fn an_approved_scale_change_is_left_to_the_engine() {
        let r = Transition::new(Status::Approved, Utc::now(), "alice")
            .apply_to(&awaiting())
            .unwrap();
        let Some(Action::SetDesiredCapacity { from, to }) = r.implementation.action else {
            panic!("the sample is a scale-up with an action");
        };
        let text = render(&r, Decision::Approve, "alice", None);
        assert_eq!(
            text,
            format!(
                "APPROVED {}: SCALE_UP for group web (priority {}), by alice.\nNext: the \
                 optimization engine applies it on its next run (stream or 15-minute sweep): \
                 desired capacity {from} -> {to}.\n",
                r.id, r.priority
            )
        );
    }

    #[test]
    fn any_other_approved_type_lists_the_steps_to_carry_out() {
        let mut r = Transition::new(Status::Approved, Utc::now(), "alice")
            .apply_to(&awaiting())
            .unwrap();
        r.kind = RecommendationType::InstanceTypeChange;
        r.implementation.action = None;
        r.implementation.steps = vec!["Pick m5.xlarge".into(), "Start an instance refresh".into()];
        let text = render(&r, Decision::Approve, "alice", Some("after the sale"));
        assert!(
            text.ends_with(
                "by alice: after the sale\nAPPROVED: carry out these steps\n  1. Pick \
                 m5.xlarge\n  2. Start an instance refresh\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("INSTANCE_TYPE_CHANGE for group web"),
            "{text}"
        );
    }

    #[test]
    fn a_rejection_shows_the_reason_and_that_nothing_happens() {
        let r = Transition::new(Status::Rejected, Utc::now(), "alice")
            .because("peak season")
            .apply_to(&awaiting())
            .unwrap();
        let text = render(&r, Decision::Reject, "alice", Some("peak season"));
        assert!(
            text.starts_with(&format!("REJECTED {}: SCALE_UP", r.id)),
            "{text}"
        );
        assert!(
            text.ends_with("by alice: peak season\nNothing will be done for it.\n"),
            "{text}"
        );
    }

    #[test]
    fn a_lost_race_says_who_won_when_known() {
        let r = awaiting();
        let message = conflict(&r, Decision::Approve, Some(Status::Rejected));
        assert!(
            message.contains("someone else moved it first")
                && message.contains("it was AWAITING_APPROVAL, version 2; it is now REJECTED"),
            "{message}"
        );
        assert!(!conflict(&r, Decision::Reject, None).contains("it is now"));
    }
}
