//! Reading platform answers: pure functions over what the executor read off the wire.

use pns_core::result_code::ResultCode;
use pns_core::wire::{BindResponse, QueryResponse};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::UpstreamError;

/// One HTTP answer, fully read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawResponse {
    pub status: u16,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// The two fields every platform answer carries; everything else is operation-specific.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    resultcode: Option<serde_json::Value>,
    #[serde(default)]
    resultdesc: Option<serde_json::Value>,
}

/// Ok only for a 2xx answer whose resultcode is "0"; a non-"0" code is `Rejected` whatever the HTTP status.
pub fn check(raw: &RawResponse) -> Result<(), UpstreamError> {
    let envelope = serde_json::from_slice::<Envelope>(&raw.body).ok();
    let code = envelope
        .as_ref()
        .and_then(|e| e.resultcode.as_ref())
        .and_then(scalar_string);
    let Some(code) = code else {
        return Err(without_result_code(raw.status));
    };
    let code = ResultCode::parse(&code);
    let is_2xx = (200..300).contains(&raw.status);
    if code.is_success() {
        return if is_2xx {
            Ok(())
        } else {
            Err(UpstreamError::Decode(format!(
                "HTTP {} with resultcode 0",
                raw.status
            )))
        };
    }
    let desc = envelope
        .and_then(|e| e.resultdesc)
        .and_then(|d| scalar_string(&d))
        .unwrap_or_default();
    Err(UpstreamError::Rejected {
        http_status: raw.status,
        code,
        desc,
    })
}

/// An answer for a write that carries nothing but the result.
pub fn parse_ok(raw: &RawResponse) -> Result<(), UpstreamError> {
    check(raw)
}

/// The bind answer; only subscriptionId and relationNum are documented for sure, so only they are required.
pub fn parse_bind(raw: &RawResponse) -> Result<BindResponse, UpstreamError> {
    let resp: BindResponse = parse_json(raw)?;
    for (field, value) in [
        ("subscriptionId", &resp.subscription_id),
        ("relationNum", &resp.relation_num),
    ] {
        if value.as_deref().is_none_or(str::is_empty) {
            return Err(UpstreamError::Decode(format!(
                "successful bind answer without {field}"
            )));
        }
    }
    Ok(resp)
}

pub fn parse_query(raw: &RawResponse) -> Result<QueryResponse, UpstreamError> {
    parse_json(raw)
}

/// The recording URL is the `Location` of a 301; the redirect is never followed (the URL is the product).
pub fn parse_redirect(raw: &RawResponse) -> Result<String, UpstreamError> {
    if (300..400).contains(&raw.status) {
        return match raw.location.as_deref().map(str::trim) {
            Some(location) if !location.is_empty() => Ok(location.to_owned()),
            _ => Err(UpstreamError::Decode(format!(
                "HTTP {} without a Location header",
                raw.status
            ))),
        };
    }
    check(raw)?;
    Err(UpstreamError::Decode(format!(
        "expected a 301 with the recording URL, got HTTP {}",
        raw.status
    )))
}

fn parse_json<T: DeserializeOwned>(raw: &RawResponse) -> Result<T, UpstreamError> {
    check(raw)?;
    // The error names the failing field (e.g. `relationNumList[3].callerNum`), not the body with its numbers.
    pns_core::wire::decode(&raw.body).map_err(|e| UpstreamError::Decode(e.to_string()))
}

fn without_result_code(status: u16) -> UpstreamError {
    match status {
        // A proxy or load balancer answered for the platform: the request may or may not have reached it.
        500..=599 => UpstreamError::Transport(format!("HTTP {status} without a resultcode")),
        300..=399 => UpstreamError::Decode(format!("unexpected redirect (HTTP {status})")),
        _ => UpstreamError::Decode(format!("HTTP {status} without a resultcode")),
    }
}

/// resultcode is documented as a string; accept a number too rather than fail on a harmless variation.
fn scalar_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
