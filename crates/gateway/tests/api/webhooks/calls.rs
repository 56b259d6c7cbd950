//! Events produced by callbacks: a call's progress and its one `call.completed`, the recording, the
//! texts with their routing decision, and the pool's number status for admin endpoints only.

use std::collections::HashMap;

use pns_sim::{CallOutcome, CallScript, Party};
use serde_json::json;

use super::bindings::{events, quick, settle_down, types};
use super::receiver::webhook_id;
use crate::both_backends;
use crate::helpers::{Backend, Upstream, spawn_app_with};
use crate::platform_sim::{A, B, X1, spawn_platform_with};

both_backends!(
    a_sandbox_call_and_text_deliver_their_events,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, quick).await else {
            return;
        };
        let one = app.writer("app-1");
        let (server, secret) = app.listen(&one, json!(["call.*", "sms.received"])).await;
        let (admin_server, admin_secret) = app
            .listen(&app.admin(), json!(["number.status_changed"]))
            .await;

        let binding = app.bind(&one, A, B, X1).await;
        let id = binding["id"].as_str().unwrap();
        let call = app
            .client
            .post(format!("{}/v1/sandbox/calls", app.address))
            .bearer_auth(&one)
            .json(&json!({"bindingId": id, "from": "caller", "outcome": "answered", "talkSeconds": 7, "record": true}))
            .send()
            .await
            .unwrap();
        let call = app.json_of(call).await;
        let text = app
            .client
            .post(format!("{}/v1/sandbox/sms", app.address))
            .bearer_auth(&one)
            .json(&json!({"bindingId": id, "from": "caller", "mode": "Block", "content": "hi"}))
            .send()
            .await
            .unwrap();
        app.json_of(text).await;

        let got = events(&server, &secret, 6).await;
        assert_eq!(
            types(&got),
            [
                "call.started",
                "call.ringing",
                "call.answered",
                "call.completed",
                "call.recording_ready",
                "sms.received"
            ]
        );
        let shown = app
            .json_of(
                app.get(&one, &format!("/v1/calls/{}", call["id"].as_str().unwrap()))
                    .await,
            )
            .await;
        assert_eq!(got[3]["data"]["outcome"], "answered");
        assert_eq!(got[3]["data"]["id"], shown["id"]);
        assert_eq!(
            got[4]["data"], shown,
            "the recording event shows the call as stored"
        );
        assert_eq!(shown["hasRecording"], true);
        assert_eq!(got[5]["data"]["decision"], "route");
        assert_eq!(got[5]["data"]["to"], B);
        assert!(got.iter().all(|e| e["bindingId"] == json!(id)));

        // X1 suspended: the admin endpoint hears it; the app's never does (it is not subscribed, and
        // pool events are not an app's anyway).
        let sim = app.state.sandbox.clone().unwrap();
        let push = |status| pns_core::NumStatusInfo {
            number: X1.into(),
            status,
            cause: None,
            timestamp: None,
        };
        sim.push_num_status(vec![push(9)]).await.unwrap();
        // The platform redelivers it: history only, the status did not change again.
        sim.push_num_status(vec![push(9)]).await.unwrap();
        let admin_events = events(&admin_server, &admin_secret, 1).await;
        assert_eq!(types(&admin_events), ["number.status_changed"]);
        assert_eq!(admin_events[0]["data"]["number"], X1);
        assert_eq!(admin_events[0]["data"]["status"], "suspended");
        settle_down().await;
        assert_eq!(admin_server.received_requests().await.unwrap().len(), 1);
        assert_eq!(server.received_requests().await.unwrap().len(), 6);
    }
);

both_backends!(
    call_completed_is_delivered_once_per_endpoint_however_often_the_platform_retries,
    |backend: Backend| async move {
        let Some(p) = spawn_platform_with(backend, |raw| {
            quick(raw);
            raw.webhook_allowed_networks = Some("127.0.0.0/8".into());
        })
        .await
        else {
            return;
        };
        let one = p.app.writer("app-1");
        let (first, first_secret) = p.app.listen(&one, json!(["call.completed"])).await;
        let (second, second_secret) = p.app.listen(&one, json!(["call.*"])).await;
        let (_, subscription) = p.bind("app-1", A, B, X1).await;

        // What the platform posts for one answered call: its events, then its CDR batch.
        let bodies = p
            .capture(|| async {
                p.ctl
                    .play_call(CallScript {
                        subscription_id: subscription.clone(),
                        from: Party::Caller,
                        outcome: CallOutcome::Answered,
                        talk_seconds: 9,
                        record: false,
                    })
                    .await
                    .unwrap();
                p.ctl.flush_cdrs().await.unwrap();
            })
            .await;
        let of = |kind: &str| bodies.iter().find(|b| b["eventType"] == kind).cloned();
        let disconnect = of("disconnect").expect("a disconnect");
        let cdr = of("fee").expect("a CDR batch");
        // Delivered, then retried by the platform (an answer it did not see), in both orders.
        for body in bodies.iter().chain([&cdr, &disconnect, &cdr]) {
            assert_eq!(p.post_signed(body).await.status(), 200);
        }

        let only = events(&first, &first_secret, 1).await;
        assert_eq!(types(&only), ["call.completed"]);
        let all = events(&second, &second_secret, 4).await;
        assert_eq!(
            types(&all),
            [
                "call.started",
                "call.ringing",
                "call.answered",
                "call.completed"
            ]
        );
        assert_eq!(all[3]["data"]["talkSeconds"], 9);
        assert_eq!(all[3]["data"]["outcome"], "answered");
        settle_down().await;
        for (server, expected) in [(&first, 1), (&second, 4)] {
            let mut by_id: HashMap<String, usize> = HashMap::new();
            for request in server.received_requests().await.unwrap() {
                *by_id.entry(webhook_id(&request)).or_default() += 1;
            }
            assert_eq!(by_id.len(), expected, "one webhook-id per event");
            assert!(by_id.values().all(|&n| n == 1), "each delivered once");
        }
    }
);
