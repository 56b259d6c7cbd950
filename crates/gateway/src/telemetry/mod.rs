//! Tracing set-up (text or JSON, level from `RUST_LOG`, default info), the per-request root span,
//! request ids, Prometheus metrics, and redaction of anything that may carry a phone number.

pub mod metrics;
mod redacting;
pub mod request_id;
mod span;

pub use span::RequestSpan;
use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = format == LogFormat::Json;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(redacting::RedactingStdout { json });
    // try_init: tests initialise once per process and must not panic on the second call.
    let _ = match format {
        // `spans` lists every open span, so the request's id and route are on every line of it,
        // including those of nested spans (an upstream call).
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Masks phone numbers inside free text; see [`pns_core::phone::redact`].
pub use pns_core::phone::redact;
