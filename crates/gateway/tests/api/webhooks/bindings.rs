//! Events produced by the binding table: every write of a binding's life delivers its event to a real
//! receiver, in sequence order, with `data` shaped like `GET /v1/bindings/{id}`; a change that rolls
//! back sends nothing; another app's endpoint hears nothing.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::MockServer;

use super::receiver::{body, verify, wait_for, webhook_id};
use crate::both_backends;
use crate::helpers::{Backend, TestApp, Upstream, spawn_app_with};

const X: &str = "+8617000000001";
const A: &str = "+8618610000001";
const B: &str = "+8618610000002";
const C: &str = "+8618610000003";

/// Delivers at once and polls often; the sandbox lets the gateway call receivers on 127.0.0.1.
pub fn quick(raw: &mut gateway::settings::RawSettings) {
    raw.webhook_retry_schedule_secs = "0,1".into();
    raw.webhook_poll_interval_ms = 50;
    raw.webhook_timeout_secs = 2;
}

/// The bodies `server` received, verified with `secret`, ordered by their `sequence`.
pub async fn events(server: &MockServer, secret: &str, n: usize) -> Vec<Value> {
    let requests = wait_for(server, n, Duration::from_secs(20)).await;
    let mut events: Vec<Value> = requests
        .iter()
        .map(|r| {
            assert!(verify(secret, r), "signature does not verify");
            let mut event = body(r);
            event["webhookId"] = json!(webhook_id(r));
            event
        })
        .collect();
    events.sort_by_key(|e| e["sequence"].as_i64());
    events
}

pub fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// Gives the dispatcher a few polls to send anything it (wrongly) would.
pub async fn settle_down() {
    tokio::time::sleep(Duration::from_millis(600)).await;
}

impl TestApp {
    pub async fn json_of(&self, response: reqwest::Response) -> Value {
        let status = response.status();
        let value: Value = response.json().await.expect("JSON");
        assert!(status.is_success(), "{status}: {value}");
        value
    }
}

both_backends!(
    bind_modify_unbind_deliver_created_updated_unbound_in_order_with_the_rest_shape,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, quick).await else {
            return;
        };
        let (one, two) = (app.writer("app-1"), app.writer("app-2"));
        let (server, secret) = app.listen(&one, json!(["binding.*"])).await;
        let (other, _) = app.listen(&two, json!([])).await;

        let created = app.bind(&one, A, B, X).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/bindings/{id}");
        let updated = app
            .json_of(app.patch(&one, &path, &json!({"calleeNum": C})).await)
            .await;
        let unbound = app.json_of(app.delete(&one, &path).await).await;
        let shown = app.json_of(app.get(&one, &path).await).await;

        let got = events(&server, &secret, 3).await;
        assert_eq!(
            types(&got),
            ["binding.created", "binding.updated", "binding.unbound"]
        );
        let sequences: Vec<i64> = got
            .iter()
            .map(|e| e["sequence"].as_i64().unwrap())
            .collect();
        assert_eq!(sequences, [1, 2, 3]);
        for event in &got {
            assert_eq!(event["bindingId"], json!(id));
        }
        // The same model as the REST answers: what the app got back at each step.
        assert_eq!(got[0]["data"], created);
        assert_eq!(got[1]["data"], updated);
        assert_eq!(got[1]["data"]["calleeNum"], C);
        assert_eq!(got[2]["data"], unbound);
        assert_eq!(got[2]["data"], shown);
        assert_eq!(got[2]["data"]["status"], "unbound");
        let ids: std::collections::HashSet<&str> = got
            .iter()
            .map(|e| e["webhookId"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 3, "each event has its own webhook-id");

        // App isolation: app 2's endpoint (subscribed to everything) hears nothing of app 1.
        settle_down().await;
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
        assert!(other.received_requests().await.unwrap().is_empty());
    }
);

both_backends!(
    expiry_and_refused_binds_deliver_expired_and_failed,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, quick).await else {
            return;
        };
        let one = app.writer("app-1");
        let (server, secret) = app
            .listen(&one, json!(["binding.expired", "binding.failed"]))
            .await;

        let short = app
            .post_binding(
                &one,
                &json!({"callerNum": A, "calleeNum": B, "relationNum": X, "duration": 1}),
            )
            .await;
        let short = app.json_of(short).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        gateway::service::jobs::expiry::sweep(&app.state.db)
            .await
            .unwrap();
        // A second sweep (or the job's own) finds nothing left to end: no second event.
        gateway::service::jobs::expiry::sweep(&app.state.db)
            .await
            .unwrap();

        // The platform refuses this one outright: the pending row ends failed.
        app.state
            .sandbox
            .clone()
            .unwrap()
            .inject(pns_sim::Fault::ResultCode {
                code: "1012010".into(),
                http_status: 400,
                times: 1,
                operation: Some(pns_sim::Op::Bind),
            });
        let refused = app
            .post_binding(
                &one,
                &json!({"callerNum": A, "calleeNum": C, "relationNum": X}),
            )
            .await;
        assert!(refused.status().is_client_error(), "{}", refused.status());

        let got = events(&server, &secret, 2).await;
        let expired = got.iter().find(|e| e["type"] == "binding.expired").unwrap();
        assert_eq!(expired["data"]["id"], short["id"]);
        assert_eq!(expired["data"]["status"], "expired");
        let failed = got.iter().find(|e| e["type"] == "binding.failed").unwrap();
        assert_eq!(failed["data"]["status"], "failed");
        assert_eq!(
            failed["sequence"], 1,
            "a failed bind never had a created event"
        );
        settle_down().await;
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    }
);

/// Makes the outbox refuse `binding.created` rows, as a failing write in that transaction would.
async fn refuse_created_events(app: &TestApp) {
    let db = &app.state.db;
    let statements: &[&str] = if app.database_url.starts_with("postgres") {
        &[
            "CREATE FUNCTION refuse_created() RETURNS trigger AS $$ BEGIN \
             IF NEW.event_type = 'binding.created' THEN RAISE EXCEPTION 'refused by test'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_created BEFORE INSERT ON webhook_events \
             FOR EACH ROW EXECUTE FUNCTION refuse_created()",
        ]
    } else {
        &[
            "CREATE TRIGGER refuse_created BEFORE INSERT ON webhook_events \
           WHEN NEW.event_type = 'binding.created' BEGIN SELECT RAISE(ABORT, 'refused by test'); END",
        ]
    };
    for sql in statements {
        sea_orm::ConnectionTrait::execute_unprepared(db, sql)
            .await
            .unwrap();
    }
}

both_backends!(
    a_change_that_rolls_back_sends_no_event,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, quick).await else {
            return;
        };
        let one = app.writer("app-1");
        let (server, secret) = app.listen(&one, json!([])).await;
        refuse_created_events(&app).await;

        // The activation's transaction fails with its event: the bind is undone upstream and the row
        // ends failed, which is the only event the app hears.
        let response = app
            .post_binding(
                &one,
                &json!({"callerNum": A, "calleeNum": B, "relationNum": X}),
            )
            .await;
        assert!(response.status().is_server_error(), "{}", response.status());
        let got = events(&server, &secret, 1).await;
        assert_eq!(types(&got), ["binding.failed"]);
        let id = got[0]["bindingId"].as_str().unwrap();
        let shown = app
            .json_of(app.get(&one, &format!("/v1/bindings/{id}")).await)
            .await;
        assert_eq!(shown["status"], "failed");
        assert_eq!(got[0]["data"], shown);
        settle_down().await;
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
);
