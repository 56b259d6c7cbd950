//! Signed callbacks with hostile content: overlong fields, NUL characters, bodies that are not JSON.
//! Whatever the platform signed is stored (in its tables, or raw with the reason), never refused: a
//! refused CDR batch is gone for good after the platform's last retry.

use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::Backend;
use crate::platform_sim::{A, B, Platform, X1, spawn_platform};

fn record(icid: &str, session: &str, sid: &str) -> Value {
    json!({
        "direction": 0, "icid": icid, "bindNum": X1, "sessionId": session,
        "subscriptionId": sid, "callerNum": A, "calleeNum": B,
        "callInTime": "2026-01-01 10:00:00", "fwdAnswerTime": "2026-01-01 10:00:05",
        "callEndTime": "2026-01-01 10:01:05", "recordFlag": 0,
        "hostName": "callenabler246.huaweicaas.com"
    })
}

async fn raw_reasons(p: &Platform) -> Vec<String> {
    use gateway::db::entity::raw_callbacks::{Column, Entity};
    Entity::find()
        .order_by_asc(Column::ReceivedAt)
        .all(&p.app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.reason.unwrap_or_default())
        .collect()
}

both_backends!(
    a_cdr_batch_with_long_fields_and_nul_is_stored_not_refused,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let (binding, sid) = p.bind("app-1", A, B, X1).await;

        let mut long = record("icid-long", &"s".repeat(400), &sid);
        long["recordFlag"] = json!(1);
        long["recordDomain"] = json!(format!("{}.example.com", "d".repeat(300)));
        long["recordObjectName"] = json!(format!("{}.wav", "o".repeat(600)));
        let mut nul = record("icid-nul\u{0}", "session-nul", &sid);
        nul["hostName"] = json!("host\u{0}name");
        nul["callerNum\u{0}"] = json!("a key with NUL");
        let overlong_key = record(&"i".repeat(2000), "session-overlong", &sid);
        let batch = json!({"eventType": "fee", "feeLst": [
            record("icid-plain", "session-plain", &sid), long, nul, overlong_key,
        ]});

        let response = p.post_signed(&batch).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        assert_eq!(p.app.count("cdrs").await, 3);
        let reasons = raw_reasons(&p).await;
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("icid"), "{reasons:?}");

        // Every call the batch stored is in the binding's history, its long fields whole.
        let page: serde_json::Value = p
            .app
            .get(
                &p.app.writer("app-1"),
                &format!("/v1/bindings/{binding}/calls"),
            )
            .await
            .json()
            .await
            .unwrap();
        let calls = page["items"].as_array().unwrap();
        assert_eq!(calls.len(), 3, "{page}");
        use gateway::db::entity::cdrs::Entity as Cdrs;
        let long = Cdrs::find_by_id("icid-long")
            .one(&p.app.state.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(long.session_id.unwrap().len(), 400);
        assert_eq!(long.record_object_name.unwrap().len(), 604);
        let nul = Cdrs::find_by_id("icid-nul\\u0000")
            .one(&p.app.state.db)
            .await
            .unwrap()
            .expect("NUL kept visible as \\u0000");
        assert_eq!(nul.payload["hostName"], "host\\u0000name");

        // A redelivery stores nothing twice, the raw record included.
        assert_eq!(p.post_signed(&batch).await.status(), 200);
        assert_eq!(p.app.count("cdrs").await, 3);
        assert_eq!(p.app.count("calls").await, 3);
        assert_eq!(raw_reasons(&p).await.len(), 1, "the raw record kept once");
    }
);

/// PostgreSQL refusing the values themselves (a data exception) cannot get better on a retry, so the
/// batch is kept raw and acknowledged; trouble that can pass (here: "cannot connect now") answers 5xx
/// so the platform redelivers, and the redelivery is stored once the database is well again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_the_database_refuses_as_data_is_kept_raw_and_an_outage_is_retried() {
    let Some(p) = spawn_platform(Backend::Postgres).await else {
        return;
    };
    let (_, sid) = p.bind("app-1", A, B, X1).await;
    let refuse = |code: &str| {
        format!(
            "CREATE OR REPLACE FUNCTION refuse_cdr() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'refused by the test' USING ERRCODE = '{code}'; END $$"
        )
    };
    p.app.sql(&refuse("22003")).await;
    p.app
        .sql("CREATE TRIGGER refuse_cdr BEFORE INSERT ON cdrs FOR EACH ROW EXECUTE FUNCTION refuse_cdr()")
        .await;

    let batch = json!({"eventType": "fee", "feeLst": [record("icid-a", "session-a", &sid)]});
    let response = p.post_signed(&batch).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    assert_eq!(p.app.count("cdrs").await, 0);
    let reasons = raw_reasons(&p).await;
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].contains("refused by the test"), "{reasons:?}");
    assert_eq!(p.post_signed(&batch).await.status(), 200);
    assert_eq!(
        raw_reasons(&p).await.len(),
        1,
        "a redelivery is not kept twice"
    );

    p.app.sql(&refuse("57P03")).await;
    let later = json!({"eventType": "fee", "feeLst": [record("icid-b", "session-b", &sid)]});
    let response = p.post_signed(&later).await;
    assert!(response.status().is_server_error(), "{}", response.status());
    assert_eq!(
        raw_reasons(&p).await.len(),
        1,
        "nothing acknowledged, nothing kept"
    );

    p.app.sql("DROP TRIGGER refuse_cdr ON cdrs").await;
    assert_eq!(p.post_signed(&later).await.status(), 200);
    assert_eq!(p.app.count("cdrs").await, 1);
}

both_backends!(
    a_call_event_with_long_fields_and_nul_is_stored,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let event = json!({"eventType": "disconnect", "statusInfo": {
            "sessionId": format!("{}\u{0}", "s".repeat(300)), "timestamp": "2026-01-01 10:00:00",
            "caller": A, "called": X1, "stateCode": 8102,
            "stateDesc": format!("busy\u{0}{}", "d".repeat(400)), "subscriptionId": ""}});
        let response = p.post_signed(&event).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        assert_eq!(p.app.count("call_events").await, 1);
        assert_eq!(p.app.count("calls").await, 1);
        assert_eq!(p.post_signed(&event).await.status(), 200);
        assert_eq!(p.app.count("call_events").await, 1, "deduplicated");

        // An identifier too long to index is kept raw, with the reason.
        let mut overlong = event.clone();
        overlong["statusInfo"]["sessionId"] = json!("s".repeat(5000));
        assert_eq!(p.post_signed(&overlong).await.status(), 200);
        assert_eq!(p.app.count("call_events").await, 1);
        let reasons = raw_reasons(&p).await;
        assert!(reasons[0].contains("sessionId"), "{reasons:?}");
        assert_eq!(p.post_signed(&overlong).await.status(), 200);
        assert_eq!(raw_reasons(&p).await.len(), 1, "a redelivery is kept once");
    }
);

both_backends!(
    a_signed_body_that_is_not_json_is_kept_raw,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let signed = p.creds.sign_now();
        let body = b"{\"eventType\":\"fee\",\"feeLst\":[{\"icid\":\"trunc\x00\xff";
        let response = p
            .app
            .client
            .post(p.app.callback_url())
            .header("Authorization", signed.authorization)
            .header("X-AKSK", signed.x_aksk)
            .body(&body[..])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        use gateway::db::entity::raw_callbacks::Entity;
        let kept = Entity::find().one(&p.app.state.db).await.unwrap().unwrap();
        assert!(kept.reason.unwrap().starts_with("not JSON"));
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(kept.body["unparsed"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes, body, "every byte kept");
    }
);

both_backends!(
    a_late_number_status_push_does_not_overwrite_a_newer_one,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let admin = p.app.token("ops", "admin");
        let added = p
            .app
            .post_json(
                &admin,
                "/v1/numbers",
                &json!({"number": X1, "areaCode": "0755"}),
            )
            .await;
        assert_eq!(added.status(), 201, "{:?}", added.text().await);
        let push = |status: i64, at: Option<&str>| {
            let mut item = json!({"number": X1, "status": status});
            if let Some(at) = at {
                item["timestamp"] = json!(at);
            }
            json!({"eventType": "numStatus", "numInfo": [item]})
        };
        let status = || async {
            let pool = p.app.numbers().await;
            (
                pool[X1]["status"].as_str().unwrap().to_owned(),
                pool[X1]["statusUpdatedAt"].clone(),
            )
        };

        let pushed = p.post_signed(&push(10, Some("2026-01-01 10:00:05"))).await;
        assert_eq!(pushed.status(), 200);
        assert_eq!(status().await.0, "unavailable");
        // The "normal" of 10:00:01 arrives after the "unavailable" of 10:00:05: history only.
        assert_eq!(
            p.post_signed(&push(5, Some("2026-01-01 10:00:01")))
                .await
                .status(),
            200
        );
        let (now, at) = status().await;
        assert_eq!(now, "unavailable");
        assert_eq!(at, "2026-01-01T10:00:05Z");
        assert_eq!(p.app.count("x_number_status_events").await, 2);
        // A newer one applies; one without a time counts from its arrival, so it is newest.
        assert_eq!(
            p.post_signed(&push(5, Some("2026-01-01 10:00:09")))
                .await
                .status(),
            200
        );
        assert_eq!(status().await.0, "normal");
        assert_eq!(p.post_signed(&push(9, None)).await.status(), 200);
        assert_eq!(status().await.0, "suspended");
    }
);
