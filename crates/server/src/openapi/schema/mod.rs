//! The schemas of the document: the wire values of the domain types, the
//! admin API's answers, and the OAuth endpoints' forms and answers.

// The types of these three describe JSON that handlers write with
// `serde_json` and forms the issuer parses by hand: they are never built,
// only read by the OpenAPI derive.
#[allow(dead_code)]
mod admin;
#[allow(dead_code)]
mod health;
#[allow(dead_code)]
mod oauth;
mod values;

pub use admin::{
    AccessReport, AdminErrorBody, AgentCreated, AgentPage, AgentWithAuthMethod, AuditPage, BulkKilled,
    Credential, CredentialCreated, CredentialList, Grant, Killed, OperatorCreated, OperatorList, Report,
    ResourceAccess, ResourceCreated, ResourceList, ScopeDefinition,
};
pub use health::{Health, Readiness};
pub use oauth::{
    AuthorizationServerMetadata, IntrospectionRequest, IntrospectionResponse, JwkSet, OAuthErrorBody,
    RevocationRequest, TokenRequest, TokenResponse,
};
pub use values::{
    ActsOnBehalfOf, AgentStatus, Audience, DataClass, Platform, ResourceKind, Role, Scope, Timestamp,
};
