//! Invoking a deployed function through the Lambda Invoke API (the CLI's `analyze`). Locally,
//! `AWS_ENDPOINT_URL_LAMBDA` points the client at `cargo lambda watch`.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use fleetopt_ports::ServiceError;
use serde_json::Value;

use crate::error::service_error;

/// Why an invocation did not return a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// The Invoke call itself failed (no such function, no permission, unreachable).
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The function ran and returned an error.
    #[error("{function} failed: {error_type}: {message}")]
    Function {
        /// The function.
        function: String,
        /// The error type the function reported.
        error_type: String,
        /// Its message.
        message: String,
    },
    /// The function answered with something that is not JSON.
    #[error("{function} answered with a payload that is not JSON: {message}")]
    Payload {
        /// The function.
        function: String,
        /// The parse error.
        message: String,
    },
}

/// Synchronous invocations of Lambda functions.
#[derive(Debug, Clone)]
pub struct FunctionInvoker {
    client: aws_sdk_lambda::Client,
}

impl FunctionInvoker {
    /// An invoker built from the process's `SdkConfig`.
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: aws_sdk_lambda::Client::new(config),
        }
    }

    /// An invoker that waits up to `wait` for a function's answer, retries included: the
    /// process's timeouts fit API calls, not a function's whole run.
    pub fn waiting(config: &aws_config::SdkConfig, wait: std::time::Duration) -> Self {
        let timeouts = crate::Timeouts {
            attempt: wait,
            operation: wait,
        };
        let conf = aws_sdk_lambda::config::Builder::from(config)
            .timeout_config(timeouts.config())
            .build();
        Self {
            client: aws_sdk_lambda::Client::from_conf(conf),
        }
    }

    /// Invokes `function` with `payload` and waits for its JSON answer.
    pub async fn invoke(&self, function: &str, payload: &Value) -> Result<Value, InvokeError> {
        let output = self
            .client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload.to_string()))
            .send()
            .await
            .map_err(|e| {
                // `cargo lambda watch` answers a function error with HTTP 500 and the error
                // payload, where Lambda answers 200 with X-Amz-Function-Error: read both.
                let payload = e
                    .raw_response()
                    .and_then(|r| r.body().bytes())
                    .and_then(|b| serde_json::from_slice::<Value>(b).ok())
                    .filter(|v| v.get("errorType").is_some());
                match payload {
                    Some(body) => function_error(function, "Unhandled".to_owned(), &body),
                    None => InvokeError::Service(service_error("lambda:Invoke", &e)),
                }
            })?;
        let bytes = output.payload.map(Blob::into_inner).unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| InvokeError::Payload {
            function: function.to_owned(),
            message: e.to_string(),
        })?;
        match output.function_error {
            Some(kind) => Err(function_error(function, kind, &body)),
            None => Ok(body),
        }
    }
}

/// The function's own error, from its `{"errorType", "errorMessage"}` payload.
fn function_error(function: &str, kind: String, body: &Value) -> InvokeError {
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    InvokeError::Function {
        function: function.to_owned(),
        error_type: field("errorType").unwrap_or(kind),
        message: field("errorMessage").unwrap_or_else(|| body.to_string()),
    }
}
