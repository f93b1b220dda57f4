//! Turning SDK errors into ours, keeping the AWS error code and message.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use fleetopt_ports::StoreError;

/// Error codes AWS uses for throttling, across services.
const THROTTLING_CODES: [&str; 5] = [
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// An SDK failure reduced to what an operator needs: the operation, the code and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The API operation, for example `dynamodb:PutItem`.
    pub operation: &'static str,
    /// The AWS error code, or the kind of failure when no service answered.
    pub code: String,
    /// The service's message, or the whole error chain.
    pub message: String,
}

impl AwsError {
    /// Reduces an SDK error.
    pub fn from_sdk<E, R>(operation: &'static str, err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let code = match err {
            SdkError::ServiceError(service) => service
                .err()
                .code()
                .unwrap_or("UnknownServiceError")
                .to_owned(),
            SdkError::TimeoutError(_) => "Timeout".to_owned(),
            SdkError::DispatchFailure(_) => "DispatchFailure".to_owned(),
            SdkError::ResponseError(_) => "ResponseError".to_owned(),
            SdkError::ConstructionFailure(_) => "ConstructionFailure".to_owned(),
            _ => "Unknown".to_owned(),
        };
        let message = match err {
            SdkError::ServiceError(service) => service
                .err()
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| DisplayErrorContext(err).to_string()),
            _ => error_chain(err),
        };
        AwsError {
            operation,
            code,
            message,
        }
    }

    /// Whether AWS throttled the call.
    pub fn is_throttling(&self) -> bool {
        THROTTLING_CODES.contains(&self.code.as_str())
    }
}

/// The error and its sources, each once, without the debug dump `DisplayErrorContext` adds.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

impl From<AwsError> for StoreError {
    fn from(e: AwsError) -> Self {
        if e.is_throttling() {
            StoreError::Throttled {
                operation: e.operation,
                message: e.message,
            }
        } else {
            StoreError::Service {
                operation: e.operation,
                code: e.code,
                message: e.message,
            }
        }
    }
}
