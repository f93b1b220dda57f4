//! Turning SDK errors into ours, keeping the AWS error code and message.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use fleetopt_ports::ServiceError;

/// Reduces an SDK error to a [`ServiceError`]: the operation, the AWS error code (or the kind of
/// failure when no service answered) and the service's message (or the error chain).
pub fn service_error<E, R>(operation: &'static str, err: &SdkError<E, R>) -> ServiceError
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
        // The attempt or operation timeout ended it: say so first, the SDK's words after.
        SdkError::TimeoutError(_) => format!("no answer within the timeout ({})", error_chain(err)),
        _ => error_chain(err),
    };
    ServiceError {
        operation,
        code,
        message,
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
