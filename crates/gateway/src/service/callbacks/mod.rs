//! The platform's callbacks, after verification: stored durably, deduplicated by natural keys, and
//! folded into the call history and the binding table. One transaction per request, committed before
//! the handler acknowledges, so a 200 always means "kept".

pub mod call_events;
pub mod cdrs;
pub mod derive;
pub mod nonces;
pub mod num_status;
pub mod sms;
pub mod verify;

use chrono::Utc;
use pns_core::callback::{Callback, CallbackParseError};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    TryInsertResult,
};
use serde_json::Value;

use crate::db::entity::binding_parties::Entity as BindingParties;
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::db::entity::raw_callbacks;
use verify::SignedNonce;

/// What to answer once the rows are committed.
#[derive(Debug, Clone, PartialEq)]
pub enum Ack {
    /// HTTP 200, empty body (every kind but an SMS in Block mode).
    Empty,
    /// HTTP 200 with this JSON body (the SMS routing decision).
    Json(Value),
}

/// How one request went, for the log and the metrics.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub kind: &'static str,
    pub ack: Ack,
    /// Rows that were new (a full redelivery stores 0).
    pub stored: usize,
    pub duplicates: usize,
}

/// The body could not be understood at all: answered 400 and not stored.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub CallbackParseError);

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Malformed(#[from] Malformed),
    /// The signature's nonce was already used, on this instance or another: nothing stored.
    #[error("nonce already used")]
    Replayed,
    #[error("storage: {0}")]
    Storage(#[from] DbErr),
}

/// Parses and stores one callback body (already verified), claiming the signature's nonce in the same
/// transaction: a 200 means both the rows and the nonce are kept, a replay stores nothing.
pub async fn ingest(
    db: &DatabaseConnection,
    body: &[u8],
    nonce: Option<&SignedNonce>,
) -> Result<Ingested, IngestError> {
    let callback = match Callback::parse(body) {
        Ok(callback) => callback,
        Err(e @ (CallbackParseError::NotJson(_) | CallbackParseError::NotAnObject)) => {
            return Err(Malformed(e).into());
        }
        // A known kind with a field we cannot read: the platform would retry and then drop it (a CDR
        // is gone for good), so keep the body raw for an operator rather than refuse it.
        Err(e) => {
            tracing::error!(error = %e, "callback of a known kind failed to parse; stored raw");
            let raw: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let txn = begin_claimed(db, nonce).await?;
            store_raw(&txn, raw).await?;
            txn.commit().await?;
            return Ok(Ingested {
                kind: "invalid",
                ack: Ack::Empty,
                stored: 1,
                duplicates: 0,
            });
        }
    };
    let mut raw: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let kind = callback.kind();
    let txn = begin_claimed(db, nonce).await?;
    let (ack, stored, duplicates) = match callback {
        Callback::CallEvent(event) => {
            let new = call_events::store(&txn, &event, &raw).await?;
            (Ack::Empty, usize::from(new), usize::from(!new))
        }
        Callback::Fee(fee) => {
            let records = match raw.get_mut("feeLst").map(Value::take) {
                Some(Value::Array(records)) => records,
                _ => Vec::new(),
            };
            let counts = cdrs::store_batch(&txn, &fee.fee_lst, records).await?;
            (Ack::Empty, counts.inserted, counts.duplicates)
        }
        Callback::Sms(notification) => {
            let (answer, new) = sms::store(&txn, &notification.sms_event, &raw).await?;
            (answer, usize::from(new), usize::from(!new))
        }
        Callback::NumStatus(status) => {
            let n = num_status::store(&txn, &status.num_info).await?;
            (Ack::Empty, n, 0)
        }
        Callback::Unknown(value) => {
            tracing::warn!("callback of an unknown kind; stored raw");
            store_raw(&txn, value).await?;
            (Ack::Empty, 1, 0)
        }
    };
    txn.commit().await?;
    Ok(Ingested {
        kind,
        ack,
        stored,
        duplicates,
    })
}

/// A write transaction from its first statement. On SQLite a deferred transaction that reads and
/// then writes fails with "database is locked" when another writer got in between (redeliveries
/// arrive concurrently); `BEGIN IMMEDIATE` queues on the busy timeout instead. PostgreSQL ignores it.
async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// A write transaction that has claimed `nonce` (refused as a replay when it was taken).
async fn begin_claimed(
    db: &DatabaseConnection,
    nonce: Option<&SignedNonce>,
) -> Result<DatabaseTransaction, IngestError> {
    let txn = begin_write(db).await?;
    if let Some(nonce) = nonce
        && !nonces::claim(&txn, nonce).await?
    {
        return Err(IngestError::Replayed);
    }
    Ok(txn)
}

async fn store_raw(txn: &DatabaseTransaction, body: Value) -> Result<(), DbErr> {
    raw_callbacks::Entity::insert(raw_callbacks::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        body: Set(body),
        received_at: Set(Utc::now()),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// True when an `INSERT .. ON CONFLICT DO NOTHING` wrote the row (false: a redelivery).
pub(crate) fn was_inserted(result: TryInsertResult<u64>) -> bool {
    matches!(result, TryInsertResult::Inserted(n) if n > 0)
}

/// Serialises work on these calls across instances (PostgreSQL): two events of the same call arriving
/// at once would otherwise each derive the call from half its events. One statement for all of them,
/// taking the locks in hash order, so two overlapping batches queue instead of deadlocking. SQLite
/// has one writer anyway.
pub(crate) async fn lock_calls(
    txn: &DatabaseTransaction,
    sessions: &[String],
) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres || sessions.is_empty() {
        return Ok(());
    }
    let values = (1..=sessions.len())
        .map(|i| format!("(${i})"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT pg_advisory_xact_lock(72426, h) FROM \
         (SELECT DISTINCT hashtext(s) AS h FROM (VALUES {values}) AS v(s) ORDER BY 1) AS locks"
    );
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        sessions.iter().map(|s| s.as_str().into()),
    ))
    .await?;
    Ok(())
}

/// The binding a callback belongs to: by subscriptionId, or (when the platform sent none) by X and
/// one real party, through the `binding_parties` primary key.
pub(crate) async fn find_binding(
    txn: &impl ConnectionTrait,
    subscription_id: Option<&str>,
    x_and_party: Option<(&str, &str)>,
) -> Result<Option<bindings::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    if let Some(sid) = subscription_id.filter(|s| !s.trim().is_empty()) {
        return Bindings::find()
            .filter(bindings::Column::SubscriptionId.eq(sid))
            .one(txn)
            .await;
    }
    let Some((x, party)) = x_and_party else {
        return Ok(None);
    };
    let Some(link) = BindingParties::find_by_id((x.to_owned(), party.to_owned()))
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    Bindings::find_by_id(link.binding_id).one(txn).await
}

pub(crate) use crate::repo::bindings::count_call;
