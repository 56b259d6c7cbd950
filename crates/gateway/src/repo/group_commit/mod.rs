//! Group commit for the hot binding writes (PostgreSQL): concurrent requests' activations, unbind
//! marks and ends are written together, one statement (or one short transaction) and one commit for
//! many requests, instead of one each. Each request still waits for its own row, so callers see the
//! same answers as from [`crate::repo::bindings`], whose functions these stand in for.
//!
//! Taken only where the single-request path is one statement too: no webhook event to write with
//! the change, no parties to claim, no guard. Everything else, and SQLite (one writer at a time
//! anyway), goes straight to [`crate::repo::bindings`].
//!
//! What it buys, per bind+unbind cycle under load: see BENCHMARKS.md, "Throughput (issue 16)".

mod batches;
mod claim;
mod lane;

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr, TryIntoModel};
use uuid::Uuid;

use self::batches::{Activate, Activated, End, Ended, Touch, Touched};
use self::claim::{Claim, Claimed};
use self::lane::Lane;
use super::ClaimError;
use super::bindings::{self as single, Activation, Ending};
use super::outbox::may_receive;
use crate::db::entity::bindings;
use crate::domain::NewBinding;

/// Writer tasks per kind of write: one batch can be at the database while the next one gathers.
/// Measured (`pns-bench bind`, PostgreSQL, 64 connections): 1 writer 1,402 cycles/s, 2 writers
/// 1,610-1,702, 4 writers 1,636-1,646.
const WRITERS: usize = 2;

/// The batched binding writes of one database. Cheap to clone; the writer tasks stop when the last
/// clone is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    db: DatabaseConnection,
    lanes: Option<Arc<Lanes>>,
}

struct Lanes {
    claim: Lane<Claim>,
    activate: Lane<Activate>,
    touch: Lane<Touch>,
    end: Lane<End>,
}

impl GroupCommit {
    /// Starts the writer tasks on the current runtime (PostgreSQL only).
    pub fn start(db: &DatabaseConnection) -> Self {
        let lanes = super::fused::available(db).then(|| {
            Arc::new(Lanes {
                claim: Lane::start(db.clone(), WRITERS),
                activate: Lane::start(db.clone(), WRITERS),
                touch: Lane::start(db.clone(), WRITERS),
                end: Lane::start(db.clone(), WRITERS),
            })
        });
        Self {
            db: db.clone(),
            lanes,
        }
    }

    /// [`single::insert_pending`].
    pub async fn insert_pending(
        &self,
        app_id: &str,
        new: &NewBinding,
    ) -> Result<bindings::Model, ClaimError> {
        if let (Some(lanes), Some(x)) = (&self.lanes, &new.relation) {
            let row = single::pending_row(app_id, new, Some(x.as_str()));
            let model = row.clone().try_into_model()?;
            let request = Claimed {
                row,
                id: model.id,
                x: x.as_str().to_owned(),
                parties: [
                    new.caller.as_str().to_owned(),
                    new.callee.as_str().to_owned(),
                ],
            };
            if let Some(done) = lanes.claim.submit(request).await {
                return match done? {
                    None => Ok(model),
                    Some(party) => Err(ClaimError::PartyTaken(party)),
                };
            }
        }
        single::insert_pending(&self.db, app_id, new).await
    }

    /// [`single::activate`].
    pub async fn activate(
        &self,
        id: Uuid,
        activation: Activation<'_>,
    ) -> Result<bindings::Model, ClaimError> {
        if let Some(lanes) = &self.lanes
            && activation.claim.is_none()
            && !may_receive(&self.db, activation.app_id).await?
            && let Some(done) = lanes.activate.submit(Activated::new(id, &activation)).await
        {
            return Ok(done?);
        }
        single::activate(&self.db, id, activation).await
    }

    /// [`single::touch_active`].
    pub async fn touch_active(
        &self,
        id: Uuid,
        app: Option<&str>,
    ) -> Result<Option<bindings::Model>, DbErr> {
        if let Some(lanes) = &self.lanes {
            let request = Touched {
                id,
                app: app.map(str::to_owned),
            };
            if let Some(done) = lanes.touch.submit(request).await {
                return done;
            }
        }
        single::touch_active(&self.db, id, app).await
    }

    /// [`single::end`] of a binding of `app` (whose endpoints decide whether an event is written).
    pub async fn end(&self, id: Uuid, app: &str, ending: Ending) -> Result<bindings::Model, DbErr> {
        if let Some(lanes) = &self.lanes
            && !may_receive(&self.db, app).await?
        {
            let request = Ended {
                id,
                ending: ending.clone(),
            };
            if let Some(done) = lanes.end.submit(request).await {
                return done;
            }
        }
        single::end(&self.db, id, ending).await
    }
}
