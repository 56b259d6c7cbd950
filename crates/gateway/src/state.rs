//! What every handler can reach: the database, the upstream client and the settings.

use std::sync::Arc;

use pns_upstream::Upstream;
use sea_orm::DatabaseConnection;

use crate::settings::Settings;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub upstream: Arc<dyn Upstream>,
    pub settings: Arc<Settings>,
    /// The in-process simulator's control handle, in sandbox mode only.
    pub sandbox: Option<pns_sim::SimControl>,
}
