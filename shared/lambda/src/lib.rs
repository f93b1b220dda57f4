//! The Lambda entry every function shares, written once: `serve` sets up the JSON logs, reads
//! and validates the configuration (an invalid one is the init error, logged first), builds the
//! function's `App` once (its clients from one `SdkConfig` with the configured timeouts, its
//! adapters wired by the function), then runs the runtime loop; `handle` runs one invocation,
//! counts the AWS calls it made (the process handles one invocation at a time, so what is
//! counted between two takes is this one's), puts them in the response, and maps a failure to a
//! `Diagnostic` with the function's fixed error type.
//!
//! A function implements `Function` on its dependencies (its `Deps` with the AWS adapters):
//! how they are wired from the clients, how one payload is handled, and what its response says.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;

use chrono::{DateTime, Utc};
use fleetopt_aws::{ApiCalls, Clients, SdkConfig};
use fleetopt_config::Config;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

/// Everything a function builds once per process, outside the handler: the validated
/// configuration, its adapters and the calls every client makes. Anything the adapters cache
/// (the cost optimizer's prices) lives here, so it survives warm invocations.
#[derive(Debug)]
pub struct App<D> {
    /// The validated configuration.
    pub config: Config,
    /// The function's adapters.
    pub deps: D,
    /// The calls every client makes.
    pub calls: ApiCalls,
}

impl<D: Function> App<D> {
    /// Builds the clients from one `SdkConfig` and the function's adapters from them.
    pub fn new(config: Config, sdk: &SdkConfig) -> Self {
        let clients = Clients::new(sdk);
        let deps = D::wire(&config, &clients, sdk);
        App {
            config,
            deps,
            calls: clients.calls,
        }
    }
}

/// One function, as the runtime loop drives it, implemented on its dependencies.
pub trait Function: Sized + Sync {
    /// What it answers.
    type Response: serde::Serialize + Send;
    /// Why an invocation fails.
    type Error: Display + Send;

    /// What it is called in log lines ("the analyzer").
    const NAME: &'static str;

    /// Its adapters, from the clients built once per process.
    fn wire(config: &Config, clients: &Clients, sdk: &SdkConfig) -> Self;

    /// One invocation of `payload` at `now`: decode, then run.
    fn invoke(
        app: &App<Self>,
        payload: Value,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Self::Response, Self::Error>> + Send;

    /// Puts this invocation's calls, per API, in the response.
    fn record_calls(response: &mut Self::Response, calls: BTreeMap<String, u64>);

    /// The fixed error type Lambda reports for `error`.
    fn error_type(error: &Self::Error) -> &'static str;

    /// Logs what the response says, one line.
    fn log(response: &Self::Response);
}

/// One invocation: the calls it makes are counted into its response; a failure is a
/// `Diagnostic` with the fixed error type, logged with the calls made.
pub async fn handle<F: Function>(
    app: &App<F>,
    event: LambdaEvent<Value>,
) -> Result<F::Response, Diagnostic> {
    app.calls.take();
    // Boxed: a function's run is a deep future, and inside the runtime loop's its layout would
    // pass the compiler's depth limit.
    let result = Box::pin(F::invoke(app, event.payload, Utc::now())).await;
    let calls = app.calls.take();
    finish::<F>(result, calls)
}

/// The response with its calls, or the failure as a `Diagnostic`.
fn finish<F: Function>(
    result: Result<F::Response, F::Error>,
    calls: BTreeMap<String, u64>,
) -> Result<F::Response, Diagnostic> {
    match result {
        Ok(mut response) => {
            F::record_calls(&mut response, calls);
            F::log(&response);
            Ok(response)
        }
        Err(e) => {
            let error_type = F::error_type(&e);
            tracing::error!(error = %e, error_type, aws_calls = ?calls, "{} failed", F::NAME);
            Err(Diagnostic {
                error_type: error_type.to_owned(),
                error_message: e.to_string(),
            })
        }
    }
}

/// A function's `main`: logs, configuration, its `App` with one `SdkConfig`, the runtime loop.
pub async fn serve<F: Function>() -> Result<(), lambda_runtime::Error> {
    fleetopt_logging::init();
    let config = Config::from_env().inspect_err(|e| {
        // Lambda shows this line in the function's log; the init error follows it.
        tracing::error!(error = %e, "{} cannot start", F::NAME);
    })?;
    let timeouts = config.aws_timeouts.into();
    let app = App::<F>::new(config, &fleetopt_aws::load_config(None, timeouts).await);
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(app, event).await
    }))
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A function that answers its payload's `n`, or fails on a negative one.
    struct Echo;

    #[derive(serde::Serialize, Debug, PartialEq)]
    struct Answer {
        n: i64,
        calls: BTreeMap<String, u64>,
    }

    impl Function for Echo {
        type Response = Answer;
        type Error = String;
        const NAME: &'static str = "echo";

        fn wire(_config: &Config, _clients: &Clients, _sdk: &SdkConfig) -> Self {
            Echo
        }

        async fn invoke(
            app: &App<Self>,
            payload: Value,
            _now: DateTime<Utc>,
        ) -> Result<Answer, String> {
            app.calls.record("sts:GetCallerIdentity");
            match payload["n"].as_i64() {
                Some(n) if n >= 0 => Ok(Answer {
                    n,
                    calls: BTreeMap::new(),
                }),
                other => Err(format!("n is {other:?}")),
            }
        }

        fn record_calls(response: &mut Answer, calls: BTreeMap<String, u64>) {
            response.calls = calls;
        }

        fn error_type(_error: &String) -> &'static str {
            "InvalidEvent"
        }

        fn log(_response: &Answer) {}
    }

    fn event(payload: Value) -> LambdaEvent<Value> {
        LambdaEvent::new(payload, lambda_runtime::Context::default())
    }

    #[tokio::test]
    async fn each_invocation_reports_its_own_calls_and_a_failure_its_fixed_type() {
        let config = Config::from_lookup(&|name| match name {
            fleetopt_config::vars::ENVIRONMENT => Some("production".to_owned()),
            fleetopt_config::vars::APPLICATION => Some("shop".to_owned()),
            _ => None,
        })
        .unwrap();
        // The clients are built, never called: the SDK's behavior version is its latest.
        let sdk = SdkConfig::builder().build();
        let echo = App::<Echo>::new(config, &sdk);
        echo.calls.record("before:Start");
        let answer = handle(&echo, event(serde_json::json!({"n": 3})))
            .await
            .unwrap();
        assert_eq!(answer.n, 3);
        assert_eq!(
            answer.calls,
            BTreeMap::from([("sts:GetCallerIdentity".to_owned(), 1)])
        );
        let failure = handle(&echo, event(serde_json::json!({"n": -1})))
            .await
            .unwrap_err();
        assert_eq!(failure.error_type, "InvalidEvent");
        assert_eq!(failure.error_message, "n is Some(-1)");
    }
}
