//! A call detail record from the platform, keyed by its `icid`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cdrs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub icid: String,
    pub session_id: Option<String>,
    pub subscription_id: Option<String>,
    pub binding_id: Option<Uuid>,
    pub app_id: Option<String>,
    pub bind_num: Option<String>,
    pub caller_num: Option<String>,
    pub callee_num: Option<String>,
    pub direction: Option<i32>,
    pub call_in_time: Option<DateTimeUtc>,
    pub fwd_answer_time: Option<DateTimeUtc>,
    pub call_end_time: Option<DateTimeUtc>,
    pub fail_time: Option<DateTimeUtc>,
    pub answered: bool,
    pub talk_seconds: i32,
    pub fwd_unasw_rsn: Option<i32>,
    pub ul_fail_reason: Option<i32>,
    pub sip_status_code: Option<i32>,
    pub record_flag: bool,
    pub record_domain: Option<String>,
    pub record_bucket_name: Option<String>,
    pub record_object_name: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub payload: Json,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
