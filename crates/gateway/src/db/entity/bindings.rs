//! A binding of A and B to an X number, as this gateway knows it.

use sea_orm::entity::prelude::*;

use crate::domain::{BindingStatus, EndReason};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bindings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: String,
    /// Assigned by the platform; `None` until the bind call has succeeded.
    #[sea_orm(unique)]
    pub subscription_id: Option<String>,
    pub relation_num: Option<String>,
    pub caller_num: String,
    pub callee_num: String,
    pub call_direction: i16,
    pub duration: i32,
    pub max_duration: i32,
    pub record_flag: bool,
    pub record_hint_tone: Option<String>,
    pub last_min_voice: Option<String>,
    pub private_sms: Option<bool>,
    #[sea_orm(column_type = "JsonBinary")]
    pub pre_voice: Option<Json>,
    pub user_data: Option<String>,
    pub external_ref: Option<String>,
    pub area_code: Option<String>,
    pub status: BindingStatus,
    pub upstream_code: Option<String>,
    pub upstream_desc: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    pub end_reason: Option<EndReason>,
    pub call_count: i32,
    pub last_call_at: Option<DateTimeUtc>,
    pub total_talk_seconds: i64,
    /// Bumped on every change; updates carry `WHERE version = ?` (optimistic concurrency).
    pub version: i32,
    /// Set while a change of this binding is with the platform; another change waits until then.
    pub change_lease_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::binding_parties::Entity")]
    BindingParties,
}

impl Related<super::binding_parties::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BindingParties.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
