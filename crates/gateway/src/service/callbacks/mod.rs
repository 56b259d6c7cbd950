//! The platform's callbacks, after verification: stored durably, deduplicated by natural keys, and
//! folded into the call history and the binding table. One transaction per request, committed before
//! the handler acknowledges, so a 200 always means "kept".

pub mod call_events;
pub mod call_webhooks;
pub mod calls_table;
pub mod cdrs;
pub mod derive;
pub mod nonces;
pub mod num_status;
pub mod sms;
pub mod verify;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::Utc;
use pns_core::callback::{Callback, escape_nul};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    TryInsertResult,
};
use serde_json::{Value, json};

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

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The signature's nonce was already used, on this instance or another: nothing stored.
    #[error("nonce already used")]
    Replayed,
    #[error("storage: {0}")]
    Storage(#[from] DbErr),
}

/// Parses and stores one callback body (already verified), claiming the signature's nonce in the same
/// transaction: a 200 means both the rows and the nonce are kept, a replay stores nothing. Nothing the
/// platform signed is refused for its content: what cannot be stored in the tables of its kind is kept
/// raw, with the reason. A storage error means nothing was stored and the platform should retry.
pub async fn ingest(
    db: &DatabaseConnection,
    body: &[u8],
    nonce: Option<&SignedNonce>,
) -> Result<Ingested, IngestError> {
    let mut value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            let kept = json!({"unparsed": BASE64.encode(body)});
            return keep_raw(db, nonce, "unparsed", kept, format!("not JSON: {e}")).await;
        }
    };
    escape_nul(&mut value);
    let callback = match Callback::from_value(value.clone()) {
        Ok(callback) => callback,
        // A known kind with a field we cannot read: the platform would retry and then drop it (a CDR
        // is gone for good), so keep the body raw for an operator rather than refuse it.
        Err(e) => return keep_raw(db, nonce, "invalid", value, e.to_string()).await,
    };
    match store(db, nonce, callback, value.clone()).await {
        // The failed transaction took the nonce with it, so the raw copy claims it afresh.
        Err(IngestError::Storage(e)) if cannot_store(&e) => {
            keep_raw(db, nonce, "unstorable", value, e.to_string()).await
        }
        other => other,
    }
}

async fn store(
    db: &DatabaseConnection,
    nonce: Option<&SignedNonce>,
    callback: Callback,
    mut raw: Value,
) -> Result<Ingested, IngestError> {
    let kind = callback.kind();
    let txn = begin_claimed(db, nonce).await?;
    let (ack, stored, duplicates) = match callback {
        Callback::CallEvent(event) => {
            if let Some(field) = call_events::overlong(&event) {
                let new = store_raw(&txn, raw, Some(too_long(field))).await?;
                (Ack::Empty, usize::from(new), usize::from(!new))
            } else {
                let new = call_events::store(&txn, &event, &raw).await?;
                (Ack::Empty, usize::from(new), usize::from(!new))
            }
        }
        Callback::Fee(fee) => {
            let records = match raw.get_mut("feeLst").map(Value::take) {
                Some(Value::Array(records)) => records,
                _ => Vec::new(),
            };
            let (records, raw_records, overlong) = cdrs::split_overlong(fee.fee_lst, records);
            let mut kept_raw = 0;
            for (record, field) in &overlong {
                let body = json!({"eventType": "fee", "feeLst": [record]});
                let reason = too_long(&format!("feeLst[].{field}"));
                kept_raw += usize::from(store_raw(&txn, body, Some(reason)).await?);
            }
            let counts = cdrs::store_batch(&txn, &records, raw_records).await?;
            (
                Ack::Empty,
                counts.inserted + kept_raw,
                counts.duplicates + overlong.len() - kept_raw,
            )
        }
        Callback::Sms(notification) => match sms::overlong(&notification.sms_event) {
            Some(field) => {
                let new = store_raw(&txn, raw, Some(too_long(field))).await?;
                (Ack::Empty, usize::from(new), usize::from(!new))
            }
            None => {
                let (answer, new) = sms::store(&txn, &notification.sms_event, &raw).await?;
                (answer, usize::from(new), usize::from(!new))
            }
        },
        Callback::NumStatus(mut status) => {
            let (items, overlong): (Vec<_>, Vec<_>) = std::mem::take(&mut status.num_info)
                .into_iter()
                .partition(|i| first_overlong([("number", Some(i.number.as_str()))]).is_none());
            let overlong_count = overlong.len();
            let kept_raw = if overlong.is_empty() {
                0
            } else {
                let body = json!({"eventType": "numStatus", "numInfo": overlong});
                let new = store_raw(&txn, body, Some(too_long("numInfo[].number"))).await?;
                if new { overlong_count } else { 0 }
            };
            let n = num_status::store(&txn, &items, status.timestamp.as_deref()).await?;
            (Ack::Empty, n + kept_raw, overlong_count - kept_raw)
        }
        Callback::Unknown(value) => {
            tracing::warn!("callback of an unknown kind; stored raw");
            let new = store_raw(&txn, value, None).await?;
            (Ack::Empty, usize::from(new), usize::from(!new))
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

/// The longest platform identifier kept in an indexed column (sessionId, icid, subscriptionId, a
/// number, an event time). PostgreSQL cannot index a value over about 2.7 kB, and a unique key spans up
/// to three of them; the same bound holds on SQLite so both backends keep the same records.
pub(crate) const MAX_KEY_BYTES: usize = 1000;

/// The first of `keys` (name, value) longer than [`MAX_KEY_BYTES`].
pub(crate) fn first_overlong<'a>(
    keys: impl IntoIterator<Item = (&'static str, Option<&'a str>)>,
) -> Option<&'static str> {
    keys.into_iter()
        .find(|(_, v)| v.is_some_and(|v| v.len() > MAX_KEY_BYTES))
        .map(|(name, _)| name)
}

fn too_long(field: &str) -> String {
    format!("{field} is longer than {MAX_KEY_BYTES} bytes: kept raw, not indexed")
}

/// Stores the whole body raw in its own transaction, answered like any stored callback.
async fn keep_raw(
    db: &DatabaseConnection,
    nonce: Option<&SignedNonce>,
    kind: &'static str,
    body: Value,
    reason: String,
) -> Result<Ingested, IngestError> {
    // Parse errors may quote a number the platform sent.
    let reason = crate::telemetry::redact(&reason);
    tracing::error!(kind, reason = %reason, "callback failed to parse or to store; kept raw");
    let txn = begin_claimed(db, nonce).await?;
    let new = store_raw(&txn, body, Some(reason)).await?;
    txn.commit().await?;
    Ok(Ingested {
        kind,
        ack: Ack::Empty,
        stored: usize::from(new),
        duplicates: usize::from(!new),
    })
}

/// A database error about the values themselves (PostgreSQL class 22 "data exception" or 54 "program
/// limit exceeded", SQLite's "too big"): retrying cannot help, so the body is kept raw instead of
/// being refused until the platform gives up. Connection trouble and the like are retried as usual.
fn cannot_store(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = e else {
        return false;
    };
    let Some(db) = e.as_database_error() else {
        return false;
    };
    let code = db.code().unwrap_or_default();
    code.starts_with("22") || code.starts_with("54") || code == "18"
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

/// Keeps `body` raw, once: a redelivery of the same body (the platform retries with a fresh nonce)
/// finds its digest taken and is counted as a duplicate. True when this call stored it.
async fn store_raw(
    txn: &DatabaseTransaction,
    body: Value,
    reason: Option<String>,
) -> Result<bool, DbErr> {
    use sha2::{Digest, Sha256};
    let digest = format!("{:x}", Sha256::digest(body.to_string().as_bytes()));
    let result = raw_callbacks::Entity::insert(raw_callbacks::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        body: Set(body),
        received_at: Set(Utc::now()),
        reason: Set(reason),
        body_sha256: Set(Some(digest)),
    })
    .on_conflict_do_nothing_on([raw_callbacks::Column::BodySha256])
    .exec_without_returning(txn)
    .await?;
    Ok(was_inserted(result))
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
