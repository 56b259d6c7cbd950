//! What apps read back: calls, recordings and texts, each app seeing only its own; SMS Block
//! decisions; the sandbox endpoints that drive the in-process simulator.

use pns_core::callback::{NotificationMode, SmsDecision};
use pns_sim::{CallOutcome, CallScript, Party, SmsScript};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};
use crate::platform_sim::{A, B, C, D, Platform, STRANGER, X1, X2, spawn_platform};

async fn items(p: &Platform, token: &str, path: &str) -> Vec<Value> {
    let response = p.app.get(token, path).await;
    assert_eq!(response.status(), 200, "{path}");
    let page: Value = response.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

fn block_from(sender: &str, x: &str, id: &str) -> Value {
    json!({"appKey": crate::platform_sim::APP_KEY, "smsEvent": {
        "smsIdentifier": id, "notificationMode": "Block", "calling": sender,
        "virtualNumber": x, "event": "TextSMS", "timeStamp": "2026-01-01T10:00:00.000Z"}})
}

both_backends!(
    sms_block_routes_only_between_the_parties_of_an_sms_enabled_binding,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let (_, sid) = p.bind("app-1", A, B, X1).await;
        let token = p.app.writer("app-1");
        let created = p
            .app
            .post_binding(
                &token,
                &json!({"callerNum": C, "calleeNum": D, "relationNum": X2, "privateSms": false}),
            )
            .await;
        assert_eq!(created.status(), 201);

        let send = |from| SmsScript {
            subscription_id: sid.clone(),
            from,
            mode: NotificationMode::Block,
            content: Some("hello".into()),
        };
        let from_a = p.ctl.send_sms(send(Party::Caller)).await.unwrap();
        assert_eq!(
            from_a.decision,
            Some(SmsDecision::Route {
                called: B.into(),
                calling: A.into()
            })
        );
        let from_b = p.ctl.send_sms(send(Party::Callee)).await.unwrap();
        assert_eq!(
            from_b.decision,
            Some(SmsDecision::Route {
                called: A.into(),
                calling: B.into()
            })
        );
        let discard = json!({"actions": [{"operation": "DiscardMessage"}]});
        let stranger = p
            .post_signed(&block_from(STRANGER, X1, "sms-stranger"))
            .await;
        assert_eq!(stranger.status(), 200);
        assert_eq!(stranger.json::<Value>().await.unwrap(), discard);
        let no_sms = p.post_signed(&block_from(C, X2, "sms-private-off")).await;
        assert_eq!(no_sms.json::<Value>().await.unwrap(), discard);

        // A redelivery gets the same answer and is stored once.
        let again = p
            .post_signed(&block_from(STRANGER, X1, "sms-stranger"))
            .await;
        assert_eq!(again.json::<Value>().await.unwrap(), discard);

        // Notify: an empty 200.
        let notify = p
            .ctl
            .send_sms(SmsScript {
                mode: NotificationMode::Notify,
                ..send(Party::Caller)
            })
            .await
            .unwrap();
        assert_eq!(notify.http_status, Some(200));

        let own = items(&p, &token, "/v1/sms").await;
        let decisions: Vec<&str> = own
            .iter()
            .map(|s| s["decision"].as_str().unwrap())
            .collect();
        assert_eq!(
            own.len(),
            4,
            "A, B, C (privateSms false) and the Notify: {decisions:?}"
        );
        assert!(decisions.contains(&"route") && decisions.contains(&"discard"));
        let admin = p.app.token("ops", "admin");
        assert_eq!(
            items(&p, &admin, "/v1/sms").await.len(),
            5,
            "plus the stranger's"
        );
        let filtered = items(
            &p,
            &token,
            &format!("/v1/sms?decision=route&number=%2B{}", &B[1..]),
        )
        .await;
        assert_eq!(filtered.len(), 2);
    }
);

both_backends!(
    every_read_is_scoped_to_the_calling_app,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let (id, sid) = p.bind("app-1", A, B, X1).await;
        p.ctl
            .play_call(CallScript {
                subscription_id: sid.clone(),
                from: Party::Caller,
                outcome: CallOutcome::Answered,
                talk_seconds: 20,
                record: true,
            })
            .await
            .unwrap();
        p.ctl.flush_cdrs().await.unwrap();
        p.ctl.play_unbound_call(X1, STRANGER).await.unwrap();
        p.ctl.flush_cdrs().await.unwrap();
        p.ctl
            .send_sms(SmsScript {
                subscription_id: sid,
                from: Party::Caller,
                mode: NotificationMode::Notify,
                content: None,
            })
            .await
            .unwrap();

        let own = p.app.writer("app-1");
        let calls = items(&p, &own, "/v1/calls").await;
        assert_eq!(calls.len(), 1, "the unbound attempt is not app-1's");
        let call = calls[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(calls[0]["hasRecording"], true);
        let recording: Value = p
            .app
            .get(&own, &format!("/v1/calls/{call}/recording"))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            recording["url"].as_str().unwrap().starts_with("http"),
            "{recording}"
        );
        assert!(recording["expiresAt"].is_string());

        let other = p.app.writer("app-2");
        assert!(items(&p, &other, "/v1/calls").await.is_empty());
        assert!(items(&p, &other, "/v1/sms").await.is_empty());
        for path in [
            format!("/v1/bindings/{id}/calls"),
            format!("/v1/calls/{call}"),
            format!("/v1/calls/{call}/recording"),
            format!("/v1/calls?bindingId={id}"),
            format!("/v1/sms?bindingId={id}"),
        ] {
            assert_eq!(p.app.get(&other, &path).await.status(), 404, "{path}");
        }
        assert_eq!(
            p.app.get(&own, "/v1/calls?unbound=true").await.status(),
            403
        );

        let admin = p.app.token("ops", "admin");
        let unbound = items(&p, &admin, "/v1/calls?unbound=true").await;
        assert_eq!(unbound.len(), 1);
        assert_eq!(unbound[0]["outcome"], "no_binding");
        assert_eq!(unbound[0]["stateCode"], 8014);
        assert_eq!(unbound[0]["from"], STRANGER);
        assert_eq!(items(&p, &admin, "/v1/calls").await.len(), 2);
    }
);

both_backends!(
    recordings_404_without_one_and_410_after_retention,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let (id, sid) = p.bind("app-1", A, B, X1).await;
        for record in [false, true] {
            p.ctl
                .play_call(CallScript {
                    subscription_id: sid.clone(),
                    from: Party::Caller,
                    outcome: CallOutcome::Answered,
                    talk_seconds: 5,
                    record,
                })
                .await
                .unwrap();
        }
        p.ctl.flush_cdrs().await.unwrap();
        let token = p.app.writer("app-1");
        let calls = items(&p, &token, &format!("/v1/bindings/{id}/calls")).await;
        assert_eq!(calls.len(), 2);
        let by_flag = |flag: bool| {
            calls.iter().find(|c| c["hasRecording"] == flag).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let plain = by_flag(false);
        let response = p
            .app
            .get(&token, &format!("/v1/calls/{plain}/recording"))
            .await;
        assert_eq!(response.status(), 404);

        let recorded = by_flag(true);
        // As if the CDR had arrived eight days ago.
        use gateway::db::entity::calls;
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        calls::Entity::update_many()
            .col_expr(
                calls::Column::CdrReceivedAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::days(8)),
            )
            .filter(calls::Column::Id.eq(recorded.parse::<uuid::Uuid>().unwrap()))
            .exec(&p.app.state.db)
            .await
            .unwrap();
        let response = p
            .app
            .get(&token, &format!("/v1/calls/{recorded}/recording"))
            .await;
        assert_eq!(response.status(), 410);
        assert_eq!(response.json::<Value>().await.unwrap()["code"], "gone");

        // Filters: outcome, number, time range.
        let answered = items(&p, &token, "/v1/calls?outcome=answered").await;
        assert_eq!(answered.len(), 2);
        assert!(items(&p, &token, "/v1/calls?outcome=busy").await.is_empty());
        assert!(
            items(&p, &token, "/v1/calls?from=2100-01-01T00:00:00Z")
                .await
                .is_empty()
        );
        let page: Value = p
            .app
            .get(&token, "/v1/calls?limit=1")
            .await
            .json()
            .await
            .unwrap();
        let cursor = page["nextCursor"].as_str().unwrap();
        let second = items(&p, &token, &format!("/v1/calls?limit=1&cursor={cursor}")).await;
        assert_eq!(second.len(), 1);
        assert_ne!(second[0]["id"], page["items"][0]["id"]);
    }
);

both_backends!(
    sandbox_endpoints_play_calls_and_texts_through_the_simulator,
    |backend: Backend| async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        let token = app.writer("app-1");
        let binding = app.bind(&token, A, B, "+8617000000001").await;
        let id = binding["id"].as_str().unwrap();
        let response = app
            .client
            .post(format!("{}/v1/sandbox/calls", app.address))
            .bearer_auth(&token)
            .json(&json!({"bindingId": id, "from": "callee", "outcome": "answered", "talkSeconds": 12, "record": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let call: Value = response.json().await.unwrap();
        assert_eq!(call["outcome"], "answered");
        assert_eq!(call["talkSeconds"], 12);
        assert_eq!(call["hasRecording"], true);
        assert_eq!(call["from"], B);

        let response = app
            .client
            .post(format!("{}/v1/sandbox/sms", app.address))
            .bearer_auth(&token)
            .json(&json!({"bindingId": id, "from": "caller", "mode": "Block", "content": "hi"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let sms: Value = response.json().await.unwrap();
        assert_eq!(sms["decision"]["actions"][0]["operation"], "vNumberRoute");
        assert_eq!(sms["decision"]["actions"][0]["message"]["called"], B);

        let b: Value = app
            .get(&token, &format!("/v1/bindings/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(b["callCount"], 1);
        assert_eq!(b["totalTalkSeconds"], 12);
    }
);

both_backends!(
    sandbox_endpoints_are_404_in_production_mode,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let (id, _) = p.bind("app-1", A, B, X1).await;
        let token = p.app.writer("app-1");
        for (path, body) in [
            (
                "/v1/sandbox/calls",
                json!({"bindingId": id, "from": "caller", "outcome": "busy"}),
            ),
            (
                "/v1/sandbox/sms",
                json!({"bindingId": id, "from": "caller", "mode": "Block", "content": "hi"}),
            ),
        ] {
            let response = p
                .app
                .client
                .post(format!("{}{path}", p.app.address))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let refused = crate::helpers::expect_error(response, 404, "not_found").await;
            assert!(
                refused["message"]
                    .as_str()
                    .unwrap()
                    .contains("sandbox mode"),
                "{path}: {refused}"
            );
        }
        // Nothing was played on the real platform's binding.
        p.ctl.flush_cdrs().await.unwrap();
        assert!(
            items(&p, &token, &format!("/v1/bindings/{id}/calls"))
                .await
                .is_empty()
        );
        assert!(
            items(&p, &token, &format!("/v1/sms?bindingId={id}"))
                .await
                .is_empty()
        );
    }
);

both_backends!(
    each_outcome_is_reported_with_its_disconnect_reason,
    |backend: Backend| async move {
        let Some(p) = spawn_platform(backend).await else {
            return;
        };
        let token = p.app.writer("app-1");
        // Only A may call B: B's calls are refused by the platform with 8016.
        let created = p
            .app
            .post_binding(
                &token,
                &json!({"callerNum": A, "calleeNum": B, "relationNum": X1, "callDirection": 1}),
            )
            .await;
        let binding: Value = created.json().await.unwrap();
        let (id, sid) = (
            binding["id"].as_str().unwrap().to_owned(),
            binding["subscriptionId"].as_str().unwrap().to_owned(),
        );
        let cases = [
            (
                Party::Caller,
                CallOutcome::NoAnswer,
                "no_answer",
                8101,
                "no answer",
            ),
            (Party::Caller, CallOutcome::Busy, "busy", 8102, "busy"),
            (
                Party::Caller,
                CallOutcome::Rejected,
                "rejected",
                7503,
                "rejected",
            ),
            (
                Party::Caller,
                CallOutcome::PoweredOff,
                "powered_off",
                8104,
                "powered off",
            ),
            (
                Party::Callee,
                CallOutcome::Answered,
                "direction_not_allowed",
                8016,
                "call direction not allowed",
            ),
        ];
        for (from, outcome, expected, code, reason) in cases {
            let report = p
                .ctl
                .play_call(CallScript {
                    subscription_id: sid.clone(),
                    from,
                    outcome,
                    talk_seconds: 0,
                    record: false,
                })
                .await
                .unwrap();
            p.ctl.flush_cdrs().await.unwrap();
            let calls = items(&p, &token, &format!("/v1/bindings/{id}/calls")).await;
            let call = calls
                .iter()
                .find(|c| c["sessionId"] == report.session_id.as_str())
                .expect("the call is listed");
            assert_eq!(call["outcome"], expected);
            assert_eq!(call["stateCode"], code);
            assert!(
                call["disconnectReason"].as_str().unwrap().contains(reason),
                "{call}"
            );
            assert_eq!(call["talkSeconds"], 0);
            assert!(call["icid"].is_string());
        }
        let b: Value = p
            .app
            .get(&token, &format!("/v1/bindings/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(b["callCount"], 5);
        assert_eq!(b["totalTalkSeconds"], 0);
    }
);
