//! Parse, don't validate: turns what an app sent into domain values that can only be valid, or a
//! 422 that names the field.

use pns_core::phone::PhoneNumber;
use pns_core::types::{BindingDuration, CallDirection, MaxCallDuration};
use pns_core::wire::PreVoice;

use super::dto::{AreaMatchMode, BindingFilter, BindingIn, BindingPatch, PreVoiceIn};
use crate::domain::{Changes, NewBinding, rules};
use crate::error::ApiError;
use crate::service::bindings::query::BindingQuery;

pub fn phone(field: &str, raw: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(raw).map_err(|e| ApiError::validation(field, e))
}

fn direction(raw: u8) -> Result<CallDirection, ApiError> {
    CallDirection::try_from(i64::from(raw))
        .map_err(|_| ApiError::validation("callDirection", "must be 0, 1 or 2"))
}

fn duration(raw: u32) -> Result<BindingDuration, ApiError> {
    BindingDuration::new(raw)
        .map_err(|_| ApiError::validation("duration", "must be 0..=7776000 seconds"))
}

fn max_duration(raw: u16) -> Result<MaxCallDuration, ApiError> {
    MaxCallDuration::new(raw)
        .map_err(|_| ApiError::validation("maxDuration", "must be 0..=1440 minutes"))
}

fn text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    if let Some(v) = &value {
        rules::text(v, max).map_err(|reason| ApiError::validation(field, reason))?;
    }
    Ok(value)
}

fn user_data(value: Option<String>) -> Result<Option<String>, ApiError> {
    let value = text("userData", value, 256)?;
    if value.as_deref().is_some_and(|v| v.contains(['{', '}'])) {
        return Err(ApiError::validation(
            "userData",
            "must not contain `{` or `}`",
        ));
    }
    Ok(value)
}

fn pre_voice(value: Option<PreVoiceIn>) -> Result<Option<PreVoice>, ApiError> {
    let Some(v) = value else { return Ok(None) };
    Ok(Some(PreVoice {
        caller_hint_tone: text("preVoice.callerHintTone", v.caller_hint_tone, 128)?,
        callee_hint_tone: text("preVoice.calleeHintTone", v.callee_hint_tone, 128)?,
    }))
}

fn area_code(value: Option<String>) -> Result<Option<String>, ApiError> {
    if let Some(a) = &value {
        rules::area_code(a).map_err(|reason| ApiError::validation("areaCode", reason))?;
    }
    Ok(value)
}

fn distinct(caller: &PhoneNumber, callee: &PhoneNumber) -> Result<(), ApiError> {
    if caller == callee {
        return Err(ApiError::validation(
            "calleeNum",
            "must differ from callerNum",
        ));
    }
    Ok(())
}

pub fn new_binding(input: BindingIn) -> Result<NewBinding, ApiError> {
    let caller = phone("callerNum", &input.caller_num)?;
    let callee = phone("calleeNum", &input.callee_num)?;
    distinct(&caller, &callee)?;
    let relation = input
        .relation_num
        .as_deref()
        .map(|r| phone("relationNum", r))
        .transpose()?;
    if relation
        .as_ref()
        .is_some_and(|x| x == &caller || x == &callee)
    {
        return Err(ApiError::validation(
            "relationNum",
            "must differ from callerNum and calleeNum",
        ));
    }
    let max_duration = max_duration(input.max_duration.unwrap_or(0))?;
    let last_min_voice = text("lastMinVoice", input.last_min_voice, 128)?;
    if last_min_voice.is_some() && max_duration.minutes() == 0 {
        return Err(ApiError::validation(
            "lastMinVoice",
            "only allowed with a non-zero maxDuration",
        ));
    }
    let external_ref = text("externalRef", input.external_ref, 128)?;
    Ok(NewBinding {
        caller,
        callee,
        relation,
        area_code: area_code(input.area_code)?,
        loose_area: input.area_match_mode == Some(AreaMatchMode::Loose),
        direction: direction(input.call_direction.unwrap_or(0))?,
        duration: duration(input.duration.unwrap_or(0))?,
        max_duration,
        record_flag: input.record_flag.unwrap_or(false),
        record_hint_tone: text("recordHintTone", input.record_hint_tone, 128)?,
        last_min_voice,
        private_sms: input.private_sms,
        pre_voice: pre_voice(input.pre_voice)?,
        user_data: user_data(input.user_data)?,
        external_ref,
    })
}

pub fn changes(patch: BindingPatch) -> Result<Changes, ApiError> {
    let changes = Changes {
        caller: patch
            .caller_num
            .as_deref()
            .map(|r| phone("callerNum", r))
            .transpose()?,
        callee: patch
            .callee_num
            .as_deref()
            .map(|r| phone("calleeNum", r))
            .transpose()?,
        direction: patch.call_direction.map(direction).transpose()?,
        duration: patch.duration.map(duration).transpose()?,
        max_duration: patch.max_duration.map(max_duration).transpose()?,
        last_min_voice: text("lastMinVoice", patch.last_min_voice, 128)?,
        private_sms: patch.private_sms,
        record_flag: patch.record_flag,
        pre_voice: pre_voice(patch.pre_voice)?,
        user_data: user_data(patch.user_data)?,
    };
    if changes.is_empty() {
        return Err(ApiError::validation("body", "nothing to change"));
    }
    if let (Some(a), Some(b)) = (&changes.caller, &changes.callee) {
        distinct(a, b)?;
    }
    Ok(changes)
}

pub fn query(filter: &BindingFilter) -> Result<BindingQuery, ApiError> {
    Ok(BindingQuery {
        status: filter.status,
        relation_num: filter
            .relation_num
            .as_deref()
            .map(|x| phone("relationNum", x))
            .transpose()?,
        number: filter
            .number
            .as_deref()
            .map(|n| phone("number", n))
            .transpose()?,
        external_ref: filter.external_ref.clone(),
        subscription_id: filter.subscription_id.clone(),
        created_from: filter.created_from,
        created_to: filter.created_to,
    })
}
