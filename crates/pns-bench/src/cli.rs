//! Command line: one subcommand per scenario, `all` for every one of them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::db::Backend;

#[derive(Parser, Debug)]
#[command(
    name = "pns-bench",
    about = "Benchmarks the gateway (release build) against pns-sim on PostgreSQL and SQLite"
)]
pub struct Cli {
    #[command(subcommand)]
    pub scenario: ScenarioArg,
    #[command(flatten)]
    pub opts: Opts,
}

#[derive(Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioArg {
    /// Every scenario below, in order; writes the results into BENCHMARKS.md.
    All,
    /// bind+unbind cycles through the gateway vs directly against pns-sim.
    Bind,
    /// CDR batches and call events posted to /callbacks/huawei vs raw inserts into `cdrs`.
    Callbacks,
    /// SMS Block decisions at a fixed request rate.
    Sms,
    /// Bind latency with a small vs a large bindings table.
    Growth,
    /// Gateway peak RSS under many concurrent connections.
    Memory,
    /// Webhook events delivered per second and their lag while CDRs flood in.
    Webhooks,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DbChoice {
    Sqlite,
    Postgres,
    Both,
}

impl DbChoice {
    pub fn backends(self) -> Vec<Backend> {
        match self {
            Self::Sqlite => vec![Backend::Sqlite],
            Self::Postgres => vec![Backend::Postgres],
            Self::Both => vec![Backend::Postgres, Backend::Sqlite],
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct Opts {
    /// Length of each measurement (`10s`, `500ms`, `1m`).
    #[arg(long, global = true, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    #[arg(long, global = true, value_enum, default_value_t = DbChoice::Both)]
    pub db: DbChoice,
    /// Keep-alive connections (closed-loop workers) for throughput scenarios.
    #[arg(long, global = true, default_value_t = 64)]
    pub concurrency: usize,
    /// Connections held open by the memory scenario.
    #[arg(long, global = true, default_value_t = 256)]
    pub memory_concurrency: usize,
    /// Requests per second of the SMS scenario (open loop).
    #[arg(long, global = true, default_value_t = 1_000)]
    pub sms_rate: u32,
    /// Bindings in the table for the large growth measurement
    /// [default: 1000000 on PostgreSQL, 200000 on SQLite].
    #[arg(long, global = true)]
    pub growth_rows: Option<u64>,
    /// Bindings in the table for the small growth measurement.
    #[arg(long, global = true, default_value_t = 1_000)]
    pub growth_base: u64,
    /// Workers of the growth measurement: low, so latency reflects the table rather than queueing.
    #[arg(long, global = true, default_value_t = 8)]
    pub growth_concurrency: usize,
    /// X numbers given to pns-sim (bindings are spread over them).
    #[arg(long, global = true, default_value_t = 200)]
    pub numbers: usize,
    /// Upper bound on operations in one measurement, whatever the duration.
    #[arg(long, global = true, default_value_t = 2_000_000)]
    pub max_ops: u64,
    /// Maintenance database of the local PostgreSQL; a fresh database is created beside it and dropped.
    #[arg(
        long,
        global = true,
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub pg_url: String,
    /// Release `gateway` binary; built with cargo when absent.
    #[arg(long, global = true)]
    pub gateway_bin: Option<PathBuf>,
    /// Release `pns-sim` binary; built with cargo when absent.
    #[arg(long, global = true)]
    pub sim_bin: Option<PathBuf>,
    /// Markdown file whose `pns-bench` section is replaced with the results
    /// [default for `all`: BENCHMARKS.md at the workspace root].
    #[arg(long, global = true)]
    pub report: Option<PathBuf>,
    /// Do not write any report file.
    #[arg(long, global = true)]
    pub no_report: bool,
    /// Keep the temporary directory (child logs, SQLite files) and print where it is.
    #[arg(long, global = true)]
    pub keep_logs: bool,
}

/// `10s`, `250ms`, `2m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}`: expected a number with ms, s or m"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => return Err(format!("`{s}`: unit must be ms, s or m")),
    };
    if d.is_zero() || d > Duration::from_secs(600) {
        return Err(format!("`{s}`: must be between 1ms and 10m"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1h").is_err());
        assert!(parse_duration("20m").is_err());
    }

    #[test]
    fn flags_go_after_the_subcommand() {
        let cli = Cli::try_parse_from(["pns-bench", "bind", "--duration", "2s", "--db", "sqlite"])
            .unwrap();
        assert_eq!(cli.scenario, ScenarioArg::Bind);
        assert_eq!(cli.opts.duration, Duration::from_secs(2));
        assert_eq!(cli.opts.db.backends(), vec![Backend::Sqlite]);
    }
}
