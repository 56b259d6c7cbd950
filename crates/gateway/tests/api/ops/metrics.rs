//! `/metrics`: who may read it, and the series an on-call engineer looks for.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Upstream, spawn_app_with};

const METRICS_TOKEN: &str = "metrics-token-0123456789";

both_backends!(
    metrics_are_guarded_and_show_requests_upstream_and_pool,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, |raw| {
            raw.metrics_token = Some(METRICS_TOKEN.into());
            raw.sweep_interval_secs = 1;
        })
        .await
        else {
            return;
        };
        let url = format!("{}/metrics", app.address);
        let anonymous = app.client.get(&url).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        assert_eq!(
            anonymous.json::<Value>().await.unwrap()["code"],
            "unauthorized"
        );
        let writer = app.writer("app-1");
        let not_admin = app.client.get(&url).bearer_auth(&writer).send().await;
        assert_eq!(not_admin.unwrap().status(), 403);
        let wrong = app.client.get(&url).bearer_auth("metrics-token-x").send();
        assert_eq!(wrong.await.unwrap().status(), 401);

        let binding = app
            .bind(
                &writer,
                "+8618600000001",
                "+8618600000002",
                "+8617000000001",
            )
            .await;
        // A sandbox call: the simulator posts signed call events to the gateway's callback route.
        let call = app
            .client
            .post(format!("{}/v1/sandbox/calls", app.address))
            .bearer_auth(&writer)
            .json(&json!({"bindingId": binding["id"], "from": "caller", "outcome": "answered", "talkSeconds": 5}))
            .send()
            .await
            .unwrap();
        assert!(call.status().is_success(), "{:?}", call.text().await);
        // The expiry sweep runs every second here.
        tokio::time::sleep(Duration::from_millis(2_200)).await;

        let scrape = app
            .client
            .get(&url)
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(scrape.status(), 200);
        assert!(
            scrape.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        let text = scrape.text().await.unwrap();
        for needle in [
            "pns_http_requests_total{",
            "route=\"/v1/bindings\"",
            "status=\"201\"",
            "pns_http_request_duration_seconds_bucket{",
            "pns_upstream_requests_total{",
            "resultcode=\"0\"",
            "pns_upstream_request_duration_seconds_bucket{",
            "pns_bindings{status=\"active\"}",
            "pns_bindings{status=\"failed\"} 0",
            "pns_callbacks_total{",
            "outcome=\"stored\"",
            "pns_job_runs_total{job=\"expiry_sweep\",outcome=\"ok\"}",
            "pns_job_run_duration_seconds_bucket{job=\"expiry_sweep\"",
        ] {
            assert!(text.contains(needle), "no {needle} in:\n{text}");
        }
        // Raw paths never become labels; numbers never appear outside the pool's X label.
        assert!(!text.contains("8618600000001"), "{text}");

        let admin = app.token("ops", "admin");
        let by_admin = app
            .client
            .get(&url)
            .bearer_auth(admin)
            .send()
            .await
            .unwrap();
        assert_eq!(by_admin.status(), 200);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_gauges_count_open_bindings_per_x_and_area() {
    const X4: &str = "+8617000000004";
    const X5: &str = "+8617000000005";
    // Two numbers of an area no other test uses, so every figure below comes from them alone.
    let Some(app) = spawn_app_with(Backend::Sqlite, Upstream::Sandbox, |raw| {
        raw.metrics_token = Some(METRICS_TOKEN.into());
        raw.sandbox_numbers = format!("+8617000000001@0755,{X4}@0371,{X5}@0371");
    })
    .await
    else {
        return;
    };
    let writer = app.writer("app-1");
    app.bind(&writer, "+8618600000011", "+8618600000012", X4)
        .await;
    app.bind(&writer, "+8618600000013", "+8618600000014", X4)
        .await;
    let ended = app
        .bind(&writer, "+8618600000015", "+8618600000016", X5)
        .await;
    app.bind(&writer, "+8618600000017", "+8618600000018", X5)
        .await;
    // An ended binding no longer counts.
    let id = ended["id"].as_str().unwrap();
    let unbound = app.delete(&writer, &format!("/v1/bindings/{id}")).await;
    assert_eq!(unbound.status(), 200);

    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |series: &str, labels: &[&str]| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{series}{{")) && labels.iter().all(|x| l.contains(x)))
            .unwrap_or_else(|| panic!("no {series} line with {labels:?} in:\n{text}"));
        line.rsplit_once(' ').unwrap().1.parse().unwrap()
    };
    let area = "area=\"0371\"";
    assert_eq!(value("pns_pool_bindings", &[X4, area]), 2.0);
    assert_eq!(value("pns_pool_bindings", &[X5, area]), 1.0);
    assert_eq!(value("pns_pool_area_bindings", &[area]), 3.0);
    let capacity = value("pns_pool_capacity", &[X4, area]);
    assert!(capacity > 0.0, "{capacity}");
    assert_eq!(
        value("pns_pool_area_capacity", &[area]),
        capacity + value("pns_pool_capacity", &[X5, area])
    );
}
