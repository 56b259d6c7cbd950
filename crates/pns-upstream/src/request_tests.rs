use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use pns_core::aksk::{Credentials, InMemoryReplayGuard, Verifier};
use pns_core::types::WireBool;
use serde_json::json;

use super::*;

const X: &str = "+8617000000001";
const A: &str = "+8618612345678";
const B: &str = "+8618612345679";

fn base() -> Url {
    Url::parse("https://rtcpns.example.com").unwrap()
}

fn body_json(req: &ApiRequest) -> serde_json::Value {
    serde_json::from_slice(req.body.as_deref().expect("a body")).unwrap()
}

#[test]
fn bind_posts_camel_case_json_without_a_query() {
    let req = ApiRequest::bind(&BindRequest {
        relation_num: Some(X.into()),
        caller_num: A.into(),
        callee_num: B.into(),
        duration: Some(3600),
        record_flag: Some(WireBool(true)),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(req.method, Method::POST);
    assert_eq!(req.path, "/rest/caas/relationnumber/partners/v1.0");
    assert_eq!(req.query, None);
    assert_eq!(
        body_json(&req),
        json!({"relationNum": X, "callerNum": A, "calleeNum": B, "duration": 3600, "recordFlag": "true"})
    );
}

#[test]
fn modify_puts_only_the_fields_that_change() {
    let req = ApiRequest::modify(&ModifyRequest {
        subscription_id: "sub-1".into(),
        duration: Some(60),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(req.method, Method::PUT);
    assert_eq!(req.path, BIND_PATH);
    assert_eq!(
        body_json(&req),
        json!({"subscriptionId": "sub-1", "duration": 60})
    );
}

#[test]
fn unbind_sends_only_the_subscription_id_in_the_query() {
    let id = SubscriptionId::parse("0167ecc9-bfb6+4eec").unwrap();
    let req = ApiRequest::unbind(&id).unwrap();
    assert_eq!(req.method, Method::DELETE);
    assert_eq!(req.path, BIND_PATH);
    assert_eq!(
        req.query.as_deref(),
        Some("subscriptionId=0167ecc9-bfb6%2B4eec")
    );
    assert_eq!(req.body, None);
}

#[test]
fn unbind_all_on_x_sends_only_relation_num_with_an_escaped_plus() {
    let x = PhoneNumber::parse(X).unwrap();
    let req = ApiRequest::unbind_all_on_x(&x).unwrap();
    assert_eq!(req.operation, Operation::UnbindAllOnX);
    assert_eq!(req.method, Method::DELETE);
    assert_eq!(req.query.as_deref(), Some("relationNum=%2B8617000000001"));
    assert_eq!(req.body, None);
}

#[test]
fn query_encodes_every_given_parameter_and_skips_the_rest() {
    let req = ApiRequest::query(&QueryParams {
        subscription_id: None,
        relation_num: Some(X.into()),
        caller_num: Some(A.into()),
        callee_num: None,
        page_index: Some(2),
        page_size: Some(100),
    })
    .unwrap();
    assert_eq!(req.method, Method::GET);
    assert_eq!(req.body, None);
    let query = req.query.unwrap();
    assert!(!query.contains('+'), "{query}");
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(&query).unwrap();
    pairs.sort();
    let expected = [
        ("callerNum", A),
        ("pageIndex", "2"),
        ("pageSize", "100"),
        ("relationNum", X),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    assert_eq!(pairs, expected);
}

#[test]
fn record_url_gets_with_domain_and_file_name() {
    let req = ApiRequest::record_url("rec.example.com", "a b+c.wav").unwrap();
    assert_eq!(req.method, Method::GET);
    assert_eq!(req.path, "/rest/provision/voice/record/v1.0");
    assert_eq!(
        req.query.as_deref(),
        Some("recordDomain=rec.example.com&fileName=a+b%2Bc.wav")
    );
}

#[test]
fn stop_call_posts_the_session_and_the_stop_signal() {
    let req = ApiRequest::stop_call("1200_1029@host").unwrap();
    assert_eq!(req.method, Method::POST);
    assert_eq!(req.path, "/rest/httpsessions/callStop/v2.0");
    assert_eq!(
        body_json(&req),
        json!({"sessionid": "1200_1029@host", "signal": "call_stop"})
    );
}

#[test]
fn url_keeps_a_base_path_prefix_and_the_escaped_query() {
    let x = PhoneNumber::parse(X).unwrap();
    let req = ApiRequest::unbind_all_on_x(&x).unwrap();
    for (base, expected) in [
        (
            "https://h.example",
            "https://h.example/rest/caas/relationnumber/partners/v1.0",
        ),
        (
            "https://h.example/",
            "https://h.example/rest/caas/relationnumber/partners/v1.0",
        ),
        (
            "https://h.example/pns/",
            "https://h.example/pns/rest/caas/relationnumber/partners/v1.0",
        ),
    ] {
        let url = req.url(&Url::parse(base).unwrap());
        assert_eq!(
            url.as_str(),
            format!("{expected}?relationNum=%2B8617000000001")
        );
    }
}

#[test]
fn signed_headers_verify_and_name_the_json_content_type() {
    let creds = Credentials::new("app-key-1", "app-secret-1");
    let req = ApiRequest::stop_call("s1").unwrap();
    let signed = req.sign(&base(), &creds.sign_now()).unwrap();
    assert_eq!(
        signed.headers[CONTENT_TYPE],
        "application/json;charset=UTF-8"
    );
    let verifier = Verifier::new(
        creds,
        Duration::from_secs(300),
        Arc::new(InMemoryReplayGuard::new(Duration::from_secs(600), 100)),
    );
    let header = |name| {
        signed
            .headers
            .get(name)
            .map(|v: &HeaderValue| v.to_str().unwrap())
    };
    verifier
        .verify(header(AUTHORIZATION), header(X_AKSK), Utc::now())
        .unwrap();
    assert_eq!(signed.body, req.body);
    assert_eq!(signed.method, Method::POST);
}

#[test]
fn debug_output_hides_numbers() {
    let req = ApiRequest::bind(&BindRequest {
        caller_num: A.into(),
        callee_num: B.into(),
        ..Default::default()
    })
    .unwrap();
    let debug = format!("{req:?}");
    assert!(!debug.contains("18612345678"), "{debug}");
}

#[test]
fn only_reads_and_single_unbinds_are_retry_safe() {
    let safe: Vec<_> = [
        Operation::Bind,
        Operation::Modify,
        Operation::Unbind,
        Operation::UnbindAllOnX,
        Operation::Query,
        Operation::RecordUrl,
        Operation::StopCall,
    ]
    .into_iter()
    .filter(|op| op.is_retry_safe())
    .collect();
    assert_eq!(
        safe,
        [Operation::Unbind, Operation::Query, Operation::RecordUrl]
    );
}
