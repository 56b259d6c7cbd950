//! `cargo run --release -p pns-bench -- all`: see BENCHMARKS.md for what each scenario measures.

use clap::Parser;
use pns_bench::cli::Cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    pns_bench::run(Cli::parse()).await
}
