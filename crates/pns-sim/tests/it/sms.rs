//! SMS notifications (Notify and Block) and X-number status pushes.

use pns_core::{NotificationMode, NumStatusInfo, SmsDecision};
use pns_sim::{Party, SmsScript};
use serde_json::json;

use crate::calls::setup;
use crate::helpers::*;

#[tokio::test]
async fn sms_block_decisions_are_recorded() {
    let (t, rx) = setup().await;
    let sid = t.bind_ok(X1, A, B).await;
    let sms = |mode| SmsScript {
        subscription_id: sid.clone(),
        from: Party::Caller,
        mode,
        content: Some("hi".into()),
    };
    rx.answer_next(
        200,
        &SmsDecision::Route {
            called: B.into(),
            calling: X1.into(),
        }
        .to_body()
        .to_string(),
    );
    let report = t.ctl.send_sms(sms(NotificationMode::Block)).await.unwrap();
    assert_eq!(
        report.decision,
        Some(SmsDecision::Route {
            called: B.into(),
            calling: X1.into()
        })
    );
    rx.answer_next(200, r#"{"actions":[{"operation":"DiscardMessage"}]}"#);
    let report = t.ctl.send_sms(sms(NotificationMode::Block)).await.unwrap();
    assert_eq!(report.decision, Some(SmsDecision::Discard));
    let report = t.ctl.send_sms(sms(NotificationMode::Notify)).await.unwrap();
    assert_eq!((report.http_status, report.decision), (Some(200), None));
    assert_eq!(t.ctl.sms_reports().len(), 3);

    let got = rx.received();
    let event = &got[0].body["smsEvent"];
    assert_eq!(got[0].body["appKey"], APP_KEY);
    assert_eq!(
        (
            event["calling"].as_str(),
            event["called"].as_str(),
            event["virtualNumber"].as_str()
        ),
        (Some(A), Some(B), Some(X1))
    );
    assert_eq!(event["notificationMode"], "Block");
    assert!(pns_core::wire_time::parse_sms_time(event["timeStamp"].as_str().unwrap()).is_some());
    assert!(got.iter().all(|r| r.signature_ok));
}

#[tokio::test]
async fn number_status_is_pushed_and_applied() {
    let (t, rx) = setup().await;
    let sid = t.bind_ok(X1, A, B).await;
    let frozen = NumStatusInfo {
        number: X1.into(),
        status: 11,
        cause: None,
        timestamp: None,
    };
    t.ctl.push_num_status(vec![frozen]).await.unwrap();
    let pushed = rx.of_type("numStatus");
    assert_eq!(pushed[0]["numInfo"][0], json!({"number": X1, "status": 11}));
    let reply = t
        .bind(json!({"relationNum": X1, "callerNum": C, "calleeNum": D}))
        .await;
    assert_eq!(code(&reply), "1012102", "frozen for new bindings");
    assert_eq!(
        code(&t.query(&format!("subscriptionId={sid}")).await),
        "0",
        "existing bindings keep working"
    );
    let reply = t
        .bind(json!({"areaCode": "0755", "callerNum": C, "calleeNum": D}))
        .await;
    assert_eq!(reply.1["relationNum"], X2, "area selection skips it");
}
