//! The SDK's `tracing` output on stderr: `-v` debug, `-vv` trace, or `RUST_LOG` (an env
//! filter, which wins when set), as text or JSON lines.
//!
//! Attempt spans (`usage_sdk.attempt`) record `status` and `correlation_id` only once the
//! response is in, so spans are logged when they close: each attempt then gets one line with
//! its operation, attempt number, status and correlation id. The SDK keeps secrets out of
//! its spans and events; nothing here adds any.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::cli::LogFormat;

/// Installs the subscriber. Without `-v` or `RUST_LOG` only warnings and errors are shown.
pub fn init(verbose: u8, format: LogFormat) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(&directives)
            .map_err(|e| format!("RUST_LOG {directives:?} is not a valid filter: {e}"))?,
        _ => EnvFilter::new(match verbose {
            0 => "warn",
            1 => "warn,usage_sdk=debug,usage_report=debug",
            _ => "info,usage_sdk=trace,usage_report=trace",
        }),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_span_events(FmtSpan::CLOSE);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
    installed.map_err(|e| format!("cannot install the logger: {e}"))
}

/// Whether anything below warnings may be logged (progress output would interleave).
pub fn verbose(verbose: u8) -> bool {
    verbose > 0 || std::env::var("RUST_LOG").is_ok_and(|v| !v.trim().is_empty())
}
