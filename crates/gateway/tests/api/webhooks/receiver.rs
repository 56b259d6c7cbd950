//! A real HTTP receiver (wiremock on a port) and the Standard Webhooks verification, written here
//! from the specification rather than borrowed from the gateway.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::TestApp;

/// Verifies a request as a Standard Webhooks receiver would: the key is the base64 after `whsec_`,
/// the signed content `{webhook-id}.{webhook-timestamp}.{body}`, any `v1,` signature may match, and
/// the timestamp must be within five minutes.
pub fn verify(secret: &str, request: &Request) -> bool {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (id, timestamp, signatures) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let Ok(ts) = timestamp.parse::<i64>() else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - ts).abs() > 300 {
        return false;
    }
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ secret"))
        .expect("base64 key");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&request.body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    signatures
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == expected)
}

pub fn webhook_id(request: &Request) -> String {
    request.headers["webhook-id"].to_str().unwrap().to_owned()
}

pub fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).expect("JSON body")
}

/// A receiver answering `status` to every POST.
pub async fn receiver(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

/// Waits until the receiver has seen `n` requests (or panics after `within`).
pub async fn wait_for(server: &MockServer, n: usize, within: Duration) -> Vec<Request> {
    let deadline = Instant::now() + within;
    loop {
        let got = server.received_requests().await.unwrap_or_default();
        if got.len() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "receiver got {} of {n} requests",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl TestApp {
    /// Registers `url` for `events` with `token`; returns the endpoint as created (with its secret).
    pub async fn webhook(&self, token: &str, url: &str, events: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/v1/webhooks", self.address))
            .bearer_auth(token)
            .json(&json!({"url": url, "events": events}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    /// A receiver answering 204, registered for `events` with `token`; returns it and its secret.
    pub async fn listen(&self, token: &str, events: Value) -> (MockServer, String) {
        let server = receiver(204).await;
        let endpoint = self.webhook(token, &server.uri(), events).await;
        let secret = endpoint["secret"].as_str().expect("secret").to_owned();
        (server, secret)
    }

    pub async fn deliveries(&self, token: &str, endpoint: &str) -> Vec<Value> {
        let page: Value = self
            .get(token, &format!("/v1/webhooks/{endpoint}/deliveries"))
            .await
            .json()
            .await
            .unwrap();
        page["items"].as_array().expect("items").clone()
    }
}
