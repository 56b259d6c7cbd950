//! A call event callback, deduplicated on (session_id, event_type, event_time).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "call_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique_key = "call_event")]
    pub session_id: String,
    #[sea_orm(unique_key = "call_event")]
    pub event_type: String,
    /// The wire timestamp exactly as received (part of the dedupe key).
    #[sea_orm(unique_key = "call_event")]
    pub event_time: String,
    /// `event_time` parsed, when it parses.
    pub occurred_at: Option<DateTimeUtc>,
    pub subscription_id: Option<String>,
    pub binding_id: Option<Uuid>,
    pub caller: Option<String>,
    pub called: Option<String>,
    pub state_code: Option<i32>,
    pub state_desc: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub payload: Json,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
