//! The last event sequence number handed out per binding.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_sequences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub binding_id: Uuid,
    pub last: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
