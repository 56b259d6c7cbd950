//! Which key verifies a token: HS256 -> `PNS_JWT_SECRET`; RS256, ES256, EdDSA (and the other RSA and
//! EC algorithms a JWK may name) -> the provider's key its `kid` names, and only if that key is bound
//! to the token's `alg`. Anything else (other HMACs, `none`, unknown names) is refused.

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use super::claims::ClaimRules;
use super::jwks::Jwks;
use super::keyset::{Selection, shown};
use super::token::JwtConfig;
use super::{InvalidToken, Principal};

/// Longer than any real token; a bigger one is refused before it is decoded.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

pub struct Authenticator {
    rules: ClaimRules,
    secret: Option<DecodingKey>,
    jwks: Option<Arc<Jwks>>,
}

impl Authenticator {
    /// Verifies HS256 tokens signed with `secret`'s key and/or tokens signed with the provider's
    /// keys; both held to `rules`.
    pub fn new(rules: ClaimRules, secret: Option<&JwtConfig>, jwks: Option<Arc<Jwks>>) -> Self {
        Self {
            rules,
            secret: secret.map(|config| config.decoding_key().clone()),
            jwks,
        }
    }

    pub fn jwks(&self) -> Option<&Jwks> {
        self.jwks.as_deref()
    }

    pub async fn verify(&self, token: &str) -> Result<Principal, InvalidToken> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(InvalidToken::new("longer than 16 KiB"));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
            ErrorKind::InvalidAlgorithmName | ErrorKind::Json(_) => InvalidToken::new(
                "its header is not a JWS header with a supported `alg` (`none` never is)",
            ),
            _ => InvalidToken::new("not a JWT"),
        })?;
        let claims = match header.alg {
            Algorithm::HS256 => {
                let key = self.secret.as_ref().ok_or_else(|| {
                    InvalidToken::new("HS256 tokens are not accepted: no PNS_JWT_SECRET is set")
                })?;
                self.decode(token, key, Algorithm::HS256)?
            }
            Algorithm::HS384 | Algorithm::HS512 => {
                return Err(InvalidToken::new(format!(
                    "{:?} is not accepted; HS256 is the only shared-secret algorithm",
                    header.alg
                )));
            }
            alg => {
                self.decode_with_provider_key(token, header.kid.as_deref(), alg)
                    .await?
            }
        };
        self.rules.principal(&claims)
    }

    async fn decode_with_provider_key(
        &self,
        token: &str,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Map<String, Value>, InvalidToken> {
        let jwks = self.jwks.as_ref().ok_or_else(|| {
            InvalidToken::new(format!(
                "{alg:?} tokens need an identity provider (PNS_JWT_JWKS_URL or PNS_JWT_OIDC_ISSUER)"
            ))
        })?;
        let keys = match jwks.select(kid, alg).await {
            Selection::Keys(keys) => keys,
            Selection::WrongAlgorithm(bound) => {
                return Err(InvalidToken::new(format!(
                    "key `{}` verifies {bound:?} only; the token says {alg:?}",
                    shown(kid.unwrap_or_default())
                )));
            }
            Selection::Unknown => {
                return Err(InvalidToken::new(match kid {
                    Some(kid) => format!("the identity provider has no key `{}`", shown(kid)),
                    None => format!("no `kid`, and the identity provider has no {alg:?} key"),
                }));
            }
        };
        // Several keys only without a `kid`: the first that verifies wins, else the first refusal.
        let mut first_error = None;
        for key in keys {
            match self.decode(token, &key.key, alg) {
                Ok(claims) => return Ok(claims),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| InvalidToken::new("no key verifies it")))
    }

    fn decode(
        &self,
        token: &str,
        key: &DecodingKey,
        alg: Algorithm,
    ) -> Result<Map<String, Value>, InvalidToken> {
        jsonwebtoken::decode::<Map<String, Value>>(token, key, &self.rules.validation(alg))
            .map(|data| data.claims)
            .map_err(|e| InvalidToken::new(refusal(e.kind(), &self.rules)))
    }
}

/// What to tell the caller about a token jsonwebtoken refused.
fn refusal(kind: &ErrorKind, rules: &ClaimRules) -> String {
    match kind {
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::ExpiredSignature => "expired (`exp`)".into(),
        ErrorKind::ImmatureSignature => "not valid yet (`nbf`)".into(),
        ErrorKind::InvalidAudience => format!("`aud` does not hold `{}`", rules.audience),
        ErrorKind::InvalidIssuer => "`iss` is not the configured issuer".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("`{claim}` is required"),
        ErrorKind::InvalidClaimFormat(claim) => format!("`{claim}` is malformed"),
        ErrorKind::InvalidAlgorithm => "its `alg` does not fit the key".into(),
        ErrorKind::Json(_) | ErrorKind::Utf8(_) | ErrorKind::Base64(_) => {
            "its payload is not a JSON object".into()
        }
        other => format!("{other:?}"),
    }
}
