//! The OpenAPI document, generated from the real handlers. Committed as `openapi/openapi.json`
//! (regenerate with `gateway openapi > openapi/openapi.json`); a test fails when it drifts.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;
use crate::routes::{
    bindings, callbacks, calls, health, metrics, numbers, reconcile, sms, webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pns gateway",
        description = "Binding management for Huawei Cloud PrivateNumber (AXB): bind two parties to a virtual number, manage the pool, receive the platform's callbacks.",
        license(name = "Apache-2.0")
    ),
    paths(
        health::healthz,
        health::readyz,
        metrics::metrics,
        bindings::create_binding,
        bindings::list_bindings,
        bindings::get_binding,
        bindings::patch_binding,
        bindings::delete_binding,
        numbers::import_numbers,
        numbers::list_numbers,
        numbers::patch_number,
        numbers::delete_number,
        reconcile::start_reconcile,
        reconcile::list_reconcile_runs,
        reconcile::get_reconcile_run,
        reconcile::list_findings,
        reconcile::list_orphans,
        calls::list_calls,
        calls::binding_calls,
        calls::get_call,
        calls::call_recording,
        sms::list_sms,
        callbacks::huawei,
        webhooks::create_webhook,
        webhooks::list_webhooks,
        webhooks::get_webhook,
        webhooks::patch_webhook,
        webhooks::delete_webhook,
        webhooks::rotate_webhook_secret,
        webhooks::list_deliveries,
        webhooks::retry_delivery,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "bindings", description = "A-X-B bindings of the calling app"),
        (name = "numbers", description = "The X-number pool the gateway allocates from (admin)"),
        (name = "admin", description = "Reconciliation with the platform: drift reports and orphan bindings (admin)"),
        (name = "calls", description = "Call history and recordings, from the platform's events and CDRs"),
        (name = "sms", description = "Texts through X and the routing decisions taken"),
        (name = "callbacks", description = "Where the platform posts its notifications (AKSK-signed)"),
        (name = "webhooks", description = "Signed, retried event delivery to the app's endpoints (Standard Webhooks)"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

/// The sandbox's endpoints, in builds with the simulator (cargo feature `sandbox`).
#[cfg(feature = "sandbox")]
#[derive(OpenApi)]
#[openapi(
    paths(crate::routes::sandbox::sandbox_call, crate::routes::sandbox::sandbox_sms),
    tags((name = "sandbox", description = "Sandbox mode only: play calls and texts through the in-process simulator")),
)]
struct SandboxDoc;

/// The document of this build: the API, plus the sandbox's endpoints when it has them.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    let doc = ApiDoc::openapi();
    #[cfg(feature = "sandbox")]
    let doc = {
        let mut doc = doc;
        doc.merge(SandboxDoc::openapi());
        doc
    };
    doc
}

struct BearerAuth;

/// The token rules, as the README's Auth section states them.
const BEARER_RULES: &str = "A JWT from the company's identity provider (RS256, ES256 or EdDSA; keys from its JWKS, \
each key verifying only its own type's algorithm) or an HS256 token minted with PNS_JWT_SECRET \
(`gateway token`); `none` and other algorithms are refused. Claims: `exp` required; `nbf` and `iat` \
checked when present (30 s leeway); `aud` a string or an array holding PNS_JWT_AUDIENCE (default \
`pns-gateway`); `iss` required when PNS_JWT_ISSUER or PNS_JWT_OIDC_ISSUER is set. The app id is `sub`, \
or the claim PNS_JWT_APP_CLAIM names (e.g. `azp`, `client_id`). Scopes come from `scope` \
(space-separated), `scp` (a string or an array) and `roles`: `bindings:read`, `bindings:write`, `admin` (admin \
implies the others and sees every app's data), each prefixed with PNS_JWT_SCOPE_PREFIX when one is set \
(e.g. `pns/bindings:write`). A refused token is `401 unauthorized`; a missing scope `403 forbidden`.";

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(BEARER_RULES))
                    .build(),
            ),
        );
    }
}

/// The document as committed: pretty JSON with a trailing newline.
pub fn document() -> String {
    let mut json = api_doc()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    json.push('\n');
    json
}
