//! Where bindings go: the platform (production, every credential required and the URL safe to send
//! them to) or the in-process simulator (sandbox).

use super::{RawSettings, SettingsError, UpstreamMode, invalid, non_empty};

/// `PNS_UPSTREAM_URL` and what it requires. `has_jwt`: apps can be authenticated (a secret or an
/// identity provider), which production cannot do without.
pub(super) fn mode(raw: &RawSettings, has_jwt: bool) -> Result<UpstreamMode, SettingsError> {
    let mode = match non_empty(&raw.upstream_url) {
        Some(url) => {
            let url =
                url::Url::parse(&url).map_err(|e| invalid("PNS_UPSTREAM_URL", e.to_string()))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(invalid("PNS_UPSTREAM_URL", "must be http:// or https://"));
            }
            if url.scheme() == "http" && !is_loopback(&url) {
                return Err(invalid(
                    "PNS_UPSTREAM_URL",
                    "must be https:// (plain http:// only to a loopback address): the AKSK \
                     headers and every party's number would cross the network in clear",
                ));
            }
            let app_key = non_empty(&raw.app_key)
                .ok_or_else(|| invalid("PNS_APP_KEY", "required when PNS_UPSTREAM_URL is set"))?;
            let app_secret = non_empty(&raw.app_secret).ok_or_else(|| {
                invalid("PNS_APP_SECRET", "required when PNS_UPSTREAM_URL is set")
            })?;
            if !has_jwt {
                return Err(invalid(
                    "PNS_JWT_SECRET",
                    "required when PNS_UPSTREAM_URL is set, unless PNS_JWT_JWKS_URL or PNS_JWT_OIDC_ISSUER names an identity provider",
                ));
            }
            UpstreamMode::Production {
                url,
                app_key,
                app_secret: app_secret.into(),
                ca_file: non_empty(&raw.upstream_ca_file),
            }
        }
        None if cfg!(feature = "sandbox") => UpstreamMode::Sandbox {
            numbers: parse_sandbox_numbers(&raw.sandbox_numbers)?,
        },
        None => {
            return Err(invalid(
                "PNS_UPSTREAM_URL",
                "required: this build has no sandbox (cargo feature `sandbox` off)",
            ));
        }
    };
    Ok(mode)
}

/// `localhost`, 127.0.0.0/8 or ::1: traffic that never leaves the host.
pub(super) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `+8617000000001@0755,+8617000000002@010`: the X numbers the sandbox simulator owns, with their area.
fn parse_sandbox_numbers(list: &str) -> Result<Vec<(String, String)>, SettingsError> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|item| {
            let (number, area) = item.trim().split_once('@').unwrap_or((item.trim(), "0755"));
            pns_core::phone::PhoneNumber::parse(number)
                .map_err(|e| invalid("PNS_SANDBOX_NUMBERS", e.to_string()))?;
            Ok((number.to_owned(), area.to_owned()))
        })
        .collect()
}
