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

#[cfg(test)]
impl Model {
    /// A row for unit tests: app `app`, subscription `sub`, parties +8613800000001 and
    /// +8613800000002 on `x`, changed at `at`; override what a test is about.
    pub fn fixture(status: BindingStatus, x: &str, at: DateTimeUtc) -> Self {
        Self {
            id: uuid::Uuid::now_v7(),
            app_id: "app".into(),
            subscription_id: Some("sub".into()),
            relation_num: Some(x.into()),
            caller_num: "+8613800000001".into(),
            callee_num: "+8613800000002".into(),
            call_direction: 0,
            duration: 0,
            max_duration: 0,
            record_flag: false,
            record_hint_tone: None,
            last_min_voice: None,
            private_sms: None,
            pre_voice: None,
            user_data: None,
            external_ref: None,
            area_code: None,
            status,
            upstream_code: None,
            upstream_desc: None,
            expires_at: None,
            created_at: at,
            updated_at: at,
            ended_at: None,
            end_reason: None,
            call_count: 0,
            last_call_at: None,
            total_talk_seconds: 0,
            version: 0,
            change_lease_until: None,
        }
    }
}
