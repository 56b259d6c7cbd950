//! Cross-cutting middleware of the API: rate limits and the JSON error catch-all. (Request ids and
//! metrics live in `telemetry`.)

pub mod json_errors;
pub mod rate_limit;
