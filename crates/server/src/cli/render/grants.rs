//! Answers that change access: `grants request|approve|deny|revoke`,
//! `kill` (one agent or every match) and `credentials list|add|retire`.

use std::io::{self, Write};

use serde_json::Value;
use warrant_policy::Timestamp;

use crate::cli::table::{fields, section, Table};
use crate::cli::value::{by_at, items, str_of, text, when};

/// A grant as `POST .../grants`, `/approve`, `/deny` or `/revoke` answer it.
pub fn grant(grant: &Value, out: &mut dyn Write, now: Timestamp) -> io::Result<()> {
    let mut pairs = vec![
        ("grant", text(grant, "id")),
        ("agent", text(grant, "agent_id")),
        ("resource", text(grant, "resource")),
        ("scopes", text(grant, "scopes")),
        ("status", text(grant, "status")),
        ("requested", by_at(grant, "requested_by", "requested_at")),
        ("justification", text(grant, "justification")),
    ];
    let approvals = items(grant, "approvals");
    let required = grant.get("approvals_required").and_then(Value::as_u64);
    if required.is_some_and(|n| n > 1) {
        let recorded: Vec<String> = approvals.iter().map(|a| by_at(a, "by", "at")).collect();
        let needed = required.map_or_else(String::new, |n| format!(" ({} of {n})", approvals.len()));
        pairs.push((
            "approvals",
            format!("{}{needed}", if recorded.is_empty() { "none".into() } else { recorded.join(", ") }),
        ));
    }
    for (label, by, at) in [
        ("approved", "approved_by", "approved_at"),
        ("denied", "denied_by", "denied_at"),
        ("revoked", "revoked_by", "revoked_at"),
    ] {
        if str_of(grant, by).is_some() {
            pairs.push((label, by_at(grant, by, at)));
        }
    }
    pairs.push(("expires", when(grant, "expires_at", now)));
    pairs.push(("max_token_ttl", text(grant, "max_token_ttl")));
    fields(out, &pairs)
}

/// `POST /admin/v1/agents/{id}/kill`: when, why, and what it could reach.
pub fn killed(body: &Value, out: &mut dyn Write) -> io::Result<()> {
    fields(
        out,
        &[
            ("killed", text(body, "agent_id")),
            ("at", text(body, "killed_at")),
            ("reason", text(body, "reason")),
        ],
    )?;
    section(out, "Access cut off")?;
    let mut table = Table::new(&["AUDIENCE", "SCOPES"]);
    for resource in items(body, "resources") {
        table.row(vec![text(resource, "audience"), text(resource, "scopes")]);
    }
    table.write_or_none(out, 2)
}

/// `POST /admin/v1/kill`: every agent the selectors matched.
pub fn killed_matching(body: &Value, out: &mut dyn Write) -> io::Result<()> {
    let agents = items(body, "agents");
    fields(
        out,
        &[
            ("killed", format!("{} agent(s)", agents.len())),
            ("at", text(body, "killed_at")),
            ("reason", text(body, "reason")),
        ],
    )?;
    writeln!(out)?;
    let mut table = Table::new(&["AGENT", "ACCESS CUT OFF"]);
    for agent in agents {
        let resources: Vec<String> = items(agent, "resources")
            .iter()
            .map(|r| format!("{} [{}]", text(r, "audience"), text(r, "scopes")))
            .collect();
        table.row(vec![
            text(agent, "agent_id"),
            if resources.is_empty() { "-".into() } else { resources.join("; ") },
        ]);
    }
    if table.is_empty() {
        writeln!(out, "no agent matched")
    } else {
        table.write(out, 0)
    }
}

/// `{"credentials": [...]}`, live and retired, never a secret.
pub fn credentials(body: &Value, out: &mut dyn Write) -> io::Result<()> {
    let mut table = Table::new(&["ID", "METHOD", "CREATED", "RETIRED"]);
    for credential in items(body, "credentials") {
        table.row(vec![
            text(credential, "id"),
            text(credential, "method"),
            text(credential, "created_at"),
            text(credential, "retired_at"),
        ]);
    }
    table.write_or_none(out, 0)
}

/// A credential just added (with its client secret, shown this once) or retired.
pub fn credential(body: &Value, out: &mut dyn Write) -> io::Result<()> {
    let mut pairs = vec![
        ("credential", text(body, "id")),
        ("method", text(body, "method")),
        ("created", text(body, "created_at")),
    ];
    if body.get("retired_at").is_some_and(|at| !at.is_null()) {
        pairs.push(("retired", text(body, "retired_at")));
    }
    let secret = str_of(body, "client_secret");
    if let Some(secret) = secret {
        pairs.push(("client_secret", secret.to_owned()));
    }
    fields(out, &pairs)?;
    if secret.is_some() {
        writeln!(
            out,
            "\nThe client secret is shown only this once: store it now. The old credentials keep \
             working until you retire them."
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn render(f: impl Fn(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_first_of_two_approvals_shows_what_is_missing() {
        let now = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let body = json!({"id": "grt_1", "agent_id": "agt_1", "resource": "https://pay", "scopes": ["refund"],
            "status": "requested", "requested_by": "alice", "requested_at": "2025-12-31T00:00:00Z",
            "justification": "refunds", "approvals": [{"by": "bob", "at": "2025-12-31T01:00:00Z"}],
            "approvals_required": 2, "approved_by": null, "approved_at": null,
            "expires_at": "2026-02-01T00:00:00Z", "max_token_ttl": null});
        assert_eq!(
            render(|out| grant(&body, out, now)),
            "grant          grt_1\n\
             agent          agt_1\n\
             resource       https://pay\n\
             scopes         refund\n\
             status         requested\n\
             requested      alice at 2025-12-31T00:00:00Z\n\
             justification  refunds\n\
             approvals      bob at 2025-12-31T01:00:00Z (1 of 2)\n\
             expires        2026-02-01T00:00:00Z (in 31d)\n\
             max_token_ttl  -\n"
        );
    }

    #[test]
    fn a_revoked_grant_says_who_revoked_it() {
        let body = json!({"id": "grt_1", "status": "revoked", "approved_by": "bob", "approved_at": "t1",
            "revoked_by": "carol", "revoked_at": "t2", "approvals": [{"by": "bob", "at": "t1"}],
            "approvals_required": 1});
        let text = render(|out| grant(&body, out, Timestamp(0)));
        assert!(
            text.contains("approved       bob at t1\n") && text.contains("revoked        carol at t2\n"),
            "{text}"
        );
        assert!(!text.contains("approvals"), "{text}");
    }

    #[test]
    fn a_kill_lists_the_access_it_cut_off() {
        let body = json!({"agent_id": "agt_1", "killed_at": "2026-01-01T00:00:00Z", "reason": "leak",
            "resources": [{"audience": "https://crm", "scopes": ["a", "b"]}]});
        assert_eq!(
            render(|out| killed(&body, out)),
            "killed  agt_1\nat      2026-01-01T00:00:00Z\nreason  leak\n\nAccess cut off\n  AUDIENCE     SCOPES\n  https://crm  a, b\n"
        );
    }

    #[test]
    fn a_bulk_kill_lists_every_agent_or_says_none_matched() {
        let body = json!({"killed_at": "t", "reason": "r", "agents": [
            {"agent_id": "agt_1", "resources": [{"audience": "https://crm", "scopes": ["a"]}]},
            {"agent_id": "agt_2", "resources": []}]});
        let text = render(|out| killed_matching(&body, out));
        assert!(text.contains("killed  2 agent(s)\n"), "{text}");
        assert!(text.contains("agt_1  https://crm [a]\nagt_2  -\n"), "{text}");
        let none =
            render(|out| killed_matching(&json!({"killed_at": "t", "reason": "r", "agents": []}), out));
        assert!(none.ends_with("no agent matched\n"), "{none}");
    }

    #[test]
    fn credentials_show_retirement_and_a_new_secret_once() {
        let list = json!({"credentials": [{"id": "cred_1", "method": "client_secret", "created_at": "t1",
            "retired_at": null}]});
        assert_eq!(
            render(|out| credentials(&list, out)),
            "ID      METHOD         CREATED  RETIRED\ncred_1  client_secret  t1       -\n"
        );
        let added = json!({"id": "cred_2", "method": "client_secret", "created_at": "t2", "retired_at": null, "client_secret": "xyz"});
        let text = render(|out| credential(&added, out));
        assert!(text.contains("client_secret  xyz\n") && text.contains("shown only this once"), "{text}");
        assert!(!text.contains("retired"), "{text}");
    }
}
