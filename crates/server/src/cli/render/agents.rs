//! `agents list`, `agents show` (the three questions: what the agent is
//! connected to, what data it can access, who approved it and when that
//! expires; then its credentials and kill history), `agents register` and
//! the status changes (`suspend`, `resume`, `restore`).

use std::io::{self, Write};

use serde_json::Value;
use warrant_policy::Timestamp;

use crate::cli::table::{fields, section, Table};
use crate::cli::value::{by_at, items, show, str_of, text, when, NONE};

/// `{"agents": [...]}` as a table, one agent per row.
pub fn list(body: &Value, out: &mut dyn Write) -> io::Result<()> {
    let agents = items(body, "agents");
    if agents.is_empty() {
        return writeln!(out, "no agents");
    }
    let mut table =
        Table::new(&["ID", "NAME", "PLATFORM", "VENDOR", "OWNER", "ENVIRONMENT", "STATUS", "LAST TOKEN"]);
    for agent in agents {
        table.row(vec![
            text(agent, "id"),
            text(agent, "name"),
            text(agent, "platform"),
            text(agent, "vendor"),
            blank_as_none(agent, "owner"),
            blank_as_none(agent, "environment"),
            text(agent, "status"),
            last_token(agent),
        ]);
    }
    table.write(out, 0)
}

/// `GET /admin/v1/agents/{id}`: the agent, then its access in three
/// sections, its credentials and its kill history.
pub fn detail(agent: &Value, out: &mut dyn Write, now: Timestamp) -> io::Result<()> {
    fields(
        out,
        &[
            ("agent", text(agent, "id")),
            ("name", text(agent, "name")),
            ("client_id", text(agent, "client_id")),
            ("status", text(agent, "status")),
            ("platform", text(agent, "platform")),
            ("vendor", blank_as_none(agent, "vendor")),
            ("owner", blank_as_none(agent, "owner")),
            ("purpose", blank_as_none(agent, "purpose")),
            ("environment", blank_as_none(agent, "environment")),
            ("acts on behalf of", text(agent, "acts_on_behalf_of")),
            ("tags", text(agent, "tags")),
            ("registered", by_at(agent, "created_by", "created_at")),
            ("last token", last_token(agent)),
        ],
    )?;
    let grants = items(agent, "grants");
    let live: Vec<&Value> = grants.iter().filter(|g| str_of(g, "status") == Some("approved")).collect();

    section(out, "Connected to (approved, unexpired grants)")?;
    let mut connected = Table::new(&["RESOURCE", "KIND", "AUDIENCE", "GRANT", "EXPIRES"]);
    for grant in &live {
        connected.row(vec![
            text(grant, "resource_name"),
            text(grant, "resource_kind"),
            text(grant, "resource"),
            text(grant, "id"),
            when(grant, "expires_at", now),
        ]);
    }
    connected.write_or_none(out, 2)?;

    section(out, "Data it can access")?;
    let mut data = Table::new(&["AUDIENCE", "SCOPE", "DATA CLASS", "GRANT"]);
    for grant in &live {
        for (scope, class) in scope_classes(grant) {
            data.row(vec![text(grant, "resource"), scope, class, text(grant, "id")]);
        }
    }
    data.write_or_none(out, 2)?;

    section(out, "Grants: who requested, who approved, when they expire")?;
    let mut decisions = Table::new(&[
        "GRANT",
        "AUDIENCE",
        "STATUS",
        "REQUESTED",
        "APPROVED BY",
        "APPROVED AT",
        "EXPIRES",
        "JUSTIFICATION",
    ]);
    for grant in grants {
        decisions.row(vec![
            text(grant, "id"),
            text(grant, "resource"),
            grant_status(grant),
            by_at(grant, "requested_by", "requested_at"),
            approvers(grant),
            approved_at(grant),
            when(grant, "expires_at", now),
            text(grant, "justification"),
        ]);
    }
    decisions.write_or_none(out, 2)?;

    section(out, "Credentials")?;
    let mut credentials = Table::new(&["ID", "METHOD", "CREATED", "RETIRED"]);
    for credential in items(agent, "credentials") {
        credentials.row(vec![
            text(credential, "id"),
            text(credential, "method"),
            text(credential, "created_at"),
            text(credential, "retired_at"),
        ]);
    }
    credentials.write_or_none(out, 2)?;

    section(out, "Kill history")?;
    let mut kills = Table::new(&["KILLED", "REASON", "RESTORED", "RESTORE REASON"]);
    for kill in items(agent, "kills") {
        kills.row(vec![
            by_at(kill, "killed_by", "killed_at"),
            text(kill, "reason"),
            by_at(kill, "restored_by", "restored_at"),
            text(kill, "restore_reason"),
        ]);
    }
    kills.write_or_none(out, 2)
}

/// The answer of `POST /admin/v1/agents`, with the client secret the one
/// time it is shown.
pub fn registered(agent: &Value, out: &mut dyn Write) -> io::Result<()> {
    let mut pairs = vec![
        ("agent", text(agent, "id")),
        ("client_id", text(agent, "client_id")),
        ("name", text(agent, "name")),
        ("platform", text(agent, "platform")),
        ("status", text(agent, "status")),
        ("token_endpoint_auth", text(agent, "token_endpoint_auth_method")),
    ];
    let secret = str_of(agent, "client_secret");
    if let Some(secret) = secret {
        pairs.push(("client_secret", secret.to_owned()));
    }
    fields(out, &pairs)?;
    if secret.is_some() {
        writeln!(out, "\nThe client secret is shown only this once: store it now.")?;
    }
    Ok(())
}

/// An agent after `suspend`, `resume` or `restore`.
pub fn status(agent: &Value, out: &mut dyn Write) -> io::Result<()> {
    fields(
        out,
        &[("agent", text(agent, "id")), ("name", text(agent, "name")), ("status", text(agent, "status"))],
    )
}

/// `at resource` of the agent's last token, `never`, or `-` when the server
/// does not say.
fn last_token(agent: &Value) -> String {
    match agent.get("last_token") {
        None => NONE.to_owned(),
        Some(Value::Null) => "never".to_owned(),
        Some(last) => format!("{} {}", text(last, "at"), text(last, "resource")),
    }
}

/// A free-text field, `-` when empty.
fn blank_as_none(value: &Value, key: &str) -> String {
    match str_of(value, key) {
        Some(s) if s.trim().is_empty() => NONE.to_owned(),
        _ => text(value, key),
    }
}

/// `(scope, data class)` of a grant, from `scope_classes`, else its bare
/// `scopes` with the class unknown.
fn scope_classes(grant: &Value) -> Vec<(String, String)> {
    let classes = items(grant, "scope_classes");
    if classes.is_empty() {
        return items(grant, "scopes").iter().map(|s| (show(s), NONE.to_owned())).collect();
    }
    classes.iter().map(|c| (text(c, "name"), text(c, "data_class"))).collect()
}

/// The status, with who closed a denied or revoked grant.
fn grant_status(grant: &Value) -> String {
    let status = text(grant, "status");
    let closed = match status.as_str() {
        "denied" => by_at(grant, "denied_by", "denied_at"),
        "revoked" => by_at(grant, "revoked_by", "revoked_at"),
        _ => return status,
    };
    format!("{status} by {closed}")
}

/// Who approved: every recorded approval (two-person grants list both), and
/// `(1 of 2)` while approvals are still missing.
fn approvers(grant: &Value) -> String {
    let approvals: Vec<&str> = items(grant, "approvals").iter().filter_map(|a| str_of(a, "by")).collect();
    if approvals.is_empty() {
        return text(grant, "approved_by");
    }
    let required = grant.get("approvals_required").and_then(Value::as_u64).unwrap_or(1);
    let mut who = approvals.join(", ");
    if str_of(grant, "status") == Some("requested") && (approvals.len() as u64) < required {
        who.push_str(&format!(" ({} of {required})", approvals.len()));
    }
    who
}

/// When the grant was approved, or when its first approvals were recorded.
fn approved_at(grant: &Value) -> String {
    if let Some(at) = str_of(grant, "approved_at") {
        return at.to_owned();
    }
    let recorded: Vec<&str> = items(grant, "approvals").iter().filter_map(|a| str_of(a, "at")).collect();
    if recorded.is_empty() {
        NONE.to_owned()
    } else {
        recorded.join(", ")
    }
}

#[cfg(test)]
mod tests;
