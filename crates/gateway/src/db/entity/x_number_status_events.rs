//! A number status notification from the platform, kept as history.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "x_number_status_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub status: String,
    pub status_code: i32,
    pub cause: Option<i32>,
    pub received_at: DateTimeUtc,
    /// When the status took effect: the platform's time if it sent one, else `received_at`.
    pub event_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
