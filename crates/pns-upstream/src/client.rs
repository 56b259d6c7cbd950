//! `HuaweiClient`: the one executor that signs, sends, reads and retries.

use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pns_core::aksk::Credentials;
use pns_core::phone::{PhoneNumber, mask};
use pns_core::result_code::{ResultClass, ResultCode};
use pns_core::types::SubscriptionId;
use pns_core::wire::{BindRequest, BindResponse, ModifyRequest, QueryParams, QueryResponse};
use reqwest::header::LOCATION;
use url::Url;

use crate::request::ApiRequest;
use crate::response::{self, RawResponse};
use crate::retry::RetryPolicy;
use crate::{Upstream, UpstreamError};

/// Answers are small JSON documents; anything bigger is not the platform talking.
const MAX_BODY_BYTES: usize = 1 << 20;

#[derive(Clone)]
pub struct ClientConfig {
    /// The app's access address from the console, e.g. `https://rtcpns.cn-north-1.myhuaweicloud.com`.
    pub base_url: Url,
    pub credentials: Credentials,
    pub connect_timeout: Duration,
    /// For the whole exchange, body included; per attempt.
    pub timeout: Duration,
    /// Trusted in addition to the built-in roots (a private CA in front of the platform, or a test server).
    pub extra_root_ca_pem: Option<Vec<u8>>,
    /// Extra attempts for idempotent operations; 0 disables retries.
    pub max_retries: u32,
    pub retry_base_delay: Duration,
}

impl ClientConfig {
    /// Defaults that suit the production platform: 3 s to connect, 10 s per attempt, 2 retries from 200 ms.
    pub fn new(base_url: Url, credentials: Credentials) -> Self {
        Self {
            base_url,
            credentials,
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
            extra_root_ca_pem: None,
            max_retries: 2,
            retry_base_delay: Duration::from_millis(200),
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url.as_str())
            .field("credentials", &self.credentials)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field(
                "extra_root_ca_pem",
                &self
                    .extra_root_ca_pem
                    .as_ref()
                    .map(|p| format!("{} bytes", p.len())),
            )
            .field("max_retries", &self.max_retries)
            .field("retry_base_delay", &self.retry_base_delay)
            .finish()
    }
}

/// The Huawei PrivateNumber client. Cheap to share: hold it as `Arc<dyn Upstream>`; one connection pool.
#[derive(Debug)]
pub struct HuaweiClient {
    http: reqwest::Client,
    base_url: Url,
    credentials: Credentials,
    retry: RetryPolicy,
}

impl HuaweiClient {
    pub fn new(cfg: ClientConfig) -> Result<Self, UpstreamError> {
        if !matches!(cfg.base_url.scheme(), "https" | "http") {
            return Err(UpstreamError::Transport(format!(
                "base_url must be http(s), got {}",
                cfg.base_url.scheme()
            )));
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            // The recording URL is the 301's Location: following it would download the file instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pns-upstream/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &cfg.extra_root_ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| UpstreamError::Decode(format!("extra_root_ca_pem: {e}")))?;
            if certs.is_empty() {
                return Err(UpstreamError::Decode(
                    "extra_root_ca_pem holds no certificate".into(),
                ));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| UpstreamError::Transport(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base_url: cfg.base_url,
            credentials: cfg.credentials,
            retry: RetryPolicy {
                max_retries: cfg.max_retries,
                base_delay: cfg.retry_base_delay,
            },
        })
    }

    /// Sends `req` (again, with a fresh signature, while the retry policy allows) and parses the answer.
    async fn call<T>(
        &self,
        req: ApiRequest,
        parse: fn(&RawResponse) -> Result<T, UpstreamError>,
    ) -> Result<T, UpstreamError> {
        let operation = req.operation.as_str();
        let mut retries_done = 0;
        loop {
            let started = Instant::now();
            let result = self.send_once(&req).await.and_then(|raw| parse(&raw));
            record_metrics(operation, &result, started.elapsed());
            let err = match result {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            let Some(delay) = self.retry.next_delay(req.operation, &err, retries_done) else {
                log_failure(operation, retries_done + 1, &err);
                return Err(err);
            };
            retries_done += 1;
            tracing::info!(
                operation,
                retry = retries_done,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %err,
                "retrying upstream call"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn send_once(&self, req: &ApiRequest) -> Result<RawResponse, UpstreamError> {
        // Signed per attempt: the platform rejects a nonce it has already seen.
        let signed = req.sign(&self.base_url, &self.credentials.sign_now())?;
        let mut builder = self
            .http
            .request(signed.method, signed.url)
            .headers(signed.headers);
        if let Some(body) = signed.body {
            builder = builder.body(body);
        }
        let mut resp = builder.send().await.map_err(transport_error)?;
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get(LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(UpstreamError::Decode(format!(
                    "answer larger than {MAX_BODY_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(
            operation = req.operation.as_str(),
            status,
            "upstream answered"
        );
        Ok(RawResponse {
            status,
            location,
            body,
        })
    }
}

#[async_trait]
impl Upstream for HuaweiClient {
    #[tracing::instrument(name = "upstream.bind", skip_all, fields(
        relation_num = req.relation_num.as_deref().map(mask),
        caller = %mask(&req.caller_num),
        callee = %mask(&req.callee_num),
    ))]
    async fn bind(&self, req: &BindRequest) -> Result<BindResponse, UpstreamError> {
        self.call(ApiRequest::bind(req)?, response::parse_bind)
            .await
    }

    #[tracing::instrument(name = "upstream.modify", skip_all, fields(
        subscription_id = %req.subscription_id,
        caller = req.caller_num.as_deref().map(mask),
        callee = req.callee_num.as_deref().map(mask),
    ))]
    async fn modify(&self, req: &ModifyRequest) -> Result<(), UpstreamError> {
        self.call(ApiRequest::modify(req)?, response::parse_ok)
            .await
    }

    #[tracing::instrument(name = "upstream.unbind", skip_all, fields(subscription_id = %subscription_id))]
    async fn unbind(&self, subscription_id: &SubscriptionId) -> Result<(), UpstreamError> {
        self.call(ApiRequest::unbind(subscription_id)?, response::parse_ok)
            .await
    }

    #[tracing::instrument(name = "upstream.unbind_all_on_x", skip_all, fields(relation_num = %relation_num))]
    async fn unbind_all_on_x(&self, relation_num: &PhoneNumber) -> Result<(), UpstreamError> {
        // Loud on purpose: this removes every binding on X.
        tracing::warn!("removing every binding on a virtual number");
        self.call(
            ApiRequest::unbind_all_on_x(relation_num)?,
            response::parse_ok,
        )
        .await
    }

    #[tracing::instrument(name = "upstream.query", skip_all, fields(
        subscription_id = params.subscription_id.as_deref(),
        relation_num = params.relation_num.as_deref().map(mask),
        page_index = params.page_index,
    ))]
    async fn query(&self, params: &QueryParams) -> Result<QueryResponse, UpstreamError> {
        self.call(ApiRequest::query(params)?, response::parse_query)
            .await
    }

    #[tracing::instrument(name = "upstream.record_url", skip_all, fields(record_domain = %record_domain, file_name = %file_name))]
    async fn record_url(
        &self,
        record_domain: &str,
        file_name: &str,
    ) -> Result<String, UpstreamError> {
        self.call(
            ApiRequest::record_url(record_domain, file_name)?,
            response::parse_redirect,
        )
        .await
    }

    #[tracing::instrument(name = "upstream.stop_call", skip_all, fields(session_id = %session_id))]
    async fn stop_call(&self, session_id: &str) -> Result<(), UpstreamError> {
        self.call(ApiRequest::stop_call(session_id)?, response::parse_ok)
            .await
    }
}

/// reqwest's message names the URL, whose query holds real phone numbers: drop it, keep the cause chain.
fn transport_error(err: reqwest::Error) -> UpstreamError {
    if err.is_timeout() {
        return UpstreamError::Timeout;
    }
    let err = err.without_url();
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    UpstreamError::Transport(message)
}

/// Business answers (no such binding, pair exists) are routine; our configuration being wrong is not.
fn log_failure(operation: &'static str, attempts: u32, err: &UpstreamError) {
    match err.result_code() {
        Some(
            ResultCode::AuthHeaderInvalid(_)
            | ResultCode::ClockSkew
            | ResultCode::InvalidAppKey
            | ResultCode::ApiNotAllowed
            | ResultCode::AccountFrozen,
        ) => tracing::error!(operation, attempts, error = %err, "upstream call failed"),
        Some(code) if code.class() == ResultClass::Permanent => {
            tracing::info!(operation, attempts, error = %err, "upstream call failed")
        }
        _ => tracing::warn!(operation, attempts, error = %err, "upstream call failed"),
    }
}

fn record_metrics<T>(operation: &'static str, result: &Result<T, UpstreamError>, took: Duration) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(UpstreamError::Timeout) => "timeout",
        Err(UpstreamError::Transport(_)) => "transport",
        Err(UpstreamError::Rejected { .. }) => "rejected",
        Err(UpstreamError::Decode(_)) => "decode",
    };
    // The platform's resultcode ("0" on success, empty when it did not answer): a bounded set.
    let resultcode = match result {
        Ok(_) => "0".to_owned(),
        Err(e) => e.result_code().map(ResultCode::code).unwrap_or_default(),
    };
    metrics::counter!("pns_upstream_requests_total", "operation" => operation, "outcome" => outcome, "resultcode" => resultcode)
        .increment(1);
    metrics::histogram!("pns_upstream_request_duration_seconds", "operation" => operation)
        .record(took.as_secs_f64());
}
