//! The OpenAPI document, generated from the real handlers. Committed as `openapi/openapi.json`
//! (regenerate with `gateway openapi > openapi/openapi.json`); a test fails when it drifts.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
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

/// The document of this build: the API, plus the sandbox's endpoints when it has them, each
/// operation with the error answers it shares with the others.
pub fn api_doc() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    #[cfg(feature = "sandbox")]
    doc.merge(SandboxDoc::openapi());
    SharedErrors.modify(&mut doc);
    doc
}

/// The error answers many operations share, written once as `components.responses` and referenced
/// from every operation that can give them; an operation documents only its own (404, 409, ...).
struct SharedErrors;

/// When an operation can give a shared answer.
#[derive(Clone, Copy)]
enum Applies {
    /// It takes a bearer token.
    Secured,
    /// It is under `/v1/`, where the rate limit applies.
    RateLimited,
    /// It is under `/v1/` and reads a JSON body (the callback endpoint keeps whatever it gets).
    WithBody,
}

const SHARED_ERRORS: [(&str, &str, Applies, &str); 6] = [
    (
        "400",
        "MalformedBody",
        Applies::WithBody,
        "The body is not valid JSON, or not the shape this operation reads",
    ),
    (
        "401",
        "Unauthorized",
        Applies::Secured,
        "No bearer token, or one refused (see the bearer scheme)",
    ),
    (
        "403",
        "Forbidden",
        Applies::Secured,
        "The token lacks the scope this operation needs",
    ),
    (
        "413",
        "PayloadTooLarge",
        Applies::WithBody,
        "The body is over the size limit (PNS_BODY_LIMIT_BYTES)",
    ),
    (
        "415",
        "UnsupportedMediaType",
        Applies::WithBody,
        "The body is not application/json",
    ),
    (
        "429",
        "RateLimited",
        Applies::RateLimited,
        "Over the app's request rate; retry after `Retry-After` seconds",
    ),
];

impl Modify for SharedErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, _, description) in SHARED_ERRORS {
            let body = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build();
            let response = ResponseBuilder::new()
                .description(description)
                .content("application/json", body)
                .build();
            components
                .responses
                .insert(name.to_owned(), RefOr::T(response));
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let api = path.starts_with("/v1/");
            for op in operations(item) {
                for (status, name, applies, _) in SHARED_ERRORS {
                    let gives = match applies {
                        Applies::Secured => op.security.is_some(),
                        Applies::RateLimited => api,
                        Applies::WithBody => api && op.request_body.is_some(),
                    };
                    if gives {
                        op.responses
                            .responses
                            .entry(status.to_owned())
                            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                    }
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
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
