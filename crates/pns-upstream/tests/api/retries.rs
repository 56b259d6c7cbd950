//! Only idempotent operations are sent again, and only when the failure may clear up.

use pns_core::result_code::ResultCode;
use pns_core::types::SubscriptionId;
use pns_core::wire::{BindRequest, ModifyRequest, QueryParams};
use pns_upstream::UpstreamError;
use wiremock::Mock;
use wiremock::matchers::method;

use crate::helpers::*;

fn query_by_id() -> QueryParams {
    QueryParams {
        subscription_id: Some("sub-1".into()),
        ..Default::default()
    }
}

fn bind_request() -> BindRequest {
    BindRequest {
        relation_num: Some(X.into()),
        caller_num: A.into(),
        callee_num: B.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn query_is_retried_after_an_internal_error_and_then_succeeds() {
    let app = spawn_app().await;
    // wiremock picks the first mounted match; this one stops matching after one answer.
    Mock::given(method("GET"))
        .respond_with(rejection(500, "1023001"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.server)
        .await;
    Mock::given(method("GET"))
        .respond_with(query_page(1..2, 1))
        .expect(1)
        .mount(&app.server)
        .await;

    let page = app.client.query(&query_by_id()).await.unwrap();

    assert_eq!(page.relation_num_list[0].subscription_id, "sub-1");
    // Both attempts verify with one replay guard: the retry was signed with a new nonce.
    app.assert_all_signed().await;
}

#[tokio::test]
async fn query_gives_up_after_the_retry_budget_with_the_last_error() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .respond_with(rejection(500, "1023002"))
        .expect(u64::from(1 + MAX_RETRIES))
        .mount(&app.server)
        .await;

    let err = app.client.query(&query_by_id()).await.unwrap_err();
    assert_eq!(err.result_code(), Some(&ResultCode::PlatformTimeout));
}

#[tokio::test]
async fn query_is_retried_after_a_timeout() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .respond_with(query_page(0..1, 1).set_delay(TIMEOUT * 3))
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.server)
        .await;
    Mock::given(method("GET"))
        .respond_with(query_page(0..1, 1))
        .expect(1)
        .mount(&app.server)
        .await;

    app.client.query(&query_by_id()).await.unwrap();
}

#[tokio::test]
async fn permanent_rejections_and_flow_control_are_not_retried() {
    for code in ["1010002", "1012007", "1010010"] {
        let app = spawn_app().await;
        Mock::given(method("GET"))
            .respond_with(rejection(400, code))
            .expect(1)
            .mount(&app.server)
            .await;
        let err = app.client.query(&query_by_id()).await.unwrap_err();
        assert_eq!(err.result_code().map(|c| c.code()), Some(code.to_owned()));
    }
}

#[tokio::test]
async fn bind_is_not_retried_after_a_timeout() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .respond_with(ok().set_delay(TIMEOUT * 3))
        .expect(1)
        .mount(&app.server)
        .await;

    let err = app.client.bind(&bind_request()).await.unwrap_err();

    assert!(matches!(err, UpstreamError::Timeout), "{err:?}");
    // The binding may exist now: the caller has to reconcile, not blindly bind again.
    assert!(err.is_ambiguous());
}

#[tokio::test]
async fn writes_are_not_retried_after_an_internal_error() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .respond_with(rejection(500, "1010001"))
        .expect(2)
        .mount(&app.server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(rejection(500, "1010001"))
        .expect(1)
        .mount(&app.server)
        .await;

    assert!(app.client.bind(&bind_request()).await.is_err());
    assert!(app.client.stop_call("s").await.is_err());
    let modify = ModifyRequest {
        subscription_id: "sub-1".into(),
        duration: Some(60),
        ..Default::default()
    };
    assert!(app.client.modify(&modify).await.is_err());
}

#[tokio::test]
async fn unbind_by_subscription_id_is_retried_after_an_internal_error() {
    let app = spawn_app().await;
    Mock::given(method("DELETE"))
        .respond_with(rejection(500, "1023001"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ok())
        .expect(1)
        .mount(&app.server)
        .await;

    let id = SubscriptionId::parse("sub-1").unwrap();
    app.client.unbind(&id).await.unwrap();
    app.assert_all_signed().await;
}

#[tokio::test]
async fn no_retries_when_the_budget_is_zero() {
    let app = spawn_app_with(|cfg| cfg.max_retries = 0).await;
    Mock::given(method("GET"))
        .respond_with(rejection(500, "1023001"))
        .expect(1)
        .mount(&app.server)
        .await;

    assert!(
        app.client
            .query(&query_by_id())
            .await
            .unwrap_err()
            .is_retryable()
    );
}
