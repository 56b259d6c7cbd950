//! Cross-cutting middleware of the API: request-body guards, rate limits and the JSON error
//! catch-all. (Request ids and metrics live in `telemetry`.)

pub mod body_guard;
pub mod json_errors;
pub mod rate_limit;
