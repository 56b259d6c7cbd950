//! What every handler can reach: the database, the upstream client and the settings.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pns_upstream::Upstream;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::settings::Settings;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// The hot binding writes (activate, unbind mark, end), batched across requests on PostgreSQL.
    pub group_commit: crate::repo::GroupCommit,
    pub upstream: Arc<dyn Upstream>,
    pub settings: Arc<Settings>,
    /// The in-process simulator's control handle, in sandbox mode only.
    #[cfg(feature = "sandbox")]
    pub sandbox: Option<pns_sim::SimControl>,
    /// Who may post callbacks (signature and source address checks).
    pub callbacks: Arc<crate::service::callbacks::verify::CallbackGuard>,
    /// Heartbeats of the background jobs, read by `/readyz`.
    pub jobs: JobsHealth,
}

/// Liveness of background jobs: each job registers how often it promises to beat and calls
/// [`JobsHealth::beat`] at every run (whatever the run's outcome); `/readyz` reports a job whose last
/// beat is older than its promise as dead. No job registered = healthy.
#[derive(Clone, Default)]
pub struct JobsHealth(Arc<Mutex<BTreeMap<&'static str, Beat>>>);

#[derive(Clone, Copy)]
struct Beat {
    last: Instant,
    max_gap: Duration,
}

/// One job as `/readyz` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    pub name: String,
    pub alive: bool,
    pub seconds_since_beat: u64,
}

impl JobsHealth {
    /// Announces a job that beats at least every `max_gap` (allow for a run's own duration).
    /// Counts as a beat, so a job is alive from its start.
    pub fn register(&self, job: &'static str, max_gap: Duration) {
        let beat = Beat {
            last: Instant::now(),
            max_gap,
        };
        self.lock().insert(job, beat);
    }

    /// The job is alive now.
    pub fn beat(&self, job: &'static str) {
        if let Some(beat) = self.lock().get_mut(job) {
            beat.last = Instant::now();
        }
    }

    /// A job that stopped on purpose (shutdown) is no longer expected to beat.
    pub fn deregister(&self, job: &'static str) {
        self.lock().remove(job);
    }

    pub fn snapshot(&self) -> Vec<JobStatus> {
        self.lock()
            .iter()
            .map(|(name, beat)| {
                let since = beat.last.elapsed();
                JobStatus {
                    name: (*name).to_owned(),
                    alive: since <= beat.max_gap,
                    seconds_since_beat: since.as_secs(),
                }
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, Beat>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
