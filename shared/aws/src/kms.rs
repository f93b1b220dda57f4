//! Signatures with asymmetric KMS keys (ECC_NIST_P256, ECDSA_SHA_256): `kms:Sign` on the
//! approvals key is the right to approve, `kms:Verify` is all the engine holds. The private
//! key never leaves KMS; every signature is logged by CloudTrail with the caller.

use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use fleetopt_ports::{ServiceError, Signature, Signer, Verifier};

use crate::error::service_error;

/// KMS keys, through one client.
#[derive(Debug, Clone)]
pub struct KmsKeys {
    client: Client,
}

impl KmsKeys {
    /// Keys reached through `client` (built once per process).
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl Signer for KmsKeys {
    async fn sign(&self, key: &str, message: &[u8]) -> Result<Signature, ServiceError> {
        let output = self
            .client
            .sign()
            .key_id(key)
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| service_error("kms:Sign", &e))?;
        Ok(Signature {
            key_id: output.key_id.unwrap_or_else(|| key.to_owned()),
            bytes: output.signature.map(Blob::into_inner).unwrap_or_default(),
        })
    }
}

impl Verifier for KmsKeys {
    async fn verify(
        &self,
        key: &str,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, ServiceError> {
        if signature.is_empty() {
            return Ok(false);
        }
        let result = self
            .client
            .verify()
            .key_id(key)
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signature(Blob::new(signature))
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await;
        match result {
            Ok(output) => Ok(output.signature_valid),
            // KMS answers a signature that does not verify with this error, not `false`.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_kms_invalid_signature_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(service_error("kms:Verify", &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kms::operation::verify::{VerifyError, VerifyOutput};
    use aws_sdk_kms::types::error::KmsInvalidSignatureException;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    #[tokio::test]
    async fn an_invalid_signature_is_false_and_a_denied_call_an_error() {
        let invalid = mock!(Client::verify).then_error(|| {
            VerifyError::KmsInvalidSignatureException(
                KmsInvalidSignatureException::builder().build(),
            )
        });
        let keys = KmsKeys::new(mock_client!(aws_sdk_kms, [&invalid]));
        assert_eq!(keys.verify("k", b"m", b"sig").await, Ok(false));
        let valid = mock!(Client::verify)
            .then_output(|| VerifyOutput::builder().signature_valid(true).build());
        let keys = KmsKeys::new(mock_client!(aws_sdk_kms, RuleMode::MatchAny, [&valid]));
        assert_eq!(keys.verify("k", b"m", b"sig").await, Ok(true));
        // An empty signature is no signature: no call is made.
        assert_eq!(keys.verify("k", b"m", b"").await, Ok(false));
    }
}
