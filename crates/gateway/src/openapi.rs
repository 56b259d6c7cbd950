//! The OpenAPI document, generated from the real handlers. Committed as `openapi/openapi.json`
//! (regenerate with `gateway openapi > openapi/openapi.json`); a test fails when it drifts.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;
use crate::routes::{admin, bindings, callbacks, calls, health, metrics, numbers, sms};

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
        admin::start_reconcile,
        admin::list_reconcile_runs,
        admin::get_reconcile_run,
        admin::list_orphans,
        calls::list_calls,
        calls::binding_calls,
        calls::get_call,
        calls::call_recording,
        sms::list_sms,
        callbacks::huawei,
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

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
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
