//! Parse, don't validate: turns what an app sent into values that can only be valid, or a 422 that
//! names the field.

use pns_core::phone::PhoneNumber;
use pns_core::types::{BindingDuration, CallDirection, MaxCallDuration};

use crate::error::ApiError;
use crate::routes::bindings::dto::{AreaMatchMode, BindingIn, BindingPatch, PreVoiceIn};

#[derive(Debug, Clone)]
pub struct NewBinding {
    pub caller: PhoneNumber,
    pub callee: PhoneNumber,
    pub relation: Option<PhoneNumber>,
    pub area_code: Option<String>,
    pub loose_area: bool,
    pub direction: CallDirection,
    pub duration: BindingDuration,
    pub max_duration: MaxCallDuration,
    pub record_flag: bool,
    pub record_hint_tone: Option<String>,
    pub last_min_voice: Option<String>,
    pub private_sms: Option<bool>,
    pub pre_voice: Option<PreVoiceIn>,
    pub user_data: Option<String>,
    pub external_ref: Option<String>,
}

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
    pub pre_voice: Option<PreVoiceIn>,
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
    match value {
        Some(v) if v.is_empty() || v.chars().count() > max => Err(ApiError::validation(
            field,
            format!("must be 1-{max} characters"),
        )),
        Some(v) if v.chars().any(char::is_control) => Err(ApiError::validation(
            field,
            "must not contain control characters",
        )),
        other => Ok(other),
    }
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

fn pre_voice(value: Option<PreVoiceIn>) -> Result<Option<PreVoiceIn>, ApiError> {
    let Some(v) = value else { return Ok(None) };
    Ok(Some(PreVoiceIn {
        caller_hint_tone: text("preVoice.callerHintTone", v.caller_hint_tone, 128)?,
        callee_hint_tone: text("preVoice.calleeHintTone", v.callee_hint_tone, 128)?,
    }))
}

fn area_code(value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(a) if !(2..=6).contains(&a.len()) || !a.bytes().all(|b| b.is_ascii_digit()) => Err(
            ApiError::validation("areaCode", "must be 2-6 digits, e.g. 0755"),
        ),
        other => Ok(other),
    }
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
