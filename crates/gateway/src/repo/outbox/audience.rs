//! Who could receive events: the apps with an enabled endpoint, and whether an all-apps (admin)
//! endpoint is enabled. Every write transaction asks and the answer almost never changes, so it is
//! kept in memory: read again at most once a [`FRESH_FOR`], and at once after this instance changed
//! an endpoint ([`endpoints_changed`]). Another instance's change is seen within [`FRESH_FOR`]: an
//! endpoint created there starts receiving at most that much later.
//!
//! One process serves one database (the gateway binary; each test process under nextest), so the
//! cache is the process's.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::Event;
use crate::db::entity::webhook_endpoints;

/// How long a read of the endpoints is trusted.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// The owners of the enabled endpoints.
#[derive(Debug, Default)]
pub(super) struct Audience {
    all_apps: bool,
    apps: HashSet<String>,
}

impl Audience {
    pub(super) fn receives(&self, event: &Event) -> bool {
        self.all_apps
            || (!event.event_type.admin_only() && self.receives_app(event.app_id.as_deref()))
    }

    fn receives_app(&self, app: Option<&str>) -> bool {
        app.is_some_and(|a| self.apps.contains(a))
    }
}

static CACHE: Mutex<Option<(Instant, Arc<Audience>)>> = Mutex::new(None);
/// Moves on every local endpoint change, so a read that was in flight during one is not kept.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Forgets the last read: call after committing a change of an endpoint.
pub fn endpoints_changed() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    *CACHE.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// The audience now, from memory while fresh.
pub(super) async fn current<C: ConnectionTrait>(conn: &C) -> Result<Arc<Audience>, DbErr> {
    if let Some((read_at, audience)) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
        && read_at.elapsed() < FRESH_FOR
    {
        return Ok(audience.clone());
    }
    let read_at = Instant::now();
    let generation = GENERATION.load(Ordering::SeqCst);
    use webhook_endpoints::Column as E;
    let rows: Vec<(String, bool)> = webhook_endpoints::Entity::find()
        .select_only()
        .column(E::AppId)
        .column(E::AllApps)
        .distinct()
        .filter(E::Enabled.eq(true))
        .into_tuple()
        .all(conn)
        .await?;
    let audience = Arc::new(Audience {
        all_apps: rows.iter().any(|(_, all)| *all),
        apps: rows.into_iter().map(|(app, _)| app).collect(),
    });
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if GENERATION.load(Ordering::SeqCst) == generation {
        *cache = Some((read_at, audience.clone()));
    }
    Ok(audience)
}

/// Whether an event about one of `app`'s bindings would be written now: when not, a write can skip
/// the transaction it would only need for the event.
pub async fn may_receive<C: ConnectionTrait>(conn: &C, app: &str) -> Result<bool, DbErr> {
    let audience = current(conn).await?;
    Ok(audience.all_apps || audience.receives_app(Some(app)))
}

/// Whether any enabled endpoint exists: when none, no write needs a transaction for its event.
pub async fn anyone_listens<C: ConnectionTrait>(conn: &C) -> Result<bool, DbErr> {
    let audience = current(conn).await?;
    Ok(audience.all_apps || !audience.apps.is_empty())
}
