//! The AXB API: validation, the invariant, capacity, ownership, X selection, expiry, unbind, paging.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

fn base_bind() -> Value {
    json!({"relationNum": X1, "callerNum": A, "calleeNum": B})
}

#[tokio::test]
async fn bind_echoes_the_binding() {
    let t = spawn_sim().await;
    let reply = t
        .bind(
            json!({"relationNum": X1, "callerNum": A, "calleeNum": B, "callDirection": 1,
                     "duration": 3600, "maxDuration": 60, "userData": "order-42"}),
        )
        .await;
    assert_eq!(reply.0, 200);
    let b = &reply.1;
    assert_eq!(
        (b["resultcode"].as_str(), b["resultdesc"].as_str()),
        (Some("0"), Some("Success"))
    );
    assert!(b["subscriptionId"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(b["relationNum"], X1);
    assert_eq!(
        (b["callerNum"].as_str(), b["calleeNum"].as_str()),
        (Some(A), Some(B))
    );
    assert_eq!(
        (
            b["callDirection"].as_u64(),
            b["duration"].as_u64(),
            b["maxDuration"].as_u64()
        ),
        (Some(1), Some(3600), Some(60))
    );
    let listed = t.ctl.bindings();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].user_data.as_deref(), Some("order-42"));
}

#[tokio::test]
async fn every_field_is_validated_with_its_name() {
    let t = spawn_sim().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"callerNum": null}), "callerNum"),
        (json!({"callerNum": "13800000001"}), "callerNum"),
        (json!({"calleeNum": "+86abc"}), "calleeNum"),
        (json!({"calleeNum": A}), "calleeNum"),
        (json!({"relationNum": "+0017000000001"}), "relationNum"),
        (json!({"relationNum": null}), "relationNum"),
        (json!({"relationNum": null, "areaCode": "07a5"}), "areaCode"),
        (json!({"areaMatchMode": "2"}), "areaMatchMode"),
        (json!({"areaMatchMode": 1}), "areaMatchMode"),
        (json!({"callDirection": 3}), "callDirection"),
        (json!({"callDirection": -1}), "callDirection"),
        (json!({"duration": 7_776_001}), "duration"),
        (json!({"duration": "60"}), "duration"),
        (json!({"maxDuration": 1441}), "maxDuration"),
        (json!({"recordFlag": "yes"}), "recordFlag"),
        (json!({"recordFlag": true}), "recordFlag"),
        (json!({"privateSms": "TRUE"}), "privateSms"),
        (json!({"recordHintTone": ""}), "recordHintTone"),
        (json!({"userData": ""}), "userData"),
        (json!({"userData": "x".repeat(257)}), "userData"),
        (json!({"userData": "{\"a\":1}"}), "userData"),
        (json!({"lastMinVoice": "tone.wav"}), "lastMinVoice"),
        (json!({"preVoice": "tone.wav"}), "preVoice"),
    ];
    for (patch, field) in cases {
        let mut body = base_bind();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let reply = t.bind(body.clone()).await;
        assert_eq!((reply.0, code(&reply)), (400, "1010002"), "{body}");
        let desc = reply.1["resultdesc"].as_str().unwrap();
        assert!(
            desc.contains(field),
            "resultdesc {desc:?} should name {field}"
        );
    }
    let edge = t
        .bind(
            json!({"relationNum": X1, "callerNum": A, "calleeNum": B, "duration": 7_776_000,
                     "maxDuration": 1440, "lastMinVoice": "t.wav", "userData": "x".repeat(256),
                     "recordFlag": "true", "privateSms": "false", "areaMatchMode": "1"}),
        )
        .await;
    assert_eq!(code(&edge), "0", "{}", edge.1);

    let not_json = t
        .send(
            t.signed(
                t.client
                    .post(t.url(pns_core::wire::BIND_PATH))
                    .body("{oops"),
            ),
        )
        .await;
    assert_eq!((not_json.0, code(&not_json)), (400, "1010002"));
    let sid = t.bind_ok(X2, A, B).await;
    for (body, field) in [
        (json!({"callerNum": A}), "subscriptionId"),
        (
            json!({"subscriptionId": sid, "callDirection": 9}),
            "callDirection",
        ),
        (json!({"subscriptionId": sid, "duration": -5}), "duration"),
        (json!({"subscriptionId": sid, "userData": "a}"}), "userData"),
    ] {
        let reply = t.modify(body).await;
        assert_eq!(code(&reply), "1010002");
        assert!(reply.1["resultdesc"].as_str().unwrap().contains(field));
    }
    let reply = t.unbind("").await;
    assert_eq!(code(&reply), "1010002");
    let reply = t.query("pageSize=20").await;
    assert_eq!(code(&reply), "1010002");
}

#[tokio::test]
async fn a_real_number_is_in_one_binding_per_x() {
    let t = spawn_sim().await;
    t.bind_ok(X1, A, B).await;
    for (a, b) in [(A, C), (C, A), (B, C), (C, B), (A, B)] {
        let reply = t
            .bind(json!({"relationNum": X1, "callerNum": a, "calleeNum": b}))
            .await;
        assert_eq!((reply.0, code(&reply)), (400, "1012010"), "{a} {b}");
    }
    t.bind_ok(X1, C, D).await;
    t.bind_ok(X2, A, C).await;
    // Modify may not move a party into a pair that already holds it on X.
    let sid = t.bind_ok(X3, A, B).await;
    let other = t.bind_ok(X3, C, D).await;
    let reply = t
        .modify(json!({"subscriptionId": other, "callerNum": A}))
        .await;
    assert_eq!(code(&reply), "1012010");
    // Swapping the binding's own parties is fine.
    let reply = t
        .modify(json!({"subscriptionId": sid, "callerNum": B, "calleeNum": A}))
        .await;
    assert_eq!(code(&reply), "0", "{}", reply.1);
    let q = t.query(&format!("subscriptionId={sid}")).await;
    assert_eq!(q.1["relationNumList"][0]["callerNum"], B);
}

#[tokio::test]
async fn capacity_per_x_is_enforced() {
    let t = spawn_sim_with(|c| c.capacity_per_number = 2).await;
    t.bind_ok(X1, A, B).await;
    t.bind_ok(X1, C, D).await;
    let reply = t
        .bind(json!({"relationNum": X1, "callerNum": "+8613800000005", "calleeNum": "+8613800000006"}))
        .await;
    assert_eq!(code(&reply), "1012009");
}

#[tokio::test]
async fn numbers_of_other_apps_are_refused() {
    let t = spawn_sim().await;
    let reply = t
        .bind(json!({"relationNum": "+8617099999999", "callerNum": A, "calleeNum": B}))
        .await;
    assert_eq!(code(&reply), "1012001");
    let reply = t
        .unbind(&format!("relationNum={}", enc("+8617099999999")))
        .await;
    assert_eq!(code(&reply), "1012001");
}

#[tokio::test]
async fn area_selection_strict_loose_and_least_loaded() {
    let t = spawn_sim_with(|c| c.capacity_per_number = 1).await;
    // X1 taken explicitly: the 0755 pick must be the least-loaded X2.
    t.bind_ok(X1, A, B).await;
    let reply = t
        .bind(json!({"areaCode": "0755", "callerNum": C, "calleeNum": D}))
        .await;
    assert_eq!(reply.1["relationNum"], X2, "{}", reply.1);
    // 0755 is full now: strict fails, loose falls back to another city.
    let (e, f) = ("+8613800000005", "+8613800000006");
    let reply = t
        .bind(json!({"areaCode": "0755", "callerNum": e, "calleeNum": f}))
        .await;
    assert_eq!(code(&reply), "1012008");
    let reply = t
        .bind(json!({"areaCode": "0755", "areaMatchMode": "0", "callerNum": e, "calleeNum": f}))
        .await;
    assert_eq!(code(&reply), "1012008");
    let reply = t
        .bind(json!({"areaCode": "0755", "areaMatchMode": "1", "callerNum": e, "calleeNum": f}))
        .await;
    assert_eq!(
        (code(&reply), reply.1["relationNum"].as_str()),
        ("0", Some(X3))
    );
    // A city with no numbers at all.
    let reply = t.bind(json!({"areaCode": "021", "callerNum": "+8613800000007", "calleeNum": "+8613800000008"})).await;
    assert_eq!(code(&reply), "1012008");
}

#[tokio::test]
async fn area_selection_respects_the_invariant() {
    let t = spawn_sim().await;
    let first = t
        .bind(json!({"areaCode": "0755", "callerNum": A, "calleeNum": B}))
        .await;
    let second = t
        .bind(json!({"areaCode": "0755", "callerNum": A, "calleeNum": C}))
        .await;
    assert_ne!(first.1["relationNum"], second.1["relationNum"]);
    let third = t
        .bind(json!({"areaCode": "0755", "callerNum": A, "calleeNum": D}))
        .await;
    assert_eq!(code(&third), "1012008", "A is on both 0755 numbers already");
}

#[tokio::test]
async fn bindings_expire_and_modify_restarts_the_timer() {
    let t = spawn_sim().await;
    let short = t
        .bind(json!({"relationNum": X1, "callerNum": A, "calleeNum": B, "duration": 1}))
        .await;
    let short = short.1["subscriptionId"].as_str().unwrap().to_owned();
    let kept = t
        .bind(json!({"relationNum": X2, "callerNum": A, "calleeNum": B, "duration": 2}))
        .await;
    let kept = kept.1["subscriptionId"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        code(&t.query(&format!("subscriptionId={short}")).await),
        "1012007"
    );
    // An expired binding frees its parties on X.
    t.bind_ok(X1, A, B).await;
    let reply = t
        .modify(json!({"subscriptionId": kept, "duration": 2}))
        .await;
    assert_eq!(code(&reply), "0");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        code(&t.query(&format!("subscriptionId={kept}")).await),
        "0",
        "timer restarted by modify"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        code(&t.query(&format!("subscriptionId={kept}")).await),
        "1012007"
    );
    assert_eq!(t.ctl.binding_count(), 1);
    let sid = t.bind_ok(X3, A, B).await;
    assert!(t.ctl.expire_now(&sid));
    assert_eq!(
        code(&t.unbind(&format!("subscriptionId={sid}")).await),
        "1012007"
    );
}

#[tokio::test]
async fn unbind_by_subscription_and_by_relation_num() {
    let t = spawn_sim().await;
    let sid = t.bind_ok(X1, A, B).await;
    t.bind_ok(X1, C, D).await;
    t.bind_ok(X1, "+8613800000005", "+8613800000006").await;
    let other = t.bind_ok(X2, A, B).await;
    assert_eq!(code(&t.unbind(&format!("subscriptionId={sid}")).await), "0");
    assert_eq!(
        code(&t.unbind(&format!("subscriptionId={sid}")).await),
        "1012007"
    );
    assert_eq!(
        code(&t.unbind("subscriptionId=no-such-binding").await),
        "1012007"
    );
    assert_eq!(
        code(&t.unbind(&format!("relationNum={}", enc(X1))).await),
        "0"
    );
    let q = t.query(&format!("relationNum={}", enc(X1))).await;
    assert_eq!((code(&q), q.1["totalCount"].as_u64()), ("0", Some(0)));
    assert_eq!(
        code(&t.query(&format!("subscriptionId={other}")).await),
        "0"
    );
    assert_eq!(t.ctl.binding_count(), 1);
    // subscriptionId wins when both are sent.
    let reply = t
        .unbind(&format!("subscriptionId={other}&relationNum={}", enc(X1)))
        .await;
    assert_eq!(code(&reply), "0");
    assert_eq!(t.ctl.binding_count(), 0);
}

#[tokio::test]
async fn query_pages_and_narrows() {
    let t = spawn_sim().await;
    let mut sids = Vec::new();
    for i in 0..25 {
        sids.push(
            t.bind_ok(
                X1,
                &format!("+86138000010{i:02}"),
                &format!("+86138000020{i:02}"),
            )
            .await,
        );
    }
    let page =
        |idx: u32, size: &str| format!("relationNum={}&pageIndex={idx}&pageSize={size}", enc(X1));
    let q = t.query(&page(3, "10")).await;
    assert_eq!(q.1["totalCount"], 25);
    let list = q.1["relationNumList"].as_array().unwrap();
    assert_eq!(list.len(), 5);
    assert_eq!(list[0]["subscriptionId"], sids[20].as_str());
    for size in ["5", "101", "abc"] {
        let q = t.query(&page(1, size)).await;
        assert_eq!(
            q.1["relationNumList"].as_array().unwrap().len(),
            25,
            "pageSize {size} falls back to 50"
        );
    }
    assert_eq!(
        t.query(&page(4, "10")).await.1["relationNumList"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let q = t
        .query(&format!(
            "relationNum={}&callerNum={}",
            enc(X1),
            enc("+8613800001007")
        ))
        .await;
    assert_eq!(q.1["totalCount"], 1);
    let item = &q.1["relationNumList"][0];
    assert_eq!(item["subscriptionId"], sids[7].as_str());
    for field in [
        "relationNum",
        "callerNum",
        "calleeNum",
        "subscribeTime",
        "recordFlag",
    ] {
        assert!(item.get(field).is_some(), "{field} listed");
    }
}

#[tokio::test]
async fn record_url_and_call_stop() {
    let t = spawn_sim().await;
    let url = format!(
        "{}?recordDomain=d.example&fileName=nope.wav",
        t.url(pns_core::wire::RECORD_URL_PATH)
    );
    assert_eq!(code(&t.send(t.signed(t.client.get(url))).await), "1012007");
    let stop = t.client.post(t.url(pns_core::wire::CALL_STOP_PATH));
    let reply = t
        .send(
            t.signed(stop)
                .json(&json!({"sessionid": "s-1", "signal": "call_stop"})),
        )
        .await;
    assert_eq!(code(&reply), "0");
    let stop = t.client.post(t.url(pns_core::wire::CALL_STOP_PATH));
    let reply = t
        .send(
            t.signed(stop)
                .json(&json!({"sessionid": "s-1", "signal": "stop"})),
        )
        .await;
    assert_eq!(code(&reply), "1010002");
}

#[tokio::test]
async fn stop_releases_the_port() {
    let t = spawn_sim().await;
    let base = t.base.clone();
    t.sim.stop().await;
    let err = reqwest::get(format!("{base}/sim/health"))
        .await
        .expect_err("nothing listens any more");
    assert!(err.is_connect(), "{err:?}");
}
