//! Group commit: concurrent binds and unbinds written together still answer each request with its
//! own row, refuse only the request whose party is taken, and leave X's counters and the party
//! claims as the one-at-a-time path would.

use futures::StreamExt;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};

const X1: &str = "+8617000000001";
const X2: &str = "+8617000000002";

fn party(n: u32) -> String {
    format!("+86186{n:08}")
}

/// (caller, callee, X) of 48 binds: 44 on fresh parties, and two pairs of requests that want the same
/// party on the same X (so one of each pair must be refused, whatever batch they land in).
fn requests() -> Vec<(String, String, &'static str)> {
    let mut all: Vec<_> = (0..44)
        .map(|i| {
            (
                party(2 * i),
                party(2 * i + 1),
                if i % 2 == 0 { X1 } else { X2 },
            )
        })
        .collect();
    all.push((party(900), party(901), X1));
    all.push((party(900), party(902), X1));
    all.push((party(910), party(911), X2));
    all.push((party(912), party(910), X2));
    all
}

both_backends!(
    concurrent_binds_and_unbinds_each_get_their_own_row,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let created: Vec<(u16, Value, (String, String))> = futures::stream::iter(requests())
            .map(|(a, b, x)| {
                let (app, token) = (&app, &token);
                async move {
                    let body = json!({"callerNum": a, "calleeNum": b, "relationNum": x});
                    let response = app.post_binding(token, &body).await;
                    let status = response.status().as_u16();
                    (status, response.json().await.unwrap(), (a, b))
                }
            })
            .buffer_unordered(48)
            .collect()
            .await;

        let made: Vec<&Value> = created
            .iter()
            .filter(|(status, _, _)| *status == 201)
            .map(|(_, body, _)| body)
            .collect();
        assert_eq!(made.len(), 46, "all but one of each colliding pair");
        for (status, body, (a, b)) in &created {
            match status {
                201 => {
                    assert_eq!(
                        (&body["callerNum"], &body["calleeNum"]),
                        (&json!(a), &json!(b))
                    );
                    assert_eq!(body["status"], "active");
                }
                409 => assert_eq!(body["code"], "binding_conflict", "{body}"),
                other => panic!("{other}: {body}"),
            }
        }
        let pool = app.numbers().await;
        assert_eq!(
            [X1, X2].map(|x| pool[x]["inUse"].as_u64()),
            [Some(23), Some(23)]
        );

        // Every binding unbound at once, the first one twice.
        let mut ids: Vec<String> = made
            .iter()
            .map(|b| b["id"].as_str().unwrap().to_owned())
            .collect();
        ids.push(ids[0].clone());
        let unbound: Vec<(u16, Value)> = futures::stream::iter(ids)
            .map(|id| {
                let (app, token) = (&app, &token);
                async move {
                    let response = app.delete(token, &format!("/v1/bindings/{id}")).await;
                    (response.status().as_u16(), response.json().await.unwrap())
                }
            })
            .buffer_unordered(48)
            .collect()
            .await;
        for (status, body) in &unbound {
            assert_eq!(
                (*status, &body["status"]),
                (200, &json!("unbound")),
                "{body}"
            );
        }
        let pool = app.numbers().await;
        assert_eq!(
            [X1, X2].map(|x| pool[x]["inUse"].as_u64()),
            [Some(0), Some(0)]
        );
        assert!(app.state.sandbox.as_ref().unwrap().bindings().is_empty());
        // The parties are free again: the refused requests now bind.
        app.bind(&token, &party(900), &party(902), X1).await;
        app.bind(&token, &party(912), &party(910), X2).await;

        if backend == Backend::Postgres {
            let (batches, requests) = batches(&app).await;
            assert!(
                batches < requests,
                "concurrent requests were written together: {requests} requests in {batches} batches"
            );
        }
    }
);

/// Batches and the requests they wrote, over every kind, from `/metrics`.
async fn batches(app: &crate::helpers::TestApp) -> (f64, f64) {
    let metrics = app.metrics().await;
    let total = |suffix: &str| -> f64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(&format!("pns_group_commit_batch_size_{suffix}{{")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    (total("count"), total("sum"))
}
