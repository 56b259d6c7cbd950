//! Delivery: signed with the Standard Webhooks algorithm, retried with the same `webhook-id`, the log
//! showing every attempt, `410` and exhausted schedules, `Retry-After`, and two instances sharing
//! one PostgreSQL delivering each event once.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use gateway::db::entity::webhook_endpoints;
use gateway::service::webhooks::outbox::{self, Event, EventData, EventType};
use gateway::settings::RawSettings;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::receiver::{body, receiver, verify, wait_for, webhook_id};
use crate::both_backends;
use crate::helpers::{Backend, TestApp, Upstream, spawn_app_with, spawn_on};

fn fast(schedule: &'static str) -> impl FnOnce(&mut RawSettings) {
    move |raw: &mut RawSettings| {
        raw.webhook_retry_schedule_secs = schedule.into();
        raw.webhook_poll_interval_ms = 50;
        raw.webhook_timeout_secs = 2;
    }
}

/// Writes one event to the outbox, as a binding write would; its id, or `None` when no enabled
/// endpoint of the app could receive it (nothing is written then).
async fn emit(app: &TestApp, app_id: &str, binding: Uuid, event_type: EventType) -> Option<Uuid> {
    let event = Event {
        event_type,
        app_id: Some(app_id.to_owned()),
        binding_id: Some(binding),
        data: EventData::Json(json!({"id": binding, "status": "active"})),
    };
    outbox::record(&app.state.db, event).await.expect("outbox")
}

async fn wait_until(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

both_backends!(
    a_receiver_failing_twice_gets_the_same_signed_event_three_times,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, fast("0,1,1")).await else {
            return;
        };
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::method("POST"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(2)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(wiremock::matchers::method("POST"))
            .respond_with(ResponseTemplate::new(204))
            .with_priority(2)
            .mount(&server)
            .await;
        let one = app.writer("app-1");
        let endpoint = app.webhook(&one, &server.uri(), json!([])).await;
        let secret = endpoint["secret"].as_str().unwrap();
        let binding = Uuid::new_v4();
        let event = emit(&app, "app-1", binding, EventType::BindingCreated)
            .await
            .expect("the app's endpoint receives it");

        let requests = wait_for(&server, 3, Duration::from_secs(15)).await;
        assert_eq!(requests.len(), 3);
        for request in &requests {
            assert!(verify(secret, request), "signature does not verify");
            assert_eq!(webhook_id(request), event.to_string());
            let payload = body(request);
            assert_eq!(payload["type"], "binding.created");
            assert_eq!(payload["bindingId"], json!(binding));
            assert_eq!(payload["sequence"], 1);
            assert_eq!(payload["data"]["id"], json!(binding));
        }

        let id = endpoint["id"].as_str().unwrap();
        let mut log = Vec::new();
        wait_until("the delivery log", Duration::from_secs(5), async || {
            log = app.deliveries(&one, id).await;
            log.first().is_some_and(|d| d["status"] == "delivered")
        })
        .await;
        let statuses: Vec<Value> = log[0]["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["httpStatus"].clone())
            .collect();
        assert_eq!(statuses, [json!(500), json!(500), json!(204)]);
        assert_eq!(log[0]["eventId"], json!(event));
        assert_eq!(log[0]["eventType"], "binding.created");
        // The failures are forgotten once a delivery succeeds.
        let fetched: Value = app
            .get(&one, &format!("/v1/webhooks/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(fetched["failingSince"], Value::Null);

        // Metrics count attempts by outcome.
        let metrics = app.metrics().await;
        assert!(metrics.contains("pns_webhook_deliveries_total{outcome=\"retrying\"}"));
        assert!(metrics.contains("pns_webhook_deliveries_total{outcome=\"delivered\"}"));
        assert!(metrics.contains("pns_webhook_backlog "));
        assert!(metrics.contains("pns_webhook_backlog_oldest_seconds "));
    }
);

both_backends!(
    events_reach_only_their_apps_endpoints_in_sequence,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, fast("0")).await else {
            return;
        };
        let (mine, theirs, all) = (
            receiver(200).await,
            receiver(200).await,
            receiver(200).await,
        );
        let endpoint = app
            .webhook(&app.writer("app-1"), &mine.uri(), json!(["binding.*"]))
            .await;
        app.webhook(&app.writer("app-2"), &theirs.uri(), json!([]))
            .await;
        app.webhook(&app.admin(), &all.uri(), json!(["binding.updated"]))
            .await;
        let binding = Uuid::new_v4();
        emit(&app, "app-1", binding, EventType::BindingCreated).await;
        emit(&app, "app-1", binding, EventType::BindingUpdated).await;
        emit(&app, "app-1", binding, EventType::CallCompleted).await;

        let got = wait_for(&mine, 2, Duration::from_secs(10)).await;
        let admin = wait_for(&all, 1, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut sequences: Vec<(String, i64)> = mine
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| {
                let b = body(r);
                (
                    b["type"].as_str().unwrap().to_owned(),
                    b["sequence"].as_i64().unwrap(),
                )
            })
            .collect();
        sequences.sort_by_key(|(_, s)| *s);
        assert_eq!(
            sequences,
            [
                ("binding.created".to_owned(), 1),
                ("binding.updated".to_owned(), 2)
            ],
            "call.completed is not subscribed"
        );
        assert_eq!(got.len(), 2);
        assert_eq!(body(&admin[0])["type"], "binding.updated");
        assert_eq!(all.received_requests().await.unwrap().len(), 1);
        assert!(
            theirs.received_requests().await.unwrap().is_empty(),
            "another app's events leaked"
        );
        // The delivery log pages newest first, one delivery per page, each once.
        let path = format!(
            "/v1/webhooks/{}/deliveries",
            endpoint["id"].as_str().unwrap()
        );
        let log = app.all_pages(&app.writer("app-1"), &path, 1).await;
        let types: Vec<&str> = log
            .iter()
            .map(|d| d["eventType"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["binding.updated", "binding.created"], "{log:?}");
    }
);

both_backends!(
    gone_disables_exhausted_fails_and_a_manual_retry_resends,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, fast("0")).await else {
            return;
        };
        let one = app.writer("app-1");
        let gone = receiver(410).await;
        let endpoint = app.webhook(&one, &gone.uri(), json!([])).await;
        let id = endpoint["id"].as_str().unwrap().to_owned();
        emit(&app, "app-1", Uuid::new_v4(), EventType::BindingCreated).await;
        wait_until(
            "the endpoint disabled",
            Duration::from_secs(10),
            async || {
                let e: Value = app
                    .get(&one, &format!("/v1/webhooks/{id}"))
                    .await
                    .json()
                    .await
                    .unwrap();
                e["enabled"] == false
            },
        )
        .await;
        let e: Value = app
            .get(&one, &format!("/v1/webhooks/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert!(e["disabledReason"].as_str().unwrap().contains("410"));
        // A disabled endpoint receives nothing more: with no other endpoint nothing is even written.
        let unwanted = emit(&app, "app-1", Uuid::new_v4(), EventType::BindingCreated).await;
        assert_eq!(unwanted, None);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(gone.received_requests().await.unwrap().len(), 1);
        app.delete(&one, &format!("/v1/webhooks/{id}")).await;

        // One attempt in the schedule: a 500 marks the delivery failed, and it is kept.
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::method("POST"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(wiremock::matchers::method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .with_priority(2)
            .mount(&server)
            .await;
        let endpoint = app.webhook(&one, &server.uri(), json!([])).await;
        let id = endpoint["id"].as_str().unwrap().to_owned();
        emit(&app, "app-1", Uuid::new_v4(), EventType::BindingCreated).await;
        let mut log = Vec::new();
        wait_until("the delivery failed", Duration::from_secs(10), async || {
            log = app.deliveries(&one, &id).await;
            log.first().is_some_and(|d| d["status"] == "failed")
        })
        .await;
        let e: Value = app
            .get(&one, &format!("/v1/webhooks/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert!(e["failingSince"].is_string());
        assert_eq!(e["enabled"], true);
        let failed: Value = app
            .get(&one, &format!("/v1/webhooks/{id}/deliveries?status=failed"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(failed["items"].as_array().unwrap().len(), 1);

        let delivery = log[0]["id"].as_str().unwrap();
        let retry = format!("/v1/webhooks/{id}/deliveries/{delivery}/retry");
        assert_eq!(
            app.post_json(&app.writer("app-2"), &retry, &json!({}))
                .await
                .status(),
            404
        );
        assert_eq!(app.post_json(&one, &retry, &json!({})).await.status(), 202);
        let requests = wait_for(&server, 2, Duration::from_secs(10)).await;
        assert_eq!(webhook_id(&requests[0]), webhook_id(&requests[1]));
        wait_until("the retried delivery", Duration::from_secs(5), async || {
            app.deliveries(&one, &id).await[0]["status"] == "delivered"
        })
        .await;
    }
);

both_backends!(
    an_endpoint_failing_for_days_is_disabled_and_says_so,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, fast("0,0,0")).await else {
            return;
        };
        let one = app.writer("app-1");
        let server = receiver(500).await;
        let endpoint = app.webhook(&one, &server.uri(), json!([])).await;
        let id: Uuid = endpoint["id"].as_str().unwrap().parse().unwrap();
        // It has been failing for six days already.
        webhook_endpoints::ActiveModel {
            id: Set(id),
            failing_since: Set(Some(chrono::Utc::now() - chrono::Duration::days(6))),
            ..Default::default()
        }
        .update(&app.state.db)
        .await
        .unwrap();
        emit(&app, "app-1", Uuid::new_v4(), EventType::BindingCreated).await;
        let mut e = Value::Null;
        wait_until(
            "the endpoint disabled",
            Duration::from_secs(10),
            async || {
                e = app
                    .get(&one, &format!("/v1/webhooks/{id}"))
                    .await
                    .json()
                    .await
                    .unwrap();
                e["enabled"] == false
            },
        )
        .await;
        assert!(
            e["disabledReason"]
                .as_str()
                .unwrap()
                .contains("failed since"),
            "{e}"
        );
        // Re-enabling starts afresh.
        let enabled: Value = app
            .patch(
                &one,
                &format!("/v1/webhooks/{id}"),
                &json!({"enabled": true}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (enabled["enabled"].clone(), enabled["failingSince"].clone()),
            (json!(true), Value::Null)
        );
    }
);

both_backends!(
    retry_after_is_honoured_and_rotation_signs_with_both_secrets,
    |backend: Backend| async move {
        // The schedule alone would wait an hour before the second attempt.
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, fast("0,3600")).await else {
            return;
        };
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(wiremock::matchers::method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .with_priority(2)
            .mount(&server)
            .await;
        let one = app.writer("app-1");
        let endpoint = app.webhook(&one, &server.uri(), json!([])).await;
        let id = endpoint["id"].as_str().unwrap();
        let old = endpoint["secret"].as_str().unwrap().to_owned();
        let rotated: Value = app
            .post_json(
                &one,
                &format!("/v1/webhooks/{id}/rotate-secret"),
                &json!({}),
            )
            .await
            .json()
            .await
            .unwrap();
        let new = rotated["secret"].as_str().unwrap().to_owned();
        emit(&app, "app-1", Uuid::new_v4(), EventType::BindingCreated).await;
        let requests = wait_for(&server, 2, Duration::from_secs(10)).await;
        let header = requests[1].headers["webhook-signature"].to_str().unwrap();
        assert_eq!(header.split(' ').count(), 2, "{header}");
        assert!(verify(&old, &requests[1]) && verify(&new, &requests[1]));
        assert!(!verify(
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            &requests[1]
        ));
    }
);

/// Two gateways on one PostgreSQL: every event reaches the receiver exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_deliver_each_event_once() {
    let Some(one) = spawn_app_with(Backend::Postgres, Upstream::Sandbox, fast("0,1")).await else {
        return;
    };
    let two = spawn_on(
        one.database_url.clone(),
        tempfile::tempdir().unwrap(),
        Upstream::Sandbox,
        fast("0,1"),
    )
    .await
    .unwrap();
    let server = receiver(200).await;
    one.webhook(&one.writer("app-1"), &server.uri(), json!([]))
        .await;
    let mut sent = HashSet::new();
    for i in 0..60 {
        let app = if i % 2 == 0 { &one } else { &two };
        sent.insert(
            emit(app, "app-1", Uuid::new_v4(), EventType::CallCompleted)
                .await
                .expect("the endpoint receives it")
                .to_string(),
        );
    }
    let requests = wait_for(&server, 60, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let requests = server.received_requests().await.unwrap_or(requests);
    let ids: Vec<String> = requests.iter().map(webhook_id).collect();
    let distinct: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(distinct, sent);
    assert_eq!(ids.len(), 60, "some event was delivered twice");
}

both_backends!(
    without_an_endpoint_nothing_is_written_and_a_new_one_gets_later_changes,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, fast("0")).await else {
            return;
        };
        let one = app.writer("app-1");
        // Another app's endpoint does not make app-1's changes worth writing.
        let two = app.writer("app-2");
        let other = receiver(204).await;
        app.webhook(&two, &other.uri(), json!([])).await;
        let first = app
            .bind(&one, "+8618600000001", "+8618600000002", "+8617000000001")
            .await;
        assert_eq!(app.count("webhook_events").await, 0, "no outbox row");

        let mine = receiver(204).await;
        app.webhook(&one, &mine.uri(), json!([])).await;
        let path = format!("/v1/bindings/{}", first["id"].as_str().unwrap());
        assert_eq!(app.delete(&one, &path).await.status(), 200);
        let got = wait_for(&mine, 1, Duration::from_secs(10)).await;
        assert_eq!(body(&got[0])["type"], "binding.unbound");
        assert_eq!(body(&got[0])["sequence"], 1, "the first event written");
        assert!(other.received_requests().await.unwrap().is_empty());
    }
);

both_backends!(
    an_endpoint_another_instance_enables_receives_within_a_second,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, fast("0")).await else {
            return;
        };
        let one = app.writer("app-1");
        let (server, _) = app.listen(&one, json!([])).await;
        let id: Uuid = app
            .get(&one, "/v1/webhooks")
            .await
            .json::<Value>()
            .await
            .unwrap()["items"][0]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        // Another instance disables it and enables it again; this one is not told.
        let set_enabled = async |enabled: bool| {
            webhook_endpoints::ActiveModel {
                id: Set(id),
                enabled: Set(enabled),
                ..Default::default()
            }
            .update(&app.state.db)
            .await
            .unwrap();
        };
        set_enabled(false).await;
        let binding = Uuid::new_v4();
        assert_eq!(
            emit(&app, "app-1", binding, EventType::BindingCreated).await,
            None,
            "a disabled endpoint's app gets nothing written"
        );
        set_enabled(true).await;
        tokio::time::sleep(outbox::AUDIENCE_FRESH_FOR + Duration::from_millis(200)).await;
        let event = emit(&app, "app-1", binding, EventType::BindingUpdated)
            .await
            .expect("seen enabled within a second");
        let got = wait_for(&server, 1, Duration::from_secs(10)).await;
        assert_eq!(webhook_id(&got[0]), event.to_string());
        assert_eq!(body(&got[0])["type"], "binding.updated");
    }
);
