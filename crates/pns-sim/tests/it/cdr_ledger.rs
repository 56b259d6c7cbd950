//! The CDR ledger over the control API: what was delivered, what was lost, how often the receiver refused.

use pns_sim::{CallOutcome, CallScript, Party};
use serde_json::{Value, json};

use crate::calls::setup;
use crate::helpers::*;

fn call(sid: &str) -> CallScript {
    CallScript {
        subscription_id: sid.into(),
        from: Party::Caller,
        outcome: CallOutcome::Answered,
        talk_seconds: 7,
        record: false,
    }
}

async fn ledger(t: &TestSim) -> Value {
    let resp = t
        .client
        .get(t.url("/sim/cdrs/delivered"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn ledger_lists_delivered_and_lost_icids_with_refused_attempts() {
    let (t, rx) = setup().await;
    let resp = t
        .client
        .put(t.url("/sim/callback-retries"))
        .json(&json!({"delaysMs": [5, 5]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let sid = t.bind_ok(X1, A, B).await;

    let first = t.ctl.play_call(call(&sid)).await.unwrap();
    rx.answer_next(500, "");
    assert_eq!(t.ctl.flush_cdrs().await.unwrap(), 1);

    let second = t.ctl.play_call(call(&sid)).await.unwrap();
    for _ in 0..3 {
        rx.answer_next(503, "");
    }
    assert!(t.ctl.flush_cdrs().await.is_err(), "retries run out");

    let l = ledger(&t).await;
    assert_eq!(l["delivered"], 1);
    assert_eq!(l["lost"], 1);
    assert_eq!(l["batches"], 1);
    assert_eq!(l["failedAttempts"], 1 + 3);
    assert_eq!(l["deliveredIcids"], json!([first.icid]));
    assert_eq!(l["lostIcids"], json!([second.icid]));
    assert_eq!(l["truncated"], false);
}

#[tokio::test]
async fn retry_delays_are_validated() {
    let (t, _rx) = setup().await;
    let resp = t
        .client
        .put(t.url("/sim/callback-retries"))
        .json(&json!({"delaysMs": "soon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}
