//! Field-by-field checks of the AXB requests, each failure a 1010002 naming the field. Bodies are read as
//! untyped JSON on purpose: a typed decode would fail on the first bad field with a serde message instead of
//! the platform's answer.

use pns_core::PhoneNumber;
use serde_json::{Map, Value};

use super::state::PreVoice;
use crate::config::valid_area_code;
use crate::error::Rejection;

type Result<T> = std::result::Result<T, Rejection>;

pub(crate) const MAX_DURATION_SECS: u32 = 7_776_000;
pub(crate) const MAX_CALL_MINUTES: u16 = 1440;

#[derive(Debug, Clone)]
pub(crate) struct BindCmd {
    pub relation_num: Option<String>,
    pub area_code: Option<String>,
    /// areaMatchMode "1": any city when the asked one has no free X.
    pub loose: bool,
    pub caller: String,
    pub callee: String,
    pub call_direction: u8,
    pub duration: u32,
    pub max_duration: u16,
    pub record_flag: bool,
    pub record_hint_tone: Option<String>,
    pub last_min_voice: Option<String>,
    pub private_sms: Option<bool>,
    pub pre_voice: Option<PreVoice>,
    pub user_data: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ModifyCmd {
    pub subscription_id: String,
    pub caller: Option<String>,
    pub callee: Option<String>,
    pub call_direction: Option<u8>,
    pub duration: Option<u32>,
    pub max_duration: Option<u16>,
    pub last_min_voice: Option<String>,
    pub private_sms: Option<bool>,
    pub record_flag: Option<bool>,
    pub pre_voice: Option<PreVoice>,
    pub user_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UnbindCmd {
    BySubscription(String),
    /// Every binding on X.
    ByRelation(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryCmd {
    pub subscription_id: Option<String>,
    pub relation_num: Option<String>,
    pub caller: Option<String>,
    pub callee: Option<String>,
    pub page_index: usize,
    pub page_size: usize,
}

/// A JSON object body, or 1010002.
pub(crate) fn object_body(body: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Rejection::invalid("body", "must be a JSON object")),
        Err(e) => Err(Rejection::invalid("body", format!("not valid JSON ({e})"))),
    }
}

/// Query-string parameters; the last of a repeated key wins. Empty values count as absent.
pub(crate) fn query_params(qs: &str) -> Result<Vec<(String, String)>> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(qs)
        .map_err(|e| Rejection::invalid("query string", e))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn string(&self, name: &str) -> Result<Option<&str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Rejection::invalid(name, "must be a string")),
        }
    }

    fn text(&self, name: &str, min: usize, max: usize) -> Result<Option<String>> {
        self.string(name)?
            .map(|s| check_text(name, s, min, max))
            .transpose()
    }

    fn phone(&self, name: &str) -> Result<Option<String>> {
        self.string(name)?.map(|s| check_phone(name, s)).transpose()
    }

    fn int(&self, name: &str, max: u64) -> Result<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v <= max => Ok(Some(v)),
                _ => Err(Rejection::invalid(
                    name,
                    format!("must be an integer 0..={max}"),
                )),
            },
            Some(_) => Err(Rejection::invalid(name, "must be an integer")),
        }
    }

    fn call_direction(&self) -> Result<Option<u8>> {
        Ok(self.int("callDirection", 2)?.map(|v| v as u8))
    }

    fn duration(&self) -> Result<Option<u32>> {
        Ok(self
            .int("duration", MAX_DURATION_SECS.into())?
            .map(|v| v as u32))
    }

    fn max_duration(&self) -> Result<Option<u16>> {
        Ok(self
            .int("maxDuration", MAX_CALL_MINUTES.into())?
            .map(|v| v as u16))
    }

    /// The platform's booleans are the strings "true"/"false".
    fn bool_str(&self, name: &str) -> Result<Option<bool>> {
        match self.string(name)? {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(Rejection::invalid(name, "must be \"true\" or \"false\"")),
        }
    }

    fn user_data(&self) -> Result<Option<String>> {
        let v = self.text("userData", 1, 256)?;
        if v.as_deref().is_some_and(|s| s.contains(['{', '}'])) {
            return Err(Rejection::invalid("userData", "must not contain { or }"));
        }
        Ok(v)
    }

    fn pre_voice(&self) -> Result<Option<PreVoice>> {
        match self.get("preVoice") {
            None => Ok(None),
            Some(Value::Object(m)) => {
                let f = Fields(m);
                Ok(Some(PreVoice {
                    caller_hint_tone: f.text("callerHintTone", 1, 128).map_err(prefix_pre_voice)?,
                    callee_hint_tone: f.text("calleeHintTone", 1, 128).map_err(prefix_pre_voice)?,
                }))
            }
            Some(_) => Err(Rejection::invalid("preVoice", "must be an object")),
        }
    }
}

fn prefix_pre_voice(mut r: Rejection) -> Rejection {
    r.desc = r.desc.replacen("parameter ", "parameter preVoice.", 1);
    r
}

fn check_text(name: &str, s: &str, min: usize, max: usize) -> Result<String> {
    let n = s.chars().count();
    if n < min || n > max {
        return Err(Rejection::invalid(
            name,
            format!("length must be {min}..={max}"),
        ));
    }
    Ok(s.to_owned())
}

fn check_phone(name: &str, s: &str) -> Result<String> {
    PhoneNumber::parse(s)
        .map(PhoneNumber::into_string)
        .map_err(|_| Rejection::invalid(name, "must be an E.164 number like +8613800000000"))
}

fn check_subscription_id(s: &str) -> Result<String> {
    if s.is_empty() || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Rejection::invalid(
            "subscriptionId",
            "must be 1..=64 visible characters",
        ));
    }
    Ok(s.to_owned())
}

fn check_last_min_voice(v: &Option<String>, max_duration: Option<u16>) -> Result<()> {
    if v.is_some() && max_duration.unwrap_or(0) == 0 {
        return Err(Rejection::invalid(
            "lastMinVoice",
            "only allowed with a non-zero maxDuration",
        ));
    }
    Ok(())
}

pub(crate) fn bind(body: &Map<String, Value>) -> Result<BindCmd> {
    let f = Fields(body);
    let relation_num = f.phone("relationNum")?;
    let area_code = f.string("areaCode")?.map(str::to_owned);
    if let Some(a) = &area_code
        && !valid_area_code(a)
    {
        return Err(Rejection::invalid("areaCode", "must be 2..=8 digits"));
    }
    let loose = match f.string("areaMatchMode")? {
        None | Some("0") => false,
        Some("1") => true,
        Some(_) => {
            return Err(Rejection::invalid(
                "areaMatchMode",
                "must be \"0\" or \"1\"",
            ));
        }
    };
    if relation_num.is_none() && area_code.is_none() {
        return Err(Rejection::invalid(
            "relationNum",
            "relationNum or areaCode is required",
        ));
    }
    let caller = f
        .phone("callerNum")?
        .ok_or_else(|| Rejection::invalid("callerNum", "is required"))?;
    let callee = f
        .phone("calleeNum")?
        .ok_or_else(|| Rejection::invalid("calleeNum", "is required"))?;
    if caller == callee {
        return Err(Rejection::invalid(
            "calleeNum",
            "must differ from callerNum",
        ));
    }
    let max_duration = f.max_duration()?;
    let last_min_voice = f.text("lastMinVoice", 0, 128)?;
    check_last_min_voice(&last_min_voice, max_duration)?;
    Ok(BindCmd {
        relation_num,
        area_code,
        loose,
        caller,
        callee,
        call_direction: f.call_direction()?.unwrap_or(0),
        duration: f.duration()?.unwrap_or(0),
        max_duration: max_duration.unwrap_or(0),
        record_flag: f.bool_str("recordFlag")?.unwrap_or(false),
        record_hint_tone: f.text("recordHintTone", 1, 128)?,
        last_min_voice,
        private_sms: f.bool_str("privateSms")?,
        pre_voice: f.pre_voice()?,
        user_data: f.user_data()?,
    })
}

pub(crate) fn modify(body: &Map<String, Value>) -> Result<ModifyCmd> {
    let f = Fields(body);
    let subscription_id = f
        .string("subscriptionId")?
        .ok_or_else(|| Rejection::invalid("subscriptionId", "is required"))
        .and_then(check_subscription_id)?;
    let caller = f.phone("callerNum")?;
    let callee = f.phone("calleeNum")?;
    if caller.is_some() && caller == callee {
        return Err(Rejection::invalid(
            "calleeNum",
            "must differ from callerNum",
        ));
    }
    let max_duration = f.max_duration()?;
    let last_min_voice = f.text("lastMinVoice", 0, 128)?;
    // With maxDuration omitted the binding's current one applies; the engine checks that case.
    if max_duration.is_some() {
        check_last_min_voice(&last_min_voice, max_duration)?;
    }
    Ok(ModifyCmd {
        subscription_id,
        caller,
        callee,
        call_direction: f.call_direction()?,
        duration: f.duration()?,
        max_duration,
        last_min_voice,
        private_sms: f.bool_str("privateSms")?,
        record_flag: f.bool_str("recordFlag")?,
        pre_voice: f.pre_voice()?,
        user_data: f.user_data()?,
    })
}

pub(crate) fn unbind(params: &[(String, String)]) -> Result<UnbindCmd> {
    // subscriptionId wins when both are sent.
    if let Some(sid) = param(params, "subscriptionId") {
        return check_subscription_id(sid).map(UnbindCmd::BySubscription);
    }
    if let Some(x) = param(params, "relationNum") {
        return check_phone("relationNum", x).map(UnbindCmd::ByRelation);
    }
    Err(Rejection::invalid(
        "subscriptionId",
        "subscriptionId or relationNum is required",
    ))
}

pub(crate) fn query(params: &[(String, String)]) -> Result<QueryCmd> {
    let subscription_id = param(params, "subscriptionId")
        .map(check_subscription_id)
        .transpose()?;
    let relation_num = param(params, "relationNum")
        .map(|v| check_phone("relationNum", v))
        .transpose()?;
    if subscription_id.is_none() && relation_num.is_none() {
        return Err(Rejection::invalid(
            "subscriptionId",
            "subscriptionId or relationNum is required",
        ));
    }
    let page_index = match param(params, "pageIndex") {
        None => 1,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => return Err(Rejection::invalid("pageIndex", "must be an integer >= 1")),
        },
    };
    // Out of range (or unreadable) sizes fall back to 50, as the platform documents.
    let page_size = param(params, "pageSize")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| (10..=100).contains(n))
        .unwrap_or(50);
    Ok(QueryCmd {
        subscription_id,
        relation_num,
        caller: param(params, "callerNum")
            .map(|v| check_phone("callerNum", v))
            .transpose()?,
        callee: param(params, "calleeNum")
            .map(|v| check_phone("calleeNum", v))
            .transpose()?,
        page_index,
        page_size,
    })
}

/// `recordDomain` and `fileName`, both 1..=128.
pub(crate) fn record_url(params: &[(String, String)]) -> Result<(String, String)> {
    let get = |name: &str| {
        param(params, name)
            .ok_or_else(|| Rejection::invalid(name, "is required"))
            .and_then(|v| check_text(name, v, 1, 128))
    };
    Ok((get("recordDomain")?, get("fileName")?))
}

/// `{"sessionid": "...", "signal": "call_stop"}` -> the session id.
pub(crate) fn call_stop(body: &Map<String, Value>) -> Result<String> {
    let f = Fields(body);
    let session = f
        .text("sessionid", 1, 256)?
        .ok_or_else(|| Rejection::invalid("sessionid", "is required"))?;
    match f.string("signal")? {
        Some("call_stop") => Ok(session),
        _ => Err(Rejection::invalid("signal", "must be \"call_stop\"")),
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
