//! The stored outcome of a create request, replayed when the same `Idempotency-Key` comes again.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub app_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub idem_key: String,
    /// Hash of the request body: the same key with a different body is a conflict.
    pub request_hash: String,
    pub binding_id: Option<Uuid>,
    pub status_code: Option<i32>,
    #[sea_orm(column_type = "JsonBinary")]
    pub response_body: Option<Json>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
