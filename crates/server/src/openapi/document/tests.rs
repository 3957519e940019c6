//! The committed `openapi.json`, the router and the error mapping, each
//! checked against the generated document.

use std::collections::BTreeSet;
use std::path::PathBuf;

use axum::response::IntoResponse;
use serde_json::Value;
use warrant_store::denylist::DenylistError;
use warrant_store::StoreError;

use super::{document, to_pretty_json, REGENERATE};
use crate::error::AdminError;
use crate::openapi::responses::ADMIN_ERRORS;

fn generated() -> Value {
    serde_json::to_value(document()).unwrap()
}

#[test]
fn the_committed_openapi_json_is_what_the_code_generates() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json");
    let committed =
        std::fs::read_to_string(&path).ok().and_then(|text| serde_json::from_str::<Value>(&text).ok());
    assert!(
        committed.as_ref() == Some(&generated()),
        "{} is missing or differs from the OpenAPI document the code generates. \
         Regenerate it from the top of the workspace with\n\n    {REGENERATE}\n\nand commit it.",
        path.display()
    );
}

#[test]
fn the_printed_document_is_pretty_json_ending_in_a_newline() {
    let text = to_pretty_json().unwrap();
    assert!(text.starts_with("{\n  \"openapi\": \"3.1.0\""), "{}", &text[..40]);
    assert!(text.ends_with("}\n"));
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), generated());
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The `(METHOD, path)` of every `.route(...)` call in a router's source,
/// with `prefix` before each path.
fn routes_in(source: &str, prefix: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (start, _) in source.match_indices(".route(") {
        let call = &source[start + ".route(".len()..];
        let mut depth = 1;
        let end = call
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .unwrap();
        let call = &call[..end];
        let path = call.split('"').nth(1).unwrap();
        let mut methods = 0;
        for method in METHODS {
            for (at, _) in call.match_indices(&format!("{method}(")) {
                let before = call[..at].chars().next_back();
                if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    routes.insert((method.to_uppercase(), format!("{prefix}{path}")));
                    methods += 1;
                }
            }
        }
        assert!(methods > 0, "no method found in .route({call})");
    }
    routes
}

#[test]
fn every_route_of_the_router_is_documented_and_nothing_else() {
    let top = include_str!("../../routes/mod.rs");
    let admin = include_str!("../../routes/admin/mod.rs");
    assert!(top.contains(r#".nest("/admin/v1", admin::router())"#), "the admin API moved: update this test");
    let mut routed = routes_in(top, "");
    routed.extend(routes_in(admin, "/admin/v1"));
    assert!(routed.len() > 20, "the router sources were not read: {routed:?}");

    let mut documented = BTreeSet::new();
    for (path, item) in generated()["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(METHODS.contains(&method.as_str()), "{method} {path}: a method this test does not know");
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes without a #[utoipa::path] in the document: {undocumented:?}; \
         documented operations the router does not serve: {unrouted:?}. \
         Annotate the handler, list it in routes/openapi.rs or routes/admin/openapi.rs, then run {REGENERATE}"
    );
}

#[tokio::test]
async fn every_admin_error_is_documented_with_the_status_and_code_it_answers() {
    let errors = [
        AdminError::InvalidRequest("x".into()),
        AdminError::Unauthorized("x".into()),
        AdminError::Forbidden("x".into()),
        AdminError::NotFound("x".into()),
        AdminError::Conflict("x".into()),
        AdminError::PayloadTooLarge("x".into()),
        AdminError::UnsupportedMediaType("x".into()),
        AdminError::Unavailable(DenylistError::Timeout),
        AdminError::NotAnnounced(StoreError::Propagation(Box::new(DenylistError::Timeout))),
        AdminError::Store(StoreError::Conflict("x")),
        AdminError::Internal(Box::new(std::io::Error::other("x"))),
    ];
    // Fails to compile when a variant is added: add it to `errors` above,
    // and its answer to `ADMIN_ERRORS` if it is a new one.
    for error in &errors {
        match error {
            AdminError::InvalidRequest(_)
            | AdminError::Unauthorized(_)
            | AdminError::Forbidden(_)
            | AdminError::NotFound(_)
            | AdminError::Conflict(_)
            | AdminError::PayloadTooLarge(_)
            | AdminError::UnsupportedMediaType(_)
            | AdminError::Unavailable(_)
            | AdminError::NotAnnounced(_)
            | AdminError::Store(_)
            | AdminError::Internal(_) => {}
        }
    }
    let mut answered = BTreeSet::new();
    for error in errors {
        let response = error.into_response();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        let code = body["error"].as_str().unwrap().to_owned();
        assert!(
            ADMIN_ERRORS.iter().any(|e| e.status == status && e.code == code),
            "{status} {code} is not among the documented admin errors"
        );
        answered.insert((status, code));
    }
    for documented in &ADMIN_ERRORS {
        assert!(
            answered.contains(&(documented.status, documented.code.to_owned())),
            "{} {} is documented but never answered",
            documented.status,
            documented.code
        );
    }
    let components = &generated()["components"]["responses"];
    for documented in &ADMIN_ERRORS {
        assert!(
            components[documented.name].is_object(),
            "{} is not in components.responses",
            documented.name
        );
    }
}

/// The roles that allow the permission named by a route's `Authorized<P>`.
fn roles_allowing(permission: &str) -> BTreeSet<String> {
    use warrant_policy::{Permission, Role};
    let permission = match permission {
        "Read" => Permission::Read,
        "ManageAgents" => Permission::ManageAgents,
        "DecideGrants" => Permission::DecideGrants,
        "RevokeGrants" => Permission::RevokeGrants,
        "Respond" => Permission::Respond,
        "Administer" => Permission::Administer,
        other => panic!("unknown requirement Authorized<{other}>"),
    };
    Role::ALL.iter().filter(|role| role.allows(permission)).map(|role| role.as_str().to_owned()).collect()
}

#[test]
fn each_admin_operation_lists_exactly_the_roles_its_handler_requires() {
    let sources = [
        include_str!("../../routes/admin/agents.rs"),
        include_str!("../../routes/admin/audit.rs"),
        include_str!("../../routes/admin/credentials.rs"),
        include_str!("../../routes/admin/grants.rs"),
        include_str!("../../routes/admin/inventory.rs"),
        include_str!("../../routes/admin/kill.rs"),
        include_str!("../../routes/admin/operators.rs"),
        include_str!("../../routes/admin/report.rs"),
        include_str!("../../routes/admin/resources.rs"),
    ];
    let doc = generated();
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for operation in item.as_object().unwrap().values() {
            if path.starts_with("/admin/v1/") {
                operations.insert(operation["operationId"].as_str().unwrap().to_owned());
            }
        }
    }
    let mut checked = BTreeSet::new();
    for source in sources {
        // Each annotation, then the handler it sits on, up to the next one.
        for annotated in source.split("#[utoipa::path(").skip(1) {
            let id = annotated.split("operation_id = \"").nth(1).unwrap().split('"').next().unwrap();
            let requirement = annotated.split("Authorized<").nth(1).unwrap().split('>').next().unwrap();
            let operation = doc["paths"]
                .as_object()
                .unwrap()
                .values()
                .flat_map(|item| item.as_object().unwrap().values())
                .find(|operation| operation["operationId"] == id)
                .unwrap_or_else(|| panic!("{id} is not in the document"));
            let documented: BTreeSet<String> = operation["security"][0]["adminToken"]
                .as_array()
                .unwrap_or_else(|| panic!("{id} documents no adminToken roles"))
                .iter()
                .map(|role| role.as_str().unwrap().to_owned())
                .collect();
            assert_eq!(
                documented,
                roles_allowing(requirement),
                "{id}: the roles of Authorized<{requirement}>"
            );
            checked.insert(id.to_owned());
        }
    }
    assert_eq!(checked, operations, "every admin operation is annotated on its handler");
}
