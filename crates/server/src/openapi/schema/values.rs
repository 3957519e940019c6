//! Schemas of the values the domain types (in `warrant-policy`) take on the
//! wire. Those types stay free of any OpenAPI dependency, so each is
//! described here by a marker type of the same name; the closed sets of
//! strings are read from the types' own `ALL` lists, so a new platform or
//! data class reaches the document (and the committed `openapi.json` check)
//! without anyone editing this file.

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use warrant_policy::id::MAX_ID_LEN;
use warrant_policy::scope::MAX_SCOPE_LEN;

/// A string schema with a description.
fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description))
}

/// Declares a marker type whose schema is a closed set of strings.
macro_rules! closed_set {
    ($(#[doc = $doc:literal])+ $name:ident = $values:expr) => {
        $(#[doc = $doc])+
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let description = [$($doc),+].map(str::trim).join(" ");
                string(&description).enum_values(Some($values.iter().map(|v| v.as_str()))).into()
            }
        }

        impl ToSchema for $name {}
    };
}

closed_set!(
    /// Where an agent runs.
    Platform = warrant_policy::Platform::ALL
);
closed_set!(
    /// On whose behalf an agent acts.
    ActsOnBehalfOf = warrant_policy::ActsOnBehalfOf::ALL
);
closed_set!(
    /// Whether an agent may get tokens: only `active` ones may.
    AgentStatus = warrant_policy::AgentStatus::ALL
);
closed_set!(
    /// What kind of system a protected resource is.
    ResourceKind = warrant_policy::ResourceKind::ALL
);
closed_set!(
    /// How sensitive the data behind a scope is.
    DataClass = warrant_policy::DataClass::ALL
);
closed_set!(
    /// How a credential authenticates at the token endpoint.
    CredentialMethod = warrant_policy::CredentialMethod::ALL
);
closed_set!(
    /// An operator role; the roles of an operator are the scopes of its admin token.
    Role = warrant_policy::Role::ALL
);
closed_set!(
    /// Where a grant stands. `expired` is a requested or approved grant whose
    /// `expires_at` has passed; it is final.
    GrantStatus = warrant_policy::GrantStatus::ALL
);

/// An RFC 3339 date-time in UTC, to the second (`2026-12-01T00:00:00Z`).
pub struct Timestamp;

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        string("An RFC 3339 date-time, to the second; answers give it in UTC.")
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples(["2026-12-01T00:00:00Z"])
            .into()
    }
}

impl ToSchema for Timestamp {}

/// One scope token (RFC 6749 §3.3), such as `contacts:read`.
pub struct Scope;

impl PartialSchema for Scope {
    fn schema() -> RefOr<Schema> {
        string("One scope token (RFC 6749 §3.3): printable ASCII other than space, `\"` and `\\`.")
            .min_length(Some(1))
            .max_length(Some(MAX_SCOPE_LEN))
            .pattern(Some("^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$"))
            .examples(["contacts:read"])
            .into()
    }
}

impl ToSchema for Scope {}

/// A protected resource's audience: an absolute URI without a fragment
/// (RFC 8707 §2).
pub struct Audience;

impl PartialSchema for Audience {
    fn schema() -> RefOr<Schema> {
        string("A protected resource's audience: an absolute URI without a fragment (RFC 8707 §2).")
            .format(Some(SchemaFormat::Custom("uri".to_owned())))
            .min_length(Some(1))
            .max_length(Some(MAX_ID_LEN))
            .examples(["https://crm.example.com"])
            .into()
    }
}

impl ToSchema for Audience {}

/// An OAuth `client_id`; for the clients Warrant registers it is the
/// record's id (`agt_…`, `op_…`, `res_…`).
pub struct ClientId;

impl PartialSchema for ClientId {
    fn schema() -> RefOr<Schema> {
        string("An OAuth client_id: 1 to 255 visible ASCII characters. For agents, operators and resources it is their id.")
            .min_length(Some(1))
            .max_length(Some(MAX_ID_LEN))
            .into()
    }
}

impl ToSchema for ClientId {}
