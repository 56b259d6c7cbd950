//! One row per call, derived from its events and its CDR.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub session_id: String,
    pub app_id: Option<String>,
    pub binding_id: Option<Uuid>,
    pub subscription_id: Option<String>,
    pub relation_num: Option<String>,
    pub caller: Option<String>,
    pub called: Option<String>,
    pub direction: Option<String>,
    pub started_at: Option<DateTimeUtc>,
    pub alerted_at: Option<DateTimeUtc>,
    pub answered_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub talk_seconds: Option<i32>,
    pub outcome: Option<String>,
    pub state_code: Option<i32>,
    pub state_desc: Option<String>,
    pub icid: Option<String>,
    pub has_recording: bool,
    pub record_domain: Option<String>,
    pub record_object_name: Option<String>,
    pub cdr_received_at: Option<DateTimeUtc>,
    /// When `call.completed` was recorded: set once, so the event goes out once per call.
    pub completed_event_at: Option<DateTimeUtc>,
    /// When `call.recording_ready` was recorded.
    pub recording_event_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
