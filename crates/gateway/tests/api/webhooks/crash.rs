//! The real binary killed with SIGKILL while an event waits for a receiver that is down: after a
//! restart on the same database the event is delivered, with the same `webhook-id`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::receiver::{body, verify, wait_for, webhook_id};
use crate::ops::process::{Gateway, jwt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_pending_at_sigkill_is_delivered_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        (
            "PNS_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("pns.db").display()),
        ),
        (
            "PNS_WEBHOOK_RETRY_SCHEDULE_SECS",
            "0,1,1,1,1,1,1,1,1,1".into(),
        ),
        ("PNS_WEBHOOK_POLL_INTERVAL_MS", "50".into()),
        ("PNS_WEBHOOK_TIMEOUT_SECS", "2".into()),
    ];
    // The receiver's port, with nobody listening on it yet.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}/hook");

    let mut gateway = Gateway::start(&env);
    let client = reqwest::Client::new();
    let token = jwt()
        .mint("crash-app", "bindings:read bindings:write", 600)
        .unwrap();
    let endpoint: Value = client
        .post(format!("{}/v1/webhooks", gateway.address))
        .bearer_auth(&token)
        .json(&json!({"url": url, "events": ["binding.created"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let endpoint_id = endpoint["id"]
        .as_str()
        .expect("endpoint created")
        .to_owned();
    let bind = client
        .post(format!("{}/v1/bindings", gateway.address))
        .bearer_auth(&token)
        .json(&json!({"callerNum": "+8618620000001", "calleeNum": "+8618620000002"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bind.status(), 201, "{}", gateway.output());
    let binding: Value = bind.json().await.unwrap();

    // The first attempt fails (connection refused) and is logged; then the process dies.
    let deliveries = format!("{}/v1/webhooks/{endpoint_id}/deliveries", gateway.address);
    let deadline = Instant::now() + Duration::from_secs(20);
    let event_id = loop {
        let page: Value = client
            .get(&deliveries)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let first = &page["items"][0];
        if first["attempts"].as_array().is_some_and(|a| !a.is_empty()) {
            assert_eq!(first["status"], "pending", "{page}");
            break first["eventId"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "no attempt logged: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    gateway.sigkill();

    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let server = MockServer::builder().listener(listener).start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let restarted = Gateway::start(&env);
    let requests = wait_for(&server, 1, Duration::from_secs(30)).await;
    assert!(verify(endpoint["secret"].as_str().unwrap(), &requests[0]));
    assert_eq!(webhook_id(&requests[0]), event_id, "the same webhook-id");
    let event = body(&requests[0]);
    assert_eq!(event["type"], "binding.created");
    assert_eq!(event["data"], binding);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    drop(restarted);
}
