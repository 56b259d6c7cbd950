//! Periodic background jobs (expiry sweep, reconciliation, retention purge), run once per interval across every
//! gateway instance sharing the database; and the webhook dispatcher, which runs on every instance.
//!
//! Leadership is a row per job in `job_leases`, claimed with a conditional UPDATE (`lease_until < now`,
//! or the holder renewing its own lease): the one instance whose UPDATE matched runs the round; the
//! others skip it. The holder keeps leading while it lives; when it stops, its lease runs out within an
//! interval and another instance takes over. The same statement works on SQLite and PostgreSQL.

pub mod expiry;
mod lease;
pub mod retention;

pub use lease::try_lead;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;
use crate::telemetry::metrics;

pub const SWEEP: &str = "expiry_sweep";
pub const RECONCILE: &str = "reconcile";
pub const RETENTION: &str = "retention";

type JobFn = fn(AppState) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// The running jobs of one instance; `stop` ends them (a round in progress finishes first).
pub struct Jobs {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Jobs {
    pub fn start(state: &AppState) -> Self {
        let (stop, _) = watch::channel(false);
        let holder = uuid::Uuid::new_v4().to_string();
        let mut handles = Vec::new();
        let settings = &state.settings;
        let jobs: [(&'static str, Option<Duration>, JobFn); 3] = [
            (SWEEP, settings.sweep_interval, |s| Box::pin(sweep_round(s))),
            (RECONCILE, settings.reconcile_interval, |s| {
                Box::pin(reconcile_round(s))
            }),
            (RETENTION, settings.retention.interval, |s| {
                Box::pin(retention_round(s))
            }),
        ];
        for (name, every, job) in jobs {
            if let Some(every) = every {
                // A beat per tick, won or not; a round may take a while, so allow two intervals and a minute.
                state
                    .jobs
                    .register(name, every * 2 + Duration::from_secs(60));
                handles.push(tokio::spawn(periodic(
                    name,
                    every,
                    holder.clone(),
                    state.clone(),
                    stop.subscribe(),
                    job,
                )));
            }
        }
        handles.push(tokio::spawn(crate::service::webhooks::dispatch::run(
            state.clone(),
            stop.subscribe(),
        )));
        Self { stop, handles }
    }

    /// A receiver that turns `true` when the jobs are told to stop (for anything else that wants to
    /// follow the same shutdown).
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            let _ = handle.await;
        }
    }
}

async fn sweep_round(state: AppState) {
    let started = std::time::Instant::now();
    let result = expiry::sweep(&state.db).await;
    if let Err(e) = &result {
        tracing::error!(error = %e, "expiry sweep failed");
    }
    // Callback nonces older than the signature window can never match again.
    let window_start = state.callbacks.window_start(Utc::now());
    if let Err(e) = crate::service::callbacks::nonces::purge(&state.db, window_start).await {
        tracing::warn!(error = %e, "purging expired callback nonces failed");
    }
    metrics::job_run(SWEEP, outcome(&result), started.elapsed());
}

async fn reconcile_round(state: AppState) {
    let started = std::time::Instant::now();
    let result =
        crate::service::reconcile::run(&state, crate::service::reconcile::Trigger::Scheduled).await;
    if let Err(e) = &result {
        tracing::error!(error = %e, "scheduled reconciliation failed");
    }
    metrics::job_run(RECONCILE, outcome(&result), started.elapsed());
}

async fn retention_round(state: AppState) {
    let started = std::time::Instant::now();
    let result = retention::purge(&state.db, &state.settings.retention, Utc::now()).await;
    if let Err(e) = &result {
        tracing::error!(error = %e, "retention purge failed");
    }
    metrics::job_run(RETENTION, outcome(&result), started.elapsed());
}

fn outcome<T, E>(result: &Result<T, E>) -> &'static str {
    if result.is_ok() { "ok" } else { "error" }
}

async fn periodic(
    name: &'static str,
    every: Duration,
    holder: String,
    state: AppState,
    mut stop: watch::Receiver<bool>,
    job: JobFn,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick fires at once: skip it, so a fleet restarting does not hit the platform at start.
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        state.jobs.beat(name);
        match try_lead(&state.db, name, &holder, every).await {
            Ok(true) => job(state.clone()).await,
            Ok(false) => {
                metrics::job_run(name, "skipped", Duration::ZERO);
                tracing::debug!(job = name, "another instance ran this round");
            }
            Err(e) => tracing::warn!(job = name, error = %e, "could not claim the job lease"),
        }
        state.jobs.beat(name);
    }
    state.jobs.deregister(name);
}
