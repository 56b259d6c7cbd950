//! The nonces of accepted callbacks, recorded in the database in the same transaction as the
//! callback's rows: the primary key makes a nonce count once across every instance, and a callback
//! that could not be stored leaves its nonce unclaimed. Purged once its `Created` has left the window
//! (the window check refuses such a replay before it gets here).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::verify::SignedNonce;
use crate::db::entity::callback_nonces::{self, Entity as CallbackNonces};

/// True when this is the nonce's first use anywhere; false for a replay.
pub(crate) async fn claim(db: &impl ConnectionTrait, signed: &SignedNonce) -> Result<bool, DbErr> {
    let result = CallbackNonces::insert(callback_nonces::ActiveModel {
        nonce: Set(signed.nonce.clone()),
        created_at: Set(signed.created),
    })
    .on_conflict_do_nothing_on([callback_nonces::Column::Nonce])
    .exec_without_returning(db)
    .await?;
    Ok(super::was_inserted(result))
}

/// Forgets nonces signed before `window_start`; returns how many.
pub async fn purge(db: &impl ConnectionTrait, window_start: DateTime<Utc>) -> Result<u64, DbErr> {
    let deleted = CallbackNonces::delete_many()
        .filter(callback_nonces::Column::CreatedAt.lt(window_start))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
