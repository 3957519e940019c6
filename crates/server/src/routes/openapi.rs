//! `GET /openapi.json`: the OpenAPI 3.1 document of this router, and the
//! list of documented operations it is generated from. The admin API's
//! operations are listed beside its router (`admin::openapi`); the schemas
//! and shared error answers live in `crate::openapi`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};

use super::{admin, discovery, health, introspect, metrics, revoke, token};
use crate::openapi::responses::admin_error_components;
use crate::openapi::schema::{AdminErrorBody, OAuthErrorBody};

/// The name of the admin bearer-token security scheme.
pub const ADMIN_TOKEN: &str = "adminToken";
/// The name of the HTTP Basic client-authentication security scheme.
pub const CLIENT_BASIC: &str = "clientBasic";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Warrant",
        description = "An OAuth2 identity provider for AI agents: the system of record for every agent, \
                       the issuer of its short-lived tokens, and the kill switch that takes them back.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        token::token,
        introspect::introspect,
        revoke::revoke,
        discovery::jwks,
        discovery::metadata,
        health::healthz,
        health::readyz,
        metrics::serve,
        serve,
    ),
    nest((path = "/admin/v1", api = admin::openapi::AdminApi)),
    components(schemas(AdminErrorBody, OAuthErrorBody)),
    modifiers(&SharedComponents),
    tags(
        (name = "oauth", description = "The OAuth 2.0 endpoints: form bodies, RFC 6749 §5.2 errors, `Cache-Control: no-store`."),
        (name = "discovery", description = "Public keys and RFC 8414 metadata."),
        (name = "health", description = "Liveness, readiness, metrics and this document."),
        (name = "operators", description = "People (or their automation) using the admin API."),
        (name = "resources", description = "Protected systems, their scope catalogue and who can reach them."),
        (name = "agents", description = "The agent inventory, access reports and suspension."),
        (name = "credentials", description = "An agent's client secrets and JWK Sets: rotation and retirement."),
        (name = "grants", description = "Requests for scopes on a resource, and their approval, denial and revocation."),
        (name = "kill switch", description = "Pull an agent's access everywhere at once, and restore it."),
        (name = "audit", description = "The hash-chained audit trail."),
        (name = "reports", description = "Governance views over the whole inventory."),
    ),
)]
pub struct ApiDoc;

/// Adds what no single route declares: the security schemes and the
/// reusable admin error answers.
struct SharedComponents;

impl Modify for SharedComponents {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            ADMIN_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An operator's access token: client credentials at `/oauth2/token` with \
                         `resource=urn:warrant:admin`. Its scopes are the operator's roles; each \
                         operation lists the roles that allow it.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            CLIENT_BASIC,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "`client_secret_basic` (RFC 6749 §2.3.1): the client_id and client_secret, \
                         form-encoded, as user and password. The OAuth endpoints also accept the \
                         client's credentials in the form body instead (`client_secret_post`, \
                         `private_key_jwt`).",
                    ))
                    .build(),
            ),
        );
        components.responses.extend(admin_error_components());
    }
}

/// This document, as `warrant openapi` prints it.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "health",
    operation_id = "openapi",
    summary = "This OpenAPI 3.1 document",
    responses((status = 200, description = "The OpenAPI 3.1 document of this server.", body = Object)),
)]
pub async fn serve() -> Json<Document> {
    Json(ApiDoc::openapi())
}
