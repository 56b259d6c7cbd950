//! An X number in the pool, with its platform status and how many bindings use it.

use sea_orm::entity::prelude::*;

use crate::domain::number::NumberStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "x_numbers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: String,
    pub area_code: String,
    pub capacity: i32,
    pub reserved: bool,
    pub status: NumberStatus,
    pub status_cause: Option<i32>,
    pub status_updated_at: Option<DateTimeUtc>,
    pub in_use: i32,
    /// Why the pool no longer offers this number (the platform refused it as not this app's, or an
    /// admin said so); None = usable. Only an admin clears it.
    pub unusable_reason: Option<String>,
    pub unusable_since: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
