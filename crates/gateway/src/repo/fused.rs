//! PostgreSQL: a binding write together with the party rows and X's counter it implies, as one
//! statement (data-modifying CTEs) instead of a transaction of three or four. Same rows, same
//! conditions, same lock order; one round trip instead of five, which is most of what a bind costs
//! the database and the gateway (see BENCHMARKS.md, per-operation costs).
//!
//! Used only when no webhook event is to be written with the change (the event needs the row first,
//! so that path keeps its transaction); SQLite always takes the transaction (one writer at a time,
//! and no data-modifying CTEs).
//!
//! Lock order is the one every writer uses (X's row, then the party rows in sorted order): the party
//! insert reads from the X update's result, so PostgreSQL must run that update first.

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    QueryFilter, QueryTrait, Statement,
};
use uuid::Uuid;

use super::ClaimError;
use crate::db::entity::binding_parties::{self, Entity as BindingParties};
use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::domain::BindingStatus;

/// Whether `conn` can take the fused statements.
pub(super) fn available<C: ConnectionTrait>(conn: &C) -> bool {
    conn.get_database_backend() == DbBackend::Postgres
}

/// Inserts `row` pending on X, counts it on X (a number outside the pool has no row to count) and
/// claims both parties there. A party already bound on X fails the whole statement: nothing is
/// written, and the party is named.
pub(super) async fn insert_pending_on_named_x(
    db: &DatabaseConnection,
    row: bindings::ActiveModel,
    x: &str,
    parties: [&str; 2],
) -> Result<(), ClaimError> {
    let insert = Bindings::insert(row).build(DbBackend::Postgres);
    let mut values = insert.values.map(|v| v.0).unwrap_or_default();
    let n = values.len();
    let mut sorted = parties;
    sorted.sort_unstable();
    let sql = format!(
        "WITH b AS ({insert} RETURNING id), \
         x AS (UPDATE x_numbers SET in_use = in_use + 1 WHERE number = ${x_at} RETURNING number), \
         p AS (INSERT INTO binding_parties (relation_num, party_num, binding_id) \
               SELECT DISTINCT ${x_at}, v.party, b.id \
               FROM b LEFT JOIN x ON true CROSS JOIN (VALUES (${a_at}), (${b_at})) AS v(party) \
               ORDER BY v.party RETURNING party_num) \
         SELECT count(*) AS claimed FROM p",
        insert = insert.sql,
        x_at = n + 1,
        a_at = n + 2,
        b_at = n + 3,
    );
    values.extend([x.into(), sorted[0].into(), sorted[1].into()]);
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    match db.execute_raw(statement).await {
        Ok(_) => Ok(()),
        Err(e) if crate::db::is_unique_violation(&e) => {
            Err(ClaimError::PartyTaken(taken(db, x, sorted).await?))
        }
        Err(e) => Err(e.into()),
    }
}

/// Which of `parties` holds X now (the first, if the holder has ended since).
async fn taken(db: &DatabaseConnection, x: &str, parties: [&str; 2]) -> Result<String, DbErr> {
    let holder = BindingParties::find()
        .filter(binding_parties::Column::RelationNum.eq(x))
        .filter(binding_parties::Column::PartyNum.is_in(parties))
        .one(db)
        .await?;
    Ok(holder.map_or_else(|| parties[0].to_owned(), |p| p.party_num))
}

/// Applies `end` (an UPDATE of one binding row, its conditions included) to a live row and, when it
/// ended it, moves X's counter down and frees its party rows. The row as ended, or None when the
/// conditions did not hold (not live any more, guard false).
pub(super) async fn end_live(
    db: &DatabaseConnection,
    end: sea_orm::UpdateMany<Bindings>,
    id: Uuid,
    guard: Condition,
) -> Result<Option<bindings::Model>, DbErr> {
    let update = end
        .filter(bindings::Column::Id.eq(id))
        .filter(bindings::Column::Status.is_in(BindingStatus::LIVE))
        .filter(guard)
        .build(DbBackend::Postgres);
    let sql = format!(
        "WITH e AS ({update} RETURNING *), \
         x AS (UPDATE x_numbers SET in_use = in_use - 1 \
               WHERE number = (SELECT relation_num FROM e) AND in_use >= 1 RETURNING number), \
         p AS (DELETE FROM binding_parties \
               WHERE binding_id = (SELECT id FROM e) AND (SELECT count(*) FROM x) >= 0 \
               RETURNING 1) \
         SELECT e.* FROM e",
        update = update.sql,
    );
    let values = update.values.map(|v| v.0).unwrap_or_default();
    Bindings::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .one(db)
        .await
}
