//! Each operation puts the right method, path, query string and body on the wire, signed.

use pns_core::phone::PhoneNumber;
use pns_core::types::SubscriptionId;
use pns_core::types::WireBool;
use pns_core::wire::{BindRequest, ModifyRequest, QueryParams};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

#[tokio::test]
async fn bind_posts_the_json_body_and_returns_the_new_binding() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path(BIND_PATH))
        .and(header("content-type", "application/json;charset=UTF-8"))
        .and(body_json(json!({
            "relationNum": X, "callerNum": A, "calleeNum": B,
            "callDirection": 0, "duration": 86400, "maxDuration": 60, "recordFlag": "false",
        })))
        .respond_with(answer(
            200,
            json!({"resultcode": "0", "resultdesc": "Success", "subscriptionId": "sub-1",
                   "relationNum": X, "callerNum": A, "calleeNum": B}),
        ))
        .expect(1)
        .mount(&app.server)
        .await;

    let resp = app
        .client
        .bind(&BindRequest {
            relation_num: Some(X.into()),
            caller_num: A.into(),
            callee_num: B.into(),
            call_direction: Some(0),
            duration: Some(86400),
            max_duration: Some(60),
            record_flag: Some(WireBool(false)),
            ..Default::default()
        })
        .await
        .unwrap();

    assert_eq!(resp.subscription_id.as_deref(), Some("sub-1"));
    assert_eq!(resp.relation_num.as_deref(), Some(X));
    app.assert_all_signed().await;
}

#[tokio::test]
async fn modify_puts_the_subscription_id_and_the_changed_fields() {
    let app = spawn_app().await;
    Mock::given(method("PUT"))
        .and(path(BIND_PATH))
        .and(body_json(
            json!({"subscriptionId": "sub-1", "calleeNum": B, "duration": 600}),
        ))
        .respond_with(ok())
        .expect(1)
        .mount(&app.server)
        .await;

    app.client
        .modify(&ModifyRequest {
            subscription_id: "sub-1".into(),
            callee_num: Some(B.into()),
            duration: Some(600),
            ..Default::default()
        })
        .await
        .unwrap();
    app.assert_all_signed().await;
}

#[tokio::test]
async fn unbind_deletes_by_subscription_id_in_the_query_string_only() {
    let app = spawn_app().await;
    Mock::given(method("DELETE"))
        .and(path(BIND_PATH))
        .and(RawQuery("subscriptionId=sub-1"))
        .and(NoBody)
        .respond_with(ok())
        .expect(1)
        .mount(&app.server)
        .await;

    let id = SubscriptionId::parse("sub-1").unwrap();
    app.client.unbind(&id).await.unwrap();
    app.assert_all_signed().await;
}

#[tokio::test]
async fn unbind_all_on_x_sends_relation_num_with_the_plus_escaped() {
    let app = spawn_app().await;
    Mock::given(method("DELETE"))
        .and(path(BIND_PATH))
        .and(RawQuery("relationNum=%2B8617000000001"))
        .and(NoBody)
        .respond_with(ok())
        .expect(1)
        .mount(&app.server)
        .await;

    let x = PhoneNumber::parse(X).unwrap();
    app.client.unbind_all_on_x(&x).await.unwrap();
    app.assert_all_signed().await;
}

#[tokio::test]
async fn query_by_subscription_id() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path(BIND_PATH))
        .and(RawQuery("subscriptionId=sub-7"))
        .respond_with(query_page(7..8, 1))
        .expect(1)
        .mount(&app.server)
        .await;

    let page = app
        .client
        .query(&QueryParams {
            subscription_id: Some("sub-7".into()),
            relation_num: None,
            caller_num: None,
            callee_num: None,
            page_index: None,
            page_size: None,
        })
        .await
        .unwrap();
    assert_eq!(page.total_count, Some(1));
    assert_eq!(page.relation_num_list.len(), 1);
    assert_eq!(page.relation_num_list[0].subscription_id, "sub-7");
    app.assert_all_signed().await;
}

#[tokio::test]
async fn query_by_x_narrowed_to_a_and_b_with_paging() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path(BIND_PATH))
        .and(RawQuery(
            "relationNum=%2B8617000000001&callerNum=%2B8618612345678\
             &calleeNum=%2B8618612345679&pageIndex=2&pageSize=20",
        ))
        .respond_with(query_page(0..0, 0))
        .expect(1)
        .mount(&app.server)
        .await;

    let page = app
        .client
        .query(&QueryParams {
            subscription_id: None,
            relation_num: Some(X.into()),
            caller_num: Some(A.into()),
            callee_num: Some(B.into()),
            page_index: Some(2),
            page_size: Some(20),
        })
        .await
        .unwrap();
    assert!(page.relation_num_list.is_empty());
    app.assert_all_signed().await;
}

#[tokio::test]
async fn record_url_returns_the_301_location_without_following_it() {
    let app = spawn_app().await;
    let download = format!("{}/obs/rec-1.wav?token=abc", app.server.uri());
    Mock::given(method("GET"))
        .and(path("/rest/provision/voice/record/v1.0"))
        .and(RawQuery("recordDomain=rec.example.com&fileName=rec-1.wav"))
        .respond_with(ResponseTemplate::new(301).insert_header("Location", download.as_str()))
        .expect(1)
        .mount(&app.server)
        .await;
    // Following the redirect would land here.
    Mock::given(path("/obs/rec-1.wav"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"RIFF".to_vec()))
        .expect(0)
        .mount(&app.server)
        .await;

    let url = app
        .client
        .record_url("rec.example.com", "rec-1.wav")
        .await
        .unwrap();
    assert_eq!(url, download);
    app.assert_all_signed().await;
}

#[tokio::test]
async fn stop_call_posts_the_session_id_and_the_stop_signal() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/rest/httpsessions/callStop/v2.0"))
        .and(body_json(
            json!({"sessionid": "1200_1029@callenabler", "signal": "call_stop"}),
        ))
        .respond_with(ok())
        .expect(1)
        .mount(&app.server)
        .await;

    app.client.stop_call("1200_1029@callenabler").await.unwrap();
    app.assert_all_signed().await;
}

#[tokio::test]
async fn every_request_gets_a_fresh_nonce() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .expect(3)
        .mount(&app.server)
        .await;

    for _ in 0..3 {
        app.client.stop_call("s").await.unwrap();
    }
    // One verifier for all three: its replay guard rejects a nonce seen before.
    app.assert_all_signed().await;
}
