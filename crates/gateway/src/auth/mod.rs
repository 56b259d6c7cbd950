//! Bearer JWT authentication as an extractor yielding a typed [`Principal`]. Tokens come from the
//! company's identity provider (RS256, ES256, EdDSA; keys from its JWKS) or are HS256 tokens minted
//! with `PNS_JWT_SECRET`; both meet the same claim rules ([`claims`]).

use std::borrow::Cow;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use futures::future::LocalBoxFuture;

use crate::error::{ApiError, ErrorCode};

pub mod claims;
pub mod jwks;
mod keyset;
mod token;
mod verify;

pub use claims::ClaimRules;
pub use jwks::{Jwks, JwksStatus, Refresher};
pub use token::JwtConfig;
pub use verify::Authenticator;

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
    pub(crate) fn parse(s: &str) -> Option<Self> {
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
    pub(crate) fn new(app_id: String, scopes: Vec<Scope>) -> Self {
        Self { app_id, scopes }
    }

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

/// Why a token was refused; the caller gets `401 unauthorized` with this text.
#[derive(Debug, thiserror::Error)]
#[error("invalid token: {0}")]
pub struct InvalidToken(Cow<'static, str>);

impl InvalidToken {
    pub(crate) fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Self(reason.into())
    }
}

impl From<InvalidToken> for ApiError {
    fn from(refusal: InvalidToken) -> Self {
        ApiError::new(ErrorCode::Unauthorized, refusal.to_string())
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await })
    }
}

/// Verifies the bearer token. Once per request: the rate limiter, which keys by app, keeps the
/// principal it verified in the request's extensions.
pub(crate) async fn authenticate(req: &HttpRequest) -> Result<Principal, ApiError> {
    if let Some(principal) = req.extensions().get::<Principal>() {
        return Ok(principal.clone());
    }
    let authenticator = req
        .app_data::<web::Data<Authenticator>>()
        .ok_or_else(|| ApiError::internal("Authenticator missing from app data"))?
        .clone();
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
    Ok(authenticator.verify(token.trim()).await?)
}
