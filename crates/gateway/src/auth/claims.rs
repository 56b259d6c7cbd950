//! The claim rules every token meets, whoever signed it: `exp` required; `nbf` and `iat` checked when
//! present; `aud` a string or an array holding our audience; `iss` required when configured. Then the
//! app id from `sub` (or the claim `PNS_JWT_APP_CLAIM` names) and the scopes from `scope`
//! (space-separated), `scp` (a string or an array) and `roles` (an array: Azure AD's app-only tokens
//! carry their grants there), as providers spell them.

use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use super::{InvalidToken, Principal, Scope};
use crate::settings::Settings;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: u64 = 30;
/// The app id is stored with every binding; the column holds 64 bytes.
const MAX_APP_ID_BYTES: usize = 64;

#[derive(Debug, Clone)]
pub struct ClaimRules {
    pub audience: String,
    pub issuer: Option<String>,
    /// The claim holding the app id.
    pub app_claim: String,
    /// When set, only scopes with this prefix count, and it is stripped (`pns/admin` -> `admin`).
    pub scope_prefix: Option<String>,
}

impl ClaimRules {
    /// App id from `sub`, bare scopes.
    pub fn new(audience: &str, issuer: Option<&str>) -> Self {
        Self {
            audience: audience.to_owned(),
            issuer: issuer.map(str::to_owned),
            app_claim: "sub".into(),
            scope_prefix: None,
        }
    }

    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            audience: settings.jwt_audience.clone(),
            issuer: settings.jwt_issuer.clone(),
            app_claim: settings.jwt_app_claim.clone(),
            scope_prefix: settings.jwt_scope_prefix.clone(),
        }
    }

    /// What jsonwebtoken checks for a token whose key verifies `alg`: `exp`, `nbf`, `aud`, `iss`.
    pub(super) fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_audience(&[&self.audience]);
        let mut required = vec!["exp", "aud"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        validation
    }

    /// The caller a verified token names. Unknown scopes are ignored rather than refused: least
    /// privilege, and a provider may grant scopes meant for other services.
    pub(super) fn principal(&self, claims: &Map<String, Value>) -> Result<Principal, InvalidToken> {
        check_issued_at(claims)?;
        let app_id = match claims.get(&self.app_claim) {
            Some(Value::String(id))
                if !id.is_empty()
                    && id.len() <= MAX_APP_ID_BYTES
                    && !id.chars().any(char::is_control) =>
            {
                id.clone()
            }
            _ => {
                return Err(InvalidToken::new(format!(
                    "`{}` must be an app id of 1-{MAX_APP_ID_BYTES} characters",
                    self.app_claim
                )));
            }
        };
        let scopes = granted_scopes(claims)?
            .into_iter()
            .filter_map(|scope| match &self.scope_prefix {
                Some(prefix) => scope.strip_prefix(prefix.as_str()),
                None => Some(scope),
            })
            .filter_map(Scope::parse)
            .collect();
        Ok(Principal::new(app_id, scopes))
    }

    /// `scopes` (space-separated, unprefixed) as this gateway's tokens carry them.
    pub(super) fn scope_claim(&self, scopes: &str) -> String {
        let prefix = self.scope_prefix.as_deref().unwrap_or("");
        scopes
            .split_whitespace()
            .map(|scope| format!("{prefix}{scope}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `iat` in the future (past the leeway) is a token from a clock or signer not to be trusted.
fn check_issued_at(claims: &Map<String, Value>) -> Result<(), InvalidToken> {
    let Some(iat) = claims.get("iat").filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let iat = iat
        .as_u64()
        .or_else(|| {
            iat.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        })
        .ok_or_else(|| InvalidToken::new("`iat` must be a number of seconds"))?;
    if iat > jsonwebtoken::get_current_timestamp() + LEEWAY_SECS {
        return Err(InvalidToken::new("issued in the future (`iat`)"));
    }
    Ok(())
}

/// Every scope `scope`, `scp` and `roles` grant, each a space-separated string or an array of strings.
fn granted_scopes(claims: &Map<String, Value>) -> Result<Vec<&str>, InvalidToken> {
    let mut scopes = Vec::new();
    for name in ["scope", "scp", "roles"] {
        match claims.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(list)) => scopes.extend(list.split_whitespace()),
            Some(Value::Array(items)) => {
                for item in items {
                    let Value::String(list) = item else {
                        return Err(InvalidToken::new(format!("`{name}` must hold strings")));
                    };
                    scopes.extend(list.split_whitespace());
                }
            }
            Some(_) => {
                return Err(InvalidToken::new(format!(
                    "`{name}` must be a string or an array of strings"
                )));
            }
        }
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn rules() -> ClaimRules {
        ClaimRules::new("pns-gateway", None)
    }

    #[test]
    fn scopes_come_from_scope_or_scp_as_string_or_array() {
        for token in [
            json!({"sub": "a", "scope": "bindings:read admin"}),
            json!({"sub": "a", "scp": "bindings:read admin"}),
            json!({"sub": "a", "scp": ["bindings:read", "admin"]}),
            json!({"sub": "a", "scope": "bindings:read", "scp": ["admin"]}),
            json!({"sub": "a", "roles": ["bindings:read", "admin"]}),
            json!({"sub": "a", "scope": "openid profile bindings:read email admin"}),
        ] {
            let principal = rules().principal(&claims(token.clone())).unwrap();
            assert!(principal.is_admin(), "{token}");
            assert!(principal.require(Scope::BindingsRead).is_ok(), "{token}");
        }
        let none = rules().principal(&claims(json!({"sub": "a"}))).unwrap();
        assert!(none.require(Scope::BindingsRead).is_err());
        for bad in [
            json!({"sub": "a", "scope": 7}),
            json!({"sub": "a", "scp": [1]}),
        ] {
            assert!(rules().principal(&claims(bad)).is_err());
        }
    }

    #[test]
    fn a_scope_prefix_maps_provider_scopes_and_drops_bare_ones() {
        let rules = ClaimRules {
            scope_prefix: Some("pns/".into()),
            ..rules()
        };
        let principal = rules
            .principal(&claims(
                json!({"sub": "a", "scp": ["pns/bindings:write", "admin", "other/admin"]}),
            ))
            .unwrap();
        assert!(principal.require(Scope::BindingsWrite).is_ok());
        assert!(
            !principal.is_admin(),
            "an unprefixed `admin` is another API's"
        );
        assert_eq!(
            rules.scope_claim("bindings:read  admin"),
            "pns/bindings:read pns/admin"
        );
    }

    #[test]
    fn the_app_id_comes_from_the_configured_claim() {
        let rules = ClaimRules {
            app_claim: "azp".into(),
            ..rules()
        };
        let principal = rules
            .principal(&claims(
                json!({"sub": "6f1c0d2e-service-account", "azp": "billing"}),
            ))
            .unwrap();
        assert_eq!(principal.app_id, "billing");
        for bad in [
            json!({"sub": "billing"}),
            json!({"azp": ""}),
            json!({"azp": 42}),
            json!({"azp": "x".repeat(65)}),
            json!({"azp": "bad\u{0}id"}),
        ] {
            assert!(rules.principal(&claims(bad.clone())).is_err(), "{bad}");
        }
    }

    #[test]
    fn iat_is_checked_when_present() {
        let now = jsonwebtoken::get_current_timestamp();
        for ok in [
            json!({"sub": "a"}),
            json!({"sub": "a", "iat": now}),
            json!({"sub": "a", "iat": now + LEEWAY_SECS}),
            json!({"sub": "a", "iat": (now as f64) - 0.5}),
        ] {
            assert!(rules().principal(&claims(ok.clone())).is_ok(), "{ok}");
        }
        for bad in [
            json!({"sub": "a", "iat": now + 3600}),
            json!({"sub": "a", "iat": "yesterday"}),
            json!({"sub": "a", "iat": -5}),
        ] {
            assert!(rules().principal(&claims(bad.clone())).is_err(), "{bad}");
        }
    }
}
