//! Events from reconciliation: a lost bind answer adopted (`binding.created`), a binding the platform
//! dropped (`binding.missing_upstream`), a pending bind it never got (`binding.failed`).

use std::time::Duration;

use pns_sim::Fault;
use serde_json::json;

use super::bindings::{events, quick, settle_down, types};
use crate::both_backends;
use crate::helpers::{Backend, Upstream, spawn_app_with};

const A: &str = "+8618630000001";
const B: &str = "+8618630000002";
const C: &str = "+8618630000003";
const D: &str = "+8618630000004";
const E: &str = "+8618630000005";
const F: &str = "+8618630000006";

both_backends!(
    reconciliation_delivers_created_missing_upstream_and_failed,
    |backend: Backend| async move {
        let Some(app) = spawn_app_with(backend, Upstream::Sandbox, |raw| {
            quick(raw);
            raw.upstream_connect_timeout_ms = 100;
            raw.upstream_timeout_ms = 300;
            raw.reconcile_pending_grace_secs = 0;
        })
        .await
        else {
            return;
        };
        let token = app.writer("app-1");
        let (server, secret) = app.listen(&token, json!(["binding.*"])).await;
        let sim = app.state.sandbox.clone().unwrap();
        let area = json!({"areaCode": "0755"});

        // The platform bound it but its answer was lost: pending until reconciliation adopts it.
        sim.inject(Fault::ApplyThenDrop { times: 1 });
        let (status, _) = app.pick(&token, A, B, area.clone()).await;
        assert_eq!(status, 504);
        let adopted = app.only_binding().await["id"].clone();
        // A binding the platform then drops.
        let (status, dropped) = app.pick(&token, C, D, area.clone()).await;
        assert_eq!(status, 201);
        assert!(sim.expire_now(dropped["subscriptionId"].as_str().unwrap()));
        // A bind whose request never reached the platform.
        sim.inject(Fault::DropConnection { times: 1 });
        let (status, _) = app.pick(&token, E, F, area).await;
        assert_eq!(status, 504);
        tokio::time::sleep(Duration::from_millis(500)).await;
        app.reconcile().await;

        let got = events(&server, &secret, 4).await;
        let of = |id: &serde_json::Value| {
            let mine: Vec<_> = got
                .iter()
                .filter(|e| e["bindingId"] == *id)
                .cloned()
                .collect();
            types(&mine)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(of(&adopted), ["binding.created"]);
        assert_eq!(
            of(&dropped["id"]),
            ["binding.created", "binding.missing_upstream"]
        );
        let failed: Vec<_> = got
            .iter()
            .filter(|e| e["type"] == "binding.failed")
            .collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0]["data"]["endReason"], "not_found_upstream");
        let missing = got
            .iter()
            .find(|e| e["type"] == "binding.missing_upstream")
            .unwrap();
        assert_eq!(missing["data"]["status"], "unbound");
        assert_eq!(missing["data"]["endReason"], "missing_upstream");

        // A second run finds nothing new to say.
        app.reconcile().await;
        settle_down().await;
        assert_eq!(server.received_requests().await.unwrap().len(), 4);
    }
);
