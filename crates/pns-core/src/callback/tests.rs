use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn parse(v: &Value) -> Result<Callback, CallbackParseError> {
    Callback::parse(&serde_json::to_vec(v).unwrap())
}

// The payloads below are the jsonBody literals of huawei-axb-python-samples.txt, copied as they are.
fn sample_call_event() -> Value {
    json!({
        "eventType": "disconnect",
        "statusInfo": {
            "sessionId": "1200_1029_4294967295_20190123091514@callenabler246.huaweicaas.com",
            "timestamp": "2019-01-23 09:16:41",
            "caller": "+86138****0021",
            "called": "+86138****7021",
            "stateCode": 0,
            "stateDesc": "The user releases the call.",
            "subscriptionId": "****"
        }
    })
}

fn sample_fee_record() -> Value {
    json!({
        "direction": 1, "spId": "****", "appKey": "********",
        "icid": "ba171f34e6953fcd751edc77127748f4.3757223714.337238282.9",
        "bindNum": "+86138****0022",
        "sessionId": "1200_1029_4294967295_20190123091514@callenabler246.huaweicaas.com",
        "subscriptionId": "****", "callerNum": "+86138****0021", "calleeNum": "+86138****0022",
        "fwdDisplayNum": "+86138****0022", "fwdDstNum": "+86138****7021",
        "callInTime": "2019-01-23 09:15:14", "fwdStartTime": "2019-01-23 09:15:15",
        "fwdAlertingTime": "2019-01-23 09:15:21", "fwdAnswerTime": "2019-01-23 09:15:36",
        "callEndTime": "2019-01-23 09:16:41",
        "fwdUnaswRsn": 0, "ulFailReason": 0, "sipStatusCode": 0, "callOutUnaswRsn": 0,
        "recordFlag": 1, "recordStartTime": "2019-01-23 09:15:37", "recordDomain": "****.com",
        "recordBucketName": "sp-********", "recordObjectName": "********.wav",
        "ttsPlayTimes": 0, "ttsTransDuration": 0, "mptyId": "****", "serviceType": "004",
        "hostName": "callenabler246.huaweicaas.com"
    })
}

fn sample_sms() -> Value {
    json!({
        "appKey": "****",
        "smsEvent": {
            "smsIdentifier": "****", "notificationMode": "Block", "calling": "+86138****0001",
            "virtualNumber": "+86138****0000", "event": "TextSMS", "timeStamp": "2018-09-13T09:46:16.023Z"
        }
    })
}

fn fee_batch(n: usize) -> Value {
    let records: Vec<Value> = (0..n)
        .map(|i| {
            let mut r = sample_fee_record();
            r["icid"] = json!(format!("icid-{i}"));
            r
        })
        .collect();
    json!({"eventType": "fee", "feeLst": records})
}

#[test]
fn sample_call_event_parses() {
    let Callback::CallEvent(e) = parse(&sample_call_event()).unwrap() else {
        panic!("not a call event")
    };
    assert_eq!(e.event_type, CallEventType::Disconnect);
    assert_eq!(e.status_info.state_code, Some(0));
    assert_eq!(state_code_meaning(0), "answered and hung up");
    assert_eq!(state_code_meaning(8014), "no binding for this call");
    assert_eq!(e.status_info.subscription_id.as_deref(), Some("****"));
    assert!(crate::wire_time::parse_event_time(&e.status_info.timestamp).is_some());
}

#[test]
fn every_call_event_kind_is_recognised() {
    for kind in ["callin", "callout", "alerting", "answer", "disconnect"] {
        let mut body = sample_call_event();
        body["eventType"] = json!(kind);
        body["statusInfo"]["userData"] = json!("order-42");
        let cb = parse(&body).unwrap();
        assert_eq!(cb.kind(), kind);
        let Callback::CallEvent(e) = cb else { panic!() };
        assert_eq!(e.event_type.as_str(), kind);
        assert_eq!(e.status_info.user_data.as_deref(), Some("order-42"));
    }
}

#[test]
fn sample_fee_parses_with_billing_helpers() {
    let Callback::Fee(fee) = parse(&fee_batch(1)).unwrap() else {
        panic!("not fee")
    };
    let r = &fee.fee_lst[0];
    assert!(r.answered());
    assert_eq!(r.talk_seconds(), 65);
    assert!(r.has_recording());
    assert_eq!(r.fwd_unasw_rsn, Some(0));
    assert!(
        r.extra.is_empty(),
        "every sample field is a named field: {:?}",
        r.extra
    );
}

#[test]
fn unanswered_cdr_bills_nothing() {
    let mut rec = sample_fee_record();
    let obj = rec.as_object_mut().unwrap();
    obj.remove("fwdAnswerTime");
    obj.insert("failTime".into(), json!("2019-01-23 09:15:50"));
    obj.insert("recordFlag".into(), json!(0));
    let r: FeeRecord = serde_json::from_value(rec.clone()).unwrap();
    assert!(!r.answered() && !r.has_recording());
    assert_eq!(r.talk_seconds(), 0);
    rec["fwdAnswerTime"] = json!("");
    let r: FeeRecord = serde_json::from_value(rec).unwrap();
    assert!(!r.answered());
}

#[test]
fn every_documented_fee_field_and_unknown_ones_round_trip() {
    let mut rec = sample_fee_record();
    let obj = rec.as_object_mut().unwrap();
    obj.insert("failTime".into(), json!("2019-01-23 09:16:41"));
    obj.insert("userData".into(), json!("order-42"));
    obj.insert("newCarrierField".into(), json!({"nested": [1, 2]}));
    obj.insert("anotherOne".into(), json!(7));
    let body = json!({"eventType": "fee", "feeLst": [rec]});
    let Callback::Fee(fee) = parse(&body).unwrap() else {
        panic!()
    };
    let r = &fee.fee_lst[0];
    assert_eq!(r.fail_time.as_deref(), Some("2019-01-23 09:16:41"));
    assert_eq!(r.user_data.as_deref(), Some("order-42"));
    assert_eq!(r.extra.len(), 2);
    assert_eq!(serde_json::to_value(&fee).unwrap(), body);
}

#[test]
fn fee_batches_hold_one_to_fifty_records() {
    assert!(matches!(parse(&fee_batch(50)), Ok(Callback::Fee(f)) if f.fee_lst.len() == 50));
    assert_eq!(
        parse(&fee_batch(0)).unwrap_err(),
        CallbackParseError::FeeBatchSize(0)
    );
    assert_eq!(
        parse(&fee_batch(51)).unwrap_err(),
        CallbackParseError::FeeBatchSize(51)
    );
    let missing = json!({"eventType": "fee"});
    assert_eq!(parse(&missing).unwrap_err().path(), Some("feeLst"));
    let mut body = fee_batch(2);
    body["feeLst"][1].as_object_mut().unwrap().remove("icid");
    assert_eq!(
        parse(&body).unwrap_err().to_string(),
        "feeLst[1].icid: missing field"
    );
}

#[test]
fn wrong_types_name_the_field() {
    let mut body = fee_batch(5);
    body["feeLst"][3]["icid"] = json!(12345);
    let err = parse(&body).unwrap_err();
    assert_eq!(err.path(), Some("feeLst[3].icid"));
    assert!(
        err.to_string()
            .starts_with("feeLst[3].icid: invalid type: integer"),
        "{err}"
    );

    let mut body = sample_call_event();
    body["statusInfo"]["stateCode"] = json!("0");
    assert_eq!(
        parse(&body).unwrap_err().path(),
        Some("statusInfo.stateCode")
    );

    let mut body = sample_sms();
    body["smsEvent"]["notificationMode"] = json!("Maybe");
    assert_eq!(
        parse(&body).unwrap_err().path(),
        Some("smsEvent.notificationMode")
    );
}

#[test]
fn sample_sms_block_and_its_answer() {
    let Callback::Sms(sms) = parse(&sample_sms()).unwrap() else {
        panic!("not sms")
    };
    assert_eq!(sms.sms_event.notification_mode, NotificationMode::Block);
    assert_eq!(sms.sms_event.virtual_number, "+86138****0000");
    assert!(
        crate::wire_time::parse_sms_time(sms.sms_event.time_stamp.as_deref().unwrap()).is_some()
    );

    // The sample's Block answer.
    let route = SmsDecision::Route {
        called: "+86138****7022".into(),
        calling: "+86138****7021".into(),
    };
    let body = route.to_body();
    assert_eq!(
        body,
        json!({"actions": [{"operation": "vNumberRoute", "message": {"called": "+86138****7022", "calling": "+86138****7021"}}]})
    );
    assert_eq!(SmsDecision::from_body(&body), Some(route));
    let discard = SmsDecision::Discard.to_body();
    assert_eq!(
        discard,
        json!({"actions": [{"operation": "DiscardMessage"}]})
    );
    assert_eq!(SmsDecision::from_body(&discard), Some(SmsDecision::Discard));
    for junk in [
        json!({}),
        json!({"actions": []}),
        json!({"actions": [{"operation": "Forward"}]}),
    ] {
        assert_eq!(SmsDecision::from_body(&junk), None);
    }
}

#[test]
fn sms_with_every_documented_field_round_trips() {
    let body = json!({
        "appKey": "ak",
        "smsEvent": {
            "smsIdentifier": "id1", "notificationMode": "Notify", "calling": "+8613800000001",
            "called": "+8613800000002", "virtualNumber": "+8617000000001", "event": "TextSMS",
            "timeStamp": "2018-09-13T09:46:16.023Z", "subscriptionId": "s1", "smsContent": "hi",
            "sendResult": "0", "extInfo": {"extParas": [{"key": "k", "value": "v"}]}, "futureField": true
        }
    });
    let Callback::Sms(sms) = parse(&body).unwrap() else {
        panic!()
    };
    assert_eq!(sms.sms_event.extra.get("futureField"), Some(&json!(true)));
    assert_eq!(serde_json::to_value(&sms).unwrap(), body);
}

#[test]
fn num_status_parses() {
    let body = json!({"eventType": "numStatus", "numInfo": [
        {"number": "+8617000000001", "status": 10, "cause": 2},
        {"number": "+8617000000002", "status": 5}
    ]});
    let Callback::NumStatus(n) = parse(&body).unwrap() else {
        panic!()
    };
    assert_eq!(n.num_info[0].kind(), Some(XNumberStatus::Unavailable));
    assert_eq!(n.num_info[0].cause, Some(2));
    assert_eq!(
        n.num_info[1].kind().map(XNumberStatus::as_str),
        Some("normal")
    );
    assert_eq!(
        XNumberStatus::from_code(11).map(|s| (s.as_str(), s.code())),
        Some(("frozen", 11))
    );
    assert!(
        XNumberStatus::Normal.accepts_new_bindings()
            && !XNumberStatus::Suspended.accepts_new_bindings()
    );
    assert_eq!(XNumberStatus::from_code(7), None);
}

#[test]
fn unknown_kinds_are_kept_and_non_objects_rejected() {
    let body = json!({"eventType": "somethingNew", "payload": 1});
    assert_eq!(parse(&body).unwrap(), Callback::Unknown(body));
    assert!(matches!(parse(&json!({})), Ok(Callback::Unknown(_))));
    assert_eq!(
        parse(&json!([1])).unwrap_err(),
        CallbackParseError::NotAnObject
    );
    assert!(matches!(
        Callback::parse(b"not json"),
        Err(CallbackParseError::NotJson(_))
    ));
    assert!(matches!(
        Callback::parse(b""),
        Err(CallbackParseError::NotJson(_))
    ));
}

proptest! {
    #[test]
    fn parse_never_panics(body in any::<Vec<u8>>()) {
        let _ = Callback::parse(&body);
    }
}

#[test]
fn nul_is_escaped_in_strings_and_keys_everywhere() {
    let mut v = json!({"a\u{0}b": ["x\u{0}", {"k": "\u{0}\u{0}"}], "n": 1, "ok": "plain"});
    escape_nul(&mut v);
    assert_eq!(
        v,
        json!({"a\\u0000b": ["x\\u0000", {"k": "\\u0000\\u0000"}], "n": 1, "ok": "plain"})
    );
}
