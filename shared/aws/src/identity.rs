//! Who is calling: what the audit trail records for a status change a person makes.

use aws_config::SdkConfig;
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
use fleetopt_ports::ServiceError;

use crate::error::service_error;

/// The ARN of the credentials `config` resolves to, from STS GetCallerIdentity (a call that
/// needs no permission and cannot be denied by policy): for example
/// `arn:aws:sts::123456789012:assumed-role/ops/alice`.
pub async fn caller_arn(config: &SdkConfig) -> Result<String, ServiceError> {
    arn_of(&aws_sdk_sts::Client::new(config)).await
}

/// The account of the credentials `config` resolves to, from STS GetCallerIdentity: what an
/// item without an account stands for in `fleetopt recommendations --account`.
pub async fn caller_account(config: &SdkConfig) -> Result<String, ServiceError> {
    account_of(&aws_sdk_sts::Client::new(config)).await
}

async fn arn_of(client: &aws_sdk_sts::Client) -> Result<String, ServiceError> {
    caller_field(client, ("MissingArn", "ARN"), |out| out.arn).await
}

/// The caller's account id, through `client` (a function's, whose calls are counted).
pub(crate) async fn account_of(client: &aws_sdk_sts::Client) -> Result<String, ServiceError> {
    caller_field(client, ("MissingAccount", "account"), |out| out.account).await
}

/// One field of GetCallerIdentity's answer; its absence is an error, never an empty name.
async fn caller_field(
    client: &aws_sdk_sts::Client,
    (code, what): (&str, &str),
    field: impl FnOnce(GetCallerIdentityOutput) -> Option<String>,
) -> Result<String, ServiceError> {
    const OPERATION: &str = "sts:GetCallerIdentity";
    let out = client
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| service_error(OPERATION, &e))?;
    field(out)
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| ServiceError {
            operation: OPERATION,
            code: code.to_owned(),
            message: format!("the answer names no caller {what}"),
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use aws_sdk_sts::Client;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    #[tokio::test]
    async fn the_caller_is_the_arn_sts_names() {
        let rule = mock!(Client::get_caller_identity).then_output(|| {
            GetCallerIdentityOutput::builder()
                .arn("arn:aws:sts::123456789012:assumed-role/ops/alice")
                .account("123456789012")
                .build()
        });
        let client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&rule]);
        assert_eq!(
            arn_of(&client).await.unwrap(),
            "arn:aws:sts::123456789012:assumed-role/ops/alice"
        );
    }

    #[tokio::test]
    async fn an_answer_without_an_arn_is_an_error_not_an_empty_name() {
        let rule = mock!(Client::get_caller_identity)
            .then_output(|| GetCallerIdentityOutput::builder().build());
        let client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&rule]);
        let err = arn_of(&client).await.unwrap_err();
        assert_eq!(
            (err.operation, err.code.as_str()),
            ("sts:GetCallerIdentity", "MissingArn")
        );
    }

    #[tokio::test]
    async fn the_account_is_the_one_sts_names_and_its_absence_is_an_error() {
        let named = mock!(Client::get_caller_identity).then_output(|| {
            GetCallerIdentityOutput::builder()
                .arn("arn:aws:sts::123456789012:assumed-role/ops/alice")
                .account("123456789012")
                .build()
        });
        let client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&named]);
        assert_eq!(account_of(&client).await.unwrap(), "123456789012");
        let none = mock!(Client::get_caller_identity)
            .then_output(|| GetCallerIdentityOutput::builder().build());
        let client = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&none]);
        let err = account_of(&client).await.unwrap_err();
        assert_eq!(
            (err.operation, err.code.as_str()),
            ("sts:GetCallerIdentity", "MissingAccount")
        );
    }
}
