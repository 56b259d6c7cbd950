//! A binding as `GET /v1/bindings/{id}` shows it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::entity::bindings;
use crate::domain::BindingStatus;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BindingOut {
    pub id: Uuid,
    pub app_id: String,
    pub subscription_id: Option<String>,
    pub relation_num: Option<String>,
    pub caller_num: String,
    pub callee_num: String,
    pub call_direction: i16,
    pub duration: i32,
    pub max_duration: i32,
    pub record_flag: bool,
    pub private_sms: Option<bool>,
    pub user_data: Option<String>,
    pub external_ref: Option<String>,
    pub area_code: Option<String>,
    pub status: BindingStatus,
    /// The platform's resultcode when the binding failed.
    pub upstream_code: Option<String>,
    pub upstream_desc: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub call_count: i32,
    pub last_call_at: Option<DateTime<Utc>>,
    pub total_talk_seconds: i64,
}

impl From<bindings::Model> for BindingOut {
    fn from(m: bindings::Model) -> Self {
        Self {
            id: m.id,
            app_id: m.app_id,
            subscription_id: m.subscription_id,
            relation_num: m.relation_num,
            caller_num: m.caller_num,
            callee_num: m.callee_num,
            call_direction: m.call_direction,
            duration: m.duration,
            max_duration: m.max_duration,
            record_flag: m.record_flag,
            private_sms: m.private_sms,
            user_data: m.user_data,
            external_ref: m.external_ref,
            area_code: m.area_code,
            status: m.status,
            upstream_code: m.upstream_code,
            upstream_desc: m.upstream_desc,
            expires_at: m.expires_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
            ended_at: m.ended_at,
            end_reason: m.end_reason.map(|r| r.as_str().to_owned()),
            call_count: m.call_count,
            last_call_at: m.last_call_at,
            total_talk_seconds: m.total_talk_seconds,
        }
    }
}
