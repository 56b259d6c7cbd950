//! How the platform's refusals and silences reach apps and the table, staged with wiremock.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::both_backends;
use crate::helpers::{Backend, Upstream, spawn_app_with};

const BIND_PATH: &str = "/rest/caas/relationnumber/partners/v1.0";
const BODY: &str =
    r#"{"callerNum":"+8618600000001","calleeNum":"+8618600000002","relationNum":"+8617000000001"}"#;

fn refusal(http: u16, code: &str, desc: &str) -> ResponseTemplate {
    ResponseTemplate::new(http).set_body_json(json!({"resultcode": code, "resultdesc": desc}))
}

async fn post(app: &crate::helpers::TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/v1/bindings", app.address))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(BODY)
        .send()
        .await
        .unwrap()
}

async fn bindings(app: &crate::helpers::TestApp, token: &str) -> Vec<Value> {
    let page: Value = app.get(token, "/v1/bindings").await.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

both_backends!(
    timeout_leaves_the_binding_pending_and_answers_504,
    |backend: Backend| async move {
        let upstream = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(BIND_PATH))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
            .expect(1) // never retried: bind is not idempotent
            .mount(&upstream)
            .await;
        let Some(app) = spawn_app_with(backend, Upstream::Url(upstream.uri()), |s| {
            s.upstream_timeout_ms = 300
        })
        .await
        else {
            return;
        };
        let token = app.writer("app-1");
        let response = post(&app, &token).await;
        assert_eq!(response.status(), 504);
        assert_eq!(
            response.json::<Value>().await.unwrap()["code"],
            "upstream_timeout"
        );
        let rows = bindings(&app, &token).await;
        assert_eq!(rows.len(), 1, "the pending row is visible, never dropped");
        assert_eq!(rows[0]["status"], "pending");

        // It holds its parties on X until reconciliation settles it, and cannot be unbound blind.
        let again = post(&app, &token).await;
        crate::helpers::expect_error(again, 409, "binding_conflict").await;
        let id = rows[0]["id"].as_str().unwrap();
        let unbind = app.delete(&token, &format!("/v1/bindings/{id}")).await;
        crate::helpers::expect_error(unbind, 409, "conflict").await;
    }
);

both_backends!(
    refusals_map_to_statuses_and_end_the_row_failed,
    |backend: Backend| async move {
        for (http, code, status, api_code) in [
            (400, "1012010", 409, "binding_conflict"),
            (400, "1012009", 409, "binding_conflict"),
            (400, "1012008", 409, "pool_exhausted"),
            (400, "1010002", 422, "validation_failed"),
            (403, "1010003", 502, "upstream_refused"),
            (403, "1023006", 502, "upstream_refused"),
            (500, "1010010", 503, "upstream_flow_control"),
        ] {
            let upstream = MockServer::start().await;
            Mock::given(method("POST"))
                .and(path(BIND_PATH))
                .respond_with(refusal(http, code, "refused for a test"))
                .mount(&upstream)
                .await;
            let Some(app) = spawn_app_with(backend, Upstream::Url(upstream.uri()), |_| {}).await
            else {
                return;
            };
            let token = app.writer("app-1");
            let response = post(&app, &token).await;
            assert_eq!(response.status(), status, "resultcode {code}");
            if code == "1010010" {
                assert_eq!(response.headers()["Retry-After"], "60");
            }
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], api_code, "resultcode {code}");
            assert_eq!(body["upstreamCode"], code);
            assert_eq!(body["upstreamDesc"], "refused for a test");
            let rows = bindings(&app, &token).await;
            assert_eq!(rows[0]["status"], "failed");
            assert_eq!(rows[0]["upstreamCode"], code);
            // A failed binding frees its parties at once: the same A and B bind on that X next time.
            Mock::given(method("POST"))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                    "resultcode": "0", "resultdesc": "Success",
                    "subscriptionId": format!("sub-{code}"), "relationNum": "+8617000000001"
                })))
                .with_priority(1)
                .mount(&upstream)
                .await;
            let retry = post(&app, &token).await;
            assert_eq!(retry.status(), 201, "after resultcode {code}");
        }
    }
);

both_backends!(
    unbind_of_a_binding_the_platform_lost_ends_it,
    |backend: Backend| async move {
        let upstream = MockServer::start().await;
        Mock::given(method("POST")).and(path(BIND_PATH)).respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "resultcode": "0", "resultdesc": "Success", "subscriptionId": "sub-1", "relationNum": "+8617000000001"
    }))).mount(&upstream).await;
        Mock::given(method("DELETE"))
            .and(path(BIND_PATH))
            .respond_with(refusal(400, "1012007", "record does not exist"))
            .mount(&upstream)
            .await;
        let Some(app) = spawn_app_with(backend, Upstream::Url(upstream.uri()), |_| {}).await else {
            return;
        };
        let token = app.writer("app-1");
        let created: Value = post(&app, &token).await.json().await.unwrap();
        assert_eq!(created["status"], "active");
        let id = created["id"].as_str().unwrap();
        let deleted = app.delete(&token, &format!("/v1/bindings/{id}")).await;
        assert_eq!(deleted.status(), 200);
        let deleted: Value = deleted.json().await.unwrap();
        assert_eq!(deleted["status"], "unbound");
        assert_eq!(deleted["endReason"], "already_gone_upstream");
        // Unbind went by subscriptionId, never by relationNum.
        let requests = upstream.received_requests().await.unwrap();
        let unbind = requests
            .iter()
            .find(|r| r.method.as_str() == "DELETE")
            .unwrap();
        assert_eq!(unbind.url.query(), Some("subscriptionId=sub-1"));
    }
);
