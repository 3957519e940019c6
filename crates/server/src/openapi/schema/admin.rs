//! The JSON the admin API answers with. The handlers write it with
//! `serde_json` from the domain types (plus a few fields of their own), so
//! these types are never built: they only describe those answers, field for
//! field. The end-to-end test `openapi` checks real answers against them.

use serde_json::Value;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::values::{
    ActsOnBehalfOf, AgentStatus, Audience, ClientId, CredentialMethod, DataClass, GrantStatus, Platform,
    ResourceKind, Role, Scope, Timestamp,
};
use crate::openapi::responses::ADMIN_ERRORS;

/// The admin API's error body: a stable code and a human-readable text.
#[derive(ToSchema)]
#[schema(as = AdminError)]
pub struct AdminErrorBody {
    pub error: AdminErrorCode,
    pub error_description: String,
}

/// The `error` codes of the admin API, one per status (see the responses
/// under `components.responses`).
pub struct AdminErrorCode;

impl PartialSchema for AdminErrorCode {
    fn schema() -> RefOr<Schema> {
        let codes = ADMIN_ERRORS.iter().map(|error| error.code);
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes)).into()
    }
}

impl ToSchema for AdminErrorCode {}

/// An operator: a person (or their automation) using the admin API.
#[derive(ToSchema)]
pub struct Operator {
    pub id: String,
    pub client_id: ClientId,
    pub name: String,
    pub email: String,
    #[schema(min_items = 1)]
    pub roles: Vec<Role>,
    /// The operator who registered it (`bootstrap` for the first one).
    pub created_by: String,
    pub created_at: Timestamp,
}

/// A registered operator and its client secret, shown this once.
#[derive(ToSchema)]
pub struct OperatorCreated {
    #[serde(flatten)]
    pub operator: Operator,
    /// Authenticates the operator at the token endpoint; never shown again.
    pub client_secret: String,
}

/// Every operator.
#[derive(ToSchema)]
pub struct OperatorList {
    pub operators: Vec<Operator>,
}

/// One scope of a resource's catalogue and the class of data it reaches.
#[derive(ToSchema)]
pub struct ScopeDefinition {
    pub name: Scope,
    /// Free text, at most 2,000 characters; `""` when not given (always
    /// present in answers).
    #[serde(default)]
    pub description: String,
    pub data_class: DataClass,
}

/// A protected system (CRM, ticketing, ...) that agents get tokens for.
#[derive(ToSchema)]
pub struct Resource {
    pub id: String,
    /// With the `client_secret` given at registration, the resource's
    /// credentials for introspection.
    pub client_id: ClientId,
    pub name: String,
    pub kind: ResourceKind,
    pub audience: Audience,
    pub scopes: Vec<ScopeDefinition>,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// A registered resource and its introspection secret, shown this once.
#[derive(ToSchema)]
pub struct ResourceCreated {
    #[serde(flatten)]
    pub resource: Resource,
    /// Authenticates the resource server at `/oauth2/introspect`; never shown again.
    pub client_secret: String,
}

/// Every resource.
#[derive(ToSchema)]
pub struct ResourceList {
    pub resources: Vec<Resource>,
}

/// When an agent last got a token, and for which resource.
#[derive(ToSchema)]
pub struct LastToken {
    pub at: Timestamp,
    /// The audience of that token.
    pub resource: String,
}

/// An agent's inventory record.
#[derive(ToSchema)]
pub struct Agent {
    pub id: String,
    /// Equal to `id`.
    pub client_id: ClientId,
    pub name: String,
    pub platform: Platform,
    pub vendor: String,
    /// The accountable person; `""` when nobody is named.
    pub owner: String,
    pub purpose: String,
    pub environment: String,
    pub acts_on_behalf_of: ActsOnBehalfOf,
    pub tags: Vec<String>,
    pub status: AgentStatus,
    pub created_by: String,
    pub created_at: Timestamp,
    /// The last token issued to the agent; `null` before the first.
    #[schema(required = true)]
    pub last_token: Option<LastToken>,
}

/// How an agent authenticates at the token endpoint.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    ClientSecretBasic,
    PrivateKeyJwt,
}

/// An agent with the token-endpoint authentication method its live
/// credentials call for (`private_key_jwt` when any is a JWK Set).
#[derive(ToSchema)]
pub struct AgentWithAuthMethod {
    #[serde(flatten)]
    pub agent: Agent,
    /// `client_secret_post` works wherever `client_secret_basic` does.
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
}

/// A registered agent. Without a `jwks` it was given a client secret,
/// shown this once.
#[derive(ToSchema)]
pub struct AgentCreated {
    #[serde(flatten)]
    pub agent: AgentWithAuthMethod,
    /// Present only when the agent was registered without a `jwks`.
    #[serde(default)]
    pub client_secret: String,
}

/// A page of the inventory.
#[derive(ToSchema)]
pub struct AgentPage {
    pub agents: Vec<Agent>,
    /// The `cursor` of the next page; `null` on the last one.
    #[schema(required = true)]
    pub next: Option<String>,
}

/// One approval of a grant.
#[derive(ToSchema)]
pub struct Approval {
    /// The approving operator.
    pub by: String,
    pub at: Timestamp,
}

/// A request for, or an approval of, scopes on one resource for one agent.
#[derive(ToSchema)]
pub struct Grant {
    pub id: String,
    pub agent_id: String,
    pub resource_id: String,
    /// The resource's audience.
    pub resource: Audience,
    pub scopes: Vec<Scope>,
    pub justification: String,
    /// As of the answer: a requested or approved grant past `expires_at` is `expired`.
    pub status: GrantStatus,
    pub requested_by: String,
    pub requested_at: Timestamp,
    /// Approvals recorded so far.
    pub approvals: Vec<Approval>,
    /// 2 when a scope reaches `payment` or `credentials` data, else 1.
    pub approvals_required: u8,
    /// The approver whose approval completed the grant.
    #[schema(required = true)]
    pub approved_by: Option<String>,
    #[schema(required = true)]
    pub approved_at: Option<Timestamp>,
    #[schema(required = true)]
    pub denied_by: Option<String>,
    #[schema(required = true)]
    pub denied_at: Option<Timestamp>,
    #[schema(required = true)]
    pub revoked_by: Option<String>,
    #[schema(required = true)]
    pub revoked_at: Option<Timestamp>,
    pub expires_at: Timestamp,
    /// Upper bound, in seconds, on the lifetime of a token drawing on this grant.
    #[schema(required = true)]
    pub max_token_ttl: Option<i64>,
    /// When a token drawing on this grant was last issued.
    #[schema(required = true)]
    pub last_used_at: Option<Timestamp>,
}

/// A scope and the class of data it reaches (`null` if the scope is no
/// longer in the resource's catalogue).
#[derive(ToSchema)]
pub struct ScopeClass {
    pub name: Scope,
    #[schema(required = true)]
    pub data_class: Option<DataClass>,
}

/// A grant in an access report, with its resource's name and kind and the
/// data class of each scope.
#[derive(ToSchema)]
pub struct ReportedGrant {
    #[serde(flatten)]
    pub grant: Grant,
    #[schema(required = true)]
    pub resource_name: Option<String>,
    #[schema(required = true)]
    pub resource_kind: Option<ResourceKind>,
    pub scope_classes: Vec<ScopeClass>,
}

/// One kill of an agent and, once lifted, its restore.
#[derive(ToSchema)]
pub struct KillRecord {
    pub killed_at: Timestamp,
    pub killed_by: String,
    pub reason: String,
    #[schema(required = true)]
    pub restored_at: Option<Timestamp>,
    #[schema(required = true)]
    pub restored_by: Option<String>,
    #[schema(required = true)]
    pub restore_reason: Option<String>,
}

/// A credential as the API shows it: never its secret or keys.
#[derive(ToSchema)]
pub struct Credential {
    pub id: String,
    pub method: CredentialMethod,
    pub created_at: Timestamp,
    #[schema(required = true)]
    pub last_used_at: Option<Timestamp>,
    /// Set once retired; a retired credential no longer authenticates.
    #[schema(required = true)]
    pub retired_at: Option<Timestamp>,
}

/// A new credential. Without a `jwks` it is a client secret, shown this once.
#[derive(ToSchema)]
pub struct CredentialCreated {
    #[serde(flatten)]
    pub credential: Credential,
    /// Present only when no `jwks` was given.
    #[serde(default)]
    pub client_secret: String,
}

/// An agent's credentials, retired ones included.
#[derive(ToSchema)]
pub struct CredentialList {
    pub credentials: Vec<Credential>,
}

/// The access report of one agent: what it is connected to, what data it
/// can reach, who approved that and until when; its credentials and its
/// kill history.
#[derive(ToSchema)]
pub struct AccessReport {
    #[serde(flatten)]
    pub agent: AgentWithAuthMethod,
    /// Every grant, whatever its status.
    pub grants: Vec<ReportedGrant>,
    pub kills: Vec<KillRecord>,
    /// Every credential, retired ones included.
    pub credentials: Vec<Credential>,
}

/// A resource an agent could reach, and the approved scopes it held there.
#[derive(ToSchema)]
pub struct Reach {
    pub audience: Audience,
    pub scopes: Vec<Scope>,
}

/// The answer to a kill: what the agent could reach when it was killed.
#[derive(ToSchema)]
pub struct Killed {
    pub agent_id: String,
    pub killed_at: Timestamp,
    pub reason: String,
    pub resources: Vec<Reach>,
}

/// One agent of a bulk kill.
#[derive(ToSchema)]
pub struct KilledAgent {
    pub agent_id: String,
    pub resources: Vec<Reach>,
}

/// The answer to a bulk kill: every agent matched (possibly none).
#[derive(ToSchema)]
pub struct BulkKilled {
    pub killed_at: Timestamp,
    pub reason: String,
    pub agents: Vec<KilledAgent>,
}

/// One event of the audit trail, hash-chained to the one before.
#[derive(ToSchema)]
pub struct AuditEvent {
    /// Position in the chain, from 1.
    pub seq: i64,
    pub at: Timestamp,
    /// The operator or client that acted, or `bootstrap`.
    pub actor: String,
    /// Such as `agent.registered`, `grant.approved`, `token.issued`, `agent.killed`.
    pub action: String,
    #[schema(required = true)]
    pub agent_id: Option<String>,
    /// An audience.
    #[schema(required = true)]
    pub resource: Option<String>,
    /// What the action recorded; its shape depends on `action`.
    #[schema(value_type = Value)]
    pub detail: Value,
    /// The `hash` of the previous event.
    pub prev_hash: String,
    pub hash: String,
}

/// A page of the audit trail, oldest first.
#[derive(ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// The `cursor` of the next page; `null` on the last one.
    #[schema(required = true)]
    pub next: Option<String>,
}

/// An agent named in the report.
#[derive(ToSchema)]
pub struct AgentRef {
    pub agent_id: String,
    pub name: String,
}

/// An approved grant expiring within 14 days.
#[derive(ToSchema)]
pub struct ExpiringGrant {
    pub grant_id: String,
    pub agent_id: String,
    pub resource: Audience,
    pub expires_at: Timestamp,
}

/// An approved grant approved at least 30 days ago with no token drawn on
/// it for 30 days.
#[derive(ToSchema)]
pub struct UnusedGrant {
    pub grant_id: String,
    pub agent_id: String,
    pub resource: Audience,
    pub approved_at: Timestamp,
}

/// Agent counts.
#[derive(ToSchema)]
pub struct AgentCounts {
    pub total: u64,
    pub by_platform: PlatformCounts,
    pub by_status: StatusCounts,
}

/// An object counting agents under each of `keys`, every key present.
fn counts<'a>(description: &str, keys: impl Iterator<Item = &'a str>) -> RefOr<Schema> {
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for key in keys {
        object = object
            .property(key, ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
            .required(key);
    }
    object.into()
}

/// Agents per platform.
pub struct PlatformCounts;

impl PartialSchema for PlatformCounts {
    fn schema() -> RefOr<Schema> {
        counts("Agents per platform.", warrant_policy::Platform::ALL.iter().map(|p| p.as_str()))
    }
}

impl ToSchema for PlatformCounts {}

/// Agents per status.
pub struct StatusCounts;

impl PartialSchema for StatusCounts {
    fn schema() -> RefOr<Schema> {
        counts("Agents per status.", warrant_policy::AgentStatus::ALL.iter().map(|s| s.as_str()))
    }
}

impl ToSchema for StatusCounts {}

/// Per data class, how many agents hold an approved, unexpired scope
/// reaching it.
pub struct DataClassCounts;

impl PartialSchema for DataClassCounts {
    fn schema() -> RefOr<Schema> {
        counts(
            "Per data class, how many agents hold an approved, unexpired scope reaching it.",
            warrant_policy::DataClass::ALL.iter().map(|c| c.as_str()),
        )
    }
}

impl ToSchema for DataClassCounts {}

/// The governance report.
#[derive(ToSchema)]
pub struct Report {
    pub agents: AgentCounts,
    pub data_classes: DataClassCounts,
    pub agents_without_owner: Vec<AgentRef>,
    pub grants_expiring_soon: Vec<ExpiringGrant>,
    pub grants_unused: Vec<UnusedGrant>,
}

/// The resource an access list is about.
#[derive(ToSchema)]
pub struct ResourceSummary {
    pub id: String,
    pub name: String,
    pub kind: ResourceKind,
    pub audience: Audience,
}

/// An agent that can reach the resource.
#[derive(ToSchema)]
pub struct AgentAccess {
    pub agent_id: String,
    pub name: String,
    pub platform: Platform,
    pub status: AgentStatus,
    pub owner: String,
    /// The approved, unexpired scopes it holds there (of `data_class`, when filtered).
    pub scopes: Vec<ScopeClass>,
    /// The earliest expiry among the grants giving those scopes.
    pub expires_at: Timestamp,
}

/// Every agent holding an approved, unexpired grant on a resource.
#[derive(ToSchema)]
pub struct ResourceAccess {
    pub resource: ResourceSummary,
    pub agents: Vec<AgentAccess>,
}
