//! A fake identity provider: signing keys generated in the test (RSA 2048, P-256, Ed25519), its JWKS
//! and OIDC discovery document served by wiremock on a local port, and tokens shaped like Keycloak's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const JWKS_PATH: &str = "/realms/apps/protocol/openid-connect/certs";
const DISCOVERY_PATH: &str = "/realms/apps/.well-known/openid-configuration";

/// A private key of the provider and the public JWK it publishes.
pub struct SigningKey {
    pub kid: String,
    pub alg: Algorithm,
    encoding: EncodingKey,
    pub jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SigningKey {
    pub fn rsa(kid: &str) -> Self {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::traits::PublicKeyParts;
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
        let der = private.to_pkcs1_der().expect("PKCS#1");
        Self {
            kid: kid.into(),
            alg: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            jwk: json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                "n": b64(&private.n().to_bytes_be()), "e": b64(&private.e().to_bytes_be())}),
        }
    }

    pub fn p256(kid: &str) -> Self {
        use p256::pkcs8::EncodePrivateKey;
        let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
            &secret.public_key(),
            false,
        );
        let der = secret.to_pkcs8_der().expect("PKCS#8");
        Self {
            kid: kid.into(),
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            // No `alg`: like Azure AD, the key's type alone decides.
            jwk: json!({"kty": "EC", "crv": "P-256", "use": "sig", "kid": kid,
                "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y"))}),
        }
    }

    pub fn ed25519(kid: &str) -> Self {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let key = ed25519_dalek::SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        let der = key.to_pkcs8_der().expect("PKCS#8");
        Self {
            kid: kid.into(),
            alg: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            jwk: json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "kid": kid,
                "x": b64(key.verifying_key().as_bytes())}),
        }
    }

    /// Signed with this key's algorithm, naming its `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        self.sign_with(header, claims)
    }

    /// Signed with this key under any header (to forge `kid` or claim another `alg`'s family member).
    pub fn sign_with(&self, header: Header, claims: &Value) -> String {
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

/// Claims as Keycloak writes them for a service account (client credentials), audience mapped to
/// `pns-gateway`: `sub` is the service account's user id, the client is in `azp` and `client_id`.
pub fn keycloak_claims(issuer: &str, client: &str, scope: &str) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({
        "exp": now + 300, "iat": now, "jti": uuid::Uuid::new_v4().to_string(),
        "iss": issuer, "aud": ["pns-gateway", "account"],
        "sub": uuid::Uuid::new_v4().to_string(), "typ": "Bearer",
        "azp": client, "client_id": client, "scope": scope,
    })
}

pub struct Idp {
    pub server: MockServer,
}

impl Idp {
    pub async fn start(keys: &[&SigningKey]) -> Self {
        let idp = Self {
            server: MockServer::start().await,
        };
        idp.publish(keys).await;
        idp
    }

    /// `http://127.0.0.1:<port>/realms/apps`, as Keycloak names a realm's issuer.
    pub fn issuer(&self) -> String {
        format!("{}/realms/apps", self.server.uri())
    }

    pub fn jwks_url(&self) -> String {
        format!("{}{JWKS_PATH}", self.server.uri())
    }

    /// From now on the JWKS holds exactly `keys` (and discovery answers).
    pub async fn publish(&self, keys: &[&SigningKey]) {
        let jwks = json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()});
        self.serve(ResponseTemplate::new(200).set_body_json(jwks))
            .await;
    }

    /// The provider answers 503 to everything.
    pub async fn go_down(&self) {
        self.server.reset().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&self.server)
            .await;
    }

    /// The JWKS endpoint answers `response`; discovery keeps naming it.
    pub async fn serve(&self, response: ResponseTemplate) {
        self.server.reset().await;
        let discovery = json!({"issuer": self.issuer(), "jwks_uri": self.jwks_url(),
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"]});
        Mock::given(method("GET"))
            .and(path(DISCOVERY_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(discovery))
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path(JWKS_PATH))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// JWKS fetches since the last `publish`/`serve`/`go_down`.
    pub async fn jwks_fetches(&self) -> usize {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .filter(|r| r.url.path() == JWKS_PATH)
            .count()
    }
}
