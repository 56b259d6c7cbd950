//! The identity-provider half of the JWT settings: where the signing keys come from (a JWKS URL, or an
//! OIDC issuer whose discovery document names it), how often they are refreshed, and how a provider's
//! claims map onto an app id and scopes.

use std::time::Duration;

use url::Url;

use super::{RawSettings, SettingsError, invalid, is_loopback};

/// Where the provider's public keys are published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// The JWKS document itself (`PNS_JWT_JWKS_URL`).
    Url(Url),
    /// An OIDC issuer (`PNS_JWT_OIDC_ISSUER`): `<issuer>/.well-known/openid-configuration` names the JWKS.
    OidcIssuer(Url),
}

#[derive(Debug, Clone)]
pub struct JwksSettings {
    pub source: JwksSource,
    /// Keys are fetched again this often, so a key removed at the provider stops being accepted.
    pub refresh_every: Duration,
    /// The shortest gap between two fetches that tokens naming an unknown `kid` may trigger.
    pub cooldown: Duration,
    /// An extra root CA (PEM) for a provider behind a company CA; certificates are always verified.
    pub ca_file: Option<String>,
}

/// The provider settings from the raw ones: `None` when neither `PNS_JWT_JWKS_URL` nor
/// `PNS_JWT_OIDC_ISSUER` is set.
pub(super) fn jwks_settings(raw: &RawSettings) -> Result<Option<JwksSettings>, SettingsError> {
    let url = |key: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| fetchable_url(key, v))
            .transpose()
    };
    let source = match (
        url("PNS_JWT_JWKS_URL", &raw.jwt_jwks_url)?,
        url("PNS_JWT_OIDC_ISSUER", &raw.jwt_oidc_issuer)?,
    ) {
        (None, None) => return Ok(None),
        (Some(jwks), None) => JwksSource::Url(jwks),
        (None, Some(issuer)) => JwksSource::OidcIssuer(issuer),
        (Some(_), Some(_)) => {
            return Err(invalid(
                "PNS_JWT_JWKS_URL",
                "set PNS_JWT_JWKS_URL or PNS_JWT_OIDC_ISSUER, not both (PNS_JWT_ISSUER names the `iss` to require)",
            ));
        }
    };
    if raw.jwt_jwks_refresh_secs == 0 {
        return Err(invalid("PNS_JWT_JWKS_REFRESH_SECS", "must be > 0"));
    }
    if raw.jwt_jwks_cooldown_secs == 0 {
        return Err(invalid(
            "PNS_JWT_JWKS_COOLDOWN_SECS",
            "must be > 0: it bounds how often tokens can make the gateway call the provider",
        ));
    }
    Ok(Some(JwksSettings {
        source,
        refresh_every: Duration::from_secs(raw.jwt_jwks_refresh_secs),
        cooldown: Duration::from_secs(raw.jwt_jwks_cooldown_secs),
        ca_file: raw
            .jwt_jwks_ca_file
            .clone()
            .filter(|f| !f.trim().is_empty()),
    }))
}

/// `PNS_JWT_APP_CLAIM`: a claim name, `sub` by default.
pub(super) fn app_claim(raw: &RawSettings) -> Result<String, SettingsError> {
    let claim = raw.jwt_app_claim.trim();
    // Claims with another meaning cannot also be the app id (`gateway token` writes both).
    const RESERVED: &[&str] = &["exp", "nbf", "iat", "aud", "iss", "jti", "scope", "scp"];
    if claim.is_empty() || claim.len() > 64 || RESERVED.contains(&claim) {
        return Err(invalid(
            "PNS_JWT_APP_CLAIM",
            format!("`{claim}`: name the claim holding the app id (e.g. sub, azp, client_id)"),
        ));
    }
    Ok(claim.to_owned())
}

/// An `https://` URL, or `http://` to a loopback host only: keys fetched in clear text from
/// elsewhere could be swapped on the way, and whoever swaps them mints tokens.
pub(super) fn fetchable_url(key: &str, value: &str) -> Result<Url, SettingsError> {
    let url = Url::parse(value).map_err(|e| invalid(key, format!("`{value}`: {e}")))?;
    check_fetchable(&url).map_err(|reason| invalid(key, reason))?;
    Ok(url)
}

/// The rule behind [`fetchable_url`], also applied to the JWKS URL a discovery document names.
pub fn check_fetchable(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "`{url}`: http:// only for loopback hosts; use https://"
        )),
        other => Err(format!("`{url}`: scheme {other} is not https://")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    fn with(tweak: impl FnOnce(&mut RawSettings)) -> Result<Settings, SettingsError> {
        let mut raw = RawSettings::default();
        tweak(&mut raw);
        Settings::from_raw(raw)
    }

    #[test]
    fn jwks_urls_must_be_https_unless_loopback() {
        for ok in [
            "https://idp.example.com/jwks",
            "http://127.0.0.1:8081/jwks",
            "http://localhost/jwks",
            "http://[::1]:9000/certs",
        ] {
            let settings = with(|raw| raw.jwt_jwks_url = Some(ok.into())).unwrap();
            assert!(settings.jwt_jwks.is_some(), "{ok}");
        }
        for refused in [
            "http://idp.example.com/jwks",
            "http://10.0.0.7/jwks",
            "http://localhost.evil.example/jwks",
            "ftp://idp.example.com/jwks",
            "not a url",
        ] {
            let err = with(|raw| raw.jwt_jwks_url = Some(refused.into())).unwrap_err();
            assert_eq!(err.key, "PNS_JWT_JWKS_URL", "{refused}");
        }
        let err = with(|raw| raw.jwt_oidc_issuer = Some("http://kc.example.com/realms/a".into()))
            .unwrap_err();
        assert_eq!(err.key, "PNS_JWT_OIDC_ISSUER");
    }

    #[test]
    fn oidc_issuer_is_the_required_iss_unless_one_is_named() {
        let issuer = "https://kc.example.com/realms/apps";
        let settings = with(|raw| raw.jwt_oidc_issuer = Some(issuer.into())).unwrap();
        assert_eq!(settings.jwt_issuer.as_deref(), Some(issuer));
        let settings = with(|raw| {
            raw.jwt_oidc_issuer = Some(issuer.into());
            raw.jwt_issuer = Some("https://other".into());
        })
        .unwrap();
        assert_eq!(settings.jwt_issuer.as_deref(), Some("https://other"));
        let both = with(|raw| {
            raw.jwt_oidc_issuer = Some(issuer.into());
            raw.jwt_jwks_url = Some("https://kc.example.com/certs".into());
        });
        assert_eq!(both.unwrap_err().key, "PNS_JWT_JWKS_URL");
    }

    #[test]
    fn a_provider_stands_in_for_the_secret_in_production() {
        let production = |raw: &mut RawSettings| {
            raw.upstream_url = Some("https://example.invalid".into());
            raw.app_key = Some("k".into());
            raw.app_secret = Some("s".into());
        };
        assert_eq!(with(production).unwrap_err().key, "PNS_JWT_SECRET");
        let settings = with(|raw| {
            production(raw);
            raw.jwt_jwks_url = Some("https://idp.example.com/jwks".into());
        })
        .unwrap();
        assert!(settings.jwt_secret.is_none());
        assert!(settings.jwt_jwks.is_some());
    }

    #[test]
    fn refresh_cooldown_and_app_claim_are_checked() {
        let jwks = |raw: &mut RawSettings| raw.jwt_jwks_url = Some("https://idp/jwks".into());
        let settings = with(jwks).unwrap();
        let provider = settings.jwt_jwks.unwrap();
        assert_eq!(provider.refresh_every, Duration::from_secs(300));
        assert_eq!(provider.cooldown, Duration::from_secs(5));
        assert_eq!(settings.jwt_app_claim, "sub");
        let err = with(|raw| {
            jwks(raw);
            raw.jwt_jwks_refresh_secs = 0;
        });
        assert_eq!(err.unwrap_err().key, "PNS_JWT_JWKS_REFRESH_SECS");
        let err = with(|raw| {
            jwks(raw);
            raw.jwt_jwks_cooldown_secs = 0;
        });
        assert_eq!(err.unwrap_err().key, "PNS_JWT_JWKS_COOLDOWN_SECS");
        for bad in [" ", "exp", "scope"] {
            let err = with(|raw| raw.jwt_app_claim = bad.into());
            assert_eq!(err.unwrap_err().key, "PNS_JWT_APP_CLAIM", "{bad}");
        }
    }
}
