//! `audit tail`: audit events as a table (`audit export` writes JSON Lines
//! and needs no renderer).

use std::io::{self, Write};

use serde_json::Value;

use crate::cli::table::Table;
use crate::cli::value::text;

/// Events oldest first, one per row; the detail as compact JSON, last so a
/// long one does not push the other columns apart.
pub fn events(events: &[Value], out: &mut dyn Write) -> io::Result<()> {
    if events.is_empty() {
        return writeln!(out, "no events");
    }
    let mut table = Table::new(&["SEQ", "AT", "ACTOR", "ACTION", "AGENT", "RESOURCE", "DETAIL"]);
    for event in events {
        table.row(vec![
            text(event, "seq"),
            text(event, "at"),
            text(event, "actor"),
            text(event, "action"),
            text(event, "agent_id"),
            text(event, "resource"),
            text(event, "detail"),
        ]);
    }
    table.write(out, 0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn events_render_one_per_row_with_compact_detail() {
        let events = vec![
            json!({"seq": 9, "at": "2026-01-01T00:00:00Z", "actor": "admin", "action": "agent.registered",
                "agent_id": "agt_1", "resource": null, "detail": {"name": "Bot"}, "prev_hash": "a", "hash": "b"}),
            json!({"seq": 10, "at": "2026-01-01T00:00:01Z", "actor": "agt_1", "action": "token.issued",
                "agent_id": "agt_1", "resource": "https://crm", "detail": {}, "prev_hash": "b", "hash": "c"}),
        ];
        let mut out = Vec::new();
        super::events(&events, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "SEQ  AT                    ACTOR  ACTION            AGENT  RESOURCE     DETAIL\n\
             9    2026-01-01T00:00:00Z  admin  agent.registered  agt_1  -            {\"name\":\"Bot\"}\n\
             10   2026-01-01T00:00:01Z  agt_1  token.issued      agt_1  https://crm  {}\n"
        );
    }

    #[test]
    fn no_events_says_so() {
        let mut out = Vec::new();
        events(&[], &mut out).unwrap();
        assert_eq!(out, b"no events\n");
    }
}
