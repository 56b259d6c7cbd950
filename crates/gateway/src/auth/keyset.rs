//! An identity provider's JWKS as verifying keys, each bound to the one algorithm its type allows:
//! an RSA key verifies RS256 (or the RSA algorithm its `alg` names), a P-256 key ES256, a P-384 key
//! ES384, an Ed25519 key EdDSA. A token whose `alg` is not its key's is refused, so an RS256 token
//! naming an EC key, or an HS256 token "signed" with a public key, never verifies. Symmetric (`oct`)
//! and encryption keys in a JWKS are skipped: a published key must never verify a MAC.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// More keys than any provider publishes; a bigger set is cut (and logged), not trusted whole.
const MAX_KEYS: usize = 64;
/// RSA moduli below 2048 bits are refused (NIST SP 800-131A).
const MIN_RSA_BYTES: usize = 256;

/// One usable key of the set.
pub struct VerifyingKey {
    pub kid: Option<String>,
    pub alg: Algorithm,
    pub key: DecodingKey,
}

/// The keys of one JWKS fetch, replaced whole by the next.
#[derive(Default)]
pub struct KeySet {
    keys: Vec<Arc<VerifyingKey>>,
}

/// What a token's header finds in the set.
pub enum Selection {
    /// Keys to try, in order: the one its `kid` names, or (no `kid`) every key for its `alg`.
    Keys(Vec<Arc<VerifyingKey>>),
    /// The `kid` names a key bound to another algorithm.
    WrongAlgorithm(Algorithm),
    /// No key fits: the provider may have rotated since the last fetch.
    Unknown,
}

#[derive(Debug, thiserror::Error)]
pub enum KeySetError {
    #[error("not a JWKS document (a JSON object with a `keys` array): {0}")]
    NotJwks(serde_json::Error),
    #[error("the JWKS lists keys but none is usable: {0}")]
    NoUsableKey(String),
}

#[derive(Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    /// Parses a JWKS body. Keys this gateway cannot use (encryption keys, `oct`, unknown types or
    /// curves, short RSA) are skipped with a reason each; a set whose every key is skipped is an
    /// error, so a provider's glitch does not replace working keys with none.
    pub fn parse(body: &[u8]) -> Result<(Self, Vec<String>), KeySetError> {
        let document: Document = serde_json::from_slice(body).map_err(KeySetError::NotJwks)?;
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for (index, value) in document.keys.into_iter().enumerate() {
            if is_for_encryption(&value) {
                // Keycloak and others publish their encryption keys beside the signing ones.
                continue;
            }
            let label = value
                .get("kid")
                .and_then(|kid| kid.as_str())
                .map_or_else(|| format!("#{index}"), |kid| shown(kid).into_owned());
            match usable(value) {
                Ok(key) if keys.len() < MAX_KEYS => keys.push(Arc::new(key)),
                Ok(_) => skipped.push(format!("{label}: more than {MAX_KEYS} keys")),
                Err(reason) => skipped.push(format!("{label}: {reason}")),
            }
        }
        if keys.is_empty() && !skipped.is_empty() {
            return Err(KeySetError::NoUsableKey(skipped.join("; ")));
        }
        Ok((Self { keys }, skipped))
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> Selection {
        let fits = |key: &&Arc<VerifyingKey>| match kid {
            Some(kid) => key.kid.as_deref() == Some(kid),
            None => key.alg == alg,
        };
        let named: Vec<_> = self.keys.iter().filter(fits).cloned().collect();
        if named.is_empty() {
            return Selection::Unknown;
        }
        let (keys, other): (Vec<_>, Vec<_>) = named.into_iter().partition(|key| key.alg == alg);
        match (keys.is_empty(), other.first()) {
            (true, Some(key)) => Selection::WrongAlgorithm(key.alg),
            _ => Selection::Keys(keys),
        }
    }
}

/// A key id as it may appear in a message or log: printable ASCII, at most 64 characters.
pub fn shown(kid: &str) -> std::borrow::Cow<'_, str> {
    if kid.len() <= 64 && kid.chars().all(|c| c.is_ascii_graphic()) {
        kid.into()
    } else {
        "(unprintable kid)".into()
    }
}

/// `"use": "enc"`, or an `alg` of JWE key management: never a signing key.
fn is_for_encryption(value: &serde_json::Value) -> bool {
    let text = |field| value.get(field).and_then(serde_json::Value::as_str);
    text("use") == Some("enc")
        || text("alg").is_some_and(|alg| alg.starts_with("RSA-OAEP") || alg == "RSA1_5")
}

fn usable(value: serde_json::Value) -> Result<VerifyingKey, String> {
    let jwk: Jwk = serde_json::from_value(value).map_err(|e| format!("not a JWK: {e}"))?;
    if let Some(ops) = &jwk.common.key_operations
        && !ops.iter().any(|op| matches!(op, KeyOperations::Verify))
    {
        return Err("`key_ops` does not allow verify".into());
    }
    let alg = bound_algorithm(&jwk)?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("unreadable key: {e}"))?;
    Ok(VerifyingKey {
        kid: jwk.common.key_id.clone(),
        alg,
        key,
    })
}

/// The one algorithm a key may verify: its type's, or the one its `alg` names when that fits the type.
fn bound_algorithm(jwk: &Jwk) -> Result<Algorithm, String> {
    let (default, allowed): (Algorithm, &[Algorithm]) = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let modulus = URL_SAFE_NO_PAD
                .decode(rsa.n.trim_end_matches('='))
                .map_err(|_| "RSA modulus is not base64url".to_owned())?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_BYTES {
                return Err(format!(
                    "RSA key of {} bits (2048 at least)",
                    significant * 8
                ));
            }
            use Algorithm::*;
            (RS256, &[RS256, RS384, RS512, PS256, PS384, PS512])
        }
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => (Algorithm::ES256, &[Algorithm::ES256]),
            EllipticCurve::P384 => (Algorithm::ES384, &[Algorithm::ES384]),
            _ => return Err("an unsupported EC curve".into()),
        },
        AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
            EllipticCurve::Ed25519 => (Algorithm::EdDSA, &[Algorithm::EdDSA]),
            _ => return Err("an unsupported OKP curve".into()),
        },
        AlgorithmParameters::OctetKey(_) => {
            return Err("a symmetric key; a JWKS is for public keys".into());
        }
        _ => return Err("an unsupported key type".into()),
    };
    match jwk.common.key_algorithm {
        None => Ok(default),
        Some(named) => {
            let named = named
                .to_string()
                .parse::<Algorithm>()
                .map_err(|_| format!("`alg` {named} is not a signature algorithm"))?;
            if allowed.contains(&named) {
                Ok(named)
            } else {
                Err(format!("`alg` {named:?} does not fit the key's type"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rsa_n(bits: usize) -> String {
        let mut n = vec![0xC5u8; bits / 8];
        n[0] = 0xF1;
        URL_SAFE_NO_PAD.encode(n)
    }

    fn p256() -> serde_json::Value {
        // The P-256 generator point: a valid public key.
        json!({"kty": "EC", "crv": "P-256", "kid": "ec-1",
            "x": "axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY",
            "y": "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"})
    }

    #[test]
    fn each_key_is_bound_to_its_types_algorithm() {
        let body = json!({"keys": [
            {"kty": "RSA", "kid": "rsa-1", "n": rsa_n(2048), "e": "AQAB"},
            {"kty": "RSA", "kid": "rsa-ps", "alg": "PS256", "n": rsa_n(2048), "e": "AQAB"},
            p256(),
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed-1", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        ]});
        let (set, skipped) = KeySet::parse(body.to_string().as_bytes()).unwrap();
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(set.len(), 4);
        let only = |kid, alg| match set.select(Some(kid), alg) {
            Selection::Keys(keys) => keys.len() == 1,
            _ => false,
        };
        assert!(only("rsa-1", Algorithm::RS256));
        assert!(only("rsa-ps", Algorithm::PS256));
        assert!(only("ec-1", Algorithm::ES256));
        assert!(only("ed-1", Algorithm::EdDSA));
        assert!(matches!(
            set.select(Some("ec-1"), Algorithm::RS256),
            Selection::WrongAlgorithm(Algorithm::ES256)
        ));
        assert!(matches!(
            set.select(Some("rsa-1"), Algorithm::HS256),
            Selection::WrongAlgorithm(Algorithm::RS256)
        ));
        assert!(matches!(
            set.select(Some("rsa-1"), Algorithm::PS256),
            Selection::WrongAlgorithm(Algorithm::RS256)
        ));
        assert!(matches!(
            set.select(Some("gone"), Algorithm::RS256),
            Selection::Unknown
        ));
        // No kid: every key for the token's algorithm.
        assert!(matches!(set.select(None, Algorithm::ES256), Selection::Keys(k) if k.len() == 1));
        assert!(matches!(
            set.select(None, Algorithm::ES384),
            Selection::Unknown
        ));
    }

    #[test]
    fn unusable_keys_are_skipped_with_a_reason() {
        let body = json!({"keys": [
            {"kty": "oct", "kid": "mac", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "alg": "RSA-OAEP", "n": rsa_n(2048), "e": "AQAB"},
            {"kty": "RSA", "kid": "short", "n": rsa_n(1024), "e": "AQAB"},
            {"kty": "RSA", "kid": "confused", "alg": "ES256", "n": rsa_n(2048), "e": "AQAB"},
            {"kty": "EC", "crv": "P-521", "kid": "p521", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "ops", "key_ops": ["encrypt"], "n": rsa_n(2048), "e": "AQAB"},
            {"kty": "weird", "kid": "weird"},
            p256(),
        ]});
        let (set, skipped) = KeySet::parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(set.len(), 1, "{skipped:?}");
        // The encryption key is no surprise: not reported.
        assert_eq!(skipped.len(), 6, "{skipped:?}");
        assert!(!skipped.iter().any(|s| s.starts_with("enc")));
        assert!(
            skipped
                .iter()
                .any(|s| s.starts_with("mac: a symmetric key"))
        );
        assert!(
            skipped
                .iter()
                .any(|s| s.starts_with("short: RSA key of 1024 bits"))
        );
    }

    #[test]
    fn a_set_of_only_encryption_keys_is_empty_not_broken() {
        let body = json!({"keys": [
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": rsa_n(2048), "e": "AQAB"},
            {"kty": "RSA", "kid": "oaep", "alg": "RSA-OAEP-256", "n": rsa_n(2048), "e": "AQAB"},
        ]});
        let (set, skipped) = KeySet::parse(body.to_string().as_bytes()).unwrap();
        assert_eq!((set.len(), skipped.len()), (0, 0));
    }

    #[test]
    fn malformed_or_wholly_unusable_sets_are_errors() {
        for body in [
            "",
            "[]",
            "{}",
            "{\"keys\": 3}",
            "\u{0}",
            "{\"keys\": [1, 2]",
        ] {
            assert!(KeySet::parse(body.as_bytes()).is_err(), "{body:?}");
        }
        let only_mac = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]});
        assert!(matches!(
            KeySet::parse(only_mac.to_string().as_bytes()),
            Err(KeySetError::NoUsableKey(_))
        ));
        let (empty, _) = KeySet::parse(b"{\"keys\": []}").unwrap();
        assert_eq!(empty.len(), 0);
    }
}
