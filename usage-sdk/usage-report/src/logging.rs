//! The SDK's `tracing` output on stderr: `-v` debug, `-vv` trace, or `RUST_LOG` (an env
//! filter, which wins when set), as text or JSON lines.
//!
//! Attempt spans (`usage_sdk.attempt`) record `status` and `correlation_id` only once the
//! response is in, so spans are logged when they close: each attempt then gets one line with
//! its operation, attempt number, status and correlation id. The SDK keeps secrets out of
//! its spans and events; nothing here adds any.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, filter};

use crate::cli::LogFormat;

/// The 429 responses this process received, counted from the SDK's attempt spans
/// (`usage_sdk.attempt` records each response's `status`), whatever the log level: the
/// SDK has no counter of its own. `serve` exports it.
#[derive(Clone, Debug, Default)]
pub struct RateLimited(Arc<AtomicU64>);

impl RateLimited {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct CountRateLimited(RateLimited);

impl<S: tracing::Subscriber> Layer<S> for CountRateLimited {
    fn on_record(
        &self,
        _: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        _: Context<'_, S>,
    ) {
        struct Status(Option<u64>);
        impl tracing::field::Visit for Status {
            fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
                if field.name() == "status" {
                    self.0 = Some(value);
                }
            }
            fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
                self.record_u64(field, value.max(0) as u64);
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut status = Status(None);
        values.record(&mut status);
        if status.0 == Some(429) {
            (self.0).0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Installs the subscriber. Without `-v` or `RUST_LOG` only warnings and errors are shown.
/// With `rate_limited`, the SDK's attempts are also counted (at any log level).
pub fn init(
    verbose: u8,
    format: LogFormat,
    rate_limited: Option<RateLimited>,
) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(&directives)
            .map_err(|e| format!("RUST_LOG {directives:?} is not a valid filter: {e}"))?,
        _ => EnvFilter::new(match verbose {
            0 => "warn",
            1 => "warn,usage_sdk=debug,usage_report=debug",
            _ => "info,usage_sdk=trace,usage_report=trace",
        }),
    };
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_span_events(FmtSpan::CLOSE);
    let lines = match format {
        LogFormat::Text => lines.boxed(),
        LogFormat::Json => lines
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .boxed(),
    };
    let counter = rate_limited.map(|count| {
        CountRateLimited(count)
            .with_filter(filter::filter_fn(|meta| meta.name() == "usage_sdk.attempt"))
    });
    tracing_subscriber::registry()
        .with(lines.with_filter(filter))
        .with(counter)
        .try_init()
        .map_err(|e| format!("cannot install the logger: {e}"))
}

/// Whether anything below warnings may be logged (progress output would interleave).
pub fn verbose(verbose: u8) -> bool {
    verbose > 0 || std::env::var("RUST_LOG").is_ok_and(|v| !v.trim().is_empty())
}
