//! The functions' logs: JSON lines, one per event, carrying the invocation's span (and so the
//! Lambda request id the runtime puts on it), filtered by `RUST_LOG` (default `info`). No
//! timestamps: CloudWatch Logs stamps every line.

/// Installs the JSON subscriber for the process. Call once, first thing in `main`.
pub fn init() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .init();
}
