//! `pns-sim --listen 127.0.0.1:9090 --app-key KEY --app-secret SECRET --numbers +8617000000001,...`

use std::io::{IsTerminal, Write};

use clap::Parser;
use pns_sim::cli::Cli;
use tracing_subscriber::EnvFilter;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let listener = std::net::TcpListener::bind(cli.listen)?;
    let sim = pns_sim::start(cli.into_config(), listener).await?;
    // The first stdout line is the contract for scripts that start the simulator on port 0.
    let mut out = std::io::stdout();
    writeln!(out, "pns-sim listening on {}", sim.base_url())?;
    out.flush()?;
    tokio::select! {
        r = sim.wait() => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
