//! The error answers, described once. Admin routes list the groups of
//! errors they can answer (`responses(..., AdminAccess, AdminNotFound)`),
//! which refer to reusable responses under `components.responses`; the
//! OAuth endpoints each have their own group, since RFC 6749 §5.2 gives
//! each endpoint its own codes. The statuses and codes mirror what
//! `crate::error` answers; `document/tests.rs` keeps the two in step.

use std::collections::BTreeMap;

use serde_json::json;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::IntoResponses;

/// An error answer of the admin API: the name of its reusable response,
/// its status and `error` code (as `crate::error::AdminError` maps them),
/// and when it happens.
pub struct AdminErrorDoc {
    pub name: &'static str,
    pub status: u16,
    pub code: &'static str,
    pub description: &'static str,
}

/// Every error answer of the admin API.
pub const ADMIN_ERRORS: [AdminErrorDoc; 9] = [
    AdminErrorDoc {
        name: "AdminInvalidRequest",
        status: 400,
        code: "invalid_request",
        description: "The JSON body, the query or a value in them is not acceptable: malformed, a missing or unknown field, a value out of range, an unknown audience or scope.",
    },
    AdminErrorDoc {
        name: "AdminUnauthorized",
        status: 401,
        code: "unauthorized",
        description: "No bearer token, or not a live admin token: expired, revoked, issued before a kill, for another audience, or carrying no operator role.",
    },
    AdminErrorDoc {
        name: "AdminForbidden",
        status: 403,
        code: "forbidden",
        description: "The operator's roles do not allow this operation, or an operator decides on its own grant request.",
    },
    AdminErrorDoc {
        name: "AdminNotFound",
        status: 404,
        code: "not_found",
        description: "No record has the id in the path.",
    },
    AdminErrorDoc {
        name: "AdminConflict",
        status: 409,
        code: "conflict",
        description: "The record is not in a state that allows this (or changed meanwhile), or one like it already exists.",
    },
    AdminErrorDoc {
        name: "AdminPayloadTooLarge",
        status: 413,
        code: "payload_too_large",
        description: "The body is larger than 64 KiB.",
    },
    AdminErrorDoc {
        name: "AdminUnsupportedMediaType",
        status: 415,
        code: "unsupported_media_type",
        description: "The body is not `application/json`.",
    },
    AdminErrorDoc {
        name: "AdminServerError",
        status: 500,
        code: "server_error",
        description: "The store or another internal step failed; the cause is logged, never told. An action whose audit event cannot be written answers this with the action done.",
    },
    AdminErrorDoc {
        name: "AdminServiceUnavailable",
        status: 503,
        code: "service_unavailable",
        description: "The denylist cannot be reached: the admin token cannot be checked, or a kill or grant revocation cannot take effect, so nothing was changed.",
    },
];

/// The reusable admin error responses, for `components.responses`.
pub fn admin_error_components() -> BTreeMap<String, RefOr<Response>> {
    ADMIN_ERRORS
        .iter()
        .map(|AdminErrorDoc { name, status, code, description }| {
            let example = json!({"error": code, "error_description": "…"});
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("AdminError")))
                .example(Some(example))
                .build();
            let mut response = ResponseBuilder::new()
                .description(format!("`{code}`: {description}"))
                .content("application/json", content);
            if *status == 401 {
                response = response.header(
                    "WWW-Authenticate",
                    HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::String))
                        .description(Some("`Bearer realm=\"warrant\", error=\"invalid_token\"`"))
                        .build(),
                );
            }
            ((*name).to_owned(), RefOr::T(response.build()))
        })
        .collect()
}

/// References to the named admin error responses, keyed by status.
fn admin_refs(names: &[&str]) -> BTreeMap<String, RefOr<Response>> {
    ADMIN_ERRORS
        .iter()
        .filter(|error| names.contains(&error.name))
        .map(|error| (error.status.to_string(), RefOr::Ref(Ref::from_response_name(error.name))))
        .collect()
}

/// What every admin route may answer: 401, 403, 500 and 503 (the admin
/// token is checked against the denylist).
pub struct AdminAccess;

impl IntoResponses for AdminAccess {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        admin_refs(&["AdminUnauthorized", "AdminForbidden", "AdminServerError", "AdminServiceUnavailable"])
    }
}

/// A route with a JSON body: 400, 413 and 415.
pub struct AdminJsonBody;

impl IntoResponses for AdminJsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        admin_refs(&["AdminInvalidRequest", "AdminPayloadTooLarge", "AdminUnsupportedMediaType"])
    }
}

/// A route with a query string: 400.
pub struct AdminQuery;

impl IntoResponses for AdminQuery {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        admin_refs(&["AdminInvalidRequest"])
    }
}

/// A route about one record: 404.
pub struct AdminNotFound;

impl IntoResponses for AdminNotFound {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        admin_refs(&["AdminNotFound"])
    }
}

/// A route that may find its record in the wrong state: 409.
pub struct AdminConflict;

impl IntoResponses for AdminConflict {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        admin_refs(&["AdminConflict"])
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1), on
/// every answer of the OAuth endpoints.
pub fn no_store_headers(mut response: ResponseBuilder) -> ResponseBuilder {
    for (name, value) in [("Cache-Control", "no-store"), ("Pragma", "no-cache")] {
        response = response.header(
            name,
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(format!("`{value}`")))
                .build(),
        );
    }
    response
}

/// An OAuth error answer (RFC 6749 §5.2) with the given codes.
fn oauth_error(status: u16, codes: &[&str], description: &str) -> (String, RefOr<Response>) {
    let listed: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("OAuthError")))
        .example(Some(json!({"error": codes[0], "error_description": "…"})))
        .build();
    let mut response = no_store_headers(
        ResponseBuilder::new()
            .description(format!("{}: {description}", listed.join(", ")))
            .content("application/json", content),
    );
    if status == 401 {
        response = response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("`Basic realm=\"warrant\"`"))
                .build(),
        );
    }
    if status == 429 {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some("seconds until the client's bucket holds a request again"))
                .build(),
        );
    }
    (status.to_string(), RefOr::T(response.build()))
}

/// 401, 413 and 500, which every OAuth endpoint may answer.
fn oauth_common() -> [(String, RefOr<Response>); 3] {
    [
        oauth_error(
            401,
            &["invalid_client"],
            "client authentication failed: unknown client, wrong secret, bad or replayed assertion, \
             suspended or killed agent, or a client not allowed at this endpoint.",
        ),
        oauth_error(413, &["invalid_request"], "the form body is larger than 16 KiB."),
        oauth_error(500, &["server_error"], "an internal step failed; the cause is logged, never told."),
    ]
}

/// The errors of `POST /oauth2/token`.
pub struct TokenErrors;

impl IntoResponses for TokenErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let bad_request = oauth_error(
            400,
            &[
                "invalid_request",
                "unsupported_grant_type",
                "unauthorized_client",
                "invalid_scope",
                "invalid_target",
            ],
            "not a form, a repeated parameter, two authentication methods or no `grant_type`; a grant \
             type other than `client_credentials`; a resource server's credentials; a scope not \
             approved and unexpired on the resource; an unknown resource, one without a live grant, \
             or none given while grants span several.",
        );
        let rate_limited = oauth_error(
            429,
            &["temporarily_unavailable"],
            "the authenticated client is over its rate limit on this replica \
             (`WARRANT_TOKEN_RATE_LIMIT`, `WARRANT_TOKEN_RATE_BURST`); retry after `Retry-After` seconds.",
        );
        [bad_request, rate_limited, unavailable()].into_iter().chain(oauth_common()).collect()
    }
}

/// The errors of `POST /oauth2/introspect`.
pub struct IntrospectionErrors;

impl IntoResponses for IntrospectionErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let bad_request = oauth_error(
            400,
            &["invalid_request"],
            "not a form, a repeated parameter, two authentication methods, or no `token`.",
        );
        [bad_request, unavailable()].into_iter().chain(oauth_common()).collect()
    }
}

/// The errors of `POST /oauth2/revoke`.
pub struct RevocationErrors;

impl IntoResponses for RevocationErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let bad_request = oauth_error(
            400,
            &["invalid_request", "unauthorized_client"],
            "not a form, a repeated parameter, two authentication methods, or no `token`; a token \
             issued to another client.",
        );
        [bad_request, unavailable()].into_iter().chain(oauth_common()).collect()
    }
}

/// 503 when the denylist cannot answer: Warrant fails closed.
fn unavailable() -> (String, RefOr<Response>) {
    oauth_error(
        503,
        &["temporarily_unavailable"],
        "the denylist cannot be reached; Warrant fails closed rather than guess. Try again.",
    )
}
