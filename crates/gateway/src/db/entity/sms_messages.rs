//! An SMS notification from the platform and what the gateway decided to do with it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sms_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sms_identifier: String,
    pub app_id: Option<String>,
    pub binding_id: Option<Uuid>,
    pub mode: String,
    pub calling: Option<String>,
    pub called: Option<String>,
    pub virtual_number: Option<String>,
    pub event: Option<String>,
    pub sms_time: Option<DateTimeUtc>,
    pub subscription_id: Option<String>,
    /// notify | route | discard
    pub decision: String,
    pub routed_to: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub payload: Json,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
