//! Platform -> app pushes: signed like the platform's (Authorization + X-AKSK with the app's own key and
//! secret), retried on a non-2xx answer or a connection error on the platform's schedule, scaled down.

pub(crate) mod calls;
pub(crate) mod cdr;
pub(crate) mod ledger;
pub(crate) mod sms;

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use serde_json::Value;

use crate::engine::Engine;
use crate::engine::state::lock;
use ledger::CdrLedger;
use sms::SmsReport;

/// The platform retries after 1, 4, 9, 106, 203 and 300 minutes; the simulator keeps the shape with one
/// platform minute = 10 ms, so tests see real redelivery without waiting hours.
const PLATFORM_RETRY_MINUTES: [u64; 6] = [1, 4, 9, 106, 203, 300];
const MILLIS_PER_PLATFORM_MINUTE: u64 = 10;
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn default_retry_delays() -> Vec<Duration> {
    PLATFORM_RETRY_MINUTES
        .iter()
        .map(|m| Duration::from_millis(m * MILLIS_PER_PLATFORM_MINUTE))
        .collect()
}

pub(crate) struct Callbacks {
    client: reqwest::Client,
    url: RwLock<Option<String>>,
    retry_delays: RwLock<Vec<Duration>>,
    cdr_queue: Mutex<VecDeque<Value>>,
    /// Serialises CDR pushes so `flush_cdrs` returns only after every earlier CDR was tried.
    cdr_push: tokio::sync::Mutex<()>,
    pub(crate) cdr_auto_push: AtomicBool,
    pub(crate) cdr_ledger: Mutex<CdrLedger>,
    pub(crate) sms_log: Mutex<Vec<SmsReport>>,
    /// (recordDomain, recordObjectName) of recorded calls, for the record URL API.
    recordings: Mutex<HashSet<(String, String)>>,
    /// The runtime that started the simulator; pushes run there whoever asks (an actix worker, a test), so
    /// pooled callback connections never outlive the runtime that drives them.
    rt: tokio::runtime::Handle,
}

/// One push: the answer that ended it, or the last failure.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub attempts: u32,
    pub outcome: Result<(u16, Vec<u8>), String>,
}

impl Callbacks {
    pub(crate) fn new(url: Option<String>) -> anyhow::Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(CALLBACK_TIMEOUT)
                .build()?,
            url: RwLock::new(url),
            retry_delays: RwLock::new(default_retry_delays()),
            cdr_queue: Mutex::default(),
            cdr_push: tokio::sync::Mutex::new(()),
            cdr_auto_push: AtomicBool::new(true),
            cdr_ledger: Mutex::default(),
            sms_log: Mutex::default(),
            recordings: Mutex::default(),
            rt: tokio::runtime::Handle::current(),
        })
    }

    pub(crate) fn url(&self) -> Option<String> {
        self.url.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set_url(&self, url: Option<String>) {
        *self.url.write().unwrap_or_else(|e| e.into_inner()) = url;
    }

    pub(crate) fn set_retry_delays(&self, delays: Vec<Duration>) {
        *self.retry_delays.write().unwrap_or_else(|e| e.into_inner()) = delays;
    }

    fn retry_delays(&self) -> Vec<Duration> {
        self.retry_delays
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn rt(&self) -> &tokio::runtime::Handle {
        &self.rt
    }

    pub(crate) fn add_recording(&self, domain: &str, object: &str) {
        lock(&self.recordings).insert((domain.to_owned(), object.to_owned()));
    }

    pub(crate) fn has_recording(&self, domain: &str, object: &str) -> bool {
        lock(&self.recordings).contains(&(domain.to_owned(), object.to_owned()))
    }

    pub(crate) fn cdrs_pending(&self) -> usize {
        lock(&self.cdr_queue).len()
    }

    pub(crate) fn auto_push(&self) -> bool {
        self.cdr_auto_push.load(Ordering::Relaxed)
    }
}

impl Engine {
    /// Posts `body` signed with the app's credentials; with `retry`, a non-2xx answer or a connection error
    /// is retried on the (scaled) platform schedule.
    pub(crate) async fn push(&self, url: &str, body: &Value, retry: bool) -> Delivery {
        let delays = if retry {
            self.callbacks.retry_delays()
        } else {
            Vec::new()
        };
        let bytes = serde_json::to_vec(body).expect("JSON values always serialise");
        let mut attempts = 0;
        loop {
            attempts += 1;
            let outcome = self.post_once(url, &bytes).await;
            let ok = matches!(&outcome, Ok((s, _)) if (200..300).contains(s));
            match delays.get(attempts as usize - 1) {
                Some(delay) if !ok => {
                    tracing::debug!(attempts, ?outcome, "callback failed; retrying");
                    tokio::time::sleep(*delay).await;
                }
                _ => {
                    let outcome = match outcome {
                        Ok((s, _)) if !ok => Err(format!("HTTP {s}")),
                        other => other,
                    };
                    return Delivery { attempts, outcome };
                }
            }
        }
    }

    async fn post_once(&self, url: &str, body: &[u8]) -> Result<(u16, Vec<u8>), String> {
        let signed = self.credentials.sign_now();
        let resp = self
            .callbacks
            .client
            .post(url)
            .header("Authorization", signed.authorization)
            .header("X-AKSK", signed.x_aksk)
            .header("Content-Type", "application/json;charset=UTF-8")
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| format!("connection error: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?;
        Ok((status, body.to_vec()))
    }

    pub(crate) fn queue_cdr(&self, record: Value) {
        lock(&self.callbacks.cdr_queue).push_back(record);
    }

    pub(crate) fn take_cdr_batch(&self) -> Vec<Value> {
        let mut q = lock(&self.callbacks.cdr_queue);
        let n = q.len().min(self.cdr_batch_max);
        q.drain(..n).collect()
    }

    pub(crate) async fn cdr_push_guard(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.callbacks.cdr_push.lock().await
    }
}
