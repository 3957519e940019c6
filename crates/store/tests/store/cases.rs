//! The cases of the conformance suite, written against `&dyn Store`.

use warrant_policy::{
    ActsOnBehalfOf, Agent, AgentStatus, Audience, ClientId, ClientKind, Credential, CredentialMethod,
    DataClass, Grant, GrantAction, GrantStatus, Operator, Platform, Resource, ResourceKind, Role, Roles,
    Scope, ScopeDefinition, ScopeSet, Timestamp,
};
use warrant_store::audit::{verify_chain, AuditEvent, AuditFilter, NewAuditEvent, GENESIS_HASH};
use warrant_store::{AgentFilter, DenylistSnapshot, Store, StoreError};

const T0: Timestamp = Timestamp(1_790_000_000);

pub(crate) fn secret_credential(client_id: &str, kind: ClientKind) -> Credential {
    Credential {
        id: format!("cred_{}", uuid::Uuid::new_v4().simple()),
        client_id: ClientId::parse(client_id).unwrap(),
        client_kind: kind,
        method: CredentialMethod::ClientSecret,
        secret_hash: Some(vec![7; 32]),
        jwks: None,
        created_at: T0,
        last_used_at: None,
        retired_at: None,
    }
}

fn operator(id: &str, roles: &[Role]) -> Operator {
    Operator {
        id: id.into(),
        client_id: ClientId::parse(id).unwrap(),
        name: format!("Operator {id}"),
        email: format!("{id}@example.com"),
        roles: Roles::new(roles.iter().copied()).unwrap(),
        created_by: "bootstrap".into(),
        created_at: T0,
    }
}

pub(crate) fn resource(id: &str, audience: &str) -> Resource {
    let scope = |name: &str, data_class| ScopeDefinition {
        name: Scope::parse(name).unwrap(),
        description: format!("{name} access"),
        data_class,
    };
    Resource {
        id: id.into(),
        client_id: ClientId::parse(id).unwrap(),
        name: "CRM".into(),
        kind: ResourceKind::Crm,
        audience: Audience::parse(audience).unwrap(),
        scopes: vec![scope("contacts:write", DataClass::Pii), scope("cases:read", DataClass::Internal)],
        created_by: "admin".into(),
        created_at: T0,
    }
}

pub(crate) fn agent(id: &str, platform: Platform, owner: &str) -> Agent {
    Agent {
        id: id.into(),
        client_id: ClientId::parse(id).unwrap(),
        name: format!("Agent {id}"),
        platform,
        vendor: "Salesforce".into(),
        owner: owner.into(),
        purpose: "answer billing questions".into(),
        environment: "production".into(),
        acts_on_behalf_of: ActsOnBehalfOf::Customer,
        tags: vec!["billing".into(), "tier-1".into()],
        status: AgentStatus::Active,
        created_by: "alice".into(),
        created_at: T0,
        last_token: None,
    }
}

pub(crate) fn grant(id: &str, agent_id: &str, r: &Resource) -> Grant {
    Grant {
        id: id.into(),
        agent_id: agent_id.into(),
        resource_id: r.id.clone(),
        audience: r.audience.clone(),
        scopes: ScopeSet::parse("cases:read").unwrap(),
        justification: "read cases".into(),
        status: GrantStatus::Requested,
        requested_by: "alice".into(),
        requested_at: T0,
        approvals: vec![],
        approvals_required: 1,
        approved_by: None,
        approved_at: None,
        denied_by: None,
        denied_at: None,
        revoked_by: None,
        revoked_at: None,
        expires_at: T0.plus(86_400),
        max_token_ttl: Some(120),
        last_used_at: None,
    }
}

pub(crate) async fn seed_agent_and_resource(store: &dyn Store) -> (Agent, Resource) {
    let r = resource("res_crm", "https://crm.example.com");
    store.insert_resource(&r, &secret_credential(&r.id, ClientKind::Resource)).await.unwrap();
    let a = agent("agt_1", Platform::Agentforce, "jane@example.com");
    store.insert_agent(&a, &secret_credential(&a.id, ClientKind::Agent)).await.unwrap();
    (a, r)
}

pub async fn the_database_answers_a_ping(store: &dyn Store) {
    store.ping().await.unwrap();
}

pub async fn an_operator_round_trips_with_its_credential(store: &dyn Store) {
    assert_eq!(store.count_operators().await.unwrap(), 0);
    let op = operator("op_alice", &[Role::Requester, Role::Viewer]);
    let cred = secret_credential("op_alice", ClientKind::Operator);
    store.insert_operator(&op, &cred).await.unwrap();
    assert_eq!(store.count_operators().await.unwrap(), 1);
    assert_eq!(store.get_operator("op_alice").await.unwrap(), Some(op.clone()));
    assert_eq!(store.list_operators().await.unwrap(), vec![op]);
    assert_eq!(store.get_operator("op_nobody").await.unwrap(), None);
    let creds = store.credentials_for_client(&ClientId::parse("op_alice").unwrap()).await.unwrap();
    assert!(creds == vec![cred], "{creds:?}");
}

pub async fn a_taken_operator_id_is_a_conflict_and_writes_nothing(store: &dyn Store) {
    let op = operator("op_alice", &[Role::Admin]);
    store.insert_operator(&op, &secret_credential("op_alice", ClientKind::Operator)).await.unwrap();
    let second = secret_credential("op_alice", ClientKind::Operator);
    let err = store.insert_operator(&op, &second).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let creds = store.credentials_for_client(&op.client_id).await.unwrap();
    assert_eq!(creds.len(), 1, "the refused insert must not leave its credential behind");
}

pub async fn a_resource_keeps_its_scope_catalogue_in_order(store: &dyn Store) {
    let r = resource("res_crm", "https://crm.example.com");
    store.insert_resource(&r, &secret_credential(&r.id, ClientKind::Resource)).await.unwrap();
    assert_eq!(store.get_resource_by_audience(&r.audience).await.unwrap(), Some(r.clone()));
    assert_eq!(store.list_resources().await.unwrap(), vec![r]);
    let other = Audience::parse("https://other.example.com").unwrap();
    assert_eq!(store.get_resource_by_audience(&other).await.unwrap(), None);
}

pub async fn a_taken_audience_is_a_conflict_and_writes_nothing(store: &dyn Store) {
    let first = resource("res_1", "https://crm.example.com");
    store.insert_resource(&first, &secret_credential("res_1", ClientKind::Resource)).await.unwrap();
    let second = resource("res_2", "https://crm.example.com");
    let err =
        store.insert_resource(&second, &secret_credential("res_2", ClientKind::Resource)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.list_resources().await.unwrap().len(), 1);
    assert!(store.credentials_for_client(&second.client_id).await.unwrap().is_empty());
}

pub async fn an_agent_round_trips_and_filters_apply(store: &dyn Store) {
    let a = agent("agt_a", Platform::Agentforce, "jane@example.com");
    let b = agent("agt_b", Platform::Dynamics365, "raj@example.com");
    for x in [&a, &b] {
        store.insert_agent(x, &secret_credential(&x.id, ClientKind::Agent)).await.unwrap();
    }
    assert_eq!(store.get_agent("agt_a").await.unwrap(), Some(a.clone()));
    assert_eq!(store.list_agents(&AgentFilter::default()).await.unwrap(), vec![a.clone(), b.clone()]);
    let by_platform = AgentFilter { platform: Some(Platform::Dynamics365), ..AgentFilter::default() };
    assert_eq!(store.list_agents(&by_platform).await.unwrap(), vec![b.clone()]);
    let by_owner = AgentFilter { owner: Some("jane@example.com".into()), ..AgentFilter::default() };
    assert_eq!(store.list_agents(&by_owner).await.unwrap(), vec![a]);
    let none = AgentFilter { status: Some(AgentStatus::Killed), ..AgentFilter::default() };
    assert!(store.list_agents(&none).await.unwrap().is_empty());
}

pub async fn an_agent_status_change_is_a_compare_and_set(store: &dyn Store) {
    let (a, _) = seed_agent_and_resource(store).await;
    assert!(store.set_agent_status(&a.id, AgentStatus::Active, AgentStatus::Suspended).await.unwrap());
    assert_eq!(store.get_agent(&a.id).await.unwrap().unwrap().status, AgentStatus::Suspended);
    assert!(
        !store.set_agent_status(&a.id, AgentStatus::Active, AgentStatus::Killed).await.unwrap(),
        "a status that moved on is not overwritten"
    );
    assert_eq!(store.get_agent(&a.id).await.unwrap().unwrap().status, AgentStatus::Suspended);
    assert!(!store
        .set_agent_status("agt_missing", AgentStatus::Active, AgentStatus::Suspended)
        .await
        .unwrap());
}

pub async fn a_grant_round_trips_with_its_audience(store: &dyn Store) {
    let (a, r) = seed_agent_and_resource(store).await;
    let g = grant("grt_1", &a.id, &r);
    store.insert_grant(&g).await.unwrap();
    assert_eq!(store.get_grant("grt_1").await.unwrap(), Some(g.clone()));
    assert_eq!(store.grants_for_agent(&a.id).await.unwrap(), vec![g]);
    assert!(store.grants_for_agent("agt_other").await.unwrap().is_empty());
}

pub async fn a_grant_update_is_a_compare_and_set(store: &dyn Store) {
    let (a, r) = seed_agent_and_resource(store).await;
    let g = grant("grt_1", &a.id, &r);
    store.insert_grant(&g).await.unwrap();
    let approved = g.apply(GrantAction::Approve, "bob", T0.plus(10)).unwrap();
    let denied = g.apply(GrantAction::Deny, "carol", T0.plus(11)).unwrap();
    assert!(store.update_grant(&approved, &g).await.unwrap());
    assert!(!store.update_grant(&denied, &g).await.unwrap(), "the second decision must lose");
    assert_eq!(store.get_grant("grt_1").await.unwrap(), Some(approved));
}

pub async fn retired_or_foreign_credentials_are_not_returned(store: &dyn Store) {
    let (a, r) = seed_agent_and_resource(store).await;
    let agent_creds = store.credentials_for_client(&a.client_id).await.unwrap();
    assert_eq!(agent_creds.len(), 1);
    assert_eq!(agent_creds[0].client_kind, ClientKind::Agent);
    let resource_creds = store.credentials_for_client(&r.client_id).await.unwrap();
    assert_eq!(resource_creds[0].client_kind, ClientKind::Resource);
    assert!(store.credentials_for_client(&ClientId::parse("nobody").unwrap()).await.unwrap().is_empty());
}

pub async fn an_assertion_jti_is_accepted_once_until_it_expires(store: &dyn Store) {
    let client = ClientId::parse("agt_1").unwrap();
    let other = ClientId::parse("agt_2").unwrap();
    assert!(store.record_assertion_jti(&client, "j1", T0.plus(60), T0).await.unwrap());
    assert!(!store.record_assertion_jti(&client, "j1", T0.plus(60), T0.plus(30)).await.unwrap());
    assert!(store.record_assertion_jti(&other, "j1", T0.plus(60), T0).await.unwrap(), "ids are per client");
    assert!(store.record_assertion_jti(&client, "j1", T0.plus(200), T0.plus(60)).await.unwrap());
}

pub async fn vendor_and_tag_filters_match_exactly(store: &dyn Store) {
    let mut a = agent("agt_a", Platform::Agentforce, "jane@example.com");
    a.tags = vec!["tier_1".into()];
    let mut b = agent("agt_b", Platform::Sap, "raj@example.com");
    b.vendor = "SAP".into();
    b.tags = vec!["tierx1".into(), "voice".into()];
    for x in [&a, &b] {
        store.insert_agent(x, &secret_credential(&x.id, ClientKind::Agent)).await.unwrap();
    }
    let by_vendor = AgentFilter { vendor: Some("SAP".into()), ..AgentFilter::default() };
    assert_eq!(store.list_agents(&by_vendor).await.unwrap(), vec![b.clone()]);
    let by_tag = AgentFilter { tag: Some("tier_1".into()), ..AgentFilter::default() };
    assert_eq!(store.list_agents(&by_tag).await.unwrap(), vec![a], "a LIKE wildcard must not match tierx1");
    let both = AgentFilter {
        tag: Some("voice".into()),
        vendor: Some("Salesforce".into()),
        ..AgentFilter::default()
    };
    assert!(store.list_agents(&both).await.unwrap().is_empty());
}

pub async fn a_kill_is_recorded_and_a_restore_closes_it(store: &dyn Store) {
    let (a, _) = seed_agent_and_resource(store).await;
    store.kill_agents(std::slice::from_ref(&a.id), T0.plus(10), "rob", "prompt injection").await.unwrap();
    assert_eq!(store.get_agent(&a.id).await.unwrap().unwrap().status, AgentStatus::Killed);
    assert!(store.restore_agent(&a.id, T0.plus(20), "rob", "fixed").await.unwrap());
    assert!(!store.restore_agent(&a.id, T0.plus(21), "rob", "again").await.unwrap(), "not killed any more");
    assert_eq!(store.get_agent(&a.id).await.unwrap().unwrap().status, AgentStatus::Active);
    let kills = store.kills_for_agent(&a.id).await.unwrap();
    assert_eq!(kills.len(), 1);
    assert_eq!((kills[0].killed_at, kills[0].reason.as_str()), (T0.plus(10), "prompt injection"));
    assert_eq!((kills[0].restored_at, kills[0].restored_by.as_deref()), (Some(T0.plus(20)), Some("rob")));
}

pub async fn the_denylist_snapshot_holds_kills_live_revocations_and_revoked_grants(store: &dyn Store) {
    let (a, r) = seed_agent_and_resource(store).await;
    store.kill_agents(std::slice::from_ref(&a.id), T0.plus(10), "rob", "x").await.unwrap();
    store.restore_agent(&a.id, T0.plus(11), "rob", "y").await.unwrap();
    store.insert_revoked_token("jti-live", &a.id, T0.plus(300), T0).await.unwrap();
    store.insert_revoked_token("jti-live", &a.id, T0.plus(300), T0).await.unwrap();
    store.insert_revoked_token("jti-dead", &a.id, T0.plus(5), T0).await.unwrap();
    let g = grant("grt_1", &a.id, &r);
    store.insert_grant(&g).await.unwrap();
    let approved = g.apply(GrantAction::Approve, "bob", T0).unwrap();
    store.update_grant(&approved, &g).await.unwrap();
    let revoked = approved.apply(GrantAction::Revoke, "bob", T0.plus(30)).unwrap();
    store.update_grant(&revoked, &approved).await.unwrap();

    let snapshot = store.denylist_snapshot(T0.plus(6)).await.unwrap();
    assert_eq!(
        snapshot,
        DenylistSnapshot {
            kills: vec![(a.id.clone(), T0.plus(10))],
            tokens: vec![("jti-live".into(), T0.plus(300))],
            grants: vec![(a.id.clone(), r.audience.to_string(), T0.plus(30))],
        },
        "a restore keeps the kill time; an expired revocation is dropped"
    );
}

pub async fn a_resource_is_found_by_its_id(store: &dyn Store) {
    let (_, r) = seed_agent_and_resource(store).await;
    assert_eq!(store.get_resource(&r.id).await.unwrap(), Some(r));
    assert_eq!(store.get_resource("res_missing").await.unwrap(), None);
}

fn audit_event(n: usize, agent: Option<&str>, action: &str) -> NewAuditEvent {
    NewAuditEvent {
        at: T0.plus(n as i64),
        actor: "op_alice".into(),
        action: action.into(),
        agent_id: agent.map(str::to_owned),
        resource: Some("https://crm.example.com".into()),
        detail: serde_json::json!({"n": n}),
    }
}

pub async fn the_audit_chain_is_appended_in_order_and_verifies(store: &dyn Store) {
    assert_eq!(store.audit_head().await.unwrap(), (0, GENESIS_HASH.to_owned()));
    store.append_audit(&[audit_event(1, Some("agt_1"), "agent.registered")]).await.unwrap();
    store
        .append_audit(&[
            audit_event(2, Some("agt_1"), "grant.requested"),
            audit_event(3, None, "operator.registered"),
        ])
        .await
        .unwrap();
    let all = store.list_audit(&AuditFilter { limit: 100, ..AuditFilter::default() }).await.unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(all[2].detail, r#"{"n":3}"#);
    let (seq, hash) = verify_chain(&all, 0, GENESIS_HASH).unwrap();
    assert_eq!(store.audit_head().await.unwrap(), (seq, hash));
}

pub async fn concurrent_audit_writers_keep_one_contiguous_chain(store: &dyn Store) {
    let writers = (0..16).map(|w| async move {
        for i in 0..4 {
            store.append_audit(&[audit_event(w * 10 + i, Some("agt_1"), "token.issued")]).await.unwrap();
        }
    });
    futures_util::future::join_all(writers).await;
    let all = store.list_audit(&AuditFilter { limit: 1_000, ..AuditFilter::default() }).await.unwrap();
    assert_eq!(all.len(), 64);
    assert_eq!(verify_chain(&all, 0, GENESIS_HASH).unwrap().0, 64);
}

pub async fn audit_filters_and_the_cursor_apply(store: &dyn Store) {
    let events: Vec<NewAuditEvent> = (1..=6)
        .map(|n| {
            audit_event(
                n,
                Some(if n % 2 == 0 { "agt_even" } else { "agt_odd" }),
                if n <= 3 { "a.one" } else { "a.two" },
            )
        })
        .collect();
    store.append_audit(&events).await.unwrap();
    let seqs = |events: Vec<AuditEvent>| events.into_iter().map(|e| e.seq).collect::<Vec<_>>();
    let even = AuditFilter { agent_id: Some("agt_even".into()), limit: 100, ..AuditFilter::default() };
    assert_eq!(seqs(store.list_audit(&even).await.unwrap()), vec![2, 4, 6]);
    let two = AuditFilter { action: Some("a.two".into()), limit: 100, ..AuditFilter::default() };
    assert_eq!(seqs(store.list_audit(&two).await.unwrap()), vec![4, 5, 6]);
    let window = AuditFilter {
        since: Some(T0.plus(2)),
        until: Some(T0.plus(4)),
        limit: 100,
        ..AuditFilter::default()
    };
    assert_eq!(seqs(store.list_audit(&window).await.unwrap()), vec![2, 3, 4]);
    let page = AuditFilter { after_seq: Some(2), limit: 2, ..AuditFilter::default() };
    assert_eq!(seqs(store.list_audit(&page).await.unwrap()), vec![3, 4]);
}

pub async fn two_first_approvals_cannot_both_be_recorded(store: &dyn Store) {
    let (a, r) = seed_agent_and_resource(store).await;
    let g = Grant { approvals_required: 2, ..grant("grt_2", &a.id, &r) };
    store.insert_grant(&g).await.unwrap();
    let by_bob = g.apply(GrantAction::Approve, "bob", T0).unwrap();
    let by_carol = g.apply(GrantAction::Approve, "carol", T0).unwrap();
    assert!(store.update_grant(&by_bob, &g).await.unwrap());
    assert!(!store.update_grant(&by_carol, &g).await.unwrap(), "carol's write saw a stale approval list");
    let stored = store.get_grant("grt_2").await.unwrap().unwrap();
    assert_eq!((stored.status, stored.approvals.len()), (GrantStatus::Requested, 1));
    let both = stored.apply(GrantAction::Approve, "carol", T0.plus(1)).unwrap();
    assert!(store.update_grant(&both, &stored).await.unwrap());
    assert_eq!(store.get_grant("grt_2").await.unwrap().unwrap().status, GrantStatus::Approved);
}

pub async fn credentials_are_added_up_to_a_limit_and_the_last_one_cannot_be_retired(store: &dyn Store) {
    let (a, _) = seed_agent_and_resource(store).await;
    let second = secret_credential(&a.id, ClientKind::Agent);
    assert!(store.add_credential(&second, 2).await.unwrap());
    assert!(
        !store.add_credential(&secret_credential(&a.id, ClientKind::Agent), 2).await.unwrap(),
        "limit reached"
    );
    let live = store.credentials_for_client(&a.client_id).await.unwrap();
    assert_eq!(live.len(), 2);
    assert!(store.retire_credential(&a.client_id, &live[0].id, T0.plus(5)).await.unwrap());
    assert!(
        !store.retire_credential(&a.client_id, &live[0].id, T0.plus(6)).await.unwrap(),
        "already retired"
    );
    assert!(
        !store.retire_credential(&a.client_id, &second.id, T0.plus(7)).await.unwrap(),
        "the last live one stays"
    );
    let all = store.all_credentials_for_client(&a.client_id).await.unwrap();
    assert_eq!(all.iter().map(|c| c.retired_at).collect::<Vec<_>>(), vec![Some(T0.plus(5)), None]);
    assert_eq!(store.credentials_for_client(&a.client_id).await.unwrap().len(), 1);
}

pub async fn a_token_issued_event_records_last_use_in_the_same_commit(store: &dyn Store) {
    let (a, r) = seed_agent_and_resource(store).await;
    let g = grant("grt_1", &a.id, &r);
    store.insert_grant(&g).await.unwrap();
    let approved = g.apply(GrantAction::Approve, "bob", T0).unwrap();
    store.update_grant(&approved, &g).await.unwrap();
    let credential = store.credentials_for_client(&a.client_id).await.unwrap().remove(0);
    let issued = NewAuditEvent {
        at: T0.plus(40),
        actor: a.id.clone(),
        action: "token.issued".into(),
        agent_id: Some(a.id.clone()),
        resource: Some(r.audience.to_string()),
        detail: serde_json::json!({"credential_id": credential.id}),
    };
    // In one batch, an earlier token of the same agent after the later one:
    // the last use stays the latest.
    let earlier = NewAuditEvent { at: T0.plus(30), ..issued.clone() };
    store.append_audit(&[issued, earlier]).await.unwrap();
    let agent = store.get_agent(&a.id).await.unwrap().unwrap();
    let last = agent.last_token.unwrap();
    assert_eq!((last.at, last.resource.as_str()), (T0.plus(40), r.audience.as_str()));
    assert_eq!(store.get_grant("grt_1").await.unwrap().unwrap().last_used_at, Some(T0.plus(40)));
    assert_eq!(store.credentials_for_client(&a.client_id).await.unwrap()[0].last_used_at, Some(T0.plus(40)));
}

pub async fn agents_page_in_creation_order_and_filter_by_resource_reached(store: &dyn Store) {
    let (a, r) = seed_agent_and_resource(store).await;
    let mut others = Vec::new();
    for n in 0..4 {
        let x =
            Agent { created_at: T0.plus(n), ..agent(&format!("agt_p{n}"), Platform::Ccaas, "o@example.com") };
        store.insert_agent(&x, &secret_credential(&x.id, ClientKind::Agent)).await.unwrap();
        others.push(x.id);
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_agents(&AgentFilter { after: after.clone(), limit: Some(2), ..AgentFilter::default() })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|x| (x.created_at, x.id.clone()));
        seen.extend(page.into_iter().map(|x| x.id));
    }
    let all: Vec<String> =
        store.list_agents(&AgentFilter::default()).await.unwrap().into_iter().map(|x| x.id).collect();
    assert_eq!(seen, all);
    assert_eq!(all.len(), 5);

    let g = grant("grt_1", &a.id, &r);
    store.insert_grant(&g).await.unwrap();
    let reach = AgentFilter { resource: Some(r.audience.to_string()), at: T0, ..AgentFilter::default() };
    assert!(store.list_agents(&reach).await.unwrap().is_empty(), "a requested grant reaches nothing");
    store.update_grant(&g.apply(GrantAction::Approve, "bob", T0).unwrap(), &g).await.unwrap();
    assert_eq!(
        store.list_agents(&reach).await.unwrap().into_iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![a.id]
    );
    let later = AgentFilter { at: g.expires_at, ..reach };
    assert!(store.list_agents(&later).await.unwrap().is_empty(), "an expired grant reaches nothing");
}
