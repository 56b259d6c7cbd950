//! Something a reconcile run found (and possibly corrected).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reconcile_findings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub run_id: Uuid,
    pub category: String,
    pub binding_id: Option<Uuid>,
    pub subscription_id: Option<String>,
    pub relation_num: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub detail: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::reconcile_runs::Entity",
        from = "Column::RunId",
        to = "super::reconcile_runs::Column::Id",
        on_delete = "Cascade"
    )]
    ReconcileRuns,
}

impl Related<super::reconcile_runs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ReconcileRuns.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
