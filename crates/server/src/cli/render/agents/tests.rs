//! Rendering of `agents list`, `agents show` and `agents register` from
//! samples of the admin API's JSON.

use serde_json::{json, Value};

use super::*;

fn render(f: impl Fn(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut out = Vec::new();
    f(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn now() -> Timestamp {
    Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap()
}

fn agent() -> Value {
    json!({
        "id": "agt_1", "client_id": "agt_1", "name": "Support triage", "platform": "agentforce",
        "vendor": "Salesforce", "owner": "jo@example.com", "purpose": "triage tickets", "environment": "prod",
        "acts_on_behalf_of": "customer", "tags": ["eu", "tier1"], "status": "active", "created_by": "admin",
        "created_at": "2025-12-01T00:00:00Z",
        "last_token": {"at": "2025-12-31T23:00:00Z", "resource": "https://crm.example.com"},
        "grants": [
            {"id": "grt_1", "resource": "https://crm.example.com", "resource_id": "res_1", "resource_name": "CRM",
             "resource_kind": "crm", "scopes": ["contacts.read", "cases.read"],
             "scope_classes": [{"name": "contacts.read", "data_class": "pii"}, {"name": "cases.read", "data_class": "internal"}],
             "status": "approved", "requested_by": "alice", "requested_at": "2025-12-01T10:00:00Z",
             "justification": "reads tickets", "approvals": [{"by": "bob", "at": "2025-12-01T11:00:00Z"}],
             "approvals_required": 1, "approved_by": "bob", "approved_at": "2025-12-01T11:00:00Z",
             "denied_by": null, "denied_at": null, "revoked_by": null, "revoked_at": null,
             "expires_at": "2026-01-31T00:00:00Z", "max_token_ttl": null},
            {"id": "grt_2", "resource": "https://pay.example.com", "resource_id": "res_2", "resource_name": "Payments",
             "resource_kind": "payments", "scopes": ["refund"], "scope_classes": [{"name": "refund", "data_class": "payment"}],
             "status": "requested", "requested_by": "alice", "requested_at": "2025-12-02T10:00:00Z",
             "justification": "refunds", "approvals": [{"by": "bob", "at": "2025-12-02T11:00:00Z"}],
             "approvals_required": 2, "approved_by": null, "approved_at": null,
             "expires_at": "2026-02-01T00:00:00Z", "max_token_ttl": 60},
            {"id": "grt_3", "resource": "https://kb.example.com", "scopes": ["read"], "status": "revoked",
             "requested_by": "alice", "requested_at": "2025-11-01T00:00:00Z", "justification": "kb",
             "approved_by": "bob", "approved_at": "2025-11-02T00:00:00Z", "revoked_by": "carol",
             "revoked_at": "2025-11-03T00:00:00Z", "expires_at": "2026-03-01T00:00:00Z"}
        ],
        "credentials": [
            {"id": "cred_1", "method": "client_secret", "created_at": "2025-12-01T00:00:00Z", "retired_at": "2025-12-15T00:00:00Z"},
            {"id": "cred_2", "method": "client_secret", "created_at": "2025-12-14T00:00:00Z", "retired_at": null}
        ],
        "kills": [
            {"killed_at": "2025-12-20T00:00:00Z", "killed_by": "carol", "reason": "leaked secret",
             "restored_at": "2025-12-21T00:00:00Z", "restored_by": "carol", "restore_reason": "rotated"}
        ]
    })
}

#[test]
fn agents_show_answers_the_three_questions_then_credentials_and_kills() {
    let text = render(|out| detail(&agent(), out, now()));
    let expected = "\
agent              agt_1
name               Support triage
client_id          agt_1
status             active
platform           agentforce
vendor             Salesforce
owner              jo@example.com
purpose            triage tickets
environment        prod
acts on behalf of  customer
tags               eu, tier1
registered         admin at 2025-12-01T00:00:00Z
last token         2025-12-31T23:00:00Z https://crm.example.com

Connected to (approved, unexpired grants)
  RESOURCE  KIND  AUDIENCE                 GRANT  EXPIRES
  CRM       crm   https://crm.example.com  grt_1  2026-01-31T00:00:00Z (in 30d)

Data it can access
  AUDIENCE                 SCOPE          DATA CLASS  GRANT
  https://crm.example.com  contacts.read  pii         grt_1
  https://crm.example.com  cases.read     internal    grt_1

Grants: who requested, who approved, when they expire
  GRANT  AUDIENCE                 STATUS                                    REQUESTED                      APPROVED BY   APPROVED AT           EXPIRES                        JUSTIFICATION
  grt_1  https://crm.example.com  approved                                  alice at 2025-12-01T10:00:00Z  bob           2025-12-01T11:00:00Z  2026-01-31T00:00:00Z (in 30d)  reads tickets
  grt_2  https://pay.example.com  requested                                 alice at 2025-12-02T10:00:00Z  bob (1 of 2)  2025-12-02T11:00:00Z  2026-02-01T00:00:00Z (in 31d)  refunds
  grt_3  https://kb.example.com   revoked by carol at 2025-11-03T00:00:00Z  alice at 2025-11-01T00:00:00Z  bob           2025-11-02T00:00:00Z  2026-03-01T00:00:00Z (in 59d)  kb

Credentials
  ID      METHOD         CREATED               RETIRED
  cred_1  client_secret  2025-12-01T00:00:00Z  2025-12-15T00:00:00Z
  cred_2  client_secret  2025-12-14T00:00:00Z  -

Kill history
  KILLED                         REASON         RESTORED                       RESTORE REASON
  carol at 2025-12-20T00:00:00Z  leaked secret  carol at 2025-12-21T00:00:00Z  rotated
";
    assert_eq!(text, expected);
}

#[test]
fn agents_list_shows_one_agent_per_row_and_when_it_last_got_a_token() {
    let mut quiet = agent();
    quiet["id"] = json!("agt_22");
    quiet["name"] = json!("Quiet");
    quiet["owner"] = json!("");
    quiet["last_token"] = Value::Null;
    let body = json!({"agents": [agent(), quiet], "next": null});
    assert_eq!(
        render(|out| list(&body, out)),
        "\
ID      NAME            PLATFORM    VENDOR      OWNER           ENVIRONMENT  STATUS  LAST TOKEN
agt_1   Support triage  agentforce  Salesforce  jo@example.com  prod         active  2025-12-31T23:00:00Z https://crm.example.com
agt_22  Quiet           agentforce  Salesforce  -               prod         active  never
"
    );
    assert_eq!(render(|out| list(&json!({"agents": []}), out)), "no agents\n");
}

#[test]
fn a_grant_without_data_classes_still_lists_its_scopes() {
    let mut old = agent();
    old["grants"] = json!([{"id": "grt_9", "resource": "https://crm", "scopes": ["a"], "status": "approved",
        "expires_at": "2026-01-02T00:00:00Z"}]);
    let text = render(|out| detail(&old, out, now()));
    assert!(text.contains("  https://crm  a      -           grt_9\n"), "{text}");
}

#[test]
fn a_registered_agent_shows_its_secret_once_and_a_jwks_agent_none() {
    let body = json!({"id": "agt_1", "client_id": "agt_1", "name": "Bot", "platform": "sap", "status": "active",
        "token_endpoint_auth_method": "client_secret_basic", "client_secret": "s3cret"});
    let text = render(|out| registered(&body, out));
    assert!(
        text.contains("client_secret        s3cret\n") && text.contains("shown only this once"),
        "{text}"
    );
    let mut jwks = body.clone();
    jwks.as_object_mut().unwrap().remove("client_secret");
    jwks["token_endpoint_auth_method"] = json!("private_key_jwt");
    let text = render(|out| registered(&jwks, out));
    assert!(!text.contains("client_secret") && !text.contains("shown only"), "{text}");
}

#[test]
fn status_changes_show_the_agent_and_its_new_status() {
    let text = render(|out| status(&json!({"id": "agt_1", "name": "Bot", "status": "suspended"}), out));
    assert_eq!(text, "agent   agt_1\nname    Bot\nstatus  suspended\n");
}
