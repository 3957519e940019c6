//! Every command line the operator commands accept, and the ones they refuse.

use super::*;

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(String::from).collect()
}

fn admin(line: &str) -> Invocation {
    match parse(&words(line)) {
        Ok(Command::Admin(invocation)) => *invocation,
        other => panic!("{line}: {other:?}"),
    }
}

fn action(line: &str) -> Action {
    admin(line).action
}

fn refused(line: &str) -> String {
    match parse(&words(line)) {
        Err(CliError::Usage(reason)) => reason,
        other => panic!("{line} should be refused: {other:?}"),
    }
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

#[test]
fn serve_audit_verify_openapi_and_help_keep_their_meaning() {
    assert_eq!(parse(&words("serve")).unwrap(), Command::Serve);
    assert_eq!(parse(&words("audit verify")).unwrap(), Command::AuditVerify);
    assert_eq!(parse(&words("openapi")).unwrap(), Command::OpenApi);
    for line in ["help", "--help", "-h", "agents list --help", "grants request -h"] {
        assert_eq!(parse(&words(line)).unwrap(), Command::Help, "{line}");
    }
    refused("serve --json");
    refused("audit verify now");
    refused("openapi --json");
}

#[test]
fn migrate_and_the_keys_commands_are_local_commands() {
    assert_eq!(parse(&words("migrate")).unwrap(), Command::Migrate);
    assert_eq!(parse(&words("keys list")).unwrap(), Command::KeysList);
    assert_eq!(parse(&words("keys rotate")).unwrap(), Command::KeysRotate);
    refused("migrate now");
    refused("keys rotate --force");
    assert!(refused("keys").contains("list or rotate"));
    assert!(refused("keys delete").contains("list or rotate"));
}

#[test]
fn no_command_an_unknown_command_or_a_bare_noun_is_bad_usage() {
    assert_eq!(refused(""), "no command given");
    assert!(refused("frobnicate").contains("unknown command: frobnicate"));
    assert!(refused("agents").contains("agents needs a subcommand"));
    assert!(refused("agents delete agt_1").contains("unknown command: agents delete"));
    assert!(refused("audit").contains("needs a subcommand"));
}

#[test]
fn agents_list_takes_every_filter_and_json() {
    let invocation =
        admin("agents list --platform sap --vendor SAP --status active --owner jo --tag eu --resource https://crm --json");
    assert!(invocation.json);
    assert_eq!(
        invocation.action,
        Action::AgentsList(AgentFilter {
            platform: Some("sap".into()),
            vendor: Some("SAP".into()),
            status: Some("active".into()),
            owner: Some("jo".into()),
            tag: Some("eu".into()),
            resource: Some("https://crm".into()),
        })
    );
    assert_eq!(action("agents list"), Action::AgentsList(AgentFilter::default()));
    assert!(!admin("agents list").json);
}

#[test]
fn options_take_the_equals_form_and_an_empty_value_is_no_filter() {
    assert_eq!(
        action("agents list --owner= --platform=sap"),
        Action::AgentsList(AgentFilter { platform: Some("sap".into()), ..AgentFilter::default() })
    );
}

#[test]
fn agents_show_suspend_and_resume_take_one_id() {
    assert_eq!(action("agents show agt_1"), Action::AgentsShow { id: "agt_1".into() });
    assert!(admin("agents show agt_1 --json").json);
    assert_eq!(action("agents suspend agt_1"), Action::AgentsSuspend { id: "agt_1".into() });
    assert_eq!(action("agents resume agt_1"), Action::AgentsResume { id: "agt_1".into() });
    assert!(refused("agents show").contains("takes ID"));
    refused("agents show a b");
    refused("agents suspend");
}

#[test]
fn ids_that_would_change_the_url_path_are_refused() {
    for id in ["..", ".", "a/b", "a?b", "a%2F", "a#b"] {
        let line = vec!["agents".to_owned(), "show".to_owned(), id.to_owned()];
        assert!(matches!(parse(&line), Err(CliError::Usage(_))), "{id}");
    }
}

#[test]
fn agents_register_collects_every_field_and_repeated_tags() {
    let line = "agents register --name Bot --platform agentforce --vendor Salesforce --owner jo@example.com \
                --purpose triage --environment prod --acts-on-behalf-of customer --tag eu --tag tier1 --jwks k.json";
    assert_eq!(
        action(line),
        Action::AgentsRegister(NewAgent {
            name: "Bot".into(),
            platform: "agentforce".into(),
            vendor: Some("Salesforce".into()),
            owner: Some("jo@example.com".into()),
            purpose: Some("triage".into()),
            environment: Some("prod".into()),
            acts_on_behalf_of: Some("customer".into()),
            tags: vec!["eu".into(), "tier1".into()],
            jwks: Some(PathBuf::from("k.json")),
        })
    );
    assert_eq!(
        action("agents register --name Bot --platform sap"),
        Action::AgentsRegister(NewAgent {
            name: "Bot".into(),
            platform: "sap".into(),
            ..NewAgent::default()
        })
    );
}

#[test]
fn a_value_with_spaces_is_one_argument() {
    let line: Vec<String> = ["agents", "register", "--name", "Billing helper", "--platform", "sap"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let Ok(Command::Admin(invocation)) = parse(&line) else { panic!("not parsed") };
    let Action::AgentsRegister(agent) = invocation.action else { panic!("not agents register") };
    assert_eq!(agent.name, "Billing helper");
}

#[test]
fn agents_register_refuses_missing_required_repeated_or_unknown_options() {
    assert_eq!(refused("agents register --platform sap"), "--name is required");
    assert_eq!(refused("agents register --name Bot"), "--platform is required");
    assert_eq!(refused("agents register --name A --name B --platform sap"), "--name given twice");
    assert_eq!(refused("agents register --name A --platform sap --color red"), "unknown option --color");
    assert_eq!(refused("agents register --name A --platform"), "--platform needs a value");
    refused("agents register extra --name A --platform sap");
}

#[test]
fn no_option_takes_a_secret() {
    for line in [
        "agents list --client-secret x",
        "agents list --secret x",
        "report --client_secret=x",
        "agents list --token x",
    ] {
        assert!(refused(line).starts_with("unknown option"), "{line}");
    }
}

#[test]
fn credentials_commands_parse() {
    assert_eq!(action("credentials list agt_1"), Action::CredentialsList { agent_id: "agt_1".into() });
    assert_eq!(
        action("credentials add agt_1"),
        Action::CredentialsAdd { agent_id: "agt_1".into(), jwks: None }
    );
    assert_eq!(
        action("credentials add agt_1 --jwks new.json"),
        Action::CredentialsAdd { agent_id: "agt_1".into(), jwks: Some(PathBuf::from("new.json")) }
    );
    assert_eq!(
        action("credentials retire agt_1 cred_1"),
        Action::CredentialsRetire { agent_id: "agt_1".into(), credential_id: "cred_1".into() }
    );
    refused("credentials retire agt_1");
    refused("credentials list");
}

#[test]
fn resources_commands_parse_scopes_as_name_class_description() {
    assert_eq!(action("resources list"), Action::ResourcesList);
    refused("resources list extra");
    let line: Vec<String> = [
        "resources",
        "register",
        "--name",
        "CRM",
        "--kind",
        "crm",
        "--audience",
        "https://crm.example.com",
        "--scope",
        "contacts.read:pii:Read contacts: names, emails",
        "--scope",
        "cases.read:internal",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(
        parse(&line).unwrap(),
        Command::Admin(Box::new(Invocation {
            action: Action::ResourcesRegister(NewResource {
                name: "CRM".into(),
                kind: "crm".into(),
                audience: "https://crm.example.com".into(),
                scopes: vec![
                    ScopeArg {
                        name: "contacts.read".into(),
                        data_class: "pii".into(),
                        description: "Read contacts: names, emails".into()
                    },
                    ScopeArg {
                        name: "cases.read".into(),
                        data_class: "internal".into(),
                        description: String::new()
                    },
                ],
            }),
            json: false,
        }))
    );
    assert!(refused("resources register --name C --kind crm --audience https://c")
        .contains("at least one --scope"));
    assert!(refused("resources register --name C --kind crm --audience https://c --scope nodataclass")
        .contains("NAME:DATA_CLASS"));
    assert_eq!(
        action("resources access res_1 --data-class pii"),
        Action::ResourcesAccess { id: "res_1".into(), data_class: Some("pii".into()) }
    );
    assert_eq!(
        action("resources access res_1"),
        Action::ResourcesAccess { id: "res_1".into(), data_class: None }
    );
    refused("resources access");
}

#[test]
fn grants_request_parses_scopes_expiry_and_ttl() {
    let line = "grants request agt_1 --resource https://crm --scope contacts.read --scope cases.read \
                --justification triage --expires-at 2026-12-31T00:00:00Z --max-token-ttl 120";
    assert_eq!(
        action(line),
        Action::GrantsRequest(NewGrant {
            agent_id: "agt_1".into(),
            resource: "https://crm".into(),
            scopes: vec!["contacts.read".into(), "cases.read".into()],
            justification: "triage".into(),
            expires_at: at("2026-12-31T00:00:00Z"),
            max_token_ttl: Some(120),
        })
    );
}

#[test]
fn grants_request_refuses_bad_expiry_ttl_or_missing_fields() {
    let base = "grants request agt_1 --resource https://crm --scope a --justification j";
    assert!(refused(&format!("{base} --expires-at tomorrow")).contains("RFC 3339"));
    assert!(
        refused(&format!("{base} --expires-at 2026-12-31T00:00:00Z --max-token-ttl ten")).contains("seconds")
    );
    assert_eq!(refused(base), "--expires-at is required");
    assert!(refused(
        "grants request agt_1 --resource https://crm --justification j --expires-at 2026-12-31T00:00:00Z"
    )
    .contains("at least one --scope"));
    refused(
        "grants request --resource https://crm --scope a --justification j --expires-at 2026-12-31T00:00:00Z",
    );
}

#[test]
fn grants_approve_deny_and_revoke_take_a_grant_id() {
    for (word, decision) in
        [("approve", Decision::Approve), ("deny", Decision::Deny), ("revoke", Decision::Revoke)]
    {
        assert_eq!(
            action(&format!("grants {word} grt_1")),
            Action::GrantsDecide { id: "grt_1".into(), decision },
        );
        refused(&format!("grants {word}"));
    }
    refused("grants expire grt_1");
}

#[test]
fn kill_takes_an_agent_or_selectors_and_always_a_reason() {
    assert_eq!(
        action("kill agt_1 --reason leak"),
        Action::Kill { target: KillTarget::Agent("agt_1".into()), reason: "leak".into() }
    );
    assert_eq!(
        action("kill --platform sap --tag eu --reason incident"),
        Action::Kill {
            target: KillTarget::Matching {
                platform: Some("sap".into()),
                vendor: None,
                tag: Some("eu".into())
            },
            reason: "incident".into(),
        }
    );
    assert_eq!(
        action("kill --vendor Acme --reason r"),
        Action::Kill {
            target: KillTarget::Matching { platform: None, vendor: Some("Acme".into()), tag: None },
            reason: "r".into()
        }
    );
    assert_eq!(refused("kill agt_1"), "--reason is required");
    assert!(refused("kill --reason r").contains("at least one of"));
    assert!(refused("kill agt_1 --platform sap --reason r").contains("not both"));
    refused("kill agt_1 agt_2 --reason r");
}

#[test]
fn restore_takes_an_agent_and_a_reason() {
    assert_eq!(
        action("restore agt_1 --reason fixed"),
        Action::Restore { id: "agt_1".into(), reason: "fixed".into() }
    );
    assert_eq!(refused("restore agt_1"), "--reason is required");
    refused("restore --reason fixed");
}

#[test]
fn audit_tail_and_export_parse_their_options() {
    assert_eq!(action("audit tail"), Action::AuditTail { agent: None, action: None, limit: DEFAULT_TAIL });
    assert_eq!(
        action("audit tail --agent agt_1 --action token.issued --limit 5"),
        Action::AuditTail { agent: Some("agt_1".into()), action: Some("token.issued".into()), limit: 5 }
    );
    assert!(refused("audit tail --limit 0").contains("positive"));
    assert!(refused("audit tail --limit many").contains("positive"));
    assert_eq!(action("audit export"), Action::AuditExport { since: None });
    assert_eq!(
        action("audit export --since 2026-01-01T00:00:00Z"),
        Action::AuditExport { since: Some(at("2026-01-01T00:00:00Z")) }
    );
    assert!(refused("audit export --since yesterday").contains("RFC 3339"));
    refused("audit export --until 2026-01-01T00:00:00Z");
}

#[test]
fn report_takes_only_json() {
    assert_eq!(action("report"), Action::Report);
    assert!(admin("report --json").json);
    refused("report everything");
}

#[test]
fn double_dash_ends_the_options() {
    assert!(refused("agents show -x").contains("unknown option -x"));
    assert_eq!(action("agents show -- agt_1"), Action::AgentsShow { id: "agt_1".into() });
}
