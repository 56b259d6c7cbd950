//! One pass of the reconciler over the number pool, with its tallies.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reconcile_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// scheduled | manual
    pub trigger: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// running | done | failed
    pub status: String,
    pub numbers_checked: i32,
    pub adopted: i32,
    pub failed_pending: i32,
    pub missing_upstream: i32,
    pub orphans: i32,
    pub corrected: i32,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::reconcile_findings::Entity")]
    ReconcileFindings,
}

impl Related<super::reconcile_findings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ReconcileFindings.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
