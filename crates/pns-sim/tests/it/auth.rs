//! AKSK refusals, with the platform's codes and HTTP 403.

use chrono::{Duration as ChronoDuration, Utc};
use pns_core::aksk::new_nonce;
use pns_core::wire::BIND_PATH;
use pns_core::{AkskError, Credentials};
use serde_json::json;

use crate::helpers::*;

fn bind_body() -> serde_json::Value {
    json!({"relationNum": X1, "callerNum": A, "calleeNum": B})
}

#[tokio::test]
async fn refusals_carry_the_platform_codes() {
    let t = spawn_sim().await;
    let post = || t.client.post(t.url(BIND_PATH)).json(&bind_body());

    let reply = t.send(post()).await;
    assert_eq!(
        (reply.0, code(&reply).to_owned()),
        (403, AkskError::MissingAuthorization.result_code().code())
    );

    let good = t.creds.sign_now();
    let reply = t
        .send(
            post()
                .header("Authorization", "WSSE realm=\"SDP\"")
                .header("X-AKSK", &good.x_aksk),
        )
        .await;
    assert_eq!(
        (reply.0, code(&reply).to_owned()),
        (403, AkskError::InvalidAuthorization.result_code().code())
    );

    let wrong_secret = Credentials::new(APP_KEY, "not-the-secret").sign_now();
    let reply = t
        .send(
            post()
                .header("Authorization", wrong_secret.authorization)
                .header("X-AKSK", wrong_secret.x_aksk),
        )
        .await;
    assert_eq!(
        (reply.0, code(&reply).to_owned()),
        (403, AkskError::BadDigest.result_code().code())
    );

    let wrong_key = Credentials::new("other-app", APP_SECRET).sign_now();
    let reply = t
        .send(
            post()
                .header("Authorization", wrong_key.authorization)
                .header("X-AKSK", wrong_key.x_aksk),
        )
        .await;
    assert_eq!((reply.0, code(&reply)), (403, "1010003"));

    let stale = t
        .creds
        .sign_with(&new_nonce(), Utc::now() - ChronoDuration::minutes(10));
    let reply = t
        .send(
            post()
                .header("Authorization", stale.authorization)
                .header("X-AKSK", stale.x_aksk),
        )
        .await;
    assert_eq!((reply.0, code(&reply)), (403, "1010013"));

    let reply = t
        .send(
            post()
                .header("Authorization", good.authorization)
                .header("X-AKSK", &good.x_aksk),
        )
        .await;
    assert_eq!(code(&reply), "0");
    // The same nonce again is a replay, even though the digest is right.
    let reply = t
        .send(
            post()
                .header("Authorization", good.authorization)
                .header("X-AKSK", &good.x_aksk),
        )
        .await;
    assert_eq!(
        (reply.0, code(&reply).to_owned()),
        (403, AkskError::Replayed.result_code().code())
    );

    let reply = t
        .send(
            post()
                .header("Authorization", good.authorization)
                .header("X-AKSK", "UsernameToken garbage"),
        )
        .await;
    assert_eq!(reply.0, 403);
    assert!(code(&reply).starts_with("1023"), "{}", reply.1);
    assert_eq!(t.ctl.binding_count(), 1, "refused requests change nothing");
}

#[tokio::test]
async fn auth_comes_before_validation_and_faults() {
    let t = spawn_sim().await;
    t.ctl.inject(pns_sim::Fault::ResultCode {
        code: "1010010".into(),
        http_status: 403,
        times: 1,
        operation: None,
    });
    let reply = t
        .send(t.client.post(t.url(BIND_PATH)).body("not json"))
        .await;
    assert_eq!(reply.0, 403);
    assert_eq!(
        t.ctl.faults().len(),
        1,
        "an unauthenticated request uses no fault"
    );
}
