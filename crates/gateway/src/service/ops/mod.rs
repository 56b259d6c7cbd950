//! What operators look at: the health probes behind `/healthz` and `/readyz` (and the `healthcheck`
//! subcommand), and the aggregate counts behind the gauges of `/metrics`.

pub mod probe;
pub mod stats;
