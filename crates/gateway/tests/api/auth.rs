//! Tokens from the company's identity provider: a JWKS served on a local port by a fake provider with
//! keys generated here; rotation, refresh, outages, claim variants and forgeries.

use std::time::Duration;

use gateway::settings::RawSettings;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use crate::both_backends;
use crate::helpers::{Backend, TestApp, Upstream, spawn_app_with};
use crate::idp::{Idp, SigningKey, keycloak_claims};

const BINDING: &str = r#"{"callerNum": "+8618600000001", "calleeNum": "+8618600000002"}"#;

async fn spawn_with_idp(
    backend: Backend,
    idp: &Idp,
    tweak: impl FnOnce(&mut RawSettings),
) -> Option<TestApp> {
    let jwks_url = idp.jwks_url();
    spawn_app_with(backend, Upstream::Sandbox, move |raw| {
        raw.jwt_jwks_url = Some(jwks_url);
        raw.jwt_jwks_cooldown_secs = 1;
        tweak(raw);
    })
    .await
}

async fn status(app: &TestApp, token: &str) -> u16 {
    app.get(token, "/v1/bindings").await.status().as_u16()
}

async fn refusal(app: &TestApp, token: &str) -> String {
    let response = app.get(token, "/v1/bindings").await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    body["message"].as_str().unwrap().to_owned()
}

async fn readyz(app: &TestApp) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Polls until `check` holds (the refresher runs on its own clock), failing after 10 s.
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut check: F) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

both_backends!(
    provider_tokens_of_every_key_type_act_for_their_app,
    |backend: Backend| async move {
        let (rsa, ec, ed) = (
            SigningKey::rsa("rsa-1"),
            SigningKey::p256("ec-1"),
            SigningKey::ed25519("ed-1"),
        );
        let idp = Idp::start(&[&rsa, &ec, &ed]).await;
        let Some(app) = spawn_with_idp(backend, &idp, |raw| {
            raw.jwt_app_claim = "azp".into();
            raw.jwt_scope_prefix = Some("pns/".into());
        })
        .await
        else {
            return;
        };
        let scope = "openid pns/bindings:read pns/bindings:write";
        for key in [&rsa, &ec, &ed] {
            let token = key.sign(&keycloak_claims(&idp.issuer(), "billing", scope));
            let body: Value = serde_json::from_str(BINDING).unwrap();
            let response = app.post_binding(&token, &body).await;
            assert_eq!(
                response.status(),
                201,
                "{:?}: {:?}",
                key.alg,
                response.text().await
            );
        }
        // The bindings belong to the client (`azp`), not to the service account's `sub`.
        let billing = rsa.sign(&keycloak_claims(&idp.issuer(), "billing", scope));
        let listed: Value = app
            .get(&billing, "/v1/bindings")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            listed["items"].as_array().map(Vec::len),
            Some(3),
            "{listed}"
        );
        let other = ec.sign(&keycloak_claims(&idp.issuer(), "other-app", scope));
        let listed: Value = app.get(&other, "/v1/bindings").await.json().await.unwrap();
        assert_eq!(
            listed["items"].as_array().map(Vec::len),
            Some(0),
            "{listed}"
        );
        // Without the prefix the same scopes are another API's: no access.
        let bare = rsa.sign(&keycloak_claims(
            &idp.issuer(),
            "billing",
            "bindings:read admin",
        ));
        assert_eq!(status(&app, &bare).await, 403);

        // HS256 tokens minted with the secret keep working beside the provider, same rules.
        let rules = gateway::auth::ClaimRules {
            app_claim: "azp".into(),
            scope_prefix: Some("pns/".into()),
            ..gateway::auth::ClaimRules::new("pns-gateway", None)
        };
        let minter = gateway::auth::JwtConfig::with_rules(
            &secrecy::SecretString::from(crate::helpers::JWT_SECRET),
            rules,
        );
        let minted = minter.mint("billing", "bindings:read", 60).unwrap();
        let listed: Value = app.get(&minted, "/v1/bindings").await.json().await.unwrap();
        assert_eq!(
            listed["items"].as_array().map(Vec::len),
            Some(3),
            "{listed}"
        );
    }
);

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
    let admin = app.token("ops", "admin");
    let metrics = app.get(&admin, "/metrics").await.text().await.unwrap();
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

    idp.publish(&[&key]).await;
    eventually("readyz shows the provider back", async || {
        readyz(&app).await.1["jwks"]["status"] == "ok"
    })
    .await;
    let metrics = app.get(&admin, "/metrics").await.text().await.unwrap();
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
async fn algorithm_confusion_and_wrong_keys_are_refused() {
    let (rsa, ec) = (SigningKey::rsa("rsa-1"), SigningKey::p256("ec-1"));
    let attacker_rsa = SigningKey::rsa("rsa-1");
    let idp = Idp::start(&[&rsa, &ec]).await;
    let app = spawn_with_idp(Backend::Sqlite, &idp, |_| {}).await.unwrap();
    let claims = keycloak_claims(&idp.issuer(), "billing", "admin bindings:read");
    assert_eq!(status(&app, &rsa.sign(&claims)).await, 200);

    let with_kid = |alg, kid: &str| {
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        header
    };
    // An RS256 token naming the EC key.
    let message = refusal(
        &app,
        &rsa.sign_with(with_kid(Algorithm::RS256, "ec-1"), &claims),
    )
    .await;
    assert!(message.contains("verifies ES256 only"), "{message}");
    // PS256 with the RSA key, which is published for RS256.
    let message = refusal(
        &app,
        &rsa.sign_with(with_kid(Algorithm::PS256, "rsa-1"), &claims),
    )
    .await;
    assert!(message.contains("verifies RS256 only"), "{message}");
    // HS256 "signed" with the public key's published bytes, naming it.
    for secret in [
        serde_json::to_vec(&rsa.jwk).unwrap(),
        rsa.jwk["n"].as_str().unwrap().as_bytes().to_vec(),
    ] {
        let token = jsonwebtoken::encode(
            &with_kid(Algorithm::HS256, "rsa-1"),
            &claims,
            &EncodingKey::from_secret(&secret),
        )
        .unwrap();
        assert_eq!(refusal(&app, &token).await, "invalid token: bad signature");
    }
    // Another key under the provider's kid.
    let message = refusal(&app, &attacker_rsa.sign(&claims)).await;
    assert_eq!(message, "invalid token: bad signature");
    // The claims of a valid token under a header saying `none`, signature stripped.
    let valid = rsa.sign(&claims);
    let payload = valid.split('.').nth(1).unwrap();
    use base64::Engine;
    let none = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"alg": "none", "kid": "rsa-1"}).to_string());
    let message = refusal(&app, &format!("{none}.{payload}.")).await;
    assert!(message.contains("`none` never"), "{message}");
    // A valid token's signature on tampered claims.
    let mut parts: Vec<&str> = valid.split('.').collect();
    let tampered = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(keycloak_claims(&idp.issuer(), "someone-else", "admin").to_string());
    parts[1] = &tampered;
    assert_eq!(
        refusal(&app, &parts.join(".")).await,
        "invalid token: bad signature"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_claims_are_held_to_the_standard_rules() {
    let key = SigningKey::rsa("rsa-1");
    let idp = Idp::start(&[&key]).await;
    let app = spawn_with_idp(Backend::Sqlite, &idp, |raw| {
        raw.jwt_app_claim = "client_id".into();
    })
    .await
    .unwrap();
    let now = jsonwebtoken::get_current_timestamp();
    let base = json!({"client_id": "billing", "aud": "pns-gateway", "exp": now + 300});
    let with = |extra: Value| {
        let mut claims = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        key.sign(&claims)
    };
    // Accepted: scope string, scp string, scp array, aud array, no iat, past nbf.
    for extra in [
        json!({"scope": "bindings:read"}),
        json!({"scp": "bindings:read"}),
        json!({"scp": ["bindings:read"]}),
        json!({"scope": "bindings:read", "aud": ["a", "pns-gateway"]}),
        json!({"scope": "bindings:read", "nbf": now - 5, "iat": now - 5}),
    ] {
        assert_eq!(status(&app, &with(extra.clone())).await, 200, "{extra}");
    }
    // Refused, each with its reason.
    for (extra, reason) in [
        (
            json!({"scope": "bindings:read", "exp": null}),
            "`exp` is required",
        ),
        (
            json!({"scope": "bindings:read", "exp": now - 120}),
            "expired",
        ),
        (json!({"scope": "bindings:read", "nbf": now + 300}), "`nbf`"),
        (json!({"scope": "bindings:read", "iat": now + 300}), "`iat`"),
        (
            json!({"scope": "bindings:read", "aud": ["a", "b"]}),
            "`aud` does not hold",
        ),
        (
            json!({"scope": "bindings:read", "aud": null}),
            "`aud` is required",
        ),
        (
            json!({"scope": "bindings:read", "client_id": null, "sub": "billing"}),
            "`client_id`",
        ),
        (json!({"scope": 3}), "`scope`"),
    ] {
        let message = refusal(&app, &with(extra.clone())).await;
        assert!(message.contains(reason), "{extra}: {message}");
    }
    // Missing scope: authenticated but forbidden.
    assert_eq!(status(&app, &with(json!({"scp": []}))).await, 403);
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
