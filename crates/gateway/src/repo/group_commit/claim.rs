//! The batch of pending rows on named X numbers: many binds' rows, X counters and party claims in one
//! transaction, in the lock order every writer uses (X rows in number order, then party rows sorted).
//!
//! A party taken (by a live binding, or by another request of the same batch) refuses the whole
//! batch; it is then written one request at a time, so only the requests whose party is really taken
//! are refused, and each learns which party it was.

use std::collections::BTreeMap;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryTrait,
    TransactionTrait,
};
use serde_json::json;

use super::batches::{LOCK_X, statement};
use super::lane::Batch;
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::repo::{ClaimError, fused};

/// [`crate::repo::bindings::insert_pending`] on a named X.
pub(super) struct Claim;

pub(super) struct Claimed {
    pub row: bindings::ActiveModel,
    pub id: uuid::Uuid,
    pub x: String,
    pub parties: [String; 2],
}

/// The party that is taken, when the claim was refused.
pub(super) type Refusal = Option<String>;

const COUNT_X: &str = "UPDATE x_numbers AS n SET in_use = n.in_use + v.taken \
     FROM json_to_recordset($1::json) AS v(number text, taken int) \
     WHERE n.number = v.number";
const CLAIM_PARTIES: &str = "INSERT INTO binding_parties (relation_num, party_num, binding_id) \
     SELECT DISTINCT v.x, v.party, v.id \
     FROM json_to_recordset($1::json) AS v(x text, party text, id uuid) \
     ORDER BY v.x, v.party";

impl Batch for Claim {
    const KIND: &'static str = "claim";
    type Request = Claimed;
    type Output = Refusal;

    async fn write(db: &DatabaseConnection, requests: Vec<Claimed>) -> Vec<Result<Refusal, DbErr>> {
        let txn = match claim_all(db, &requests).await {
            Ok(txn) => txn,
            Err(e) => {
                // Rolled back: nothing of the batch is written, so each request can be tried alone.
                if !crate::db::is_unique_violation(&e) {
                    tracing::warn!(error = %e, size = requests.len(), "a claim batch failed; writing each alone");
                }
                return one_by_one(db, requests).await;
            }
        };
        match txn.commit().await {
            Ok(()) => requests.iter().map(|_| Ok(None)).collect(),
            // The commit's outcome is unknown: the rows may exist. Each request fails, as a single
            // claim would; reconciliation settles whatever pending rows did land.
            Err(e) => {
                let e = e.to_string();
                requests
                    .iter()
                    .map(|_| Err(DbErr::Custom(e.clone())))
                    .collect()
            }
        }
    }
}

async fn claim_all(
    db: &DatabaseConnection,
    requests: &[Claimed],
) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    let mut per_x: BTreeMap<&str, i32> = BTreeMap::new();
    let mut parties = Vec::with_capacity(requests.len() * 2);
    for r in requests {
        *per_x.entry(r.x.as_str()).or_default() += 1;
        for party in &r.parties {
            parties.push(json!({"x": r.x, "party": party, "id": r.id}));
        }
    }
    let txn = db.begin().await?;
    if per_x.len() > 1 {
        let numbers: Vec<_> = per_x.keys().collect();
        txn.execute_raw(statement(LOCK_X, &json!(numbers), None))
            .await?;
    }
    let counts: Vec<_> = per_x
        .iter()
        .map(|(x, n)| json!({"number": x, "taken": n}))
        .collect();
    txn.execute_raw(statement(COUNT_X, &json!(counts), None))
        .await?;
    let rows = requests.iter().map(|r| r.row.clone());
    txn.execute_raw(Bindings::insert_many(rows).build(DbBackend::Postgres))
        .await?;
    txn.execute_raw(statement(CLAIM_PARTIES, &json!(parties), None))
        .await?;
    Ok(txn)
}

async fn one_by_one(
    db: &DatabaseConnection,
    requests: Vec<Claimed>,
) -> Vec<Result<Refusal, DbErr>> {
    let mut results = Vec::with_capacity(requests.len());
    for r in requests {
        let parties = [r.parties[0].as_str(), r.parties[1].as_str()];
        results.push(
            match fused::insert_pending_on_named_x(db, r.row, &r.x, parties).await {
                Ok(()) => Ok(None),
                Err(ClaimError::PartyTaken(party)) => Ok(Some(party)),
                Err(ClaimError::Db(e)) => Err(e),
            },
        );
    }
    results
}
