//! Flat row types as both backends return them, and their conversion into
//! the domain types of `warrant-policy` (each stored string parsed again, so
//! a row edited by hand into nonsense is an error, not a silent default).

use warrant_policy::{
    ActsOnBehalfOf, Agent, AgentStatus, Audience, ClientId, ClientKind, Credential, CredentialMethod,
    DataClass, Grant, GrantStatus, LastToken, Operator, ParseError, Platform, Resource, ResourceKind, Roles,
    Scope, ScopeDefinition, ScopeSet, Timestamp,
};

use crate::audit::AuditEvent;
use crate::{KillRecord, StoreError};

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    agent_id: Option<String>,
    resource: Option<String>,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> Self {
        AuditEvent {
            seq: r.seq,
            at: Timestamp(r.at),
            actor: r.actor,
            action: r.action,
            agent_id: r.agent_id,
            resource: r.resource,
            detail: r.detail,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct KillRow {
    killed_at: i64,
    killed_by: String,
    reason: String,
    restored_at: Option<i64>,
    restored_by: Option<String>,
    restore_reason: Option<String>,
}

impl From<KillRow> for KillRecord {
    fn from(r: KillRow) -> Self {
        KillRecord {
            killed_at: Timestamp(r.killed_at),
            killed_by: r.killed_by,
            reason: r.reason,
            restored_at: r.restored_at.map(Timestamp),
            restored_by: r.restored_by,
            restore_reason: r.restore_reason,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OperatorRow {
    id: String,
    name: String,
    email: String,
    roles: String,
    created_by: String,
    created_at: i64,
}

impl TryFrom<OperatorRow> for Operator {
    type Error = StoreError;
    fn try_from(r: OperatorRow) -> Result<Self, StoreError> {
        Ok(Operator {
            client_id: ClientId::parse(&r.id)?,
            id: r.id,
            name: r.name,
            email: r.email,
            roles: Roles::parse(&r.roles)?,
            created_by: r.created_by,
            created_at: Timestamp(r.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ResourceRow {
    pub(crate) id: String,
    name: String,
    kind: String,
    audience: String,
    created_by: String,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ScopeRow {
    pub(crate) resource_id: String,
    name: String,
    description: String,
    data_class: String,
}

impl ResourceRow {
    /// The resource with the scopes among `scopes` that belong to it.
    pub(crate) fn into_resource(self, scopes: &[ScopeRow]) -> Result<Resource, StoreError> {
        let scopes = scopes
            .iter()
            .filter(|s| s.resource_id == self.id)
            .map(|s| {
                Ok(ScopeDefinition {
                    name: Scope::parse(&s.name)?,
                    description: s.description.clone(),
                    data_class: DataClass::parse(&s.data_class)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Resource {
            client_id: ClientId::parse(&self.id)?,
            id: self.id,
            name: self.name,
            kind: ResourceKind::parse(&self.kind)?,
            audience: Audience::parse(&self.audience)?,
            scopes,
            created_by: self.created_by,
            created_at: Timestamp(self.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AgentRow {
    id: String,
    name: String,
    platform: String,
    vendor: String,
    owner: String,
    purpose: String,
    environment: String,
    acts_on_behalf_of: String,
    tags: String,
    status: String,
    created_by: String,
    created_at: i64,
    last_token_at: Option<i64>,
    last_token_resource: Option<String>,
}

impl TryFrom<AgentRow> for Agent {
    type Error = StoreError;
    fn try_from(r: AgentRow) -> Result<Self, StoreError> {
        Ok(Agent {
            client_id: ClientId::parse(&r.id)?,
            id: r.id,
            name: r.name,
            platform: Platform::parse(&r.platform)?,
            vendor: r.vendor,
            owner: r.owner,
            purpose: r.purpose,
            environment: r.environment,
            acts_on_behalf_of: ActsOnBehalfOf::parse(&r.acts_on_behalf_of)?,
            tags: serde_json::from_str(&r.tags)?,
            status: AgentStatus::parse(&r.status)?,
            created_by: r.created_by,
            created_at: Timestamp(r.created_at),
            last_token: r
                .last_token_at
                .zip(r.last_token_resource)
                .map(|(at, resource)| LastToken { at: Timestamp(at), resource }),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CredentialRow {
    id: String,
    client_id: String,
    client_kind: String,
    method: String,
    secret_hash: Option<Vec<u8>>,
    jwks: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    retired_at: Option<i64>,
}

impl TryFrom<CredentialRow> for Credential {
    type Error = StoreError;
    fn try_from(r: CredentialRow) -> Result<Self, StoreError> {
        Ok(Credential {
            id: r.id,
            client_id: ClientId::parse(&r.client_id)?,
            client_kind: ClientKind::parse(&r.client_kind)?,
            method: CredentialMethod::parse(&r.method)?,
            secret_hash: r.secret_hash,
            jwks: r.jwks,
            created_at: Timestamp(r.created_at),
            last_used_at: r.last_used_at.map(Timestamp),
            retired_at: r.retired_at.map(Timestamp),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GrantRow {
    id: String,
    agent_id: String,
    resource_id: String,
    audience: String,
    scopes: String,
    justification: String,
    status: String,
    requested_by: String,
    requested_at: i64,
    approved_by: Option<String>,
    approved_at: Option<i64>,
    denied_by: Option<String>,
    denied_at: Option<i64>,
    revoked_by: Option<String>,
    revoked_at: Option<i64>,
    expires_at: i64,
    max_token_ttl: Option<i64>,
    approvals: String,
    approvals_required: i64,
    last_used_at: Option<i64>,
}

impl TryFrom<GrantRow> for Grant {
    type Error = StoreError;
    fn try_from(r: GrantRow) -> Result<Self, StoreError> {
        Ok(Grant {
            id: r.id,
            agent_id: r.agent_id,
            resource_id: r.resource_id,
            audience: Audience::parse(&r.audience)?,
            scopes: ScopeSet::parse(&r.scopes)?,
            justification: r.justification,
            status: GrantStatus::parse(&r.status)?,
            requested_by: r.requested_by,
            requested_at: Timestamp(r.requested_at),
            approved_by: r.approved_by,
            approved_at: r.approved_at.map(Timestamp),
            denied_by: r.denied_by,
            denied_at: r.denied_at.map(Timestamp),
            revoked_by: r.revoked_by,
            revoked_at: r.revoked_at.map(Timestamp),
            expires_at: Timestamp(r.expires_at),
            max_token_ttl: r.max_token_ttl,
            approvals: serde_json::from_str(&r.approvals)?,
            approvals_required: u8::try_from(r.approvals_required)
                .map_err(|_| ParseError::new("approvals_required", "out of range"))?,
            last_used_at: r.last_used_at.map(Timestamp),
        })
    }
}
