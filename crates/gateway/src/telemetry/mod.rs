//! Tracing set-up (text or JSON, level from `RUST_LOG`, default info), the per-request root span,
//! request ids, Prometheus metrics, and redaction of anything that may carry a phone number.

pub mod metrics;
pub mod request_id;
mod span;

pub use span::RequestSpan;
use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
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

/// Masks every run of 7 or more digits (with an optional leading `+`) as a phone number
/// (`+86186****5678`), for text that may carry one: paths, query strings, upstream messages.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.trim_start_matches('+').len();
        if digits >= 7 {
            out.push_str(&pns_core::phone::mask(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || (c == '+' && run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_masks_number_runs_and_keeps_the_rest() {
        assert_eq!(
            redact("/v1/bindings?callerNum=%2B8618612345678&page=2"),
            "/v1/bindings?callerNum=%2B861861****5678&page=2"
        );
        assert_eq!(redact("+8618612345678"), "+86186****5678");
        assert_eq!(redact("limit=100&x=+12"), "limit=100&x=+12");
        assert_eq!(redact(""), "");
        // A uuid is left readable: its digit runs are short.
        let id = "0193f3c2-7d1e-7a40-9b1c-2f4d5e6a7b8c";
        assert_eq!(redact(id), id);
    }
}
