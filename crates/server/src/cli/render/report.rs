//! `report`: the governance summary of `GET /admin/v1/report` — how many
//! agents by platform and status, which data classes they can reach, and
//! what needs an operator's attention (no owner, expiring, unused grants).

use std::io::{self, Write};

use serde_json::{Map, Value};
use warrant_policy::Timestamp;

use crate::cli::table::{section, Table};
use crate::cli::value::{items, show, text, when};

/// Keys shown first, in this order; any other key the server adds follows.
const STATUSES: [&str; 3] = ["active", "suspended", "killed"];
const DATA_CLASSES: [&str; 5] = ["public", "internal", "pii", "payment", "credentials"];

/// The report as titled tables.
pub fn report(body: &Value, out: &mut dyn Write, now: Timestamp) -> io::Result<()> {
    let agents = body.get("agents").unwrap_or(&Value::Null);
    writeln!(out, "Agents: {}", text(agents, "total"))?;

    section(out, "By platform")?;
    counts(out, "PLATFORM", agents.get("by_platform"), &[])?;
    section(out, "By status")?;
    counts(out, "STATUS", agents.get("by_status"), &STATUSES)?;
    section(out, "Agents able to reach each data class (approved, unexpired scopes)")?;
    counts(out, "DATA CLASS", body.get("data_classes"), &DATA_CLASSES)?;

    section(out, "Agents without an owner")?;
    let mut table = Table::new(&["AGENT", "NAME"]);
    for agent in items(body, "agents_without_owner") {
        table.row(vec![text(agent, "agent_id"), text(agent, "name")]);
    }
    table.write_or_none(out, 2)?;

    section(out, "Grants expiring within 14 days")?;
    let mut table = Table::new(&["GRANT", "AGENT", "RESOURCE", "EXPIRES"]);
    for grant in items(body, "grants_expiring_soon") {
        table.row(vec![
            text(grant, "grant_id"),
            text(grant, "agent_id"),
            text(grant, "resource"),
            when(grant, "expires_at", now),
        ]);
    }
    table.write_or_none(out, 2)?;

    section(out, "Grants approved over 30 days ago and unused for 30 days")?;
    let mut table = Table::new(&["GRANT", "AGENT", "RESOURCE", "APPROVED"]);
    for grant in items(body, "grants_unused") {
        table.row(vec![
            text(grant, "grant_id"),
            text(grant, "agent_id"),
            text(grant, "resource"),
            when(grant, "approved_at", now),
        ]);
    }
    table.write_or_none(out, 2)
}

/// A `{key: count}` object as a two-column table: the `first` keys in
/// order (0 when absent), then the others sorted.
fn counts(out: &mut dyn Write, title: &str, counts: Option<&Value>, first: &[&str]) -> io::Result<()> {
    let empty = Map::new();
    let counts = counts.and_then(Value::as_object).unwrap_or(&empty);
    let mut table = Table::new(&[title, "AGENTS"]);
    for key in first {
        table.row(vec![(*key).to_owned(), counts.get(*key).map_or_else(|| "0".to_owned(), show)]);
    }
    let mut others: Vec<(&String, &Value)> =
        counts.iter().filter(|(k, _)| !first.contains(&k.as_str())).collect();
    others.sort_by(|a, b| a.0.cmp(b.0));
    for (key, count) in others {
        table.row(vec![key.clone(), show(count)]);
    }
    table.write_or_none(out, 2)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_report_renders_every_section() {
        let now = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let body = json!({
            "agents": {"total": 3, "by_platform": {"agentforce": 2, "sap": 1, "other": 0},
                       "by_status": {"active": 2, "killed": 1, "suspended": 0}},
            "data_classes": {"public": 0, "internal": 1, "pii": 2, "payment": 0, "credentials": 0},
            "agents_without_owner": [{"agent_id": "agt_3", "name": "Orphan"}],
            "grants_expiring_soon": [{"grant_id": "grt_1", "agent_id": "agt_1", "resource": "https://crm",
                                      "expires_at": "2026-01-03T00:00:00Z"}],
            "grants_unused": []
        });
        let mut out = Vec::new();
        report(&body, &mut out, now).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Agents: 3\n\
             \nBy platform\n  PLATFORM    AGENTS\n  agentforce  2\n  other       0\n  sap         1\n\
             \nBy status\n  STATUS     AGENTS\n  active     2\n  suspended  0\n  killed     1\n\
             \nAgents able to reach each data class (approved, unexpired scopes)\n  DATA CLASS   AGENTS\n  public       0\n  internal     1\n  pii          2\n  payment      0\n  credentials  0\n\
             \nAgents without an owner\n  AGENT  NAME\n  agt_3  Orphan\n\
             \nGrants expiring within 14 days\n  GRANT  AGENT  RESOURCE     EXPIRES\n  grt_1  agt_1  https://crm  2026-01-03T00:00:00Z (in 2d)\n\
             \nGrants approved over 30 days ago and unused for 30 days\n  none\n"
        );
    }
}
