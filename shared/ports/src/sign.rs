//! Signatures: how a person's approval and the analyzer's automated findings are proven
//! (`fleetopt_model`'s `approval_message` and `attestation_message` say what is signed). The
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
