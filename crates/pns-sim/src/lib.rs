//! `pns-sim`: a fast in-memory simulator of Huawei Cloud PrivateNumber in AXB mode, for tests, benchmarks
//! and the gateway's sandbox mode.
//!
//! It serves the platform's AXB API over HTTP (AKSK-verified, field-validated, with the AXB invariant,
//! per-X capacity, area selection and expiry), plays calls and texts as signed callbacks to a configured
//! URL, batches and redelivers CDRs like the platform, and injects failures on demand. Drive it from Rust
//! through [`SimControl`] or from outside through the control API under `/sim`.

mod callbacks;
pub mod cli;
mod config;
mod control;
mod engine;
mod error;
mod faults;
mod http;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::{App, HttpServer, dev::ServerHandle, web};

use engine::Engine;

pub use callbacks::calls::{CallOutcome, CallReport, CallScript, EventDelivery, Party};
pub use callbacks::ledger::CdrLedger;
pub use callbacks::sms::{SmsReport, SmsScript};
pub use config::{DEFAULT_AREA_CODE, SimConfig, SimNumber};
pub use control::SimControl;
pub use error::SimError;
pub use faults::{Fault, Op};

/// Starts the simulator on `listener` (port 0 is fine: see [`RunningSim::addr`]). Background tasks (expiry
/// sweep, CDR push) and callback pushes run on the calling tokio runtime; HTTP is served by actix workers.
pub async fn start(config: SimConfig, listener: TcpListener) -> anyhow::Result<RunningSim> {
    config.validate()?;
    let addr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let base_url = format!("http://{addr}");
    let engine = Arc::new(Engine::new(&config, base_url.clone())?);
    let data = web::Data::from(engine.clone());
    let server = HttpServer::new(move || App::new().app_data(data.clone()).configure(http::routes))
        .on_connect(http::remember_socket)
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(1)
        .run();
    let handle = server.handle();
    let server_task = tokio::spawn(server);
    let background = engine::spawn_background(&engine);
    tracing::info!(%addr, numbers = config.numbers.len(), "pns-sim started");
    Ok(RunningSim {
        addr,
        base_url,
        engine,
        handle,
        server_task,
        background,
    })
}

/// A started simulator. Dropping it leaves the server running until the runtime ends; `stop` ends it now.
pub struct RunningSim {
    addr: SocketAddr,
    base_url: String,
    engine: Arc<Engine>,
    handle: ServerHandle,
    server_task: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningSim {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ip:port`, the "access address" to give a client.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn control(&self) -> SimControl {
        SimControl::new(self.engine.clone())
    }

    /// Serves until the server stops (for the binary).
    pub async fn wait(self) -> anyhow::Result<()> {
        let result = self.server_task.await?;
        for task in &self.background {
            task.abort();
        }
        Ok(result?)
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
        for task in &self.background {
            task.abort();
        }
        let _ = self.server_task.await;
    }
}
