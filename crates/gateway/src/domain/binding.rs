//! A binding's status and why it ended.

use pns_core::phone::PhoneNumber;
use pns_core::types::{BindingDuration, CallDirection, MaxCallDuration};
use pns_core::wire::PreVoice;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum BindingStatus {
    /// Written before the platform answered; resolved by reconciliation if the answer was lost.
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "unbound")]
    Unbound,
    #[sea_orm(string_value = "expired")]
    Expired,
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl BindingStatus {
    pub const LIVE: [Self; 2] = [Self::Pending, Self::Active];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Unbound => "unbound",
            Self::Expired => "expired",
            Self::Failed => "failed",
        }
    }

    /// Ended bindings are history: never changed or unbound again.
    pub fn is_ended(self) -> bool {
        !self.is_live()
    }

    /// Pending or active: holds its parties on X and counts in X's `in_use`.
    pub fn is_live(self) -> bool {
        Self::LIVE.contains(&self)
    }
}

impl std::fmt::Display for BindingStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a binding ended (`end_reason`); the API shows the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum EndReason {
    /// The app unbound it.
    #[sea_orm(string_value = "unbound")]
    Unbound,
    /// Its duration ran out.
    #[sea_orm(string_value = "expired")]
    Expired,
    /// The platform refused the bind.
    #[sea_orm(string_value = "upstream_refused")]
    UpstreamRefused,
    /// The platform bound it but a party was taken here meanwhile; compensated by an unbind.
    #[sea_orm(string_value = "party_conflict")]
    PartyConflict,
    /// The platform bound it but recording that failed; compensated by an unbind.
    #[sea_orm(string_value = "record_failed")]
    RecordFailed,
    /// The platform no longer knows it.
    #[sea_orm(string_value = "missing_upstream")]
    MissingUpstream,
    /// The app unbound it and the platform had already dropped it.
    #[sea_orm(string_value = "already_gone_upstream")]
    AlreadyGoneUpstream,
    /// A pending bind the platform never made (reconciliation found nothing).
    #[sea_orm(string_value = "not_found_upstream")]
    NotFoundUpstream,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unbound => "unbound",
            Self::Expired => "expired",
            Self::UpstreamRefused => "upstream_refused",
            Self::PartyConflict => "party_conflict",
            Self::RecordFailed => "record_failed",
            Self::MissingUpstream => "missing_upstream",
            Self::AlreadyGoneUpstream => "already_gone_upstream",
            Self::NotFoundUpstream => "not_found_upstream",
        }
    }
}

/// A binding an app asked for, every field already valid.
#[derive(Debug, Clone)]
pub struct NewBinding {
    pub caller: PhoneNumber,
    pub callee: PhoneNumber,
    pub relation: Option<PhoneNumber>,
    pub area_code: Option<String>,
    /// Another city may be used when `area_code` has no free X.
    pub loose_area: bool,
    pub direction: CallDirection,
    pub duration: BindingDuration,
    pub max_duration: MaxCallDuration,
    pub record_flag: bool,
    pub record_hint_tone: Option<String>,
    pub last_min_voice: Option<String>,
    pub private_sms: Option<bool>,
    pub pre_voice: Option<PreVoice>,
    pub user_data: Option<String>,
    pub external_ref: Option<String>,
}

/// The fields of an active binding an app asked to change; None leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub caller: Option<PhoneNumber>,
    pub callee: Option<PhoneNumber>,
    pub direction: Option<CallDirection>,
    pub duration: Option<BindingDuration>,
    pub max_duration: Option<MaxCallDuration>,
    pub last_min_voice: Option<String>,
    pub private_sms: Option<bool>,
    pub record_flag: Option<bool>,
    pub pre_voice: Option<PreVoice>,
    pub user_data: Option<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.caller.is_none()
            && self.callee.is_none()
            && self.direction.is_none()
            && self.duration.is_none()
            && self.max_duration.is_none()
            && self.last_min_voice.is_none()
            && self.private_sms.is_none()
            && self.record_flag.is_none()
            && self.pre_voice.is_none()
            && self.user_data.is_none()
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;

    #[test]
    fn stored_strings_are_the_api_strings() {
        for status in BindingStatus::iter() {
            assert_eq!(status.to_value(), status.as_str());
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        for reason in EndReason::iter() {
            assert_eq!(reason.to_value(), reason.as_str());
        }
    }

    #[test]
    fn an_unknown_stored_status_is_an_error() {
        assert!(BindingStatus::try_from_value(&"actve".to_owned()).is_err());
    }
}
