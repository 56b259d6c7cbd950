//! Expiry and reconciliation, staged on the simulated platform: lost answers, bindings the platform
//! dropped or changed, and bindings it has that the gateway never made.

use std::time::Duration;

use pns_core::types::SubscriptionId;
use pns_core::wire::{BindRequest, ModifyRequest};
use pns_sim::Fault;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, Upstream, spawn_app, spawn_app_with};

const X1: &str = "+8617000000001";
const X2: &str = "+8617000000002";
const A: &str = "+8618600000001";
const B: &str = "+8618600000002";
const C: &str = "+8618600000003";
const D: &str = "+8618600000004";

impl TestApp {
    pub async fn reconcile(&self) -> Value {
        let response = self
            .post_json(&self.admin(), "/v1/admin/reconcile", &json!({}))
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    pub async fn binding(&self, id: &str) -> Value {
        self.get(&self.admin(), &format!("/v1/bindings/{id}"))
            .await
            .json()
            .await
            .unwrap()
    }

    pub async fn only_binding(&self) -> Value {
        let page: Value = self
            .get(&self.admin(), "/v1/bindings")
            .await
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{page}");
        items[0].clone()
    }
}

fn counts(run: &Value) -> (i64, i64, i64, i64, i64) {
    let c = &run["counts"];
    let n = |k: &str| c[k].as_i64().unwrap();
    (
        n("adopted"),
        n("failedPending"),
        n("missingUpstream"),
        n("orphans"),
        n("corrected"),
    )
}

both_backends!(
    expired_bindings_are_swept_and_free_their_pairs,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, |raw| {
            raw.sweep_interval_secs = 1
        })
        .await
        else {
            return;
        };
        let token = app.writer("app-1");
        let (status, bound) = app
            .pick(&token, A, B, json!({"areaCode": "0755", "duration": 1}))
            .await;
        assert_eq!(status, 201);
        assert!(bound["expiresAt"].is_string());
        let id = bound["id"].as_str().unwrap();
        // A second binding whose clock a modify restarts before it runs out.
        let (_, kept) = app
            .pick(&token, C, D, json!({"areaCode": "0755", "duration": 2}))
            .await;
        let kept_id = kept["id"].as_str().unwrap();
        let patched = app
            .patch(
                &token,
                &format!("/v1/bindings/{kept_id}"),
                &json!({"duration": 3600}),
            )
            .await;
        assert_eq!(patched.status(), 200);

        let mut expired = Value::Null;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            expired = app.binding(id).await;
            if expired["status"] == "expired" {
                break;
            }
        }
        assert_eq!(expired["status"], "expired", "{expired}");
        assert_eq!(expired["endReason"], "expired");
        assert!(expired["endedAt"].is_string());
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            app.binding(kept_id).await["status"],
            "active",
            "the modify restarted its clock"
        );

        // Its pairs are free again, and unbinding it now is a no-op answered locally.
        let deleted: Value = app
            .delete(&token, &format!("/v1/bindings/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(deleted["status"], "expired");
        let x = bound["relationNum"].as_str().unwrap();
        app.bind(&token, A, B, x).await;
    }
);

both_backends!(
    a_lost_bind_answer_is_adopted,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let sim = app.state.sandbox.clone().unwrap();
        sim.inject(Fault::ApplyThenDrop { times: 1 });
        let (status, body) = app.pick(&token, A, B, json!({"areaCode": "0755"})).await;
        assert_eq!(status, 504, "{body}");
        let pending = app.only_binding().await;
        assert_eq!(pending["status"], "pending");
        let upstream = sim.bindings();
        assert_eq!(upstream.len(), 1, "the platform did bind it");

        let run = app.reconcile().await;
        assert_eq!(counts(&run), (1, 0, 0, 0, 0), "{run}");
        assert_eq!(run["status"], "done");
        assert_eq!(run["trigger"], "manual");
        assert_eq!(run["categories"]["adopted"], 1);
        assert_eq!(run["findings"][0]["bindingId"], pending["id"]);

        let adopted = app.binding(pending["id"].as_str().unwrap()).await;
        assert_eq!(adopted["status"], "active");
        assert_eq!(
            adopted["subscriptionId"],
            upstream[0].subscription_id.as_str()
        );
        assert_eq!(adopted["relationNum"], upstream[0].relation_num.as_str());
        // Nothing left to do on a second run.
        assert_eq!(counts(&app.reconcile().await), (0, 0, 0, 0, 0));
    }
);

both_backends!(
    a_pending_bind_the_platform_never_got_fails,
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
        let (status, _) = app.pick(&token, A, B, json!({"areaCode": "0755"})).await;
        assert_eq!(status, 504);
        let pending = app.only_binding().await;
        assert_eq!(pending["status"], "pending");
        // Held until settled: the same parties cannot be bound on that X meanwhile.
        let x = pending["relationNum"].as_str().unwrap().to_owned();
        let held = app
            .post_binding(
                &token,
                &json!({"callerNum": A, "calleeNum": C, "relationNum": x}),
            )
            .await;
        crate::helpers::expect_error(held, 409, "binding_conflict").await;
        tokio::time::sleep(Duration::from_millis(50)).await;

        let run = app.reconcile().await;
        assert_eq!(counts(&run), (0, 1, 0, 0, 0), "{run}");
        let failed = app.binding(pending["id"].as_str().unwrap()).await;
        assert_eq!(failed["status"], "failed");
        assert_eq!(failed["endReason"], "not_found_upstream");
        app.bind(&token, A, C, &x).await;
    }
);

/// Short upstream timeouts: reconciliation judges an active row once it has been still for longer
/// than one upstream call can take (an unbind or modify may be in flight before that).
fn quick(raw: &mut gateway::settings::RawSettings) {
    raw.upstream_connect_timeout_ms = 100;
    raw.upstream_timeout_ms = 300;
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

both_backends!(
    a_binding_the_platform_dropped_is_ended,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, quick).await else {
            return;
        };
        let token = app.writer("app-1");
        let sim = app.state.sandbox.clone().unwrap();
        let (_, bound) = app.pick(&token, A, B, json!({"areaCode": "0755"})).await;
        assert!(sim.expire_now(bound["subscriptionId"].as_str().unwrap()));
        let too_soon = app.reconcile().await;
        assert_eq!(
            counts(&too_soon),
            (0, 0, 0, 0, 0),
            "an unbind could still be in flight"
        );
        settle().await;

        let run = app.reconcile().await;
        assert_eq!(counts(&run), (0, 0, 1, 0, 0), "{run}");
        assert_eq!(run["findings"][0]["category"], "missing_upstream");
        let ended = app.binding(bound["id"].as_str().unwrap()).await;
        assert_eq!(ended["status"], "unbound");
        assert_eq!(ended["endReason"], "missing_upstream");
        assert_eq!(app.numbers().await[X1]["inUse"], 0);
    }
);

both_backends!(
    unknown_platform_bindings_are_reported_not_unbound,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let sim = app.state.sandbox.clone().unwrap();
        // Someone bound C and D on X2 behind the gateway's back.
        let made = app
            .state
            .upstream
            .bind(&BindRequest {
                relation_num: Some(X2.into()),
                caller_num: C.into(),
                callee_num: D.into(),
                ..BindRequest::default()
            })
            .await
            .unwrap();
        let sub = made.subscription_id.unwrap();

        let run = app.reconcile().await;
        assert_eq!(counts(&run), (0, 0, 0, 1, 0), "{run}");
        let orphan = &run["findings"][0];
        assert_eq!(orphan["category"], "orphan");
        assert_eq!(orphan["subscriptionId"], sub.as_str());
        assert_eq!(orphan["detail"]["callerNum"], C);
        let orphans: Value = app
            .get(&app.admin(), "/v1/admin/orphans")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(orphans["items"][0]["subscriptionId"], sub.as_str());
        assert_eq!(orphans["items"][0]["relationNum"], X2);
        assert_eq!(sim.binding_count(), 1, "never unbound by the gateway");
        assert_eq!(
            app.get(&app.writer("app-1"), "/v1/admin/orphans")
                .await
                .status(),
            403
        );

        // Once it is gone upstream, the next run forgets it.
        app.state
            .upstream
            .unbind(&SubscriptionId::parse(&sub).unwrap())
            .await
            .unwrap();
        assert_eq!(counts(&app.reconcile().await).3, 0);
        let orphans: Value = app
            .get(&app.admin(), "/v1/admin/orphans")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(orphans["items"], json!([]));
    }
);

both_backends!(
    fields_changed_upstream_are_corrected_and_reported,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, quick).await else {
            return;
        };
        let token = app.writer("app-1");
        let bound = app.bind(&token, A, B, X1).await;
        let sub = bound["subscriptionId"].as_str().unwrap();
        app.state
            .upstream
            .modify(&ModifyRequest {
                subscription_id: sub.into(),
                callee_num: Some(C.into()),
                call_direction: Some(1),
                duration: Some(3600),
                ..ModifyRequest::default()
            })
            .await
            .unwrap();
        settle().await;

        let run = app.reconcile().await;
        assert_eq!(counts(&run), (0, 0, 0, 0, 1), "{run}");
        let detail = &run["findings"][0]["detail"];
        assert_eq!(detail["calleeNum"], json!({"local": B, "upstream": C}));
        assert_eq!(detail["callDirection"], json!({"local": 0, "upstream": 1}));
        assert_eq!(detail["duration"]["upstream"], 3600);

        let fixed = app.binding(bound["id"].as_str().unwrap()).await;
        assert_eq!(fixed["calleeNum"], C);
        assert_eq!(fixed["callDirection"], 1);
        assert_eq!(fixed["duration"], 3600);
        assert!(fixed["expiresAt"].is_string());
        // The claims on X follow: C is taken there now, B is free.
        let taken = app
            .post_binding(
                &token,
                &json!({"callerNum": C, "calleeNum": D, "relationNum": X1}),
            )
            .await;
        crate::helpers::expect_error(taken, 409, "binding_conflict").await;
        app.bind(&token, B, D, X1).await;
    }
);

both_backends!(
    drift_reports_are_listed_for_admins,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let first = app.reconcile().await;
        let second = app.reconcile().await;
        assert_eq!(first["numbersChecked"], 5, "every pool number is checked");
        let list: Value = app
            .get(&app.admin(), "/v1/admin/reconcile")
            .await
            .json()
            .await
            .unwrap();
        let ids: Vec<&Value> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["id"])
            .collect();
        assert_eq!(ids, [&second["id"], &first["id"]], "newest first");
        assert!(list["items"][0].get("findings").is_none());
        let one: Value = app
            .get(
                &app.admin(),
                &format!("/v1/admin/reconcile/{}", first["id"].as_str().unwrap()),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(one["id"], first["id"]);
        assert_eq!(one["findings"], json!([]));
        let writer = app.writer("app-1");
        assert_eq!(app.get(&writer, "/v1/admin/reconcile").await.status(), 403);
        assert_eq!(
            app.post_json(&writer, "/v1/admin/reconcile", &json!({}))
                .await
                .status(),
            403
        );
        assert_eq!(
            app.get(
                &app.admin(),
                &format!("/v1/admin/reconcile/{}", uuid::Uuid::new_v4())
            )
            .await
            .status(),
            404
        );
    }
);

both_backends!(
    a_number_the_platform_cannot_answer_for_is_left_alone,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, quick).await else {
            return;
        };
        let token = app.writer("app-1");
        let sim = app.state.sandbox.clone().unwrap();
        let bound = app.bind(&token, A, B, X1).await;
        assert!(sim.expire_now(bound["subscriptionId"].as_str().unwrap()));
        settle().await;
        // The query for X1 (the first number walked) fails: X1's binding is not judged on no evidence.
        sim.inject(Fault::ResultCode {
            code: "1010001".into(),
            http_status: 500,
            times: 1,
            operation: Some(pns_sim::Op::Query),
        });
        let run = app.reconcile().await;
        assert_eq!(run["status"], "done");
        assert_eq!(run["numbersChecked"], 4);
        assert_eq!(counts(&run), (0, 0, 0, 0, 0), "{run}");
        assert_eq!(run["categories"]["query_failed"], 1);
        assert_eq!(run["findings"][0]["relationNum"], X1);
        assert!(
            run["error"]
                .as_str()
                .unwrap()
                .contains("could not be queried")
        );
        assert_eq!(
            app.binding(bound["id"].as_str().unwrap()).await["status"],
            "active"
        );
        // The next run sees it.
        assert_eq!(counts(&app.reconcile().await).2, 1);
    }
);
