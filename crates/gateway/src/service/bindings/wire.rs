//! The platform's requests built from domain values, in one place (the "transformers"): what a bind
//! or a change sends is read here, not pieced together inside the flow that sends it.

use pns_core::types::{SubscriptionId, WireBool};
use pns_core::wire::{BindRequest, ModifyRequest};

use crate::domain::{Changes, NewBinding};

/// The bind request for `new` on `relation_num` (None: the platform picks X from the area code).
pub fn bind_request(new: &NewBinding, relation_num: Option<&str>) -> BindRequest {
    BindRequest {
        relation_num: relation_num.map(str::to_owned),
        area_code: new.area_code.clone(),
        area_match_mode: new
            .area_code
            .as_ref()
            .map(|_| if new.loose_area { "1" } else { "0" }.to_owned()),
        caller_num: new.caller.as_str().to_owned(),
        callee_num: new.callee.as_str().to_owned(),
        call_direction: Some(new.direction as u8),
        duration: Some(new.duration.seconds()),
        record_flag: Some(WireBool(new.record_flag)),
        record_hint_tone: new.record_hint_tone.clone(),
        max_duration: Some(new.max_duration.minutes()),
        last_min_voice: new.last_min_voice.clone(),
        private_sms: new.private_sms.map(WireBool),
        pre_voice: new.pre_voice.clone(),
        user_data: new.user_data.clone(),
    }
}

/// The modify request for `changes` (new parties only where they differ from the binding's).
pub fn modify_request(subscription_id: String, changes: &Changes) -> ModifyRequest {
    ModifyRequest {
        subscription_id,
        caller_num: changes.caller.as_ref().map(|p| p.as_str().to_owned()),
        callee_num: changes.callee.as_ref().map(|p| p.as_str().to_owned()),
        call_direction: changes.direction.map(|d| d as u8),
        duration: changes.duration.map(|d| d.seconds()),
        max_duration: changes.max_duration.map(|m| m.minutes()),
        last_min_voice: changes.last_min_voice.clone(),
        private_sms: changes.private_sms.map(WireBool),
        record_flag: changes.record_flag.map(WireBool),
        pre_voice: changes.pre_voice.clone(),
        user_data: changes.user_data.clone(),
    }
}

/// The stored subscriptionId of a row, as the platform's type.
pub fn subscription_id(raw: &str) -> Option<SubscriptionId> {
    SubscriptionId::parse(raw).ok()
}
