use serde_json::{Value, json};

use super::*;

fn phone(s: &str) -> PhoneNumber {
    PhoneNumber::parse(s).unwrap()
}

#[test]
fn bind_request_matches_the_sample_body() {
    // The sample's required fields (numbers de-masked into valid ones).
    let mut req = BindRequest::new(&phone("+8618612345678"), &phone("+8618612345679"));
    req.relation_num = Some("+8617000000001".into());
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"relationNum": "+8617000000001", "callerNum": "+8618612345678", "calleeNum": "+8618612345679"})
    );
}

#[test]
fn bind_request_with_every_optional_field() {
    // The sample's commented-out optional parameters, all switched on.
    let req = BindRequest {
        relation_num: None,
        area_code: Some("0755".into()),
        area_match_mode: Some("1".into()),
        caller_num: "+8618612345678".into(),
        callee_num: "+8618612345679".into(),
        call_direction: Some(0),
        duration: Some(86400),
        record_flag: Some(WireBool(false)),
        record_hint_tone: Some("recordHintTone.wav".into()),
        max_duration: Some(60),
        last_min_voice: Some("lastMinVoice.wav".into()),
        private_sms: Some(WireBool(true)),
        pre_voice: Some(PreVoice {
            caller_hint_tone: Some("callerHintTone.wav".into()),
            callee_hint_tone: Some("calleeHintTone.wav".into()),
        }),
        user_data: Some("order-42".into()),
    };
    let v = serde_json::to_value(&req).unwrap();
    assert_eq!(
        v,
        json!({
            "areaCode": "0755", "areaMatchMode": "1",
            "callerNum": "+8618612345678", "calleeNum": "+8618612345679",
            "callDirection": 0, "duration": 86400, "recordFlag": "false",
            "recordHintTone": "recordHintTone.wav", "maxDuration": 60,
            "lastMinVoice": "lastMinVoice.wav", "privateSms": "true",
            "preVoice": {"callerHintTone": "callerHintTone.wav", "calleeHintTone": "calleeHintTone.wav"},
            "userData": "order-42"
        })
    );
    assert_eq!(serde_json::from_value::<BindRequest>(v).unwrap(), req);
}

#[test]
fn bind_response_reads_the_documented_echo_and_keeps_the_rest() {
    let body = br#"{"resultcode":"0","resultdesc":"Success","subscriptionId":"0167ecc9-bfb6-4eec-b671-a7dab2ba78c",
        "relationNum":"+8617000000001","callerNum":"+8618612345678","calleeNum":"+8618612345679",
        "callDirection":0,"duration":0,"maxDuration":0,"newField":{"x":1}}"#;
    let resp: BindResponse = decode(body).unwrap();
    assert_eq!(
        resp.subscription_id.as_deref(),
        Some("0167ecc9-bfb6-4eec-b671-a7dab2ba78c")
    );
    assert_eq!(resp.relation_num.as_deref(), Some("+8617000000001"));
    assert_eq!(resp.call_direction, Some(0));
    assert_eq!(resp.extra.get("newField"), Some(&json!({"x": 1})));
    let again: Value = serde_json::to_value(&resp).unwrap();
    assert_eq!(again, serde_json::from_slice::<Value>(body).unwrap());
}

#[test]
fn error_answers_parse_with_or_without_resultdesc() {
    let r: ResultResponse =
        decode(br#"{"resultcode":"1012008","resultdesc":"not enough numbers"}"#).unwrap();
    assert_eq!(r.resultcode, "1012008");
    let r: BindResponse = decode(br#"{"resultcode":"1010010"}"#).unwrap();
    assert_eq!(
        (
            r.resultcode.as_str(),
            r.resultdesc.as_str(),
            r.subscription_id
        ),
        ("1010010", "", None)
    );
    assert_eq!(
        serde_json::to_value(ResultResponse::success()).unwrap(),
        json!({"resultcode": "0", "resultdesc": "Success"})
    );
}

#[test]
fn modify_request_matches_the_sample_body() {
    let req = ModifyRequest {
        subscription_id: "0167ecc9-bfb6-4eec-b671-a7dab2ba78c".into(),
        caller_num: Some("+8618612345678".into()),
        callee_num: Some("+8618612345679".into()),
        ..ModifyRequest::default()
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"subscriptionId": "0167ecc9-bfb6-4eec-b671-a7dab2ba78c",
               "callerNum": "+8618612345678", "calleeNum": "+8618612345679"})
    );
}

#[test]
fn query_strings_encode_like_the_samples() {
    let unbind = UnbindParams {
        subscription_id: Some("abc-123".into()),
        relation_num: None,
    };
    assert_eq!(
        serde_urlencoded::to_string(&unbind).unwrap(),
        "subscriptionId=abc-123"
    );
    let query = QueryParams {
        relation_num: Some("+8617000000001".into()),
        page_index: Some(2),
        page_size: Some(100),
        ..QueryParams::default()
    };
    // '+' must travel as %2B, or the platform reads a space.
    assert_eq!(
        serde_urlencoded::to_string(&query).unwrap(),
        "relationNum=%2B8617000000001&pageIndex=2&pageSize=100"
    );
    let record = RecordUrlParams {
        record_domain: "record.example.com".into(),
        file_name: "a b.wav".into(),
    };
    assert_eq!(
        serde_urlencoded::to_string(&record).unwrap(),
        "recordDomain=record.example.com&fileName=a+b.wav"
    );
    let back: QueryParams =
        serde_urlencoded::from_str("relationNum=%2B8617000000001&pageIndex=2").unwrap();
    assert_eq!(back.relation_num.as_deref(), Some("+8617000000001"));
}

#[test]
fn query_response_with_relation_num_list() {
    let body = br#"{"resultcode":"0","resultdesc":"Success","totalCount":2,"relationNumList":[
        {"subscriptionId":"s1","relationNum":"+8617000000001","callerNum":"+8618612345678","calleeNum":"+8618612345679",
         "callDirection":0,"duration":86400,"maxDuration":0,"subscribeTime":"2019-01-23 09:15:14",
         "recordFlag":"true","privateSms":false,"userData":"u1","areaCode":"0755"},
        {"subscriptionId":"s2","relationNum":"+8617000000001","callerNum":"+8613800000021","calleeNum":"+8613800007021"}]}"#;
    let resp: QueryResponse = decode(body).unwrap();
    assert_eq!(resp.total_count, Some(2));
    assert_eq!(resp.relation_num_list.len(), 2);
    let first = &resp.relation_num_list[0];
    assert_eq!(first.record_flag, Some(WireBool(true)));
    assert_eq!(first.private_sms, Some(WireBool(false)));
    assert_eq!(first.extra.get("areaCode"), Some(&json!("0755")));
    assert_eq!(resp.relation_num_list[1].duration, None);

    let empty: QueryResponse =
        decode(br#"{"resultcode":"0","resultdesc":"Success","totalCount":0}"#).unwrap();
    assert!(empty.relation_num_list.is_empty());
}

#[test]
fn wrong_types_name_the_field() {
    let body = br#"{"resultcode":"0","relationNumList":[{"subscriptionId":"s1","relationNum":"+8617000000001",
        "callerNum":8618612345678,"calleeNum":"+8618612345679"}]}"#;
    let err = decode::<QueryResponse>(body).unwrap_err();
    assert_eq!(err.path, "relationNumList[0].callerNum");
    assert!(
        err.to_string()
            .starts_with("relationNumList[0].callerNum: invalid type: integer"),
        "{err}"
    );

    let err = decode::<BindResponse>(br#"{"resultcode":0}"#).unwrap_err();
    assert_eq!(err.path, "resultcode");
    let err = decode::<BindResponse>(br#"{"resultdesc":"x"}"#).unwrap_err();
    assert_eq!(err.to_string(), "resultcode: missing field");
    let err = decode::<QueryResponse>(
        br#"{"resultcode":"0","relationNumList":[{"subscriptionId":"s"}]}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "relationNumList[0].relationNum: missing field"
    );
    let err = decode::<BindResponse>(b"<html>bad gateway</html>").unwrap_err();
    assert!(err.message.contains("expected value"), "{err}");
}

#[test]
fn call_stop_body() {
    assert_eq!(
        serde_json::to_value(CallStopRequest::new(
            "1200_1029@callenabler246.huaweicaas.com"
        ))
        .unwrap(),
        json!({"sessionid": "1200_1029@callenabler246.huaweicaas.com", "signal": "call_stop"})
    );
}
