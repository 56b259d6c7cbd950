//! Played calls, CDR batches and redelivery, SMS decisions and number status, through a real receiver.

use std::collections::HashSet;
use std::time::Duration;

use pns_core::wire_time::parse_event_time;
use pns_sim::{CallOutcome, CallScript, Party, SimError};
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) async fn setup() -> (TestSim, Receiver) {
    let receiver = Receiver::start().await;
    let url = receiver.url.clone();
    let t = spawn_sim_with(|c| c.callback_url = Some(url)).await;
    t.ctl.set_cdr_auto_push(false);
    (t, receiver)
}

fn script(sid: &str, from: Party, outcome: CallOutcome) -> CallScript {
    CallScript {
        subscription_id: sid.into(),
        from,
        outcome,
        talk_seconds: 0,
        record: false,
    }
}

fn event_types(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.body["eventType"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn answered_call_delivers_signed_events_in_order_then_a_cdr() {
    let (t, rx) = setup().await;
    let reply = t
        .bind(json!({"relationNum": X1, "callerNum": A, "calleeNum": B, "userData": "order-7"}))
        .await;
    let sid = reply.1["subscriptionId"].as_str().unwrap().to_owned();
    let report = t
        .ctl
        .play_call(CallScript {
            talk_seconds: 42,
            record: true,
            ..script(&sid, Party::Caller, CallOutcome::Answered)
        })
        .await
        .unwrap();
    assert_eq!(report.state_code, 0);
    let got = rx.received();
    assert_eq!(
        event_types(&got),
        ["callin", "alerting", "answer", "disconnect"]
    );
    assert!(
        got.iter().all(|r| r.signature_ok),
        "every callback verifies with the app's key"
    );
    let callin = &got[0].body["statusInfo"];
    assert_eq!(
        (callin["caller"].as_str(), callin["called"].as_str()),
        (Some(A), Some(X1))
    );
    assert_eq!(callin["userData"], "order-7");
    assert_eq!(callin["subscriptionId"], sid.as_str());
    let disconnect = &got[3].body["statusInfo"];
    assert_eq!(disconnect["stateCode"], 0);
    assert!(
        got.iter()
            .all(|r| r.body["statusInfo"]["sessionId"] == report.session_id.as_str())
    );

    assert_eq!(t.ctl.flush_cdrs().await.unwrap(), 1);
    let fee = rx.of_type("fee");
    assert_eq!(fee.len(), 1);
    let cdr = &fee[0]["feeLst"][0];
    assert!(fee[0]["feeLst"].as_array().unwrap().len() == 1 && cdr["icid"] == report.icid.as_str());
    assert_eq!(
        (
            cdr["bindNum"].as_str(),
            cdr["callerNum"].as_str(),
            cdr["fwdDstNum"].as_str()
        ),
        (Some(X1), Some(A), Some(B))
    );
    let answered = parse_event_time(cdr["fwdAnswerTime"].as_str().unwrap()).unwrap();
    let ended = parse_event_time(cdr["callEndTime"].as_str().unwrap()).unwrap();
    assert_eq!((ended - answered).num_seconds(), 42);
    assert_eq!(cdr["recordFlag"], 1);
    let (domain, object) = (
        cdr["recordDomain"].as_str().unwrap(),
        cdr["recordObjectName"].as_str().unwrap(),
    );
    assert_eq!(Some(object), report.record_object_name.as_deref());
    let parsed = pns_core::Callback::parse(&serde_json::to_vec(&fee[0]).unwrap()).unwrap();
    assert!(
        matches!(parsed, pns_core::Callback::Fee(f) if f.fee_lst[0].answered() && f.fee_lst[0].talk_seconds() == 42)
    );

    // The recording can be fetched through the record URL API: a 301 that is not followed.
    let url = format!(
        "{}?recordDomain={domain}&fileName={object}",
        t.url(pns_core::wire::RECORD_URL_PATH)
    );
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = t.signed(no_redirect.get(url)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 301);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let wav = reqwest::get(location).await.unwrap().bytes().await.unwrap();
    assert!(wav.starts_with(b"RIFF"));
}

#[tokio::test]
async fn each_outcome_has_its_state_code() {
    let (t, rx) = setup().await;
    let sid = t.bind_ok(X1, A, B).await;
    let cases = [
        (
            CallOutcome::NoAnswer,
            8101,
            vec!["callin", "alerting", "disconnect"],
        ),
        (CallOutcome::Busy, 8102, vec!["callin", "disconnect"]),
        (
            CallOutcome::Rejected,
            7503,
            vec!["callin", "alerting", "disconnect"],
        ),
        (CallOutcome::PoweredOff, 8104, vec!["callin", "disconnect"]),
    ];
    for (outcome, state, events) in cases {
        let before = rx.received().len();
        let report = t
            .ctl
            .play_call(script(&sid, Party::Callee, outcome))
            .await
            .unwrap();
        assert_eq!(report.state_code, state);
        let got = rx.received()[before..].to_vec();
        assert_eq!(event_types(&got), events, "{outcome:?}");
        assert_eq!(got.last().unwrap().body["statusInfo"]["stateCode"], state);
        let callin = &got[0].body["statusInfo"];
        assert_eq!(callin["caller"], B, "the callee dialled X");
    }
    t.ctl.flush_cdrs().await.unwrap();
    let cdrs: Vec<Value> = rx
        .of_type("fee")
        .iter()
        .flat_map(|f| f["feeLst"].as_array().unwrap().clone())
        .collect();
    assert_eq!(cdrs.len(), 4);
    assert!(
        cdrs.iter()
            .all(|c| c.get("fwdAnswerTime").is_none() && c.get("failTime").is_some())
    );
    assert!(
        cdrs.iter()
            .all(|c| c["recordFlag"] == 0 && c.get("recordObjectName").is_none())
    );
}

#[tokio::test]
async fn refused_direction_and_unbound_calls() {
    let (t, rx) = setup().await;
    let reply = t
        .bind(json!({"relationNum": X1, "callerNum": A, "calleeNum": B, "callDirection": 1}))
        .await;
    let sid = reply.1["subscriptionId"].as_str().unwrap().to_owned();
    let report = t
        .ctl
        .play_call(script(&sid, Party::Callee, CallOutcome::Answered))
        .await
        .unwrap();
    assert_eq!(report.state_code, 8016);
    assert_eq!(event_types(&rx.received()), ["callin", "disconnect"]);
    let report = t
        .ctl
        .play_call(script(&sid, Party::Caller, CallOutcome::Answered))
        .await
        .unwrap();
    assert_eq!(report.state_code, 0);

    let before = rx.received().len();
    let report = t.ctl.play_unbound_call(X1, C).await.unwrap();
    assert_eq!(
        (report.state_code, report.subscription_id.as_str()),
        (8014, "")
    );
    let got = rx.received()[before..].to_vec();
    assert_eq!(event_types(&got), ["callin", "disconnect"]);
    assert_eq!(got[1].body["statusInfo"]["stateCode"], 8014);
    assert_eq!(got[1].body["statusInfo"]["subscriptionId"], "");
    assert!(matches!(
        t.ctl.play_unbound_call(X1, A).await,
        Err(SimError::InvalidScript(_))
    ));
    assert!(matches!(
        t.ctl
            .play_call(script("nope", Party::Caller, CallOutcome::Answered))
            .await,
        Err(SimError::UnknownSubscription(_))
    ));
}

#[tokio::test]
async fn cdrs_go_out_in_batches_of_at_most_50_with_unique_icids() {
    let (t, rx) = setup().await;
    let sid = t.bind_ok(X1, A, B).await;
    for _ in 0..60 {
        t.ctl
            .play_call(script(&sid, Party::Caller, CallOutcome::Busy))
            .await
            .unwrap();
    }
    assert_eq!(t.ctl.pending_cdrs(), 60);
    assert_eq!(t.ctl.flush_cdrs().await.unwrap(), 60);
    let sizes: Vec<usize> = rx
        .of_type("fee")
        .iter()
        .map(|f| f["feeLst"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [50, 10]);
    let icids: HashSet<String> = rx
        .of_type("fee")
        .iter()
        .flat_map(|f| f["feeLst"].as_array().unwrap().clone())
        .map(|c| c["icid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(icids.len(), 60);
}

#[tokio::test]
async fn cdrs_are_redelivered_after_a_failure_and_pushed_on_their_own() {
    let (t, rx) = setup().await;
    let sid = t.bind_ok(X1, A, B).await;
    t.ctl
        .play_call(script(&sid, Party::Caller, CallOutcome::Answered))
        .await
        .unwrap();
    rx.answer_next(500, "");
    rx.answer_next(503, "");
    assert_eq!(t.ctl.flush_cdrs().await.unwrap(), 1);
    let fee = rx.of_type("fee");
    assert_eq!(fee.len(), 3, "two refusals, then delivered");
    assert!(
        fee.windows(2)
            .all(|w| w[0]["feeLst"][0]["icid"] == w[1]["feeLst"][0]["icid"])
    );

    // A receiver that keeps failing loses the batch once retries run out, as on the platform.
    t.ctl.set_retry_delays(vec![Duration::from_millis(5); 2]);
    t.ctl
        .play_call(script(&sid, Party::Caller, CallOutcome::Busy))
        .await
        .unwrap();
    for _ in 0..3 {
        rx.answer_next(500, "");
    }
    let err = t.ctl.flush_cdrs().await.unwrap_err();
    assert!(
        matches!(
            err,
            SimError::Delivery {
                attempts: 3,
                lost: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(t.ctl.pending_cdrs(), 0);

    // With auto push on, a queued CDR goes out without a flush.
    t.ctl.set_cdr_auto_push(true);
    t.ctl
        .play_call(script(&sid, Party::Caller, CallOutcome::NoAnswer))
        .await
        .unwrap();
    let before = rx.of_type("fee").len();
    for _ in 0..50 {
        if rx.of_type("fee").len() > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rx.of_type("fee").len(), before + 1);
}

#[tokio::test]
async fn control_api_over_http() {
    let (t, rx) = setup().await;
    let sid = t.bind_ok(X1, A, B).await;
    let post = |path: &str, body: Value| t.client.post(t.url(path)).json(&body).send();
    let resp = post(
        "/sim/calls",
        json!({"subscriptionId": sid, "from": "caller", "outcome": "answered", "talkSeconds": 5}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["stateCode"], 0);
    let resp = post("/sim/calls", json!({"relationNum": X2, "caller": C}))
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["stateCode"], 8014);
    let flushed: Value = post("/sim/cdrs/flush", json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(flushed["delivered"], 2);
    rx.answer_next(200, r#"{"actions":[{"operation":"DiscardMessage"}]}"#);
    let sms: Value = post(
        "/sim/sms",
        json!({"subscriptionId": sid, "from": "callee", "mode": "Block"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        sms["decision"],
        json!({"actions": [{"operation": "DiscardMessage"}]})
    );
    let resp = post(
        "/sim/num-status",
        json!({"numInfo": [{"number": X3, "status": 10, "cause": 1}]}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let listed: Value = t
        .client
        .get(t.url("/sim/bindings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["count"], 1);
    let resp = post(
        "/sim/calls",
        json!({"subscriptionId": "nope", "from": "caller", "outcome": "busy"}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let resp = post(&format!("/sim/bindings/{sid}/expire"), json!({}))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(t.ctl.binding_count(), 0);
    rx.stop().await;
}
