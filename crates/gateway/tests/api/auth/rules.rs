//! What a provider's token must be: each key type acting for its app, the claim rules, and the
//! forgeries (algorithm confusion, wrong keys, `none`, tampering) refused.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::{BINDING, refusal, spawn_with_idp, status};
use crate::both_backends;
use crate::helpers::Backend;
use crate::idp::{Idp, SigningKey, keycloak_claims};

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
    // The attacker's own key embedded in the header: never a source of keys.
    let mut header = with_kid(Algorithm::RS256, "attacker-1");
    header.jwk = Some(serde_json::from_value(attacker_rsa.jwk.clone()).unwrap());
    let message = refusal(&app, &attacker_rsa.sign_with(header, &claims)).await;
    assert!(message.contains("no key `attacker-1`"), "{message}");
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
        json!({"roles": ["bindings:read"]}),
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
