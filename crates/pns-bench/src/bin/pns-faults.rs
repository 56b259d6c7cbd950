//! `pns-faults`: issue 7's "faults under load". pns-sim and the release gateway on a fresh PostgreSQL
//! database; workers bind, play calls and unbind while the simulator injects latency, timeouts, 5xx,
//! flow control and lost answers, and PostgreSQL is restarted while callbacks flood in. Afterwards every
//! CDR the simulator delivered with a 2xx must be in `cdrs` once, every upstream binding in `bindings`,
//! and every settled call's `call.completed` at the app's webhook receiver once (by `webhook-id`).
//!
//! `cargo run --release -p pns-bench --bin pns-faults [-- --duration-secs 60 --workers 16]`

#[path = "pns_faults/count.rs"]
mod count;
#[path = "pns_faults/inject.rs"]
mod inject;
#[path = "pns_faults/load.rs"]
mod load;
#[path = "pns_faults/report.rs"]
mod report;
#[path = "pns_faults/setup.rs"]
mod setup;
#[path = "pns_faults/webhooks.rs"]
mod webhooks;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use pns_bench::procs::Binaries;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "pns-faults",
    about = "Faults under load: counts what survived (issue 7)"
)]
pub struct Opts {
    /// Length of the load, in seconds.
    #[arg(long, default_value_t = 60)]
    pub duration_secs: u64,
    /// Concurrent bind/call/unbind workers.
    #[arg(long, default_value_t = 16)]
    pub workers: usize,
    /// Most bind cycles in total (the load also stops at the deadline).
    #[arg(long, default_value_t = 20_000)]
    pub max_cycles: u64,
    /// X numbers given to pns-sim.
    #[arg(long, default_value_t = 200)]
    pub numbers: usize,
    /// Skip the PostgreSQL restart.
    #[arg(long)]
    pub no_pg_restart: bool,
    /// Maintenance database of the local PostgreSQL; a fresh database is created beside it and dropped.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_url: String,
    #[arg(long)]
    pub gateway_bin: Option<PathBuf>,
    #[arg(long)]
    pub sim_bin: Option<PathBuf>,
    /// Where the "Faults under load" section goes (between its own markers); none with --no-report.
    #[arg(long)]
    pub report: Option<PathBuf>,
    #[arg(long)]
    pub no_report: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let opts = Opts::parse();
    anyhow::ensure!(
        opts.workers > 0 && (1..=10_000).contains(&opts.numbers) && opts.duration_secs <= 3_600,
        "--workers > 0, --numbers 1..=10000, --duration-secs <= 3600"
    );
    // Two loads on two cores would skew each other's figures, and the restart would hit their database.
    let others = inject::others_using_postgres();
    anyhow::ensure!(
        others.is_empty(),
        "another benchmark or test run is going on; try again when it is done: {}",
        others.join("; ")
    );
    let started = chrono::Utc::now();
    let (g, s) = (opts.gateway_bin.clone(), opts.sim_bin.clone());
    let bins = tokio::task::spawn_blocking(move || Binaries::locate(g, s)).await??;
    let dir = tempfile::Builder::new()
        .prefix("pns-faults-")
        .tempdir()
        .context("creating a temporary directory")?;
    let stack = Arc::new(setup::FaultStack::start(&opts, &bins, dir.path()).await?);
    let outcome = run(&opts, stack.clone()).await;
    let stack = Arc::into_inner(stack).context("workers still hold the stack")?;
    let counts = match outcome {
        Ok(counts) => counts,
        Err(e) => {
            eprintln!("pns-faults: logs kept in {}", dir.keep().display());
            stack.stop().await;
            return Err(e);
        }
    };
    stack.stop().await;
    let section = report::markdown(&opts, started, chrono::Utc::now(), &counts);
    println!("{section}");
    if !opts.no_report {
        let path = opts
            .report
            .clone()
            .unwrap_or_else(|| pns_bench::procs::workspace_root().join("BENCHMARKS.md"));
        report::write_into(&path, &section).with_context(|| format!("{}", path.display()))?;
        eprintln!("pns-faults: written to {}", path.display());
    }
    Ok(())
}

async fn run(opts: &Opts, stack: Arc<setup::FaultStack>) -> anyhow::Result<count::Counts> {
    let duration = Duration::from_secs(opts.duration_secs);
    let tally = Arc::new(load::Tally::default());
    let injector = tokio::spawn(inject::run(
        stack.clone(),
        duration,
        !opts.no_pg_restart,
        tally.clone(),
    ));
    load::run(stack.clone(), opts, duration, tally.clone()).await;
    let injected = injector.await.context("fault injector panicked")??;
    eprintln!("pns-faults: load done; settling");
    count::settle_and_count(&stack, tally, injected).await
}
