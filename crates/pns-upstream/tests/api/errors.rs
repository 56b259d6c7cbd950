//! How the platform's answers and the network's failures come back to the caller.

use std::net::TcpListener;
use std::time::Duration;

use pns_core::result_code::{ResultClass, ResultCode};
use pns_core::types::SubscriptionId;
use pns_upstream::UpstreamError;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

async fn stop_call_answered_with(template: ResponseTemplate) -> Result<(), UpstreamError> {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .expect(1)
        .mount(&app.server)
        .await;
    app.client.stop_call("s").await
}

#[tokio::test]
async fn every_class_of_resultcode_maps_to_the_matching_error() {
    // (code, status it arrives with, class the caller sees)
    let cases = [
        ("1023006", 403, ResultClass::Permanent),
        ("1023012", 403, ResultClass::Permanent),
        ("1010013", 403, ResultClass::Permanent),
        ("1010002", 400, ResultClass::Permanent),
        ("1010003", 403, ResultClass::Permanent),
        ("1010029", 403, ResultClass::Permanent),
        ("1010040", 403, ResultClass::Permanent),
        ("1012001", 400, ResultClass::Permanent),
        ("1012007", 400, ResultClass::Permanent),
        ("1012008", 400, ResultClass::Permanent),
        ("1012009", 400, ResultClass::Permanent),
        ("1012010", 400, ResultClass::Permanent),
        ("1012012", 400, ResultClass::Permanent),
        ("1012102", 400, ResultClass::Permanent),
        ("1010001", 500, ResultClass::Retryable),
        ("1023001", 500, ResultClass::Retryable),
        ("1023002", 500, ResultClass::Retryable),
        ("1099999", 400, ResultClass::Permanent),
    ];
    for (code, status, class) in cases {
        // stop_call is never retried, so each answer is seen exactly once.
        let err = stop_call_answered_with(rejection(status, code))
            .await
            .unwrap_err();
        let UpstreamError::Rejected {
            http_status,
            code: got,
            desc,
        } = &err
        else {
            panic!("{code}: expected Rejected, got {err:?}");
        };
        assert_eq!(*http_status, status, "{code}");
        assert_eq!(got, &ResultCode::parse(code), "{code}");
        assert_eq!(got.class(), class, "{code}");
        assert_eq!(desc, &format!("test {code}"));
        assert_eq!(
            err.is_retryable(),
            class == ResultClass::Retryable,
            "{code}"
        );
    }
}

#[tokio::test]
async fn flow_control_is_rejected_and_reported_with_its_code() {
    let err = stop_call_answered_with(rejection(403, "1010010"))
        .await
        .unwrap_err();
    assert_eq!(err.result_code(), Some(&ResultCode::FlowControl));
}

#[tokio::test]
async fn resultcode_zero_is_success() {
    stop_call_answered_with(ok()).await.unwrap();
}

#[tokio::test]
async fn a_non_zero_resultcode_in_a_200_is_rejected() {
    let err = stop_call_answered_with(rejection(200, "1012010"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        UpstreamError::Rejected {
            http_status: 200,
            code: ResultCode::BindingExists,
            ..
        }
    ));
}

#[tokio::test]
async fn unbind_of_a_missing_binding_is_rejected_once_for_the_caller_to_judge() {
    let app = spawn_app().await;
    Mock::given(method("DELETE"))
        .respond_with(rejection(400, "1012007"))
        .expect(1)
        .mount(&app.server)
        .await;
    let err = app
        .client
        .unbind(&SubscriptionId::parse("gone").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.result_code(), Some(&ResultCode::RecordNotFound));
    assert!(!err.is_ambiguous());
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout_and_ambiguous() {
    let err = stop_call_answered_with(ok().set_delay(TIMEOUT * 4))
        .await
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Timeout), "{err:?}");
    assert!(err.is_ambiguous());
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(|cfg| {
        cfg.base_url = format!("http://127.0.0.1:{port}").parse().unwrap();
    })
    .await;
    let err = app.client.stop_call("s").await.unwrap_err();
    assert!(matches!(err, UpstreamError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn a_proxy_error_page_is_a_transport_error() {
    let err =
        stop_call_answered_with(ResponseTemplate::new(502).set_body_string("<html>502</html>"))
            .await
            .unwrap_err();
    assert!(matches!(err, UpstreamError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn an_unreadable_answer_is_a_decode_error() {
    let err = stop_call_answered_with(ResponseTemplate::new(200).set_body_string("not json"))
        .await
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Decode(_)), "{err:?}");
}

#[tokio::test]
async fn a_redirect_where_none_is_expected_is_not_followed() {
    let err = stop_call_answered_with(
        ResponseTemplate::new(302).insert_header("Location", "http://127.0.0.1:9/elsewhere"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, UpstreamError::Decode(_)), "{err:?}");
}

#[tokio::test]
async fn a_bad_extra_root_ca_is_refused_at_startup() {
    let server = wiremock::MockServer::start().await;
    let mut cfg = pns_upstream::ClientConfig::new(
        server.uri().parse().unwrap(),
        pns_core::aksk::Credentials::new(APP_KEY, APP_SECRET),
    );
    cfg.extra_root_ca_pem = Some(b"not a certificate".to_vec());
    cfg.connect_timeout = Duration::from_millis(100);
    assert!(pns_upstream::HuaweiClient::new(cfg).is_err());
}
