//! Pool administration: import, list, change and remove X numbers.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, Order, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::db::entity::x_numbers::{self, Entity as XNumbers};
use crate::domain::BindingStatus;
use crate::domain::number::NumberStatus;
use crate::service::error::QueryError;
use crate::service::page::{Cursor, Keyset, Page, PageRequest, text_key};

/// The platform's own limit per X.
pub const MAX_CAPACITY: i32 = 5_000;

/// A number to import, already validated.
#[derive(Debug, Clone)]
pub struct NewNumber {
    pub number: String,
    pub area_code: String,
    pub capacity: i32,
    pub reserved: bool,
}

#[derive(Debug, Clone, Default)]
pub struct NumberChanges {
    pub reserved: Option<bool>,
    /// `Some(true)` clears an unusable mark, `Some(false)` sets one.
    pub usable: Option<bool>,
    pub capacity: Option<i32>,
    pub area_code: Option<String>,
}

/// What pool administration can refuse.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("X number not found")]
    NotFound,
    /// Live bindings still use the number.
    #[error("the number still holds {0} active binding(s); unbind them first")]
    InUse(i32),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

#[derive(Debug, Clone, Default)]
pub struct NumberFilter {
    pub area_code: Option<String>,
    pub status: Option<String>,
    pub reserved: Option<bool>,
}

use crate::repo::live_bindings;

/// Imports numbers; ones already in the pool are left as they are and reported as skipped. A number
/// that already carries bindings (made with an explicit `relationNum`) starts with them counted.
/// Every step writes before it reads, so on SQLite the transaction holds the write lock from its first
/// statement (a read first could not be upgraded under a concurrent writer).
pub async fn import(
    db: &DatabaseConnection,
    numbers: Vec<NewNumber>,
) -> Result<(Vec<x_numbers::Model>, Vec<String>), PoolError> {
    let txn = db.begin().await?;
    let mut created = Vec::new();
    let mut skipped = Vec::new();
    for n in numbers {
        let now = Utc::now();
        let number = n.number.clone();
        let row = x_numbers::ActiveModel {
            number: Set(n.number),
            area_code: Set(n.area_code),
            capacity: Set(n.capacity),
            reserved: Set(n.reserved),
            status: Set(NumberStatus::Normal),
            status_cause: Set(None),
            status_updated_at: Set(None),
            unusable_reason: Set(None),
            unusable_since: Set(None),
            in_use: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let inserted = XNumbers::insert(row)
            .on_conflict(
                OnConflict::column(x_numbers::Column::Number)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        if inserted == 0 {
            skipped.push(number);
            continue;
        }
        let in_use = live_bindings(&txn, &number).await?;
        if in_use > 0 {
            XNumbers::update_many()
                .col_expr(x_numbers::Column::InUse, Expr::value(in_use))
                .filter(x_numbers::Column::Number.eq(number.as_str()))
                .exec(&txn)
                .await?;
        }
        created.push(number);
    }
    let rows = XNumbers::find()
        .filter(x_numbers::Column::Number.is_in(created))
        .order_by_asc(x_numbers::Column::Number)
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok((rows, skipped))
}

/// Sandbox start: the simulator's numbers join the pool (idempotent; several instances may race).
pub async fn seed(db: &DatabaseConnection, numbers: &[(String, String)]) -> Result<(), DbErr> {
    for (number, area) in numbers {
        let now = Utc::now();
        let row = x_numbers::ActiveModel {
            number: Set(number.clone()),
            area_code: Set(area.clone()),
            capacity: Set(MAX_CAPACITY),
            reserved: Set(false),
            status: Set(NumberStatus::Normal),
            status_cause: Set(None),
            status_updated_at: Set(None),
            unusable_reason: Set(None),
            unusable_since: Set(None),
            in_use: Set(live_bindings(db, number).await?),
            created_at: Set(now),
            updated_at: Set(now),
        };
        XNumbers::insert(row)
            .on_conflict(
                OnConflict::column(x_numbers::Column::Number)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// One page of the pool, in import order (then by number).
pub async fn list(
    db: &DatabaseConnection,
    filter: &NumberFilter,
    page: &PageRequest,
) -> Result<Page<x_numbers::Model>, QueryError> {
    let mut query = XNumbers::find();
    if let Some(area) = &filter.area_code {
        query = query.filter(x_numbers::Column::AreaCode.eq(area.as_str()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(x_numbers::Column::Status.eq(status.as_str()));
    }
    if let Some(reserved) = filter.reserved {
        query = query.filter(x_numbers::Column::Reserved.eq(reserved));
    }
    let keyset = Keyset {
        time: x_numbers::Column::CreatedAt,
        key: x_numbers::Column::Number,
        order: Order::Asc,
        key_value: text_key,
    };
    keyset
        .fetch(db, query, page, |n| Cursor::new(n.created_at, &n.number))
        .await
}

pub async fn get(db: &DatabaseConnection, number: &str) -> Result<x_numbers::Model, PoolError> {
    XNumbers::find_by_id(number.to_owned())
        .one(db)
        .await?
        .ok_or(PoolError::NotFound)
}

/// Only the given fields are written, so concurrent changes to other fields (a status callback, an
/// allocation's `in_use`) are never overwritten.
pub async fn change(
    db: &DatabaseConnection,
    number: &str,
    changes: NumberChanges,
) -> Result<x_numbers::Model, PoolError> {
    let mut update = XNumbers::update_many().col_expr(
        x_numbers::Column::UpdatedAt,
        sea_orm::sea_query::Expr::value(Utc::now()),
    );
    if let Some(reserved) = changes.reserved {
        update = update.col_expr(
            x_numbers::Column::Reserved,
            sea_orm::sea_query::Expr::value(reserved),
        );
    }
    match changes.usable {
        Some(true) => {
            update = update
                .col_expr(
                    x_numbers::Column::UnusableReason,
                    Expr::value(None::<String>),
                )
                .col_expr(
                    x_numbers::Column::UnusableSince,
                    Expr::value(None::<chrono::DateTime<Utc>>),
                );
        }
        Some(false) => {
            update = update
                .col_expr(
                    x_numbers::Column::UnusableReason,
                    Expr::value(MARKED_BY_ADMIN),
                )
                .col_expr(x_numbers::Column::UnusableSince, Expr::value(Utc::now()));
        }
        None => {}
    }
    if let Some(capacity) = changes.capacity {
        update = update.col_expr(
            x_numbers::Column::Capacity,
            sea_orm::sea_query::Expr::value(capacity),
        );
    }
    if let Some(area) = changes.area_code {
        update = update.col_expr(
            x_numbers::Column::AreaCode,
            sea_orm::sea_query::Expr::value(area),
        );
    }
    let result = update
        .filter(x_numbers::Column::Number.eq(number))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(PoolError::NotFound);
    }
    get(db, number).await
}

const MARKED_BY_ADMIN: &str = "marked unusable by an admin";

/// Takes X out of allocation because the platform refused it for a reason no retry will change
/// (1012001: not this app's number). Its live bindings are untouched; an admin clears the mark once
/// the number is fixed (or removes it). A no-op for a number not in the pool or already marked.
pub async fn mark_unusable(
    db: &DatabaseConnection,
    number: &str,
    reason: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let marked = XNumbers::update_many()
        .col_expr(x_numbers::Column::UnusableReason, Expr::value(reason))
        .col_expr(x_numbers::Column::UnusableSince, Expr::value(now))
        .col_expr(x_numbers::Column::UpdatedAt, Expr::value(now))
        .filter(x_numbers::Column::Number.eq(number))
        .filter(x_numbers::Column::UnusableSince.is_null())
        .exec(db)
        .await?;
    if marked.rows_affected == 1 {
        tracing::warn!(x = %pns_core::phone::mask(number), reason, "pool number marked unusable until an admin clears it");
        crate::telemetry::metrics::number_marked_unusable();
    }
    Ok(())
}

/// Removes a number that holds no live binding. The conditions are part of the DELETE itself, so an
/// allocation racing with it either commits first (and the delete is refused) or finds no number.
pub async fn remove(db: &DatabaseConnection, number: &str) -> Result<(), PoolError> {
    let live_on_x = Query::select()
        .expr(Expr::val(1))
        .from(Bindings)
        .and_where(Expr::col((Bindings, bindings::Column::RelationNum)).eq(number))
        .and_where(Expr::col((Bindings, bindings::Column::Status)).is_in(BindingStatus::LIVE))
        .to_owned();
    let deleted = XNumbers::delete_many()
        .filter(x_numbers::Column::Number.eq(number))
        .filter(x_numbers::Column::InUse.eq(0))
        .filter(Expr::exists(live_on_x).not())
        .exec(db)
        .await?;
    if deleted.rows_affected == 1 {
        return Ok(());
    }
    let current = get(db, number).await?;
    let live = Ord::max(live_bindings(db, number).await?, current.in_use);
    Err(PoolError::InUse(live))
}
