//! `GET /admin/v1/audit?agent_id=&action=&actor=&resource=&since=&until=&limit=&cursor=`:
//! the audit trail, oldest first, paged by `seq` (every role may read it).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use warrant_policy::Timestamp;
use warrant_store::audit::AuditFilter;

use super::extract::{Authorized, Read};
use crate::error::AdminError;
use crate::openapi::responses::{AdminAccess, AdminQuery};
use crate::openapi::schema;
use crate::state::AppState;
use warrant_store::Store;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    agent_id: Option<String>,
    action: Option<String>,
    actor: Option<String>,
    resource: Option<String>,
    /// Events at or after this time.
    #[param(value_type = Option<schema::Timestamp>)]
    since: Option<Timestamp>,
    /// Events at or before this time.
    #[param(value_type = Option<schema::Timestamp>)]
    until: Option<Timestamp>,
    /// Page size, 1 to 1,000 (default 100).
    #[param(minimum = 1, maximum = 1_000)]
    limit: Option<i64>,
    /// The `next` of the previous page.
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/audit",
    tag = "audit",
    operation_id = "listAudit",
    summary = "The audit trail",
    description = "Events matching every given filter, oldest first, paged by `seq`: pass the answer's `next` as `cursor`. Unknown query parameters are refused.",
    security(("adminToken" = ["viewer", "requester", "approver", "responder", "admin"])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of events.", body = schema::AuditPage),
        AdminQuery,
        AdminAccess,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<Read>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Value>, AdminError> {
    let Query(query) = query.map_err(|e| AdminError::InvalidRequest(e.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AdminError::InvalidRequest(format!("limit must be 1 to {MAX_LIMIT}")));
    }
    let after_seq = query
        .cursor
        .map(|c| {
            c.parse::<i64>().map_err(|_| AdminError::InvalidRequest("cursor is not one this API gave".into()))
        })
        .transpose()?;
    let filter = AuditFilter {
        agent_id: query.agent_id,
        action: query.action,
        actor: query.actor,
        resource: query.resource,
        since: query.since,
        until: query.until,
        after_seq,
        // One more than asked tells whether another page follows.
        limit: limit + 1,
    };
    let mut events = state.tokens.store.list_audit(&filter).await?;
    let more = events.len() as i64 > limit;
    events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more.then(|| events.last().map(|e| e.seq.to_string())).flatten();
    let events: Vec<Value> = events
        .into_iter()
        .map(|e| {
            let detail: Value = serde_json::from_str(&e.detail).unwrap_or(Value::String(e.detail.clone()));
            json!({
                "seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "agent_id": e.agent_id,
                "resource": e.resource, "detail": detail, "prev_hash": e.prev_hash, "hash": e.hash,
            })
        })
        .collect();
    Ok(Json(json!({"events": events, "next": next})))
}
