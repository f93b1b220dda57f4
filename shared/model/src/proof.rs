//! Proof that a change may be made, held by the recommendation itself: a person's signed
//! [`Approval`], or the analyzer's signed [`Attestation`] of an automated scale change. This
//! module is pure: what exactly is signed (canonical JSON bytes of the claims, bound to the
//! item), and the checks that need no key. Signing and verifying belong to the `Signer` port,
//! whose production adapter is an asymmetric KMS key: holding `kms:Sign` on the approvals key
//! *is* the right to approve, and no function's role holds it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::recommendation::{Recommendation, parse_time, rfc3339};

/// The signing algorithm every signature here uses (KMS `ECDSA_SHA_256`, an ECC_NIST_P256 key).
pub const SIGNING_ALGORITHM: &str = "ECDSA_SHA_256";

/// How far an approval's time may lie ahead of the engine's clock (clock skew).
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// A person's approval of one recommendation, signed with the approvals key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// Who approved: the caller's STS ARN (GetCallerIdentity).
    pub by: String,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Until when the approval may be acted on, RFC 3339 UTC.
    pub expires_at: String,
    /// The item's version as approved (the version the approval's status change wrote).
    pub version: u64,
    /// The key that signed, as the signer reported it (a KMS key ARN).
    pub key_id: String,
    /// [`SIGNING_ALGORITHM`].
    pub algorithm: String,
    /// The signature over [`approval_message`], lowercase hex.
    pub signature: String,
}

impl Approval {
    /// The end of its validity, when it parses.
    pub fn expires(&self) -> Option<DateTime<Utc>> {
        parse_time(&self.expires_at)
    }
}

/// The analyzer's signature on an automated scale change it wrote, with the findings key: the
/// engine applies an automated change only when it verifies, so a PENDING item written by
/// anyone else (`automated: true` set by hand) is refused.
///
/// One run signs all its automated changes at once: the signature is over the root of a
/// Merkle tree whose leaves are their [`attestation_message`]s ([`batch_message`]), and each
/// item keeps the path from its leaf to the root (`batch`). An attestation without `batch`
/// signs the item's [`attestation_message`] alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attestation {
    /// The key that signed (a KMS key ARN).
    pub key_id: String,
    /// [`SIGNING_ALGORITHM`].
    pub algorithm: String,
    /// The signature over [`attested_message`], lowercase hex.
    pub signature: String,
    /// The path from the item's leaf to the signed root, leaf side first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<Vec<Sibling>>,
}

/// One step of a Merkle path: the sibling's hash, and whether it is the left one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sibling {
    /// Whether the sibling is on the left (the node hashed is then `sibling || ours`).
    pub left: bool,
    /// The sibling's hash, lowercase hex (32 bytes).
    pub hash: String,
}

/// A SHA-256 digest.
pub type Digest32 = [u8; 32];

/// The Merkle leaf of a message: SHA-256 of `0x00 || message` (leaves and nodes are hashed
/// apart, so no node can pass for a leaf).
pub fn leaf_hash(message: &[u8]) -> Digest32 {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(message);
    h.finalize().into()
}

/// A Merkle node: SHA-256 of `0x01 || left || right`.
fn node_hash(left: &Digest32, right: &Digest32) -> Digest32 {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The Merkle tree over `leaves`, pairwise level by level (an odd last node goes up as it
/// is): its root and each leaf's path to it. `None` for no leaf.
pub fn merkle_tree(leaves: &[Digest32]) -> Option<(Digest32, Vec<Vec<Sibling>>)> {
    if leaves.is_empty() {
        return None;
    }
    let mut paths: Vec<Vec<Sibling>> = vec![Vec::new(); leaves.len()];
    // Which leaves sit under each node of the current level.
    let mut level: Vec<(Digest32, Vec<usize>)> = leaves
        .iter()
        .enumerate()
        .map(|(i, h)| (*h, vec![i]))
        .collect();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut nodes = level.into_iter();
        while let Some((left, mut under_left)) = nodes.next() {
            let Some((right, under_right)) = nodes.next() else {
                next.push((left, under_left));
                break;
            };
            let (left_hex, right_hex) = (to_hex(&left), to_hex(&right));
            for &i in &under_left {
                paths[i].push(Sibling {
                    left: false,
                    hash: right_hex.clone(),
                });
            }
            for &i in &under_right {
                paths[i].push(Sibling {
                    left: true,
                    hash: left_hex.clone(),
                });
            }
            under_left.extend(under_right);
            next.push((node_hash(&left, &right), under_left));
        }
        level = next;
    }
    level.pop().map(|(root, _)| (root, paths))
}

/// The root a leaf and its path lead to; `None` when a sibling is not a 32-byte hex hash.
pub fn merkle_root(leaf: Digest32, path: &[Sibling]) -> Option<Digest32> {
    path.iter().try_fold(leaf, |node, step| {
        let sibling: Digest32 = from_hex(&step.hash)?.try_into().ok()?;
        Some(if step.left {
            node_hash(&sibling, &node)
        } else {
            node_hash(&node, &sibling)
        })
    })
}

/// The bytes a run's one signature covers: the Merkle root of its automated changes'
/// [`attestation_message`]s.
pub fn batch_message(root: &Digest32) -> Vec<u8> {
    json(&BatchClaims {
        context: "fleet-optimizer findings batch v1",
        root: to_hex(root),
    })
}

#[derive(Serialize)]
struct BatchClaims {
    context: &'static str,
    root: String,
}

/// The bytes `r`'s attestation signs: [`batch_message`] of the root its path leads to, or its
/// own [`attestation_message`] when it was signed alone. `None` when it has no attestation or
/// its path is malformed.
pub fn attested_message(r: &Recommendation) -> Option<Vec<u8>> {
    let attestation = r.attestation.as_ref()?;
    let message = attestation_message(r);
    match &attestation.batch {
        None => Some(message),
        Some(path) => merkle_root(leaf_hash(&message), path).map(|root| batch_message(&root)),
    }
}

/// What every signature here binds of the item: what it is (`context`), where, which item,
/// and the action it proposes. The bytes signed are the JSON of the claims below, in a fixed
/// order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemClaims<'a> {
    context: &'static str,
    environment: &'a str,
    id: &'a str,
    timestamp: &'a str,
    auto_scaling_group_name: &'a str,
    /// The group's account and region, on a shard's item (absent on the functions' own
    /// account's, whose messages are what they always were).
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    action: String,
}

impl<'a> ItemClaims<'a> {
    fn of(r: &'a Recommendation, context: &'static str) -> Self {
        ItemClaims {
            context,
            environment: &r.environment,
            id: &r.id,
            timestamp: &r.timestamp,
            auto_scaling_group_name: &r.auto_scaling_group_name,
            account_id: r.account_id.as_deref(),
            region: r.region.as_deref(),
            kind: r.kind.as_str(),
            action: r.proposed_action(),
        }
    }
}

/// What an approval says.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApprovalClaims<'a> {
    #[serde(flatten)]
    item: ItemClaims<'a>,
    version: u64,
    by: &'a str,
    at: &'a str,
    expires_at: &'a str,
}

/// What an attestation says.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FindingClaims<'a> {
    #[serde(flatten)]
    item: ItemClaims<'a>,
    source: &'static str,
    automated: bool,
    window_end: String,
}

fn json(claims: &impl Serialize) -> Vec<u8> {
    // Serializing a struct of strings, numbers and booleans cannot fail; an empty message
    // would only ever fail to verify.
    serde_json::to_vec(claims).unwrap_or_default()
}

/// The bytes an approval of `r` signs: the environment, the item's key, group and type, the
/// proposed action ([`Recommendation::proposed_action`]), the version approved, who, when and
/// until when. Any change to one of them makes the signature fail.
pub fn approval_message(r: &Recommendation, approval: &Approval) -> Vec<u8> {
    json(&ApprovalClaims {
        item: ItemClaims::of(r, "fleet-optimizer approval v1"),
        version: approval.version,
        by: &approval.by,
        at: &approval.at,
        expires_at: &approval.expires_at,
    })
}

/// The bytes the analyzer's attestation of `r` signs: the item's key, group, type, the
/// proposed action, its source, whether it is automated and the end of the analysis window it
/// stands on (a refresh signs again).
pub fn attestation_message(r: &Recommendation) -> Vec<u8> {
    json(&FindingClaims {
        item: ItemClaims::of(r, "fleet-optimizer finding v1"),
        source: r.source.as_str(),
        automated: r.implementation.automated,
        window_end: rfc3339(r.analysis_window.end),
    })
}

/// An unsigned approval of `r` by `by` at `at`, valid for `valid_for`: sign
/// [`approval_message`] and fill in the key and signature.
pub fn unsigned_approval(
    r: &Recommendation,
    by: &str,
    at: DateTime<Utc>,
    valid_for: Duration,
) -> Approval {
    Approval {
        by: by.to_owned(),
        at: rfc3339(at),
        expires_at: rfc3339(at + valid_for),
        version: r.version.wrapping_add(1),
        key_id: String::new(),
        algorithm: SIGNING_ALGORITHM.to_owned(),
        signature: String::new(),
    }
}

/// Why `r`'s approval cannot be acted on at `now`, before any signature is checked: none at
/// all (the status was written straight to the table), expired, dated ahead of the clock, or
/// in another algorithm or encoding. `None`: the signature decides.
pub fn approval_problem(r: &Recommendation, now: DateTime<Utc>) -> Option<String> {
    let Some(approval) = &r.approval else {
        return Some(
            "APPROVED without a signed approval: the status was not set by `fleetopt approve`"
                .to_owned(),
        );
    };
    let (Some(at), Some(expires)) = (parse_time(&approval.at), approval.expires()) else {
        return Some(format!(
            "the approval's times {:?} / {:?} are not RFC 3339",
            approval.at, approval.expires_at
        ));
    };
    if expires <= now {
        return Some(format!(
            "the approval by {} expired at {}",
            approval.by, approval.expires_at
        ));
    }
    if at > now + CLOCK_SKEW {
        return Some(format!(
            "the approval is dated {} , in the future",
            approval.at
        ));
    }
    signature_problem(&approval.algorithm, &approval.signature, "approval")
}

/// Why `r`'s attestation cannot be acted on, before its signature is checked.
pub fn attestation_problem(r: &Recommendation) -> Option<String> {
    let Some(attestation) = &r.attestation else {
        return Some(
            "automated, but not signed by the analyzer: written by something else".to_owned(),
        );
    };
    if attested_message(r).is_none() {
        return Some(
            "the analyzer's signature names a batch path that is not 32-byte hex hashes".to_owned(),
        );
    }
    signature_problem(
        &attestation.algorithm,
        &attestation.signature,
        "attestation",
    )
}

fn signature_problem(algorithm: &str, signature: &str, what: &str) -> Option<String> {
    if algorithm != SIGNING_ALGORITHM {
        return Some(format!(
            "the {what} is signed with {algorithm:?}, not {SIGNING_ALGORITHM}"
        ));
    }
    if from_hex(signature).is_none() {
        return Some(format!("the {what}'s signature is not hex"));
    }
    None
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string, when it is one (and not empty).
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommendation::tests::sample_scale_up;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
    }

    fn approved() -> (Recommendation, Approval) {
        let r = sample_scale_up();
        let mut approval = unsigned_approval(
            &r,
            "arn:aws:sts::1:assumed-role/ops/ana",
            now(),
            Duration::hours(6),
        );
        approval.signature = "3045".into();
        approval.key_id = "arn:aws:kms:eu-west-1:1:key/k".into();
        let mut r = r;
        r.approval = Some(approval.clone());
        (r, approval)
    }

    #[test]
    fn the_approval_message_binds_the_item_the_action_and_the_approval() {
        let (r, approval) = approved();
        let base = approval_message(&r, &approval);
        let text = String::from_utf8(base.clone()).unwrap();
        assert!(
            text.contains(&r.id) && text.contains("desiredCapacity=5"),
            "{text}"
        );
        let claims: serde_json::Value = serde_json::from_slice(&base).unwrap();
        for key in [
            "context",
            "environment",
            "id",
            "timestamp",
            "autoScalingGroupName",
            "type",
            "action",
            "version",
            "by",
            "at",
            "expiresAt",
        ] {
            assert!(claims.get(key).is_some(), "{key} in {text}");
        }
        let mut other = r.clone();
        other.implementation.action = Some(crate::Action::SetDesiredCapacity { from: 4, to: 9 });
        assert_ne!(approval_message(&other, &approval), base);
        let mut other = r.clone();
        other.id = "rec-other".into();
        assert_ne!(approval_message(&other, &approval), base);
        let mut later = approval.clone();
        later.expires_at = rfc3339(now() + Duration::days(30));
        assert_ne!(approval_message(&r, &later), base);
        // The same `from` with another current desired capacity is the same action.
        let mut moved = r.clone();
        moved.implementation.action = Some(crate::Action::SetDesiredCapacity { from: 3, to: 5 });
        assert_eq!(approval_message(&moved, &approval), base);
        // The own account's items sign no account; a shard's bind theirs: the same signed item
        // moved to another account or region does not verify.
        assert!(claims.get("accountId").is_none() && claims.get("region").is_none());
        let mut member = r.clone();
        member.account_id = Some("111122223333".into());
        member.region = Some("eu-west-1".into());
        let bound = approval_message(&member, &approval);
        assert_ne!(bound, base);
        for (account, region) in [("444455556666", "eu-west-1"), ("111122223333", "us-east-1")] {
            let mut moved = member.clone();
            moved.account_id = Some(account.into());
            moved.region = Some(region.into());
            assert_ne!(approval_message(&moved, &approval), bound);
            assert_ne!(attestation_message(&moved), attestation_message(&member));
        }
    }

    #[test]
    fn missing_expired_and_future_approvals_are_refused_before_any_signature() {
        let (mut r, _) = approved();
        assert_eq!(approval_problem(&r, now()), None);
        assert!(
            approval_problem(&r, now() + Duration::hours(6))
                .unwrap()
                .contains("expired at 2026-11-23T16:00:00Z")
        );
        assert!(
            approval_problem(&r, now() - Duration::hours(1))
                .unwrap()
                .contains("in the future")
        );
        r.approval.as_mut().unwrap().signature = "zz".into();
        assert!(approval_problem(&r, now()).unwrap().contains("not hex"));
        r.approval = None;
        assert!(
            approval_problem(&r, now())
                .unwrap()
                .contains("without a signed approval")
        );
    }

    #[test]
    fn an_automated_item_without_the_analyzers_signature_is_refused() {
        let mut r = sample_scale_up();
        assert!(
            attestation_problem(&r)
                .unwrap()
                .contains("not signed by the analyzer")
        );
        r.attestation = Some(Attestation {
            key_id: "k".into(),
            algorithm: SIGNING_ALGORITHM.into(),
            signature: "ab".into(),
            batch: None,
        });
        assert_eq!(attestation_problem(&r), None);
        assert_eq!(attested_message(&r), Some(attestation_message(&r)));
        r.attestation.as_mut().unwrap().batch = Some(vec![Sibling {
            left: true,
            hash: "abcd".into(),
        }]);
        assert!(attestation_problem(&r).unwrap().contains("batch path"));
        let signed = attestation_message(&r);
        r.analysis_window.end += Duration::hours(1);
        assert_ne!(attestation_message(&r), signed);
    }

    fn leaves(n: usize) -> Vec<Digest32> {
        (0..n)
            .map(|i| leaf_hash(format!("item {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn every_leaf_of_a_merkle_tree_leads_to_its_root_and_nothing_else_does() {
        assert!(merkle_tree(&[]).is_none());
        for n in [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100, 701] {
            let leaves = leaves(n);
            let (root, paths) = merkle_tree(&leaves).unwrap();
            assert_eq!(paths.len(), n);
            for (leaf, path) in leaves.iter().zip(&paths) {
                assert_eq!(merkle_root(*leaf, path), Some(root), "{n} leaves");
                // log2 steps at most.
                assert!(path.len() <= (usize::BITS - n.leading_zeros()) as usize);
            }
            // Another leaf, or a path flipped, leads elsewhere.
            let other = leaf_hash(b"not in the tree");
            assert_ne!(merkle_root(other, &paths[0]), Some(root));
            if let Some(step) = paths[n - 1].first() {
                let mut flipped = paths[n - 1].clone();
                flipped[0].left = !step.left;
                assert_ne!(merkle_root(leaves[n - 1], &flipped), Some(root));
            }
        }
        // One leaf is its own root: no step.
        let one = leaves(1);
        assert_eq!(merkle_tree(&one).unwrap(), (one[0], vec![Vec::new()]));
        // A node never passes for a leaf: the two children's node is not the leaf of their
        // concatenation.
        let two = leaves(2);
        let (root, _) = merkle_tree(&two).unwrap();
        assert_ne!(root, leaf_hash(&[two[0], two[1]].concat()));
    }

    #[test]
    fn a_batch_attestation_signs_the_root_and_binds_each_item() {
        let mut items: Vec<Recommendation> = (0..3)
            .map(|i| {
                let mut r = sample_scale_up();
                r.id = format!("rec-{i}");
                r
            })
            .collect();
        let leaves: Vec<Digest32> = items
            .iter()
            .map(|r| leaf_hash(&attestation_message(r)))
            .collect();
        let (root, paths) = merkle_tree(&leaves).unwrap();
        for (r, path) in items.iter_mut().zip(paths) {
            r.attestation = Some(Attestation {
                key_id: "k".into(),
                algorithm: SIGNING_ALGORITHM.into(),
                signature: "ab".into(),
                batch: Some(path),
            });
            assert_eq!(attested_message(r), Some(batch_message(&root)));
            assert_eq!(attestation_problem(r), None);
        }
        // An item changed after signing leads to another root.
        items[1].implementation.action = Some(crate::Action::SetDesiredCapacity { from: 4, to: 9 });
        assert_ne!(attested_message(&items[1]), Some(batch_message(&root)));
        // Another item's path does not carry it to the root.
        let mut moved = items[0].clone();
        moved.attestation = items[2].attestation.clone();
        assert_ne!(attested_message(&moved), Some(batch_message(&root)));
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        assert_eq!(
            from_hex(&to_hex(&[0, 1, 0xab, 0xff])),
            Some(vec![0, 1, 0xab, 0xff])
        );
        assert_eq!(from_hex(""), None);
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("g0"), None);
        assert_eq!(from_hex("é0"), None);
    }
}
