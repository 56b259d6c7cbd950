//! `POST /callbacks/huawei` end to end: the simulator plays calls and texts and posts real signed
//! callbacks; duplicates, disorder, forgeries and storage failures are staged on top.

use pns_core::NumStatusInfo;
use pns_core::aksk::Credentials;
use pns_sim::{CallOutcome, CallScript, Party};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::Backend;
use crate::platform_sim::{A, B, Platform, X1, spawn_platform, spawn_platform_with};

fn call(sid: &str, from: Party, outcome: CallOutcome, talk: u32) -> CallScript {
    CallScript {
        subscription_id: sid.to_owned(),
        from,
        outcome,
        talk_seconds: talk,
        record: false,
    }
}

/// Plays `n` answered calls on `sid` (`script(i)`: who dials, talk seconds) and returns the CDR
/// batches the platform then pushes.
async fn played_batches(
    p: &Platform,
    sid: &str,
    n: u32,
    script: impl Fn(u32) -> (Party, u32),
) -> Vec<Value> {
    for i in 0..n {
        let (from, talk) = script(i);
        p.ctl
            .play_call(call(sid, from, CallOutcome::Answered, talk))
            .await
            .unwrap();
    }
    p.capture(|| async {
        p.ctl.flush_cdrs().await.unwrap();
    })
    .await
}

async fn calls_of(p: &Platform, binding: &str) -> Vec<Value> {
    let page: Value = p
        .app
        .get(
            &p.app.writer("app-1"),
            &format!("/v1/bindings/{binding}/calls"),
        )
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().expect("items").clone()
}

async fn binding(p: &Platform, id: &str) -> Value {
    let response = p
        .app
        .get(&p.app.writer("app-1"), &format!("/v1/bindings/{id}"))
        .await;
    response.json().await.unwrap()
}

fn disconnect(session: &str) -> Value {
    json!({"eventType": "disconnect", "statusInfo": {
        "sessionId": session, "timestamp": "2026-01-01 10:00:00",
        "caller": A, "called": B, "stateCode": 8102, "stateDesc": "busy", "subscriptionId": ""}})
}

both_backends!(
    a_fee_batch_of_50_delivered_three_times_is_stored_once,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let (id, sid) = p.bind("app-1", A, B, X1).await;
        // The batch exactly as the platform sends it, then delivered three times (freshly signed each).
        let batches = played_batches(&p, &sid, 50, |i| {
            let from = if i % 2 == 0 {
                Party::Caller
            } else {
                Party::Callee
            };
            (from, 10 + i)
        })
        .await;
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0]["feeLst"].as_array().unwrap().len(), 50);
        // Twice at the same moment (two platform nodes retrying), then once more later.
        let (first, second) = tokio::join!(p.post_signed(&batches[0]), p.post_signed(&batches[0]));
        assert_eq!(
            (first.status().as_u16(), second.status().as_u16()),
            (200, 200)
        );
        assert_eq!(p.post_signed(&batches[0]).await.status(), 200);
        assert_eq!(p.app.count("cdrs").await, 50);
        let b = binding(&p, &id).await;
        assert_eq!(b["callCount"], 50);
        let expected: u32 = (0..50).map(|i| 10 + i).sum();
        assert_eq!(b["totalTalkSeconds"], expected);
        assert!(b["lastCallAt"].is_string());
        let calls = calls_of(&p, &id).await;
        assert_eq!(calls.len(), 50);
        assert!(
            calls
                .iter()
                .all(|c| c["outcome"] == "answered" && c["icid"].is_string())
        );
    }
);

both_backends!(
    a_batch_mixing_new_repeated_and_stored_records_counts_each_call_once,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let (id, sid) = p.bind("app-1", A, B, X1).await;
        let batches = played_batches(&p, &sid, 50, |i| (Party::Caller, 1 + i)).await;
        let records = batches[0]["feeLst"].as_array().unwrap().clone();
        let with = |records: Vec<Value>| {
            let mut body = batches[0].clone();
            body["feeLst"] = Value::Array(records);
            body
        };
        // The first 20 arrive; then a batch overlapping them, with one record in it twice.
        let first = with(records[..20].to_vec());
        assert_eq!(p.post_signed(&first).await.status(), 200);
        let mut overlapping = records[10..].to_vec();
        overlapping.push(records[30].clone());
        assert_eq!(p.post_signed(&with(overlapping)).await.status(), 200);
        assert_eq!(p.app.count("cdrs").await, 50);
        let b = binding(&p, &id).await;
        assert_eq!(b["callCount"], 50);
        assert_eq!(b["totalTalkSeconds"], (1..=50).sum::<u32>());
        let calls = calls_of(&p, &id).await;
        assert_eq!(calls.len(), 50);
        assert!(calls.iter().all(|c| c["outcome"] == "answered"));
    }
);

both_backends!(
    events_in_any_order_give_the_same_call,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let (id, sid) = p.bind("app-1", A, B, X1).await;
        let posted = p
            .capture(|| async {
                p.ctl
                    .play_call(call(&sid, Party::Callee, CallOutcome::Answered, 33))
                    .await
                    .unwrap();
                p.ctl.flush_cdrs().await.unwrap();
            })
            .await;
        assert_eq!(posted.len(), 5, "callin, alerting, answer, disconnect, fee");
        // CDR first, then the events backwards, then a late duplicate alerting.
        let mut order: Vec<&Value> = posted.iter().rev().collect();
        order.push(&posted[1]);
        for body in order {
            assert_eq!(p.post_signed(body).await.status(), 200);
        }
        let calls = calls_of(&p, &id).await;
        assert_eq!(calls.len(), 1);
        let c = &calls[0];
        assert_eq!(c["outcome"], "answered");
        assert_eq!(c["talkSeconds"], 33);
        assert_eq!(c["stateCode"], 0);
        assert_eq!(c["disconnectReason"], "answered and hung up");
        assert_eq!(c["direction"], "b_to_a");
        assert_eq!(c["from"], B);
        assert_eq!(c["to"], A);
        assert!(c["answeredAt"].is_string() && c["endedAt"].is_string());
        assert_eq!(p.app.count("call_events").await, 4);
        assert_eq!(binding(&p, &id).await["callCount"], 1);
    }
);

both_backends!(
    unsigned_forged_and_replayed_callbacks_are_refused_and_not_stored,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let unsigned = p
            .app
            .client
            .post(p.app.callback_url())
            .json(&disconnect("s-unsigned"))
            .send()
            .await
            .unwrap();
        assert_eq!(unsigned.status(), 401);
        assert_eq!(
            unsigned.json::<Value>().await.unwrap()["code"],
            "unauthorized"
        );

        let forged = Credentials::new(crate::platform_sim::APP_KEY, "guessed-secret");
        assert_eq!(
            p.post_with(&disconnect("s-forged"), &forged).await.status(),
            401
        );
        let other_key = Credentials::new("someone-else", crate::platform_sim::APP_SECRET);
        assert_eq!(
            p.post_with(&disconnect("s-key"), &other_key).await.status(),
            401
        );

        // A captured request replayed as is, and its headers reused on another body.
        let signed = p.creds.sign_now();
        let send = |body: Value| {
            p.app
                .client
                .post(p.app.callback_url())
                .header("Authorization", signed.authorization)
                .header("X-AKSK", signed.x_aksk.clone())
                .json(&body)
                .send()
        };
        assert_eq!(send(disconnect("s-first")).await.unwrap().status(), 200);
        assert_eq!(send(disconnect("s-first")).await.unwrap().status(), 401);
        assert_eq!(send(disconnect("s-replayed")).await.unwrap().status(), 401);

        assert_eq!(p.app.count("call_events").await, 1);
        assert_eq!(p.app.count("calls").await, 1);
    }
);

both_backends!(
    huaweis_sample_payloads_are_accepted_and_unknown_fields_kept,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        // From huawei-axb-python-samples.txt, as published (masked numbers included).
        let event = json!({"eventType": "disconnect", "statusInfo": {
            "sessionId": "1200_1029_4294967295_20190123091514@callenabler246.huaweicaas.com",
            "timestamp": "2019-01-23 09:16:41", "caller": "+86138****0021", "called": "+86138****7021",
            "stateCode": 0, "stateDesc": "The user releases the call.", "subscriptionId": "****"}});
        let fee = json!({"eventType": "fee", "feeLst": [{
            "direction": 1, "spId": "****", "appKey": "********",
            "icid": "ba171f34e6953fcd751edc77127748f4.3757223714.337238282.9", "bindNum": "+86138****0022",
            "sessionId": "1200_1029_4294967295_20190123091514@callenabler246.huaweicaas.com",
            "subscriptionId": "****", "callerNum": "+86138****0021", "calleeNum": "+86138****0022",
            "fwdDisplayNum": "+86138****0022", "fwdDstNum": "+86138****7021",
            "callInTime": "2019-01-23 09:15:14", "fwdStartTime": "2019-01-23 09:15:15",
            "fwdAlertingTime": "2019-01-23 09:15:21", "fwdAnswerTime": "2019-01-23 09:15:36",
            "callEndTime": "2019-01-23 09:16:41", "fwdUnaswRsn": 0, "ulFailReason": 0, "sipStatusCode": 0,
            "callOutUnaswRsn": 0, "recordFlag": 1, "recordStartTime": "2019-01-23 09:15:37",
            "recordDomain": "****.com", "recordBucketName": "sp-********", "recordObjectName": "********.wav",
            "ttsPlayTimes": 0, "ttsTransDuration": 0, "mptyId": "****", "serviceType": "004",
            "hostName": "callenabler246.huaweicaas.com",
            "fieldFromTheFuture": {"nested": [1, 2, 3]}}]});
        let sms = json!({"appKey": "****", "smsEvent": {
            "smsIdentifier": "****", "notificationMode": "Block", "calling": "+86138****0001",
            "virtualNumber": "+86138****0000", "event": "TextSMS", "timeStamp": "2018-09-13T09:46:16.023Z"}});
        assert_eq!(p.post_signed(&event).await.status(), 200);
        assert_eq!(p.post_signed(&fee).await.status(), 200);
        let answer = p.post_signed(&sms).await;
        assert_eq!(answer.status(), 200);
        assert_eq!(
            answer.json::<Value>().await.unwrap(),
            json!({"actions": [{"operation": "DiscardMessage"}]})
        );

        // The sample call: 65 s of talk (09:15:36 -> 09:16:41), recorded, visible to admins as unbound.
        let admin = p.app.token("ops", "admin");
        let page: Value = p
            .app
            .get(&admin, "/v1/calls?unbound=true")
            .await
            .json()
            .await
            .unwrap();
        let c = &page["items"][0];
        assert_eq!(c["talkSeconds"], 65);
        assert_eq!(c["outcome"], "answered");
        assert_eq!(c["hasRecording"], true);
        assert_eq!(
            c["icid"],
            "ba171f34e6953fcd751edc77127748f4.3757223714.337238282.9"
        );

        use sea_orm::EntityTrait;
        let cdr = gateway::db::entity::cdrs::Entity::find()
            .one(&p.app.state.db)
            .await
            .unwrap()
            .unwrap();
        let payload = cdr.payload;
        assert_eq!(payload["fieldFromTheFuture"], json!({"nested": [1, 2, 3]}));
        assert_eq!(payload["hostName"], "callenabler246.huaweicaas.com");
    }
);

both_backends!(
    malformed_unknown_and_oversized_bodies,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let signed = p.creds.sign_now();
        let malformed = p
            .app
            .client
            .post(p.app.callback_url())
            .header("Authorization", signed.authorization)
            .header("X-AKSK", signed.x_aksk)
            .body("{not json")
            .send()
            .await
            .unwrap();
        // Signed, so kept (raw) rather than refused until the platform gives up.
        assert_eq!(malformed.status(), 200);
        assert_eq!(p.app.count("raw_callbacks").await, 1);

        let unknown = json!({"eventType": "somethingNew", "detail": {"a": 1}});
        assert_eq!(p.post_signed(&unknown).await.status(), 200);
        assert_eq!(p.app.count("raw_callbacks").await, 2);

        let huge = json!({"eventType": "somethingNew", "pad": "x".repeat(2 * 1024 * 1024)});
        let response = p.post_signed(&huge).await;
        assert_eq!(response.status(), 413);
        assert_eq!(
            response.json::<Value>().await.unwrap()["code"],
            "payload_too_large"
        );
        assert_eq!(p.app.count("raw_callbacks").await, 2);
    }
);

both_backends!(
    storage_failure_answers_non_2xx_so_the_platform_retries,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let (_, sid) = p.bind("app-1", A, B, X1).await;
        p.ctl
            .set_retry_delays(vec![std::time::Duration::from_millis(1)]);
        p.app.sql("DROP TABLE call_events").await;
        let report = p
            .ctl
            .play_call(call(&sid, Party::Caller, CallOutcome::Busy, 0))
            .await
            .unwrap();
        assert!(
            report
                .events
                .iter()
                .all(|e| e.error.as_deref() == Some("HTTP 500") && e.attempts == 2),
            "{:?}",
            report.events
        );
        p.app.sql("DROP TABLE cdrs").await;
        let response = p
            .post_signed(&json!({"eventType": "fee", "feeLst": [{"icid": "i-1"}]}))
            .await;
        assert_eq!(response.status(), 500);
    }
);

both_backends!(
    x_number_status_updates_the_pool_and_is_kept_as_history,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        use gateway::db::entity::x_numbers;
        use sea_orm::{ActiveValue::Set, EntityTrait};
        let now = chrono::Utc::now();
        x_numbers::Entity::insert(x_numbers::ActiveModel {
            number: Set(X1.into()),
            area_code: Set("0755".into()),
            capacity: Set(5000),
            reserved: Set(false),
            status: Set(gateway::domain::number::NumberStatus::Normal),
            status_cause: Set(None),
            status_updated_at: Set(None),
            unusable_reason: Set(None),
            unusable_since: Set(None),
            in_use: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(&p.app.state.db)
        .await
        .unwrap();
        let item = |status, cause| NumStatusInfo {
            number: X1.into(),
            status,
            cause,
            timestamp: None,
        };
        p.ctl
            .push_num_status(vec![item(10, Some(2))])
            .await
            .unwrap();
        let x = gateway::db::entity::x_numbers::Entity::find_by_id(X1.to_owned())
            .one(&p.app.state.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (x.status.as_str(), x.status_cause),
            ("unavailable", Some(2))
        );
        p.ctl.push_num_status(vec![item(5, None)]).await.unwrap();
        let x = gateway::db::entity::x_numbers::Entity::find_by_id(X1.to_owned())
            .one(&p.app.state.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(x.status.as_str(), "normal");
        assert_eq!(p.app.count("x_number_status_events").await, 2);
    }
);

both_backends!(
    source_allowlist_and_switching_verification_off,
    |backend: Backend| async move {
        let Some(p) = spawn_platform_with(backend, |raw| {
            raw.callback_allow_ips = Some("10.9.9.9".into());
        })
        .await
        else {
            return;
        };
        // Refused like any other unauthorised callback: the same 401, the reason only in the log.
        let response = p.post_signed(&disconnect("s-elsewhere")).await;
        assert_eq!(response.status(), 401);
        assert_eq!(p.app.count("call_events").await, 0);

        // In production the allowlist must stand in for the signature.
        let Some(p) = spawn_platform_with(backend, |raw| {
            raw.callback_verify = false;
            raw.callback_allow_ips = Some("127.0.0.1".into());
        })
        .await
        else {
            return;
        };
        let unsigned = p
            .app
            .client
            .post(p.app.callback_url())
            .json(&disconnect("s-unsigned"))
            .send()
            .await
            .unwrap();
        assert_eq!(unsigned.status(), 200);
        assert_eq!(p.app.count("call_events").await, 1);
    }
);

both_backends!(
    concurrent_batches_over_the_same_bindings_all_commit,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let (first_id, first_sid) = p.bind("app-1", A, B, X1).await;
        let (second_id, second_sid) = p
            .bind("app-1", "+8618600000091", "+8618600000092", X1)
            .await;
        // Eight batches, each with records for both bindings, half of them in the other order: the
        // binding rows are taken in a fixed order, so no batch deadlocks and none is refused.
        let batch = |n: usize| {
            let mut records: Vec<Value> = (0..10)
                .map(|i| {
                    let sid = if i % 2 == 0 { &first_sid } else { &second_sid };
                    json!({
                        "icid": format!("deadlock-{n}-{i}"), "sessionId": format!("s-{n}-{i}"),
                        "subscriptionId": sid, "bindNum": X1, "callerNum": A, "calleeNum": B,
                        "callInTime": "2026-01-01 10:00:00", "fwdAnswerTime": "2026-01-01 10:00:05",
                        "callEndTime": "2026-01-01 10:00:15"
                    })
                })
                .collect();
            if n % 2 == 1 {
                records.reverse();
            }
            json!({"eventType": "fee", "feeLst": records})
        };
        let batches: Vec<Value> = (0..8).map(batch).collect();
        let answers = futures::future::join_all(batches.iter().map(|b| p.post_signed(b))).await;
        for answer in answers {
            assert_eq!(answer.status(), 200);
        }
        assert_eq!(p.app.count("cdrs").await, 80);
        for id in [first_id, second_id] {
            let b = binding(&p, &id).await;
            assert_eq!(b["callCount"], 40);
            assert_eq!(b["totalTalkSeconds"], 400);
        }
    }
);
