//! Bearer JWT authentication as an extractor: HS256, `exp` and `aud` required, `iss` checked when
//! configured, `sub` = app id, `scope` = space-separated scopes. Yields a typed [`Principal`].

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    BindingsRead,
    BindingsWrite,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BindingsRead => "bindings:read",
            Self::BindingsWrite => "bindings:write",
            Self::Admin => "admin",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s {
            "bindings:read" => Some(Self::BindingsRead),
            "bindings:write" => Some(Self::BindingsWrite),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// The authenticated caller: an app id and the scopes its token grants.
#[derive(Debug, Clone)]
pub struct Principal {
    pub app_id: String,
    scopes: Vec<Scope>,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.scopes.contains(&Scope::Admin)
    }

    /// `admin` implies every other scope.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.is_admin() || self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("this token lacks the `{}` scope", scope.as_str()),
            ))
        }
    }

    /// The app whose rows a query may touch; `None` means every app (admin).
    pub fn app_scope(&self) -> Option<&str> {
        (!self.is_admin()).then_some(self.app_id.as_str())
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    aud: String,
    exp: u64,
    iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(default)]
    scope: String,
}

/// Keys and rules for minting and checking tokens.
pub struct JwtConfig {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    audience: String,
    issuer: Option<String>,
}

impl JwtConfig {
    pub fn new(secret: &SecretString, audience: &str, issuer: Option<&str>) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = 30;
        if let Some(iss) = issuer {
            validation.set_issuer(&[iss]);
            validation.set_required_spec_claims(&["exp", "aud", "sub", "iss"]);
        }
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            audience: audience.to_owned(),
            issuer: issuer.map(str::to_owned),
        }
    }

    pub fn mint(&self, app_id: &str, scopes: &str, ttl_seconds: u64) -> Result<String, ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: app_id.to_owned(),
            aud: self.audience.clone(),
            exp: now + ttl_seconds,
            iat: now,
            iss: self.issuer.clone(),
            scope: scopes.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| unauthorized(&format!("invalid token: {e}")))?;
        let claims = data.claims;
        if claims.sub.is_empty() || claims.sub.len() > 64 {
            return Err(unauthorized(
                "invalid token: `sub` must be an app id of 1-64 characters",
            ));
        }
        // Unknown scopes are ignored rather than refused: least privilege, forward compatible.
        let scopes = claims
            .scope
            .split_whitespace()
            .filter_map(Scope::parse)
            .collect();
        Ok(Principal {
            app_id: claims.sub,
            scopes,
        })
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

/// Verifies the bearer token. Once per request: the rate limiter, which keys by app, keeps the
/// principal it verified in the request's extensions.
pub(crate) fn authenticate(req: &HttpRequest) -> Result<Principal, ApiError> {
    if let Some(principal) = req.extensions().get::<Principal>() {
        return Ok(principal.clone());
    }
    let jwt = req
        .app_data::<web::Data<JwtConfig>>()
        .ok_or_else(|| ApiError::internal("JwtConfig missing from app data"))?;
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing Authorization: Bearer token"))?
        .to_str()
        .map_err(|_| unauthorized("malformed Authorization header"))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(|| unauthorized("Authorization must be `Bearer <token>`"))?;
    jwt.verify(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(issuer: Option<&str>) -> JwtConfig {
        JwtConfig::new(&SecretString::from("x".repeat(32)), "pns-gateway", issuer)
    }

    #[test]
    fn minted_tokens_verify_with_their_scopes() {
        let jwt = config(None);
        let token = jwt
            .mint("app-1", "bindings:read bindings:write", 60)
            .unwrap();
        let principal = jwt.verify(&token).unwrap();
        assert_eq!(principal.app_id, "app-1");
        assert!(principal.require(Scope::BindingsWrite).is_ok());
        assert!(principal.require(Scope::Admin).is_err());
        assert_eq!(principal.app_scope(), Some("app-1"));
    }

    #[test]
    fn wrong_audience_secret_or_issuer_is_refused() {
        let token = config(None).mint("app-1", "admin", 60).unwrap();
        let other_aud = JwtConfig::new(&SecretString::from("x".repeat(32)), "other", None);
        assert!(other_aud.verify(&token).is_err());
        let other_secret = JwtConfig::new(&SecretString::from("y".repeat(32)), "pns-gateway", None);
        assert!(other_secret.verify(&token).is_err());
        assert!(config(Some("issuer-a")).verify(&token).is_err());
        let with_iss = config(Some("issuer-a")).mint("app-1", "admin", 60).unwrap();
        assert!(config(Some("issuer-a")).verify(&with_iss).is_ok());
    }
}
