//! The OpenAPI document, generated from the real handlers. Committed as `openapi/openapi.json`
//! (regenerate with `gateway openapi > openapi/openapi.json`); a test fails when it drifts.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;
use crate::routes::{bindings, health};

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
        bindings::create_binding,
        bindings::list_bindings,
        bindings::get_binding,
        bindings::patch_binding,
        bindings::delete_binding,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "bindings", description = "A-X-B bindings of the calling app"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

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
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    json.push('\n');
    json
}
