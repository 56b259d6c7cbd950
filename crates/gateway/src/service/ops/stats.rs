//! Cheap aggregate counts for the scrape-time gauges of `/metrics`: bindings by status, open bindings
//! and capacity per X number and per area.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::db::entity::bindings::{self, Entity as Bindings};
use crate::db::entity::x_numbers::{self, Entity as XNumbers};
use crate::domain::BindingStatus;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct PoolUsage {
    pub open: u64,
    pub capacity: u64,
}

#[derive(Debug, Default)]
pub struct Stats {
    pub bindings_by_status: BTreeMap<String, u64>,
    /// Keyed by (X number, area).
    pub per_number: BTreeMap<(String, String), PoolUsage>,
    pub per_area: BTreeMap<String, PoolUsage>,
}

pub async fn collect(db: &DatabaseConnection) -> Result<Stats, DbErr> {
    let mut stats = Stats::default();
    // Every status is reported, 0 included: a gauge that is not set again keeps its last value.
    for status in [
        BindingStatus::Pending,
        BindingStatus::Active,
        BindingStatus::Unbound,
        BindingStatus::Expired,
        BindingStatus::Failed,
    ] {
        stats
            .bindings_by_status
            .insert(status.as_str().to_owned(), 0);
    }
    let by_status: Vec<(String, i64)> = Bindings::find()
        .select_only()
        .column(bindings::Column::Status)
        .column_as(Expr::col(bindings::Column::Id).count(), "n")
        .group_by(bindings::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    for (status, n) in by_status {
        stats.bindings_by_status.insert(status, to_u64(n));
    }

    let open: BTreeMap<String, u64> = Bindings::find()
        .select_only()
        .column(bindings::Column::RelationNum)
        .column_as(Expr::col(bindings::Column::Id).count(), "n")
        .filter(bindings::Column::RelationNum.is_not_null())
        .filter(bindings::Column::Status.is_in(BindingStatus::LIVE))
        .group_by(bindings::Column::RelationNum)
        .into_tuple::<(Option<String>, i64)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(x, n)| Some((x?, to_u64(n))))
        .collect();

    let numbers: Vec<(String, String, i32)> = XNumbers::find()
        .select_only()
        .column(x_numbers::Column::Number)
        .column(x_numbers::Column::AreaCode)
        .column(x_numbers::Column::Capacity)
        .into_tuple()
        .all(db)
        .await?;
    for (number, area, capacity) in numbers {
        let usage = PoolUsage {
            open: open.get(&number).copied().unwrap_or(0),
            capacity: u64::try_from(capacity).unwrap_or(0),
        };
        let total = stats.per_area.entry(area.clone()).or_default();
        total.open += usage.open;
        total.capacity += usage.capacity;
        stats.per_number.insert((number, area), usage);
    }
    Ok(stats)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
