//! HS256 tokens signed with `PNS_JWT_SECRET`: what `gateway token` and the sandbox's admin token
//! mint, and the key that verifies them. They meet the same [`ClaimRules`] as a provider's tokens,
//! so the app id is also written under `PNS_JWT_APP_CLAIM` and scopes carry `PNS_JWT_SCOPE_PREFIX`.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::claims::ClaimRules;
use crate::error::ApiError;

pub struct JwtConfig {
    encoding: EncodingKey,
    decoding: DecodingKey,
    rules: ClaimRules,
}

impl JwtConfig {
    /// App id in `sub`, bare scopes.
    pub fn new(secret: &SecretString, audience: &str, issuer: Option<&str>) -> Self {
        Self::with_rules(secret, ClaimRules::new(audience, issuer))
    }

    pub fn with_rules(secret: &SecretString, rules: ClaimRules) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            rules,
        }
    }

    /// `scopes` space-separated and unprefixed: `bindings:read bindings:write admin`.
    pub fn mint(&self, app_id: &str, scopes: &str, ttl_seconds: u64) -> Result<String, ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        let mut claims = json!({
            "sub": app_id,
            "aud": self.rules.audience,
            "exp": now + ttl_seconds,
            "iat": now,
            "scope": self.rules.scope_claim(scopes),
        });
        if let Some(issuer) = &self.rules.issuer {
            claims["iss"] = Value::from(issuer.as_str());
        }
        claims[self.rules.app_claim.as_str()] = Value::from(app_id);
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    pub(super) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    pub fn rules(&self) -> &ClaimRules {
        &self.rules
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::EncodingKey;
    use serde_json::json;

    use super::*;
    use crate::auth::{Authenticator, Scope};

    const SECRET: &str = "x-secret-x-secret-x-secret-x-secret";

    fn config(issuer: Option<&str>) -> JwtConfig {
        JwtConfig::new(&SecretString::from(SECRET), "pns-gateway", issuer)
    }

    /// A verifier that knows only the HS256 secret of `config`.
    fn verifier(config: &JwtConfig) -> Authenticator {
        Authenticator::new(config.rules().clone(), Some(config), None)
    }

    fn signed(header: Header, claims: &Value) -> String {
        let key = EncodingKey::from_secret(SECRET.as_bytes());
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    #[tokio::test]
    async fn minted_tokens_verify_with_their_scopes() {
        let jwt = config(None);
        let token = jwt
            .mint("app-1", "bindings:read bindings:write", 60)
            .unwrap();
        let principal = verifier(&jwt).verify(&token).await.unwrap();
        assert_eq!(principal.app_id, "app-1");
        assert!(principal.require(Scope::BindingsWrite).is_ok());
        assert!(principal.require(Scope::Admin).is_err());
        assert_eq!(principal.app_scope(), Some("app-1"));
    }

    #[tokio::test]
    async fn wrong_audience_secret_or_issuer_is_refused() {
        let token = config(None).mint("app-1", "admin", 60).unwrap();
        let other_aud = JwtConfig::new(&SecretString::from(SECRET), "other", None);
        assert!(verifier(&other_aud).verify(&token).await.is_err());
        let other_secret = JwtConfig::new(&SecretString::from("y".repeat(32)), "pns-gateway", None);
        assert!(verifier(&other_secret).verify(&token).await.is_err());
        let with_issuer = config(Some("issuer-a"));
        assert!(verifier(&with_issuer).verify(&token).await.is_err());
        let with_iss = with_issuer.mint("app-1", "admin", 60).unwrap();
        assert!(verifier(&with_issuer).verify(&with_iss).await.is_ok());
    }

    #[tokio::test]
    async fn minted_tokens_follow_the_app_claim_and_scope_prefix() {
        let rules = ClaimRules {
            app_claim: "azp".into(),
            scope_prefix: Some("pns/".into()),
            ..ClaimRules::new("pns-gateway", None)
        };
        let jwt = JwtConfig::with_rules(&SecretString::from(SECRET), rules);
        let token = jwt.mint("billing", "admin", 60).unwrap();
        let claims: Value = jsonwebtoken::dangerous::insecure_decode::<Value>(&token)
            .unwrap()
            .claims;
        assert_eq!(claims["azp"], "billing");
        assert_eq!(claims["sub"], "billing");
        assert_eq!(claims["scope"], "pns/admin");
        let principal = verifier(&jwt).verify(&token).await.unwrap();
        assert_eq!(principal.app_id, "billing");
        assert!(principal.is_admin());
    }

    /// Standard HS256 tokens that other minting code produces: no `iat`, `aud` as an array, `scp`.
    #[tokio::test]
    async fn standard_hs256_claim_shapes_are_accepted() {
        let now = jsonwebtoken::get_current_timestamp();
        let verifier = verifier(&config(None));
        for claims in [
            json!({"sub": "app-1", "aud": "pns-gateway", "exp": now + 60, "scope": "admin"}),
            json!({"sub": "app-1", "aud": ["other-api", "pns-gateway"], "exp": now + 60, "scope": "admin"}),
            json!({"sub": "app-1", "aud": "pns-gateway", "exp": now + 60, "scp": ["admin"]}),
            json!({"sub": "app-1", "aud": "pns-gateway", "exp": now + 60, "nbf": now - 10, "iat": now, "scope": "admin"}),
        ] {
            let principal = verifier
                .verify(&signed(Header::new(Algorithm::HS256), &claims))
                .await
                .unwrap_or_else(|e| panic!("{claims}: {e}"));
            assert!(principal.is_admin(), "{claims}");
        }
    }

    #[tokio::test]
    async fn hs256_tokens_breaking_a_rule_are_refused() {
        let now = jsonwebtoken::get_current_timestamp();
        let verifier = verifier(&config(None));
        let cases = [
            (
                json!({"sub": "a", "aud": "pns-gateway", "exp": now + 600, "nbf": now + 300}),
                "`nbf`",
            ),
            (
                json!({"sub": "a", "aud": "pns-gateway", "exp": now + 600, "iat": now + 300}),
                "`iat`",
            ),
            (
                json!({"sub": "a", "aud": "pns-gateway"}),
                "`exp` is required",
            ),
            (
                json!({"sub": "a", "aud": "pns-gateway", "exp": "soon"}),
                "`exp`",
            ),
            (
                json!({"sub": "a", "aud": ["x", "y"], "exp": now + 60}),
                "`aud`",
            ),
            (json!({"sub": "a", "exp": now + 60}), "`aud` is required"),
            (json!({"aud": "pns-gateway", "exp": now + 60}), "`sub`"),
            (
                json!({"sub": "a", "aud": "pns-gateway", "exp": now - 120}),
                "expired",
            ),
        ];
        for (claims, reason) in cases {
            let refusal = verifier
                .verify(&signed(Header::new(Algorithm::HS256), &claims))
                .await
                .expect_err(&claims.to_string())
                .to_string();
            assert!(refusal.contains(reason), "{claims}: {refusal}");
        }
        let hs512 = signed(
            Header::new(Algorithm::HS512),
            &json!({"sub": "a", "aud": "pns-gateway", "exp": now + 60}),
        );
        assert!(verifier.verify(&hs512).await.is_err());
    }

    #[tokio::test]
    async fn unsigned_and_garbage_tokens_are_refused() {
        use base64::Engine;
        let b64 =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let now = jsonwebtoken::get_current_timestamp();
        let claims = json!({"sub": "a", "aud": "pns-gateway", "exp": now + 60, "scope": "admin"});
        let verifier = verifier(&config(None));
        for alg in ["none", "None", "NONE", ""] {
            let token = format!(
                "{}.{}.",
                b64(&json!({"alg": alg, "typ": "JWT"})),
                b64(&claims)
            );
            let refusal = verifier.verify(&token).await.unwrap_err().to_string();
            assert!(refusal.contains("`none` never"), "{alg}: {refusal}");
        }
        let huge = "a".repeat(20_000);
        for token in ["", ".", "..", "a.b.c", "\u{0}.\u{0}.\u{0}", huge.as_str()] {
            assert!(verifier.verify(token).await.is_err(), "{token:?}");
        }
        // No secret configured: HS256 is not a way in.
        let provider_only = Authenticator::new(ClaimRules::new("pns-gateway", None), None, None);
        let token = config(None).mint("a", "admin", 60).unwrap();
        let refusal = provider_only.verify(&token).await.unwrap_err().to_string();
        assert!(refusal.contains("PNS_JWT_SECRET"), "{refusal}");
    }
}
