//! A callback kept as received because it could not be stored in the tables of its kind (an unknown
//! kind, not JSON, a field that does not parse, an identifier too long to index), so nothing is lost.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "raw_callbacks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "JsonBinary")]
    pub body: Json,
    pub received_at: DateTimeUtc,
    /// Why it is raw; None for a well-formed callback of a kind we do not know.
    pub reason: Option<String>,
    /// SHA-256 (hex) of the stored body: a redelivered body is kept once.
    pub body_sha256: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
