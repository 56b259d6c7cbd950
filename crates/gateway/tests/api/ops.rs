//! What on-call and security notice: request ids, metrics, rate limits, readiness, JSON errors for
//! every refusal, masked logs, and a graceful stop on SIGTERM.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Upstream, spawn_app, spawn_app_with};

mod metrics;
pub(crate) mod process;

both_backends!(
    request_ids_are_taken_or_set_and_echoed,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let url = format!("{}/healthz", app.address);
        let taken = app
            .client
            .get(&url)
            .header("X-Request-Id", "trace-abc_123.4")
            .send()
            .await
            .unwrap();
        assert_eq!(taken.headers()["x-request-id"], "trace-abc_123.4");

        let generated = app.client.get(&url).send().await.unwrap();
        let id = generated.headers()["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

        // An id that could forge log lines is replaced, not echoed.
        let forged = app
            .client
            .get(&url)
            .header("X-Request-Id", "a\"}{\"level\":\"ERROR")
            .send()
            .await
            .unwrap();
        let id = forged.headers()["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

        // Errors carry it too, including actix's own refusals.
        let missing = app
            .client
            .get(format!("{}/nowhere", app.address))
            .header("X-Request-Id", "req-404")
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        assert_eq!(missing.headers()["x-request-id"], "req-404");
    }
);

both_backends!(
    api_is_rate_limited_per_app_with_retry_after,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, |raw| {
            raw.rate_limit_per_sec = 1;
            raw.rate_limit_burst = 3;
        })
        .await
        else {
            return;
        };
        let busy = app.writer("busy-app");
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(app.get(&busy, "/v1/bindings").await);
        }
        let limited = statuses
            .into_iter()
            .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
            .expect("a 429 after the burst");
        let retry_after: u64 = limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=2).contains(&retry_after), "{retry_after}");
        assert_eq!(
            limited.json::<Value>().await.unwrap()["code"],
            "rate_limited"
        );

        // Another app has its own budget; health and callbacks are never limited.
        let other = app.writer("quiet-app");
        assert_eq!(app.get(&other, "/v1/bindings").await.status(), 200);
        for _ in 0..6 {
            let health = app.client.get(format!("{}/healthz", app.address)).send();
            assert_eq!(health.await.unwrap().status(), 200);
            let callback = app
                .client
                .post(format!("{}/callbacks/huawei", app.address))
                .json(&json!({"eventType": "callin"}))
                .send()
                .await
                .unwrap();
            assert_ne!(callback.status(), 429);
        }

        // The bucket refills.
        tokio::time::sleep(Duration::from_millis(1_100 * retry_after)).await;
        assert_eq!(app.get(&busy, "/v1/bindings").await.status(), 200);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_zero_is_off() {
    use futures::StreamExt;
    let Some(app) = spawn_app_with(Backend::Sqlite, Upstream::Sandbox, |raw| {
        raw.rate_limit_per_sec = 0;
        raw.rate_limit_burst = 0;
    })
    .await
    else {
        return;
    };
    // More than the default burst plus what the default rate refills while they are sent: were
    // 0 read as "use the default", some of these would be refused. Sent in rounds until that is so
    // (a slow machine just sends more), for 60 s at most.
    let defaults = gateway::settings::RawSettings::default();
    let allowed_after = |elapsed: Duration| {
        f64::from(defaults.rate_limit_burst)
            + f64::from(defaults.rate_limit_per_sec) * elapsed.as_secs_f64()
    };
    let token = app.writer("app-1");
    let started = std::time::Instant::now();
    let mut sent = 0_usize;
    while (sent as f64) <= allowed_after(started.elapsed()) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{sent} requests in 60 s never outran the default limit"
        );
        let statuses: Vec<u16> = futures::stream::iter(0..200)
            .map(|_| async { app.get(&token, "/v1/bindings").await.status().as_u16() })
            .buffer_unordered(16)
            .collect()
            .await;
        assert!(
            statuses.iter().all(|s| *s == 200),
            "refused after {sent}: {statuses:?}"
        );
        sent += statuses.len();
    }
}

both_backends!(
    every_routing_failure_answers_json,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let wrong_method = app.delete(&token, "/v1/bindings").await;
        assert_eq!(wrong_method.status(), 405);
        let allow = wrong_method.headers()["allow"].to_str().unwrap().to_owned();
        assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
        assert_eq!(
            wrong_method.json::<Value>().await.unwrap()["code"],
            "method_not_allowed"
        );

        let put_binding = app
            .client
            .put(format!(
                "{}/v1/bindings/{}",
                app.address,
                uuid::Uuid::new_v4()
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(put_binding.status(), 405);
        let allow = put_binding.headers()["allow"].to_str().unwrap().to_owned();
        assert!(
            allow.contains("PATCH") && allow.contains("DELETE"),
            "{allow}"
        );

        let post_health = app
            .client
            .post(format!("{}/healthz", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(post_health.status(), 405);
        assert_eq!(post_health.headers()["allow"], "GET");

        // A known binding path with an unknown id stays a 404 (the method is right).
        let unknown = app
            .get(&token, &format!("/v1/bindings/{}", uuid::Uuid::new_v4()))
            .await;
        assert_eq!(unknown.status(), 404);
        for (response, status) in [
            (app.get(&token, "/nowhere/at/all").await, 404),
            (app.get(&token, "/v1/bindings/not-a-uuid").await, 404),
            (
                app.client
                    .post(format!("{}/v1/bindings", app.address))
                    .bearer_auth(&token)
                    .header("content-type", "text/plain")
                    .body("{}")
                    .send()
                    .await
                    .unwrap(),
                415,
            ),
            (
                app.client
                    .post(format!("{}/v1/bindings", app.address))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body("{not json")
                    .send()
                    .await
                    .unwrap(),
                400,
            ),
            (
                app.client
                    .post(format!("{}/v1/bindings", app.address))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(vec![b' '; 128 * 1024])
                    .send()
                    .await
                    .unwrap(),
                413,
            ),
        ] {
            assert_eq!(response.status(), status);
            assert!(
                response.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json")
            );
            let body: Value = response.json().await.unwrap();
            assert!(
                body["code"].is_string() && body["message"].is_string(),
                "{body}"
            );
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_reports_upstream_reachability_and_jobs() {
    // Production mode against a port nobody listens on: not ready, and says why.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let Some(app) = spawn_app_with(Backend::Sqlite, Upstream::Url(dead_url), |_| {}).await else {
        return;
    };
    let response = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["upstream"], false, "{body}");
    assert_eq!(body["database"], true, "{body}");
    assert_eq!(body["mode"], "production");

    // Reachable upstream, and a job that stops beating.
    let upstream = wiremock::MockServer::start().await;
    let Some(app) = spawn_app_with(Backend::Sqlite, Upstream::Url(upstream.uri()), |_| {}).await
    else {
        return;
    };
    let readyz = || app.client.get(format!("{}/readyz", app.address)).send();
    let ready = readyz().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["upstream"], true, "{body}");
    assert_eq!(body["jobsAlive"], true, "{body}");

    app.state
        .jobs
        .register("ops-test-job", Duration::from_millis(200));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let stale = readyz().await.unwrap();
    assert_eq!(stale.status(), 503);
    let body: Value = stale.json().await.unwrap();
    assert_eq!(body["jobsAlive"], false, "{body}");
    let job = body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "ops-test-job")
        .cloned()
        .unwrap();
    assert_eq!(job["alive"], false);
    app.state.jobs.beat("ops-test-job");
    assert_eq!(readyz().await.unwrap().status(), 200);
}
