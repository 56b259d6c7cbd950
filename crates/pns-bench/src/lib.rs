//! pns-bench: starts pns-sim and the gateway from release builds on PostgreSQL and SQLite, drives
//! them over loopback with bounded closed- and open-loop load, and reports the figures next to the
//! targets of issue 7. Library first; `main.rs` only parses the command line.

pub mod bodies;
pub mod cli;
pub mod db;
pub mod driver;
pub mod procs;
pub mod receiver;
pub mod report;
pub mod scenarios;
pub mod stack;

use anyhow::Context;
use chrono::Utc;

use crate::cli::{Cli, ScenarioArg};
use crate::procs::Binaries;
use crate::report::{Machine, Report};
use crate::scenarios::Scenario;
use crate::stack::Ctx;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let started = Utc::now();
    let opts = cli.opts;
    anyhow::ensure!(
        opts.concurrency > 0 && opts.memory_concurrency > 0,
        "concurrency must be > 0"
    );
    anyhow::ensure!(
        (1..=100_000).contains(&opts.numbers),
        "--numbers must be 1..=100000"
    );
    let scenarios = match cli.scenario {
        ScenarioArg::All => Scenario::ALL.to_vec(),
        ScenarioArg::Bind => vec![Scenario::Bind],
        ScenarioArg::Callbacks => vec![Scenario::Callbacks],
        ScenarioArg::Sms => vec![Scenario::Sms],
        ScenarioArg::Growth => vec![Scenario::Growth],
        ScenarioArg::Memory => vec![Scenario::Memory],
        ScenarioArg::Webhooks => vec![Scenario::Webhooks],
    };
    let backends = opts.db.backends();
    let (gateway_bin, sim_bin) = (opts.gateway_bin.clone(), opts.sim_bin.clone());
    let bins =
        tokio::task::spawn_blocking(move || Binaries::locate(gateway_bin, sim_bin)).await??;
    let report_path = match (&opts.report, cli.scenario) {
        _ if opts.no_report => None,
        (Some(path), _) => Some(path.clone()),
        (None, ScenarioArg::All) => Some(procs::workspace_root().join("BENCHMARKS.md")),
        (None, _) => None,
    };
    let settings = format!(
        "{} s per measurement (+ warm-up); {} keep-alive connections; pns-sim with {} X numbers; gateway with default settings except PNS_RATE_LIMIT_PER_SEC=0, PNS_RECONCILE_INTERVAL_SECS=0 and PNS_WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8 (RUST_LOG=warn, AKSK callback verification on); backends: {}; CPU columns: cores busy during the measurement (user+system time / wall time) of gateway/pns-sim/load generator, PostgreSQL's own processes not counted",
        opts.duration.as_secs_f64(),
        opts.concurrency,
        opts.numbers,
        backends
            .iter()
            .map(|b| b.label())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let dir = tempfile::Builder::new()
        .prefix("pns-bench-")
        .tempdir()
        .context("creating a temporary directory")?;
    let ctx = Ctx { opts, bins, dir };

    let mut report = Report {
        machine: Machine::detect(),
        command: command_line(),
        settings,
        started,
        finished: started,
        sections: Vec::new(),
        checks: Vec::new(),
    };
    println!("{}", report.header());
    let (sections, checks) = scenarios::run(&ctx, &scenarios, &backends).await;
    report.sections = sections;
    report.checks = checks;
    report.finished = Utc::now();
    println!("### Targets (measured, not asserted)\n");
    let markdown = report.to_markdown();
    if let Some(targets) = markdown
        .split("### Targets (measured, not asserted)\n\n")
        .nth(1)
    {
        println!("{targets}");
    }
    if ctx.opts.keep_logs {
        let kept = ctx.dir.keep();
        eprintln!("pns-bench: logs kept in {}", kept.display());
    }
    if let Some(path) = report_path {
        report
            .write_into(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("pns-bench: results written to {}", path.display());
    }
    Ok(())
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo run --release -p pns-bench -- {}", args.join(" "))
}
