//! A webhook receiver on loopback (wiremock answering 204) that notes, per arrival, the
//! `webhook-id` and the call's `sessionId`, and the lag from when that call's callback was sent.
//! Shared by the webhooks scenario and the faults run.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use hdrhistogram::Histogram;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::driver::histogram;

/// What the receiver saw.
pub struct Seen {
    /// Call session -> when the callback that settles it was sent (set by the load).
    pub sent: HashMap<String, Instant>,
    /// Arrivals per `webhook-id` (more than 1: a redelivery, which at-least-once allows).
    pub arrivals: HashMap<String, u64>,
    /// Call session -> the distinct `webhook-id`s of its events (more than 1: a duplicated event).
    pub sessions: HashMap<String, HashSet<String>>,
    /// Lag of first arrivals whose send time is known, in microseconds.
    pub lag: Histogram<u64>,
    pub last: Option<Instant>,
}

impl Seen {
    pub fn distinct(&self) -> u64 {
        self.arrivals.len() as u64
    }

    pub fn repeats(&self) -> u64 {
        self.arrivals.values().map(|n| n - 1).sum()
    }
}

#[derive(Clone)]
struct Recorder(Arc<Mutex<Seen>>);

impl Respond for Recorder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let now = Instant::now();
        let id = request
            .headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let session = serde_json::from_slice::<Value>(&request.body)
            .ok()
            .and_then(|e| e["data"]["sessionId"].as_str().map(str::to_owned));
        let mut seen = self.0.lock().expect("receiver lock");
        let arrivals = seen.arrivals.entry(id.clone()).or_default();
        *arrivals += 1;
        if *arrivals == 1 {
            if let Some(session) = session {
                if let Some(sent) = seen.sent.get(&session).copied() {
                    let micros = u64::try_from((now - sent).as_micros()).unwrap_or(u64::MAX);
                    seen.lag.saturating_record(micros.max(1));
                }
                seen.sessions.entry(session).or_default().insert(id);
            }
            seen.last = Some(now);
        }
        ResponseTemplate::new(204)
    }
}

pub struct WebhookReceiver {
    server: MockServer,
    seen: Arc<Mutex<Seen>>,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let seen = Arc::new(Mutex::new(Seen {
            sent: HashMap::new(),
            arrivals: HashMap::new(),
            sessions: HashMap::new(),
            lag: histogram(),
            last: None,
        }));
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        Mock::given(wiremock::matchers::method("POST"))
            .respond_with(Recorder(seen.clone()))
            .mount(&server)
            .await;
        Self { server, seen }
    }

    pub fn seen(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().expect("receiver lock")
    }

    /// A cheap handle for load workers to note send times with.
    pub fn sent_log(&self) -> SentLog {
        SentLog(self.seen.clone())
    }

    /// Registers this receiver with the gateway for `events`, as the app of `token`.
    pub async fn subscribe(
        &self,
        client: &reqwest::Client,
        gateway_url: &str,
        token: &str,
        events: &[&str],
    ) -> anyhow::Result<()> {
        let created = client
            .post(format!("{gateway_url}/v1/webhooks"))
            .bearer_auth(token)
            .json(&json!({"url": self.server.uri(), "events": events}))
            .send()
            .await?;
        anyhow::ensure!(
            created.status() == 201,
            "creating the webhook endpoint: {} {}",
            created.status(),
            created.text().await.unwrap_or_default()
        );
        Ok(())
    }
}

#[derive(Clone)]
pub struct SentLog(Arc<Mutex<Seen>>);

impl SentLog {
    pub fn sent<'a>(&self, sessions: impl IntoIterator<Item = &'a str>, at: Instant) {
        let mut seen = self.0.lock().expect("receiver lock");
        for s in sessions {
            seen.sent.insert(s.to_owned(), at);
        }
    }
}
