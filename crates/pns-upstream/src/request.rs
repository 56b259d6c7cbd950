//! Building platform requests: pure functions, no network. The executor in `client.rs` signs a fresh copy per
//! attempt (new nonce) and sends it.

use std::fmt;

use pns_core::aksk::SignedHeaders;
use pns_core::phone::PhoneNumber;
use pns_core::types::SubscriptionId;
use pns_core::wire::{
    BIND_PATH, BindRequest, CALL_STOP_PATH, CallStopRequest, ModifyRequest, QueryParams,
    RECORD_URL_PATH, RecordUrlParams, UnbindParams,
};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use url::Url;

use crate::UpstreamError;

pub const X_AKSK: HeaderName = HeaderName::from_static("x-aksk");
pub const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// The platform operations, named for logs and for the retry decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    Bind,
    Modify,
    Unbind,
    UnbindAllOnX,
    Query,
    RecordUrl,
    StopCall,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bind => "bind",
            Self::Modify => "modify",
            Self::Unbind => "unbind",
            Self::UnbindAllOnX => "unbind_all_on_x",
            Self::Query => "query",
            Self::RecordUrl => "record_url",
            Self::StopCall => "stop_call",
        }
    }

    /// Whether repeating the request after an unknown outcome cannot change the result.
    /// bind would create a second binding, modify restarts the expiry timer, stop_call may hit a later call;
    /// unbind_all_on_x is idempotent in theory, but a delayed retry would also remove bindings made in between.
    pub fn is_retry_safe(self) -> bool {
        matches!(self, Self::Query | Self::RecordUrl | Self::Unbind)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request to the platform, complete except for the per-attempt signature.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiRequest {
    pub operation: Operation,
    pub method: Method,
    pub path: &'static str,
    /// Already form-encoded (`+` as `%2B`).
    pub query: Option<String>,
    pub body: Option<Vec<u8>>,
}

// Query strings and bodies carry real phone numbers, so Debug shows only their size.
impl fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiRequest")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query_len", &self.query.as_ref().map(String::len))
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// A signed request ready for the executor.
#[derive(Clone)]
pub struct SignedRequest {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
}

impl ApiRequest {
    pub fn bind(req: &BindRequest) -> Result<Self, UpstreamError> {
        Self::json(Operation::Bind, Method::POST, BIND_PATH, req)
    }

    pub fn modify(req: &ModifyRequest) -> Result<Self, UpstreamError> {
        Self::json(Operation::Modify, Method::PUT, BIND_PATH, req)
    }

    /// Removes one binding. relationNum is never sent: alone it would remove every binding on X.
    pub fn unbind(subscription_id: &SubscriptionId) -> Result<Self, UpstreamError> {
        let params = UnbindParams {
            subscription_id: Some(subscription_id.as_str().to_owned()),
            relation_num: None,
        };
        Self::form(Operation::Unbind, Method::DELETE, BIND_PATH, &params)
    }

    /// Removes EVERY binding on X (the platform's relationNum-only DELETE).
    pub fn unbind_all_on_x(relation_num: &PhoneNumber) -> Result<Self, UpstreamError> {
        let params = UnbindParams {
            subscription_id: None,
            relation_num: Some(relation_num.as_str().to_owned()),
        };
        Self::form(Operation::UnbindAllOnX, Method::DELETE, BIND_PATH, &params)
    }

    pub fn query(params: &QueryParams) -> Result<Self, UpstreamError> {
        Self::form(Operation::Query, Method::GET, BIND_PATH, params)
    }

    pub fn record_url(record_domain: &str, file_name: &str) -> Result<Self, UpstreamError> {
        let params = RecordUrlParams {
            record_domain: record_domain.to_owned(),
            file_name: file_name.to_owned(),
        };
        Self::form(Operation::RecordUrl, Method::GET, RECORD_URL_PATH, &params)
    }

    pub fn stop_call(session_id: &str) -> Result<Self, UpstreamError> {
        let body = CallStopRequest::new(session_id);
        Self::json(Operation::StopCall, Method::POST, CALL_STOP_PATH, &body)
    }

    /// The full URL: `base` may carry a path prefix (e.g. behind a proxy), which is kept.
    pub fn url(&self, base: &Url) -> Url {
        let mut url = base.clone();
        let path = format!("{}{}", base.path().trim_end_matches('/'), self.path);
        url.set_path(&path);
        url.set_fragment(None);
        // set_query keeps our percent-escapes as they are, so `%2B` reaches the wire untouched.
        url.set_query(self.query.as_deref());
        url
    }

    /// Attaches the platform's headers. `signed` must be fresh for every attempt (the nonce is single-use).
    pub fn sign(&self, base: &Url, signed: &SignedHeaders) -> Result<SignedRequest, UpstreamError> {
        let mut headers = HeaderMap::with_capacity(3);
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static(signed.authorization),
        );
        // Fails only if the app key holds control characters: a configuration error, not a transport one.
        let x_aksk = HeaderValue::from_str(&signed.x_aksk).map_err(|_| {
            UpstreamError::Transport("the app key cannot be sent in an X-AKSK header".into())
        })?;
        headers.insert(X_AKSK, x_aksk);
        // The samples send the JSON content type on every method, bodiless ones included.
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
        Ok(SignedRequest {
            method: self.method.clone(),
            url: self.url(base),
            headers,
            body: self.body.clone(),
        })
    }

    fn json<T: Serialize>(
        operation: Operation,
        method: Method,
        path: &'static str,
        body: &T,
    ) -> Result<Self, UpstreamError> {
        let body = serde_json::to_vec(body)
            .map_err(|e| UpstreamError::Decode(format!("encoding the {operation} body: {e}")))?;
        Ok(Self {
            operation,
            method,
            path,
            query: None,
            body: Some(body),
        })
    }

    fn form<T: Serialize>(
        operation: Operation,
        method: Method,
        path: &'static str,
        params: &T,
    ) -> Result<Self, UpstreamError> {
        let query = serde_urlencoded::to_string(params)
            .map_err(|e| UpstreamError::Decode(format!("encoding the {operation} query: {e}")))?;
        Ok(Self {
            operation,
            method,
            path,
            query: (!query.is_empty()).then_some(query),
            body: None,
        })
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
