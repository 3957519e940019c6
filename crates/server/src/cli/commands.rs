//! Runs one parsed operator command against the admin API: builds the
//! request from the arguments, pages where the API pages, and writes the
//! answer as a table or as the API's JSON. The server URL and credentials
//! arrive inside the [`AdminClient`]; output goes to any writer, so tests
//! can run commands against a server on port 0 and read what they print.

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;

use serde_json::{json, Map, Value};
use warrant_policy::Timestamp;

use super::args::{Action, AgentFilter, Invocation, KillTarget};
use super::client::AdminClient;
use super::error::CliError;
use super::render;

/// Agents asked per page (the API allows 1 to 500).
const AGENT_PAGE: u32 = 500;

/// Audit events asked per page (the API allows 1 to 1000).
const AUDIT_PAGE: u32 = 1_000;

/// Runs `invocation`, writing its output to `out`; `now` dates the
/// "in 3d" / "2h ago" annotations.
pub async fn execute(
    invocation: &Invocation,
    client: &mut AdminClient,
    out: &mut dyn Write,
    now: Timestamp,
) -> Result<(), CliError> {
    let json = invocation.json;
    match &invocation.action {
        Action::AgentsList(filter) => {
            let agents = client.all_pages(&["agents"], &agent_query(filter), "agents", AGENT_PAGE).await?;
            let body = json!({"agents": agents, "next": null});
            emit(out, json, &body, |out| render::agents::list(&body, out))
        }
        Action::AgentsShow { id } => {
            let body = client.get(&["agents", id], &[]).await?;
            emit(out, json, &body, |out| render::agents::detail(&body, out, now))
        }
        Action::AgentsRegister(agent) => {
            let mut request = Map::new();
            request.insert("name".into(), json!(agent.name));
            request.insert("platform".into(), json!(agent.platform));
            for (key, value) in [
                ("vendor", &agent.vendor),
                ("owner", &agent.owner),
                ("purpose", &agent.purpose),
                ("environment", &agent.environment),
                ("acts_on_behalf_of", &agent.acts_on_behalf_of),
            ] {
                if let Some(value) = value {
                    request.insert(key.into(), json!(value));
                }
            }
            request.insert("tags".into(), json!(agent.tags));
            if let Some(path) = &agent.jwks {
                request.insert("jwks".into(), read_jwks(path)?);
            }
            let body = client.post(&["agents"], &Value::Object(request)).await?;
            emit(out, json, &body, |out| render::agents::registered(&body, out))
        }
        Action::AgentsSuspend { id } | Action::AgentsResume { id } => {
            let verb =
                if matches!(invocation.action, Action::AgentsSuspend { .. }) { "suspend" } else { "resume" };
            let body = client.post(&["agents", id, verb], &json!({})).await?;
            emit(out, json, &body, |out| render::agents::status(&body, out))
        }
        Action::CredentialsList { agent_id } => {
            let body = client.get(&["agents", agent_id, "credentials"], &[]).await?;
            emit(out, json, &body, |out| render::grants::credentials(&body, out))
        }
        Action::CredentialsAdd { agent_id, jwks } => {
            let request = match jwks {
                Some(path) => json!({"jwks": read_jwks(path)?}),
                None => json!({}),
            };
            let body = client.post(&["agents", agent_id, "credentials"], &request).await?;
            emit(out, json, &body, |out| render::grants::credential(&body, out))
        }
        Action::CredentialsRetire { agent_id, credential_id } => {
            let body = client.delete(&["agents", agent_id, "credentials", credential_id]).await?;
            emit(out, json, &body, |out| render::grants::credential(&body, out))
        }
        Action::ResourcesList => {
            let body = client.get(&["resources"], &[]).await?;
            emit(out, json, &body, |out| render::resources::list(&body, out))
        }
        Action::ResourcesRegister(resource) => {
            let scopes: Vec<Value> = resource
                .scopes
                .iter()
                .map(|s| json!({"name": s.name, "data_class": s.data_class, "description": s.description}))
                .collect();
            let request = json!({"name": resource.name, "kind": resource.kind, "audience": resource.audience,
                "scopes": scopes});
            let body = client.post(&["resources"], &request).await?;
            emit(out, json, &body, |out| render::resources::registered(&body, out))
        }
        Action::ResourcesAccess { id, data_class } => {
            let query: Vec<(&str, String)> = data_class.iter().map(|c| ("data_class", c.clone())).collect();
            let body = client.get(&["resources", id, "access"], &query).await?;
            emit(out, json, &body, |out| render::resources::access(&body, out, now))
        }
        Action::GrantsRequest(grant) => {
            let mut request = json!({"resource": grant.resource, "scopes": grant.scopes,
                "justification": grant.justification, "expires_at": grant.expires_at});
            if let Some(ttl) = grant.max_token_ttl {
                request["max_token_ttl"] = json!(ttl);
            }
            let body = client.post(&["agents", &grant.agent_id, "grants"], &request).await?;
            emit(out, json, &body, |out| render::grants::grant(&body, out, now))
        }
        Action::GrantsDecide { id, decision } => {
            let body = client.post(&["grants", id, decision.as_str()], &json!({})).await?;
            emit(out, json, &body, |out| render::grants::grant(&body, out, now))
        }
        Action::Kill { target: KillTarget::Agent(id), reason } => {
            let body = client.post(&["agents", id, "kill"], &json!({"reason": reason})).await?;
            emit(out, json, &body, |out| render::grants::killed(&body, out))
        }
        Action::Kill { target: KillTarget::Matching { platform, vendor, tag }, reason } => {
            let mut request = json!({"reason": reason});
            for (key, value) in [("platform", platform), ("vendor", vendor), ("tag", tag)] {
                if let Some(value) = value {
                    request[key] = json!(value);
                }
            }
            let body = client.post(&["kill"], &request).await?;
            emit(out, json, &body, |out| render::grants::killed_matching(&body, out))
        }
        Action::Restore { id, reason } => {
            let body = client.post(&["agents", id, "restore"], &json!({"reason": reason})).await?;
            emit(out, json, &body, |out| render::agents::status(&body, out))
        }
        Action::AuditTail { agent, action, limit } => {
            let mut query = Vec::new();
            query.extend(agent.iter().map(|a| ("agent_id", a.clone())));
            query.extend(action.iter().map(|a| ("action", a.clone())));
            let mut last: VecDeque<Value> = VecDeque::with_capacity(*limit);
            client
                .each_page(&["audit"], &query, "events", AUDIT_PAGE, &mut |events| {
                    for event in events {
                        if last.len() == *limit {
                            last.pop_front();
                        }
                        last.push_back(event);
                    }
                    Ok(())
                })
                .await?;
            let events: Vec<Value> = last.into();
            let body = json!({"events": events, "next": null});
            emit(out, json, &body, |out| render::audit::events(&events, out))
        }
        Action::AuditExport { since } => {
            let query: Vec<(&str, String)> = since.iter().map(|t| ("since", t.to_rfc3339())).collect();
            client
                .each_page(&["audit"], &query, "events", AUDIT_PAGE, &mut |events| {
                    for event in events {
                        serde_json::to_writer(&mut *out, &event).map_err(std::io::Error::from)?;
                        out.write_all(b"\n")?;
                    }
                    out.flush()?;
                    Ok(())
                })
                .await
        }
        Action::Report => {
            let body = client.get(&["report"], &[]).await?;
            emit(out, json, &body, |out| render::report::report(&body, out, now))
        }
    }
}

/// Writes `body` pretty-printed with `--json`, else the table.
fn emit(
    out: &mut dyn Write,
    json: bool,
    body: &Value,
    table: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    if json {
        serde_json::to_writer_pretty(&mut *out, body).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        table(out)?;
    }
    Ok(())
}

/// The query of `GET /admin/v1/agents` (paging is added by the client).
fn agent_query(filter: &AgentFilter) -> Vec<(&'static str, String)> {
    [
        ("platform", &filter.platform),
        ("vendor", &filter.vendor),
        ("status", &filter.status),
        ("owner", &filter.owner),
        ("tag", &filter.tag),
        ("resource", &filter.resource),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.as_ref().map(|v| (key, v.clone())))
    .collect()
}

/// A JWK Set file, as JSON (the server checks it holds public keys only).
fn read_jwks(path: &Path) -> Result<Value, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| CliError::Input(format!("{}: not JSON: {e}", path.display())))
}

#[cfg(test)]
mod tests;
