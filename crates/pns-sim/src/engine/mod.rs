//! The simulated platform: binding state, credentials, faults and the callback machinery, shared by the
//! HTTP handlers and `SimControl`.

pub(crate) mod bindings;
mod replay;
pub(crate) mod state;
pub(crate) mod validate;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use pns_core::{Credentials, Verifier};

use crate::callbacks::Callbacks;
use crate::config::SimConfig;
use crate::error::Rejection;
use crate::faults::FaultBook;
use state::Store;

/// Nonces remembered for replay detection (about 100 bytes each); past it the oldest is forgotten.
const REPLAY_MEMORY: usize = 2_000_000;
/// How often expired bindings are swept (between sweeps, expiry is checked on access).
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// How often queued CDRs are pushed without being asked (the platform batches calls ending close together).
const CDR_PUSH_EVERY: Duration = Duration::from_secs(1);

pub struct Engine {
    pub(crate) store: Store,
    pub(crate) app_key: String,
    pub(crate) credentials: Credentials,
    verifier: Verifier,
    pub(crate) faults: FaultBook,
    pub(crate) callbacks: Callbacks,
    pub(crate) cdr_batch_max: usize,
    pub(crate) base_url: String,
}

impl Engine {
    pub(crate) fn new(config: &SimConfig, base_url: String) -> anyhow::Result<Self> {
        let credentials = Credentials::new(config.app_key.clone(), config.app_secret.clone());
        let replay = Arc::new(replay::ShardedReplayGuard::new(
            config.skew_window,
            REPLAY_MEMORY,
        ));
        Ok(Self {
            store: Store::new(&config.numbers, config.capacity_per_number),
            app_key: config.app_key.clone(),
            verifier: Verifier::new(credentials.clone(), config.skew_window, replay),
            credentials,
            faults: FaultBook::default(),
            callbacks: Callbacks::new(config.callback_url.clone())?,
            cdr_batch_max: config.cdr_batch_max,
            base_url,
        })
    }

    /// The platform's AKSK check: refusals carry the documented resultcodes with HTTP 403.
    pub(crate) fn authenticate(
        &self,
        authorization: Option<&str>,
        x_aksk: Option<&str>,
    ) -> Result<(), Rejection> {
        self.verifier
            .verify(authorization, x_aksk, Utc::now())
            .map_err(|e| Rejection::new(403, e.result_code().code(), e.to_string()))
    }
}

/// Expiry sweep and CDR push, on the runtime that started the simulator.
pub(crate) fn spawn_background(engine: &Arc<Engine>) -> Vec<tokio::task::JoinHandle<()>> {
    let sweeper = {
        let engine = Arc::downgrade(engine);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            loop {
                tick.tick().await;
                let Some(engine) = engine.upgrade() else {
                    return;
                };
                engine.sweep_expired();
            }
        })
    };
    let pusher = {
        let engine = Arc::downgrade(engine);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CDR_PUSH_EVERY);
            loop {
                tick.tick().await;
                let Some(engine) = engine.upgrade() else {
                    return;
                };
                if engine.callbacks.auto_push()
                    && engine.callbacks.cdrs_pending() > 0
                    && engine.callbacks.url().is_some()
                    && let Err(e) = engine.flush_cdrs().await
                {
                    tracing::warn!(error = %e, "CDR push failed");
                }
            }
        })
    };
    vec![sweeper, pusher]
}
