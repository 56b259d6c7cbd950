//! The batch statements (PostgreSQL): many requests' activations, unbind marks or ends, each one
//! statement writing what the single-request path writes, under the same conditions and in the same
//! lock order (binding rows, then X rows in number order, then party rows).
//!
//! The requests travel as one JSON parameter (`json_to_recordset`), so each statement's text is the
//! same whatever the batch size and is prepared once per connection. Two idioms steer the planner,
//! which guesses 100 rows for any `json_to_recordset` and so would rather scan than look rows up:
//! - `id = ANY(ARRAY(SELECT id FROM v))`: rows are found through the primary key (or the
//!   `binding_id` index), never by a hash join over every live row;
//! - `(status = ..) IS TRUE`: the status test is a filter, not an index condition. On a table this
//!   hot the status index is mostly dead entries (every bind moves rows in and out of it), and
//!   reading them cost more than the writes (`pg_stat_statements` under `pns-bench bind`: 1.0 ms
//!   per 6-row end batch through the status index, 0.57 ms through the primary key).
//!
//! The row-change rule ([`crate::repo::row_change`]: `version` bumped, `updated_at` set) is spelled
//! in SQL here.
//!
//! A batch that fails (a deadlock, a lost connection) is written again one request at a time through
//! the single-request path; every write here is safe to repeat (a row already active, marked or ended
//! is returned as it is).

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Statement};
use serde_json::json;
use uuid::Uuid;

use super::lane::Batch;
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::repo::bindings::{self as single, Activation, Ending, current};

/// `pending` -> `active` with the platform's ids ([`single::activate`] without a claim or an event).
pub(super) struct Activate;

pub(super) struct Activated {
    pub id: Uuid,
    pub app_id: String,
    pub subscription_id: String,
    pub relation_num: String,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Activated {
    pub fn new(id: Uuid, activation: &Activation<'_>) -> Self {
        Self {
            id,
            app_id: activation.app_id.to_owned(),
            subscription_id: activation.subscription_id.to_owned(),
            relation_num: activation.relation_num.to_owned(),
            expires_at: activation.expires_at.map(|at| at.trunc_subsecs(6)),
        }
    }
}

const ACTIVATE: &str = "WITH v AS (SELECT * FROM json_to_recordset($1::json) \
         AS v(id uuid, sub text, rel text, exp timestamptz)) \
     UPDATE bindings AS b \
     SET status = 'active', subscription_id = v.sub, relation_num = v.rel, expires_at = v.exp, \
         version = b.version + 1, updated_at = $2 \
     FROM v WHERE b.id = ANY(ARRAY(SELECT id FROM v)) AND b.id = v.id \
         AND (b.status = 'pending') IS TRUE \
     RETURNING b.*";

impl Batch for Activate {
    const KIND: &'static str = "activate";
    type Request = Activated;
    type Output = bindings::Model;

    async fn write(
        db: &DatabaseConnection,
        requests: Vec<Activated>,
    ) -> Vec<Result<bindings::Model, DbErr>> {
        let rows: Vec<_> = requests
            .iter()
            .map(|r| json!({"id": r.id, "sub": r.subscription_id, "rel": r.relation_num, "exp": r.expires_at}))
            .collect();
        match returning(db, ACTIVATE, &rows).await {
            // A row no longer pending (reconciliation settled it first) is returned as it is.
            Ok(mut done) => {
                or_current(db, requests.iter().map(|r| (r.id, done.remove(&r.id)))).await
            }
            Err(e) => {
                each_alone(Self::KIND, &e, requests, |r| async move {
                    single::mark_active_or_current(db, r.id, &r.as_activation()).await
                })
                .await
            }
        }
    }
}

impl Activated {
    fn as_activation(&self) -> Activation<'_> {
        Activation {
            app_id: &self.app_id,
            subscription_id: &self.subscription_id,
            relation_num: &self.relation_num,
            expires_at: self.expires_at,
            claim: None,
        }
    }
}

/// Marks an active binding's unbind in flight ([`single::touch_active`]).
pub(super) struct Touch;

pub(super) struct Touched {
    pub id: Uuid,
    /// The caller's app scope; None: any app.
    pub app: Option<String>,
}

const TOUCH: &str = "WITH v AS (SELECT * FROM json_to_recordset($1::json) AS v(id uuid, app text)) \
     UPDATE bindings AS b SET updated_at = $2 \
     FROM v WHERE b.id = ANY(ARRAY(SELECT id FROM v)) AND b.id = v.id \
         AND (b.status = 'active') IS TRUE AND (v.app IS NULL OR b.app_id = v.app) \
     RETURNING b.*";

impl Batch for Touch {
    const KIND: &'static str = "touch";
    type Request = Touched;
    type Output = Option<bindings::Model>;

    async fn write(
        db: &DatabaseConnection,
        requests: Vec<Touched>,
    ) -> Vec<Result<Option<bindings::Model>, DbErr>> {
        let rows: Vec<_> = requests
            .iter()
            .map(|r| json!({"id": r.id, "app": r.app}))
            .collect();
        match returning(db, TOUCH, &rows).await {
            // The scope is checked again here: two requests for one id with different scopes share
            // the one row the statement returns, and only the one it belongs to may see it.
            Ok(done) => requests
                .iter()
                .map(|r| {
                    Ok(done
                        .get(&r.id)
                        .filter(|row| r.app.as_ref().is_none_or(|app| &row.app_id == app))
                        .cloned())
                })
                .collect(),
            Err(e) => {
                each_alone(Self::KIND, &e, requests, |r| async move {
                    single::touch_active(db, r.id, r.app.as_deref()).await
                })
                .await
            }
        }
    }
}

/// Ends live bindings and frees what they held ([`single::end`] without a guard or an event).
pub(super) struct End;

pub(super) struct Ended {
    pub id: Uuid,
    pub ending: Ending,
}

/// The rows first, then X's counters, then the party rows: each step reads the one before it, so
/// PostgreSQL runs them in that order. X rows are locked in number order by `l` (an UPDATE over
/// several rows may visit them in any order; every other writer takes them in number order).
const END: &str = "WITH v AS (SELECT * FROM json_to_recordset($1::json) \
         AS v(id uuid, status text, reason text, code text, descr text)), \
     e AS (UPDATE bindings AS b \
         SET status = v.status, end_reason = v.reason, ended_at = $2, \
             upstream_code = COALESCE(v.code, b.upstream_code), \
             upstream_desc = COALESCE(v.descr, b.upstream_desc), \
             version = b.version + 1, updated_at = $2 \
         FROM v WHERE b.id = ANY(ARRAY(SELECT id FROM v)) AND b.id = v.id \
             AND (b.status IN ('pending', 'active')) IS TRUE \
         RETURNING b.*), \
     c AS (SELECT relation_num AS number, count(*)::int AS ended FROM e \
           WHERE relation_num IS NOT NULL GROUP BY relation_num), \
     l AS MATERIALIZED (SELECT n.number FROM x_numbers AS n \
           WHERE n.number = ANY(ARRAY(SELECT number FROM c)) ORDER BY n.number FOR UPDATE), \
     x AS (UPDATE x_numbers AS n SET in_use = GREATEST(n.in_use - c.ended, 0) \
           FROM c, l WHERE n.number = ANY(ARRAY(SELECT number FROM l)) \
               AND n.number = c.number AND l.number = c.number AND n.in_use >= 1 \
           RETURNING n.number), \
     p AS (DELETE FROM binding_parties \
           WHERE binding_id = ANY(ARRAY(SELECT id FROM e)) AND (SELECT count(*) FROM x) >= 0 \
           RETURNING 1) \
     SELECT e.* FROM e";

impl Batch for End {
    const KIND: &'static str = "end";
    type Request = Ended;
    type Output = bindings::Model;

    async fn write(
        db: &DatabaseConnection,
        requests: Vec<Ended>,
    ) -> Vec<Result<bindings::Model, DbErr>> {
        match end_all(db, &requests).await {
            // A row no longer live keeps its first end, and is returned as it is.
            Ok(mut done) => {
                or_current(db, requests.iter().map(|r| (r.id, done.remove(&r.id)))).await
            }
            Err(e) => {
                each_alone(Self::KIND, &e, requests, |r| async move {
                    single::end(db, r.id, r.ending).await
                })
                .await
            }
        }
    }
}

async fn end_all(
    db: &DatabaseConnection,
    requests: &[Ended],
) -> Result<HashMap<Uuid, bindings::Model>, DbErr> {
    let rows: Vec<_> = requests
        .iter()
        .map(|r| {
            let (code, descr) = r.ending.upstream.clone().unzip();
            json!({
                "id": r.id,
                "status": r.ending.status.as_str(),
                "reason": r.ending.reason.as_str(),
                "code": code,
                "descr": descr,
            })
        })
        .collect();
    returning(db, END, &rows).await
}

/// Runs a batch UPDATE .. RETURNING over `rows` (`$1`, with `$2` = now) and keys its rows by id.
async fn returning<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    rows: &[serde_json::Value],
) -> Result<HashMap<Uuid, bindings::Model>, DbErr> {
    let models = Bindings::find()
        .from_raw_sql(statement(sql, &json!(rows), Some(Utc::now())))
        .all(conn)
        .await?;
    Ok(models.into_iter().map(|m| (m.id, m)).collect())
}

pub(super) fn statement(
    sql: &str,
    param: &serde_json::Value,
    now: Option<DateTime<Utc>>,
) -> Statement {
    let mut values = vec![param.to_string().into()];
    values.extend(now.map(Into::into));
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// After a failed batch: each request written alone through the single-request path, in order.
pub(super) async fn each_alone<R, T, Fut>(
    kind: &str,
    error: &DbErr,
    requests: Vec<R>,
    write: impl Fn(R) -> Fut,
) -> Vec<Result<T, DbErr>>
where
    Fut: std::future::Future<Output = Result<T, DbErr>>,
{
    tracing::warn!(%error, kind, size = requests.len(), "a group-commit batch failed; writing each request alone");
    let mut results = Vec::with_capacity(requests.len());
    for request in requests {
        results.push(write(request).await);
    }
    results
}

/// Each request's row as the batch wrote it, or as it is now when the batch did not touch it.
async fn or_current(
    db: &DatabaseConnection,
    rows: impl Iterator<Item = (Uuid, Option<bindings::Model>)>,
) -> Vec<Result<bindings::Model, DbErr>> {
    let mut results = Vec::new();
    for (id, row) in rows {
        results.push(match row {
            Some(row) => Ok(row),
            None => current(db, id).await,
        });
    }
    results
}
