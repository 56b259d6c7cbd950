//! Injected failures: resultcodes, latency, dropped connections and "applied, then the answer was lost".

use std::time::{Duration, Instant};

use pns_sim::{Fault, Op};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn result_code_n_times_for_one_operation() {
    let t = spawn_sim().await;
    t.ctl.inject(Fault::ResultCode {
        code: "1010010".into(),
        http_status: 403,
        times: 2,
        operation: Some(Op::Bind),
    });
    let body = json!({"relationNum": X1, "callerNum": A, "calleeNum": B});
    let reply = t.bind(body.clone()).await;
    assert_eq!((reply.0, code(&reply)), (403, "1010010"));
    let q = t.query(&format!("relationNum={}", enc(X1))).await;
    assert_eq!(code(&q), "0", "other operations are unaffected");
    let reply = t.bind(body).await;
    assert_eq!((reply.0, code(&reply)), (403, "1010010"));
    assert_eq!(t.ctl.binding_count(), 0, "a refused bind does nothing");
    t.bind_ok(X1, A, B).await;
    assert!(t.ctl.faults().is_empty());

    // Without an HTTP status the platform's own is used.
    t.ctl.inject(Fault::ResultCode {
        code: "1023001".into(),
        http_status: 0,
        times: 1,
        operation: None,
    });
    let reply = t.query(&format!("relationNum={}", enc(X1))).await;
    assert_eq!((reply.0, code(&reply)), (500, "1023001"));
}

#[tokio::test]
async fn latency_delays_requests() {
    let t = spawn_sim().await;
    t.ctl.inject(Fault::Latency {
        millis: 300,
        times: 1,
    });
    let started = Instant::now();
    t.bind_ok(X1, A, B).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    t.query(&format!("relationNum={}", enc(X1))).await;
    assert!(started.elapsed() < Duration::from_millis(300), "used up");
}

#[tokio::test]
async fn dropped_connection_changes_nothing() {
    let t = spawn_sim().await;
    t.ctl.inject(Fault::DropConnection { times: 1 });
    let body = json!({"relationNum": X1, "callerNum": A, "calleeNum": B});
    let err = t
        .signed(t.client.post(t.url(pns_core::wire::BIND_PATH)).json(&body))
        .send()
        .await
        .expect_err("the connection is closed without an answer");
    // hyper reports IncompleteMessage: the connection closed before any answer.
    assert!(
        err.is_request() && !err.is_timeout() && !err.is_status(),
        "{err:?}"
    );
    assert_eq!(t.ctl.binding_count(), 0);
    t.bind_ok(X1, A, B).await;
}

#[tokio::test]
async fn apply_then_drop_performs_the_bind_but_loses_the_answer() {
    let t = spawn_sim().await;
    t.ctl.inject(Fault::ApplyThenDrop { times: 1 });
    let body = json!({"relationNum": X1, "callerNum": A, "calleeNum": B});
    let result = t
        .signed(t.client.post(t.url(pns_core::wire::BIND_PATH)).json(&body))
        .send()
        .await;
    assert!(result.is_err(), "no answer arrives");
    assert_eq!(t.ctl.binding_count(), 1, "but the binding exists");
    // A retry of the same bind now meets the invariant, as it would on the platform.
    let reply = t.bind(body).await;
    assert_eq!(code(&reply), "1012010");
}

#[tokio::test]
async fn faults_through_the_control_api() {
    let t = spawn_sim().await;
    let resp = t
        .client
        .post(t.url("/sim/faults"))
        .json(&json!({"kind": "resultCode", "code": "1012008", "httpStatus": 400, "times": 1, "operation": "bind"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let reply = t
        .bind(json!({"areaCode": "0755", "callerNum": A, "calleeNum": B}))
        .await;
    assert_eq!(code(&reply), "1012008");
    t.client
        .post(t.url("/sim/faults"))
        .json(&json!({"kind": "dropConnection", "times": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(t.ctl.faults().len(), 1);
    let resp = t.client.delete(t.url("/sim/faults")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert!(t.ctl.faults().is_empty());
    let resp = t
        .client
        .post(t.url("/sim/faults"))
        .json(&json!({"kind": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
}
