//! The outbox: one row per event, written in the transaction of the change it reports.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The app the event belongs to; `None` for pool events (admin endpoints only).
    pub app_id: Option<String>,
    pub event_type: String,
    pub binding_id: Option<Uuid>,
    pub sequence: Option<i64>,
    /// The body sent: `{type, timestamp, bindingId?, sequence?, data}`.
    #[sea_orm(column_type = "JsonBinary")]
    pub payload: Json,
    pub created_at: DateTimeUtc,
    pub fanned_out_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
