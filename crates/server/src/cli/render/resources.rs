//! `resources list`, `resources register` and `resources access` (who can
//! reach a resource, and with which data classes).

use std::io::{self, Write};

use serde_json::Value;
use warrant_policy::Timestamp;

use crate::cli::table::{fields, Table};
use crate::cli::value::{items, str_of, text, when};

/// `{"resources": [...]}`, one resource per row, its scopes as `name (class)`.
pub fn list(body: &Value, out: &mut dyn Write) -> io::Result<()> {
    let resources = items(body, "resources");
    if resources.is_empty() {
        return writeln!(out, "no resources");
    }
    let mut table = Table::new(&["ID", "NAME", "KIND", "AUDIENCE", "SCOPES"]);
    for resource in resources {
        table.row(vec![
            text(resource, "id"),
            text(resource, "name"),
            text(resource, "kind"),
            text(resource, "audience"),
            scopes(items(resource, "scopes")),
        ]);
    }
    table.write(out, 0)
}

/// The answer of `POST /admin/v1/resources`, with the resource server's
/// client secret the one time it is shown.
pub fn registered(resource: &Value, out: &mut dyn Write) -> io::Result<()> {
    let mut pairs = vec![
        ("resource", text(resource, "id")),
        ("name", text(resource, "name")),
        ("kind", text(resource, "kind")),
        ("audience", text(resource, "audience")),
        ("scopes", scopes(items(resource, "scopes"))),
        ("client_id", text(resource, "client_id")),
    ];
    let secret = str_of(resource, "client_secret");
    if let Some(secret) = secret {
        pairs.push(("client_secret", secret.to_owned()));
    }
    fields(out, &pairs)?;
    if secret.is_some() {
        writeln!(out, "\nThe client secret (for introspection) is shown only this once: store it now.")?;
    }
    Ok(())
}

/// `GET /admin/v1/resources/{id}/access`: the resource, then every agent
/// with an approved, unexpired grant on it.
pub fn access(body: &Value, out: &mut dyn Write, now: Timestamp) -> io::Result<()> {
    let resource = body.get("resource").unwrap_or(&Value::Null);
    fields(
        out,
        &[
            ("resource", text(resource, "id")),
            ("name", text(resource, "name")),
            ("kind", text(resource, "kind")),
            ("audience", text(resource, "audience")),
        ],
    )?;
    writeln!(out)?;
    let mut table = Table::new(&["AGENT", "NAME", "PLATFORM", "STATUS", "OWNER", "SCOPES", "EXPIRES"]);
    for agent in items(body, "agents") {
        table.row(vec![
            text(agent, "agent_id"),
            text(agent, "name"),
            text(agent, "platform"),
            text(agent, "status"),
            text(agent, "owner"),
            scopes(items(agent, "scopes")),
            when(agent, "expires_at", now),
        ]);
    }
    if table.is_empty() {
        writeln!(out, "no agent holds an approved, unexpired grant on it")
    } else {
        table.write(out, 0)
    }
}

/// `name (data_class), ...` of `[{"name", "data_class"}]`.
fn scopes(scopes: &[Value]) -> String {
    scopes
        .iter()
        .map(|s| format!("{} ({})", text(s, "name"), text(s, "data_class")))
        .collect::<Vec<_>>()
        .join(", ")
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
    fn resources_list_shows_scopes_with_their_data_class() {
        let body = json!({"resources": [{"id": "res_1", "name": "CRM", "kind": "crm",
            "audience": "https://crm.example.com", "client_id": "res_1",
            "scopes": [{"name": "contacts.read", "description": "", "data_class": "pii"},
                       {"name": "cases.read", "description": "", "data_class": "internal"}]}]});
        assert_eq!(
            render(|out| list(&body, out)),
            "ID     NAME  KIND  AUDIENCE                 SCOPES\n\
             res_1  CRM   crm   https://crm.example.com  contacts.read (pii), cases.read (internal)\n"
        );
    }

    #[test]
    fn a_registered_resource_shows_its_secret_once_with_a_warning() {
        let body = json!({"id": "res_1", "name": "CRM", "kind": "crm", "audience": "https://crm.example.com",
            "scopes": [], "client_id": "res_1", "client_secret": "s3cret"});
        let text = render(|out| registered(&body, out));
        assert!(text.contains("client_secret  s3cret\n"), "{text}");
        assert!(text.contains("shown only this once"), "{text}");
    }

    #[test]
    fn access_lists_each_agent_with_its_scopes_and_earliest_expiry() {
        let now = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let body = json!({"resource": {"id": "res_1", "name": "CRM", "kind": "crm", "audience": "https://crm"},
            "agents": [{"agent_id": "agt_1", "name": "Bot", "platform": "sap", "status": "active", "owner": "jo",
                "scopes": [{"name": "contacts.read", "data_class": "pii"}], "expires_at": "2026-01-11T00:00:00Z"}]});
        assert_eq!(
            render(|out| access(&body, out, now)),
            "resource  res_1\nname      CRM\nkind      crm\naudience  https://crm\n\n\
             AGENT  NAME  PLATFORM  STATUS  OWNER  SCOPES               EXPIRES\n\
             agt_1  Bot   sap       active  jo     contacts.read (pii)  2026-01-11T00:00:00Z (in 10d)\n"
        );
    }

    #[test]
    fn access_says_so_when_nobody_holds_a_grant() {
        let now = Timestamp(0);
        let body = json!({"resource": {"id": "res_1"}, "agents": []});
        assert!(render(|out| access(&body, out, now))
            .ends_with("no agent holds an approved, unexpired grant on it\n"));
    }
}
