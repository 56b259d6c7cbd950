//! The provider's keys over time: rotation, removal, refresh on unknown `kid`s (rate limited), outages
//! at start and later, OIDC discovery.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::{eventually, readyz, refusal, spawn_with_idp, status};
use crate::helpers::{Backend, Upstream, spawn_app_with};
use crate::idp::{Idp, SigningKey, keycloak_claims};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_kid_is_accepted_without_restart_and_a_removed_one_refused_after_refresh() {
    let (old, new) = (SigningKey::rsa("2026-11"), SigningKey::p256("2026-12"));
    let idp = Idp::start(&[&old]).await;
    let app = spawn_with_idp(Backend::Sqlite, &idp, |raw| raw.jwt_jwks_refresh_secs = 2)
        .await
        .unwrap();
    let claims = keycloak_claims(&idp.issuer(), "billing", "bindings:read");
    assert_eq!(status(&app, &old.sign(&claims)).await, 200);

    // The provider rotates: a token signed with the new key makes the gateway fetch the set at once.
    idp.publish(&[&old, &new]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // past the 1 s cooldown of the start fetch
    assert_eq!(status(&app, &new.sign(&claims)).await, 200);
    assert_eq!(idp.jwks_fetches().await, 1);
    assert_eq!(status(&app, &old.sign(&claims)).await, 200);

    // The old key is withdrawn: accepted until the next periodic refresh, refused after it.
    idp.publish(&[&new]).await;
    let old_token = old.sign(&claims);
    eventually("the withdrawn key is dropped", async || {
        idp.jwks_fetches().await > 0
    })
    .await;
    let message = refusal(&app, &old_token).await;
    assert!(message.contains("no key `2026-11`"), "{message}");
    assert_eq!(status(&app, &new.sign(&claims)).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kids_make_at_most_one_fetch_per_cooldown() {
    let key = SigningKey::ed25519("ed-1");
    let idp = Idp::start(&[&key]).await;
    let app = spawn_with_idp(Backend::Sqlite, &idp, |raw| {
        raw.jwt_jwks_cooldown_secs = 2;
    })
    .await
    .unwrap();
    idp.publish(&[&key]).await; // counts from here, after the start fetch
    let claims = keycloak_claims(&idp.issuer(), "billing", "bindings:read");
    let forge = |round: usize| -> Vec<String> {
        (0..40)
            .map(|i| {
                let mut header = Header::new(Algorithm::EdDSA);
                header.kid = Some(format!("made-up-{round}-{i}"));
                key.sign_with(header, &claims)
            })
            .collect()
    };
    let send_all = async |tokens: Vec<String>| {
        futures::future::join_all(tokens.iter().map(|token| status(&app, token))).await
    };
    // Within the cooldown of the start fetch: refused from the cache, no fetch.
    let statuses = send_all(forge(0)).await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(idp.jwks_fetches().await, 0);
    // Past it: 40 forged kids at once, one fetch; 40 more right after, none.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let statuses = send_all(forge(1)).await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(idp.jwks_fetches().await, 1);
    send_all(forge(2)).await;
    assert_eq!(idp.jwks_fetches().await, 1);
    // A known kid never fetches.
    assert_eq!(status(&app, &key.sign(&claims)).await, 200);
    assert_eq!(idp.jwks_fetches().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kid_after_the_cooldown_fetches_once_for_all_waiting_requests() {
    let (key, rotated) = (SigningKey::p256("ec-1"), SigningKey::p256("ec-2"));
    let idp = Idp::start(&[&key]).await;
    let app = spawn_with_idp(Backend::Sqlite, &idp, |_| {}).await.unwrap();
    idp.publish(&[&key, &rotated]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let token = rotated.sign(&keycloak_claims(&idp.issuer(), "billing", "bindings:read"));
    let statuses = futures::future::join_all((0..20).map(|_| status(&app, &token))).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(idp.jwks_fetches().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_outage_keeps_cached_keys_working_and_shows_in_readyz_and_metrics() {
    let key = SigningKey::rsa("rsa-1");
    let idp = Idp::start(&[&key]).await;
    let app = spawn_with_idp(Backend::Sqlite, &idp, |raw| raw.jwt_jwks_refresh_secs = 1)
        .await
        .unwrap();
    let (code, body) = readyz(&app).await;
    assert_eq!(
        (code, body["jwks"]["status"].as_str()),
        (200, Some("ok")),
        "{body}"
    );
    assert_eq!(body["jwks"]["keys"], 1);

    idp.go_down().await;
    eventually("readyz shows the stale keys", async || {
        readyz(&app).await.1["jwks"]["status"] == "stale"
    })
    .await;
    let (code, body) = readyz(&app).await;
    assert_eq!(code, 200, "cached keys still verify: {body}");
    assert_eq!(body["jwks"]["keys"], 1);
    let token = key.sign(&keycloak_claims(&idp.issuer(), "billing", "bindings:read"));
    assert_eq!(status(&app, &token).await, 200);
    let metrics = app.metrics().await;
    assert!(metrics.contains("pns_jwks_up 0"), "{metrics}");
    assert!(
        metrics.contains("pns_jwks_refresh_total{outcome=\"error\"}"),
        "{metrics}"
    );

    // Garbage from the provider is a failed fetch too: the keys it would replace stay.
    idp.serve(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .await;
    eventually("the garbage was fetched", async || {
        idp.jwks_fetches().await > 0
    })
    .await;
    assert_eq!(status(&app, &token).await, 200);
    // So is a JWKS past the 1 MiB limit (were it read, its empty `keys` would replace the cache).
    let huge = format!(r#"{{"keys": [], "pad": "{}"}}"#, "x".repeat(2 << 20));
    idp.serve(ResponseTemplate::new(200).set_body_string(huge))
        .await;
    eventually("the huge set was fetched", async || {
        idp.jwks_fetches().await > 0
    })
    .await;
    assert_eq!(status(&app, &token).await, 200);
    assert_eq!(readyz(&app).await.1["jwks"]["status"], "stale");

    idp.publish(&[&key]).await;
    eventually("readyz shows the provider back", async || {
        readyz(&app).await.1["jwks"]["status"] == "ok"
    })
    .await;
    let metrics = app.metrics().await;
    assert!(metrics.contains("pns_jwks_up 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_down_at_start_is_not_ready_until_it_answers() {
    let key = SigningKey::p256("ec-1");
    let idp = Idp::start(&[&key]).await;
    idp.go_down().await;
    let app = spawn_with_idp(Backend::Sqlite, &idp, |_| {}).await.unwrap();
    let (code, body) = readyz(&app).await;
    assert_eq!(
        (code, body["jwks"]["status"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
    // HS256 tokens do not depend on the provider.
    assert_eq!(status(&app, &app.token("ops", "bindings:read")).await, 200);
    let token = key.sign(&keycloak_claims(&idp.issuer(), "billing", "bindings:read"));
    assert_eq!(status(&app, &token).await, 401);

    idp.publish(&[&key]).await;
    eventually("the retry fetches the keys", async || {
        readyz(&app).await.0 == 200
    })
    .await;
    assert_eq!(status(&app, &token).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_issuer_names_the_jwks_and_is_the_required_iss() {
    let key = SigningKey::p256("ec-1");
    let idp = Idp::start(&[&key]).await;
    let issuer = idp.issuer();
    let app = spawn_app_with(Backend::Sqlite, Upstream::Sandbox, |raw| {
        raw.jwt_oidc_issuer = Some(issuer.clone());
    })
    .await
    .unwrap();
    let claims = keycloak_claims(&issuer, "billing", "bindings:read");
    assert_eq!(status(&app, &key.sign(&claims)).await, 200);
    let mut foreign = claims.clone();
    foreign["iss"] = json!("https://evil.example/realms/apps");
    let message = refusal(&app, &key.sign(&foreign)).await;
    assert!(message.contains("`iss`"), "{message}");
    foreign.as_object_mut().unwrap().remove("iss");
    let message = refusal(&app, &key.sign(&foreign)).await;
    assert!(message.contains("`iss` is required"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_naming_another_issuer_or_a_clear_text_jwks_is_not_trusted() {
    let key = SigningKey::p256("ec-1");
    let idp = Idp::start(&[&key]).await;
    let base = idp.server.uri();
    let documents = [
        // A realm whose document claims to be another realm.
        (
            "evil",
            json!({"issuer": idp.issuer(), "jwks_uri": idp.jwks_url()}),
        ),
        // Keys to be fetched in clear text from a host that is not this one.
        (
            "plain",
            json!({"issuer": format!("{base}/realms/plain"),
            "jwks_uri": "http://idp.example.com/realms/plain/certs"}),
        ),
    ];
    for (realm, document) in documents {
        Mock::given(method("GET"))
            .and(path(format!(
                "/realms/{realm}/.well-known/openid-configuration"
            )))
            .respond_with(ResponseTemplate::new(200).set_body_json(document))
            .mount(&idp.server)
            .await;
        let issuer = format!("{base}/realms/{realm}");
        let app = spawn_app_with(Backend::Sqlite, Upstream::Sandbox, |raw| {
            raw.jwt_oidc_issuer = Some(issuer.clone());
        })
        .await
        .unwrap();
        let (code, body) = readyz(&app).await;
        assert_eq!(
            (code, body["jwks"]["status"].as_str()),
            (503, Some("unavailable")),
            "{realm}"
        );
        let token = key.sign(&keycloak_claims(&issuer, "billing", "bindings:read"));
        assert_eq!(status(&app, &token).await, 401, "{realm}");
    }
}
