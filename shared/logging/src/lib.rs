//! The functions' logs: JSON lines, one per event, carrying the invocation's span (and so the
//! Lambda request id the runtime puts on it). No timestamps: CloudWatch Logs stamps every line.
//!
//! The level follows Lambda's own log-level control first (`AWS_LAMBDA_LOG_LEVEL`, which the
//! function's application log level sets), then `RUST_LOG`, else `info`. These two variables
//! belong to the runtime and the tracing ecosystem, not to fleet-optimizer's configuration, so
//! they are read here rather than by `fleetopt-config`.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the JSON subscriber for the process, writing to standard output. Call once, first
/// thing in `main`.
pub fn init() {
    let lambda_level = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok();
    let rust_log = std::env::var("RUST_LOG").ok();
    subscriber(
        filter(lambda_level.as_deref(), rust_log.as_deref()),
        std::io::stdout,
    )
    .init();
}

/// What is logged: Lambda's level when it names one (TRACE, DEBUG, INFO, WARN, ERROR; FATAL is
/// ERROR here, the most severe level tracing has), else `rust_log`'s directives when they parse,
/// else `info`.
pub fn filter(lambda_level: Option<&str>, rust_log: Option<&str>) -> EnvFilter {
    let lambda = lambda_level.and_then(|level| match level.trim().to_ascii_uppercase().as_str() {
        "TRACE" => Some("trace"),
        "DEBUG" => Some("debug"),
        "INFO" => Some("info"),
        "WARN" => Some("warn"),
        "ERROR" | "FATAL" => Some("error"),
        _ => None,
    });
    if let Some(level) = lambda {
        return EnvFilter::new(level);
    }
    rust_log
        .filter(|directives| !directives.trim().is_empty())
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new("info"))
}

/// The JSON subscriber with `filter`, writing lines to `writer`.
pub fn subscriber<W>(
    filter: EnvFilter,
    writer: W,
) -> tracing_subscriber::fmt::SubscriberBuilder<
    tracing_subscriber::fmt::format::JsonFields,
    tracing_subscriber::fmt::format::Format<tracing_subscriber::fmt::format::Json, ()>,
    EnvFilter,
    W,
>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_writer(writer)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Lines {
        type Writer = Lines;
        fn make_writer(&'w self) -> Lines {
            self.clone()
        }
    }

    /// The lines logged by one info and one error event under `filter`.
    fn logged(filter: EnvFilter) -> Vec<String> {
        let lines = Lines::default();
        let subscriber = subscriber(filter, lines.clone()).finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(group = "web", "analysis done");
            tracing::error!(group = "web", "publishing failed");
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn lambdas_error_level_hides_info_lines_whatever_rust_log_says() {
        let lines = logged(filter(Some("ERROR"), Some("debug")));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("\"level\":\"ERROR\""), "{lines:?}");
        assert!(lines[0].contains("publishing failed"), "{lines:?}");
        assert_eq!(logged(filter(Some("fatal"), None)).len(), 1);
    }

    #[test]
    fn without_lambdas_level_rust_log_decides_then_info() {
        assert_eq!(logged(filter(None, Some("error"))).len(), 1);
        assert_eq!(logged(filter(None, None)).len(), 2);
        assert_eq!(logged(filter(Some("LOUD"), Some("error"))).len(), 1);
        let both = logged(filter(Some("INFO"), None));
        assert_eq!(both.len(), 2, "{both:?}");
        assert!(both[0].contains("\"level\":\"INFO\""), "{both:?}");
    }
}
