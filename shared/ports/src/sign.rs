//! Signatures: how a person's approval and the analyzer's automated findings are proven
//! (`fleetopt_model`'s `approval_message`, `attestation_message` and `batch_message` say what
//! is signed). The
//! production adapter is an asymmetric KMS key, so that the right to sign is an IAM
//! permission and the private key never leaves KMS.

use std::future::Future;

use crate::ServiceError;

/// A signature, with the key that made it as the signer names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The key's id (for KMS, its ARN).
    pub key_id: String,
    /// The signature's bytes.
    pub bytes: Vec<u8>,
}

/// Signs with a key the caller may use.
pub trait Signer {
    /// Signs `message` with `key` (an id, ARN or alias). A caller without the right to use
    /// the key gets the service's refusal (KMS: AccessDeniedException).
    fn sign(
        &self,
        key: &str,
        message: &[u8],
    ) -> impl Future<Output = Result<Signature, ServiceError>> + Send;
}

/// Checks signatures against a key.
pub trait Verifier {
    /// Whether `signature` is `key`'s over `message`. `Ok(false)` for a signature that does
    /// not verify; `Err` only when the check itself could not be made.
    fn verify(
        &self,
        key: &str,
        message: &[u8],
        signature: &[u8],
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send;
}

/// Signs `r` as its writer (the analyzer) with `key`: sets its attestation over
/// `fleetopt_model::attestation_message`. One Sign call.
pub async fn attest<K: Signer + Sync>(
    signer: &K,
    key: &str,
    r: &mut fleetopt_model::Recommendation,
) -> Result<(), ServiceError> {
    let signature = signer
        .sign(key, &fleetopt_model::attestation_message(r))
        .await?;
    r.attestation = Some(fleetopt_model::Attestation {
        key_id: signature.key_id,
        algorithm: fleetopt_model::SIGNING_ALGORITHM.to_owned(),
        signature: fleetopt_model::to_hex(&signature.bytes),
        batch: None,
    });
    Ok(())
}

/// Signs all of `items` as their writer with `key` in one Sign call, whatever their number:
/// the signature covers the Merkle root of their attestation messages, and each item keeps
/// its path to the root (`fleetopt_model::Attestation::batch`). Nothing is called for no item.
pub async fn attest_all<K: Signer + Sync>(
    signer: &K,
    key: &str,
    items: &mut [&mut fleetopt_model::Recommendation],
) -> Result<(), ServiceError> {
    let leaves: Vec<fleetopt_model::Digest32> = items
        .iter()
        .map(|r| fleetopt_model::leaf_hash(&fleetopt_model::attestation_message(r)))
        .collect();
    let Some((root, paths)) = fleetopt_model::merkle_tree(&leaves) else {
        return Ok(());
    };
    let signature = signer
        .sign(key, &fleetopt_model::batch_message(&root))
        .await?;
    let hex = fleetopt_model::to_hex(&signature.bytes);
    for (r, path) in items.iter_mut().zip(paths) {
        r.attestation = Some(fleetopt_model::Attestation {
            key_id: signature.key_id.clone(),
            algorithm: fleetopt_model::SIGNING_ALGORITHM.to_owned(),
            signature: hex.clone(),
            batch: Some(path),
        });
    }
    Ok(())
}

/// An approval of `r` by `by` at `at`, valid for `valid_for`, signed with `key`: what
/// `fleetopt approve` stores with the move to APPROVED. One Sign call; a caller without
/// `kms:Sign` on the key gets the service's refusal.
pub async fn sign_approval<K: Signer + Sync>(
    signer: &K,
    key: &str,
    r: &fleetopt_model::Recommendation,
    by: &str,
    at: chrono::DateTime<chrono::Utc>,
    valid_for: chrono::Duration,
) -> Result<fleetopt_model::Approval, ServiceError> {
    let mut approval = fleetopt_model::unsigned_approval(r, by, at, valid_for);
    let signature = signer
        .sign(key, &fleetopt_model::approval_message(r, &approval))
        .await?;
    approval.key_id = signature.key_id;
    approval.signature = fleetopt_model::to_hex(&signature.bytes);
    Ok(approval)
}
