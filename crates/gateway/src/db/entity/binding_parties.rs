//! The AXB invariant, enforced by the primary key: a (relation_num, party_num) pair has a row
//! only while its binding is pending or active.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "binding_parties")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub relation_num: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub party_num: String,
    pub binding_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::bindings::Entity",
        from = "Column::BindingId",
        to = "super::bindings::Column::Id",
        on_delete = "Cascade"
    )]
    Bindings,
}

impl Related<super::bindings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Bindings.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
