//! The batch of pending rows on named X numbers: many binds' rows, X counters and party claims in one
//! statement, in the lock order every writer uses (X rows in number order, then party rows sorted).
//!
//! A party taken (by a live binding, or by another request of the same batch) refuses the whole
//! batch; it is then written one request at a time, so only the requests whose party is really taken
//! are refused, and each learns which party it was.

use std::collections::BTreeMap;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryTrait, Statement,
};
use serde_json::json;

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

/// X rows locked in number order (`l`) and counted, then the rows and party claims; the party insert
/// reads the X update's result, so PostgreSQL runs the X step first. `{insert}` is the rows' INSERT;
/// `{counts}` and `{parties}` the numbers of the JSON parameters after its values.
const CLAIM: &str = "WITH c AS (SELECT * FROM json_to_recordset(${counts}::json) AS c(number text, taken int)), \
     l AS MATERIALIZED (SELECT n.number FROM x_numbers AS n \
           WHERE n.number = ANY(ARRAY(SELECT number FROM c)) ORDER BY n.number FOR UPDATE), \
     x AS (UPDATE x_numbers AS n SET in_use = n.in_use + c.taken \
           FROM c, l WHERE n.number = ANY(ARRAY(SELECT number FROM l)) \
               AND n.number = c.number AND l.number = c.number RETURNING n.number), \
     b AS ({insert} RETURNING id), \
     p AS (INSERT INTO binding_parties (relation_num, party_num, binding_id) \
           SELECT DISTINCT v.x, v.party, v.id \
           FROM json_to_recordset(${parties}::json) AS v(x text, party text, id uuid) \
           WHERE (SELECT count(*) FROM x) >= 0 AND (SELECT count(*) FROM b) >= 0 \
           ORDER BY v.x, v.party RETURNING 1) \
     SELECT count(*) AS claimed FROM p";

impl Batch for Claim {
    const KIND: &'static str = "claim";
    type Request = Claimed;
    type Output = Refusal;

    async fn write(db: &DatabaseConnection, requests: Vec<Claimed>) -> Vec<Result<Refusal, DbErr>> {
        match db.execute_raw(claim_all(&requests)).await {
            Ok(_) => requests.iter().map(|_| Ok(None)).collect(),
            // The statement ran and failed (a party taken, a deadlock): nothing of the batch was
            // written, so each request is tried alone.
            Err(e) if crate::db::refused_by_database(&e) => {
                if !crate::db::is_unique_violation(&e) {
                    tracing::warn!(error = %e, size = requests.len(), "a claim batch failed; writing each alone");
                }
                one_by_one(db, requests).await
            }
            // Outcome unknown (the connection was lost): the rows may exist, so nothing is written
            // again; each request fails as a single claim would, and reconciliation settles any
            // pending row that did land.
            Err(e) => requests
                .iter()
                .map(|_| Err(crate::db::copy_err(&e)))
                .collect(),
        }
    }
}

fn claim_all(requests: &[Claimed]) -> Statement {
    let mut per_x: BTreeMap<&str, i32> = BTreeMap::new();
    let mut parties = Vec::with_capacity(requests.len() * 2);
    for r in requests {
        *per_x.entry(r.x.as_str()).or_default() += 1;
        for party in &r.parties {
            parties.push(json!({"x": r.x, "party": party, "id": r.id}));
        }
    }
    let counts: Vec<_> = per_x
        .iter()
        .map(|(x, n)| json!({"number": x, "taken": n}))
        .collect();
    let insert =
        Bindings::insert_many(requests.iter().map(|r| r.row.clone())).build(DbBackend::Postgres);
    let mut values = insert.values.map(|v| v.0).unwrap_or_default();
    let sql = CLAIM
        .replace("{insert}", &insert.sql)
        .replace("{counts}", &(values.len() + 1).to_string())
        .replace("{parties}", &(values.len() + 2).to_string());
    values.extend([
        json!(counts).to_string().into(),
        json!(parties).to_string().into(),
    ]);
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
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
