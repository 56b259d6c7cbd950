//! Binds, changes and unbinds whose client hangs up, and Idempotency-Key replays of outcomes other
//! than a plain success: the table stays true and a retry gets what the first attempt did.

use std::time::Duration;

use pns_sim::Fault;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, Upstream, spawn_app, spawn_app_with};

const X1: &str = "+8617000000001";
const A: &str = "+8618600000001";
const B: &str = "+8618600000002";
const C: &str = "+8618600000003";
const D: &str = "+8618600000004";

/// The platform's answer takes this long; the impatient client gives up well before.
const SLOW: u64 = 1_500;
const IMPATIENT: Duration = Duration::from_millis(300);

impl TestApp {
    async fn post_keyed(&self, token: &str, key: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/bindings", self.address))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Sends a request with a client that hangs up after `IMPATIENT`, and checks it did.
    async fn hang_up(&self, request: reqwest::RequestBuilder) {
        let impatient = request.timeout(IMPATIENT).send().await;
        assert!(
            impatient.as_ref().is_err_and(|e| e.is_timeout()),
            "{impatient:?}"
        );
    }

    async fn listed(&self) -> Vec<Value> {
        let page: Value = self
            .get(&self.token("ops", "admin"), "/v1/bindings")
            .await
            .json()
            .await
            .unwrap();
        page["items"].as_array().unwrap().clone()
    }
}

both_backends!(
    a_bind_whose_client_hung_up_completes_and_its_key_returns_it,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let sim = app.state.sandbox.clone().unwrap();
        sim.inject(Fault::Latency {
            millis: SLOW,
            times: 1,
        });
        let body = json!({"callerNum": A, "calleeNum": B, "relationNum": X1});
        app.hang_up(
            app.client
                .post(format!("{}/v1/bindings", app.address))
                .bearer_auth(&token)
                .header("Idempotency-Key", "order-7")
                .json(&body),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(SLOW + 700)).await;

        let retry = app.post_keyed(&token, "order-7", &body).await;
        assert_eq!(retry.status(), 201, "{:?}", retry.text().await);
        assert_eq!(retry.headers()["Idempotent-Replayed"], "true");
        let retried: Value = retry.json().await.unwrap();
        assert_eq!(retried["status"], "active");
        let listed = app.listed().await;
        assert_eq!(listed.len(), 1, "one binding, not two: {listed:?}");
        assert_eq!(listed[0]["id"], retried["id"]);
        assert_eq!(sim.binding_count(), 1);
    }
);

both_backends!(
    an_unbind_whose_client_hung_up_still_ends_the_binding,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let sim = app.state.sandbox.clone().unwrap();
        let bound = app.bind(&token, A, B, X1).await;
        let id = bound["id"].as_str().unwrap();
        sim.inject(Fault::Latency {
            millis: SLOW,
            times: 1,
        });
        app.hang_up(
            app.client
                .delete(format!("{}/v1/bindings/{id}", app.address))
                .bearer_auth(&token),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(SLOW + 700)).await;

        assert_eq!(sim.binding_count(), 0, "the platform unbound it");
        let row: Value = app
            .get(&token, &format!("/v1/bindings/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(row["status"], "unbound", "{row}");
        // Its parties are free again.
        app.bind(&token, A, B, X1).await;
    }
);

both_backends!(
    a_change_whose_client_hung_up_is_recorded,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let sim = app.state.sandbox.clone().unwrap();
        let bound = app.bind(&token, A, B, X1).await;
        let id = bound["id"].as_str().unwrap();
        sim.inject(Fault::Latency {
            millis: SLOW,
            times: 1,
        });
        app.hang_up(
            app.client
                .patch(format!("{}/v1/bindings/{id}", app.address))
                .bearer_auth(&token)
                .json(&json!({"calleeNum": C})),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(SLOW + 700)).await;

        let upstream = sim.bindings();
        assert_eq!(upstream[0].callee_num, C, "the platform changed it");
        let row: Value = app
            .get(&token, &format!("/v1/bindings/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(row["calleeNum"], C, "and so does the table: {row}");
        // B was released, and the change lease given back.
        app.bind(&token, B, D, X1).await;
        let again = app
            .patch(
                &token,
                &format!("/v1/bindings/{id}"),
                &json!({"duration": 600}),
            )
            .await;
        assert_eq!(again.status(), 200);
    }
);

both_backends!(
    a_replayed_platform_refusal_repeats_its_status_and_code,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let sim = app.state.sandbox.clone().unwrap();
        sim.inject(Fault::ResultCode {
            code: "1010010".into(),
            http_status: 0,
            times: 1,
            operation: None,
        });
        let body = json!({"callerNum": A, "calleeNum": B, "relationNum": X1});
        let first = app.post_keyed(&token, "order-8", &body).await;
        assert_eq!(first.status(), 503);
        let first: Value = first.json().await.unwrap();
        assert_eq!(first["code"], "upstream_flow_control");

        let replay = app.post_keyed(&token, "order-8", &body).await;
        assert_eq!(replay.status(), 503, "never a 201 for a failed binding");
        assert_eq!(replay.headers()["Idempotent-Replayed"], "true");
        let replay: Value = replay.json().await.unwrap();
        assert_eq!(replay["code"], "upstream_flow_control");
        assert_eq!(replay["upstreamCode"], "1010010");
        assert_eq!(
            sim.binding_count(),
            0,
            "and no second platform call bound it"
        );
    }
);

both_backends!(
    a_key_refused_before_the_platform_was_asked_tries_again,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let other = app.bind(&token, A, C, X1).await;
        let body = json!({"callerNum": A, "calleeNum": B, "relationNum": X1});
        let first = app.post_keyed(&token, "order-9", &body).await;
        assert_eq!(first.status(), 409);
        assert_eq!(
            first.json::<Value>().await.unwrap()["code"],
            "binding_conflict"
        );

        let ended = app
            .delete(
                &token,
                &format!("/v1/bindings/{}", other["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(ended.status(), 200);
        let retry = app.post_keyed(&token, "order-9", &body).await;
        assert_eq!(retry.status(), 201, "a fresh attempt, now that A is free");
        let retry: Value = retry.json().await.unwrap();
        assert_eq!(retry["status"], "active");
        assert_eq!(retry["calleeNum"], B);
    }
);

both_backends!(
    a_key_whose_bind_never_reached_the_platform_binds_on_retry,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, |raw| {
            raw.reconcile_pending_grace_secs = 0
        })
        .await
        else {
            return;
        };
        let token = app.writer("app-1");
        let sim = app.state.sandbox.clone().unwrap();
        sim.inject(Fault::DropConnection { times: 1 });
        let body = json!({"callerNum": A, "calleeNum": B, "relationNum": X1});
        let first = app.post_keyed(&token, "order-10", &body).await;
        assert_eq!(first.status(), 504);
        let pending = app.listed().await;
        assert_eq!(pending[0]["status"], "pending");
        // Still unknown: the same answer, not a 201.
        let meanwhile = app.post_keyed(&token, "order-10", &body).await;
        assert_eq!(meanwhile.status(), 504);

        tokio::time::sleep(Duration::from_millis(50)).await;
        app.reconcile().await;
        let retry = app.post_keyed(&token, "order-10", &body).await;
        assert_eq!(retry.status(), 201, "{:?}", retry.text().await);
        let retry: Value = retry.json().await.unwrap();
        assert_eq!(retry["status"], "active");
        assert_ne!(retry["id"], pending[0]["id"]);
        assert_eq!(sim.binding_count(), 1);
    }
);

both_backends!(
    a_pending_row_failed_while_its_bind_was_in_flight_is_not_created,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, |raw| {
            raw.reconcile_pending_grace_secs = 0
        })
        .await
        else {
            return;
        };
        let token = app.writer("app-1");
        let sim = app.state.sandbox.clone().unwrap();
        sim.inject(Fault::Latency {
            millis: SLOW,
            times: 1,
        });
        let body = json!({"callerNum": A, "calleeNum": B, "relationNum": X1});
        let bind = {
            let app = &app;
            let token = token.clone();
            async move { app.post_binding(&token, &body).await }
        };
        let settle = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            app.reconcile().await
        };
        let (answer, run) = tokio::join!(bind, settle);
        assert_eq!(run["counts"]["failedPending"], 1, "{run}");
        assert_ne!(answer.status(), 201, "never created for a failed row");
        let rows = app.listed().await;
        assert_eq!(rows[0]["status"], "failed");
        assert_eq!(sim.binding_count(), 0, "the platform's binding was undone");
    }
);
