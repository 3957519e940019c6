//! A fleet built through the admin API, and the test's own model of it: 36
//! agents on all six platforms, four resources with a scope of every data
//! class, grants in every state over two moments 35 days apart, tokens
//! before and after the clock moved, suspended and killed agents. The figures
//! the server should report are computed here from the model alone.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::denylist::unix_of;
use crate::governance::CLASSES;
use crate::helpers::{Operator, TestApp};

pub const PLATFORMS: [&str; 6] = ["dynamics365", "agentforce", "sap", "ccaas", "internal", "other"];
pub const VENDORS: [&str; 4] = ["Microsoft", "Salesforce", "SAP", "Genesys"];
pub const OWNERS: [&str; 3] = ["ana@example.com", "bo@example.com", "cy@example.com"];
pub const TAGS: [&str; 2] = ["billing", "voice"];
pub const AGENTS: usize = 36;
/// The agent whose name needs quoting in CSV.
pub const QUOTED_AGENT: usize = 7;
pub const QUOTED_NAME: &str = r#"Billing, "Gold" bot"#;
pub const DAY: i64 = 86_400;
/// How far the clock moves between the two moments.
const GAP: i64 = 35 * DAY;
const RESOURCES: [(&str, &str); 4] =
    [("CRM", "crm"), ("Payments hub", "payments"), ("Tickets", "ticketing"), ("Knowledge base", "knowledge")];
/// The data classes of the scopes a grant asks for, by pattern.
const CLASS_SETS: [&[&str]; 5] =
    [&["public"], &["internal", "pii"], &["pii"], &["payment", "internal"], &["credentials"]];

/// The scope of each data class, the same on every resource.
pub fn scope_of(class: &str) -> &'static str {
    match class {
        "public" => "catalog",
        "internal" => "notes",
        "pii" => "contacts",
        "payment" => "charges",
        "credentials" => "vault",
        other => panic!("no data class {other}"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fate {
    /// Never decided.
    Requested,
    /// One approval of the two its classes call for.
    HalfApproved,
    Approved,
    Denied,
    /// Approved, then revoked.
    Revoked,
}

pub struct ModelAgent {
    pub id: String,
    pub client_id: String,
    pub secret: String,
    pub name: String,
    pub platform: &'static str,
    pub vendor: &'static str,
    pub owner: &'static str,
    pub tags: Vec<&'static str>,
    pub status: &'static str,
    /// (unix time, audience) of the last token issued.
    pub last_token: Option<(i64, String)>,
}

pub struct ModelResource {
    pub id: String,
    pub name: &'static str,
    pub kind: &'static str,
    pub audience: String,
}

pub struct ModelGrant {
    pub id: String,
    pub agent: usize,
    pub resource: usize,
    pub classes: Vec<&'static str>,
    pub fate: Fate,
    pub approved_at: Option<i64>,
    pub expires_at: i64,
}

impl ModelGrant {
    pub fn two_person(&self) -> bool {
        self.classes.iter().any(|c| *c == "payment" || *c == "credentials")
    }

    /// Approved and not past expires_at at `now`.
    pub fn live(&self, now: i64) -> bool {
        self.fate == Fate::Approved && self.expires_at > now
    }

    pub fn status(&self, now: i64) -> &'static str {
        match self.fate {
            Fate::Approved if self.expires_at <= now => "expired",
            Fate::Approved => "approved",
            Fate::Requested | Fate::HalfApproved => "requested",
            Fate::Denied => "denied",
            Fate::Revoked => "revoked",
        }
    }
}

/// One agent's access on one resource as `GET /resources/{id}/access` lists it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Access {
    pub agent_id: String,
    pub name: String,
    pub platform: String,
    pub status: String,
    pub owner: String,
    pub scopes: Vec<(String, String)>,
    pub expires_at: i64,
}

pub struct Inventory {
    pub agents: Vec<ModelAgent>,
    pub resources: Vec<ModelResource>,
    pub grants: Vec<ModelGrant>,
    /// The server's time when the building ended (the clock stays there).
    pub now: i64,
    /// Tokens issued, as (unix time, agent index, resource index).
    pub tokens: Vec<(i64, usize, usize)>,
}

/// What to ask for in one grant.
struct Plan {
    agent: usize,
    resource: usize,
    classes: &'static [&'static str],
    fate: Fate,
    expires_in: i64,
}

/// Every fifth agent has no owner.
fn owner(i: usize) -> &'static str {
    if i.is_multiple_of(5) {
        ""
    } else {
        OWNERS[i % 3]
    }
}

fn agent_body(i: usize) -> Value {
    let mut tags = Vec::new();
    if i.is_multiple_of(2) {
        tags.push(TAGS[0]);
    }
    if i.is_multiple_of(3) {
        tags.push(TAGS[1]);
    }
    let acts_on_behalf_of = ["none", "customer", "employee"][i % 3];
    let name = if i == QUOTED_AGENT { QUOTED_NAME.to_owned() } else { format!("agent {i:02}") };
    json!({
        "name": name,
        "platform": PLATFORMS[i % 6],
        "vendor": VENDORS[i % 4],
        "owner": owner(i),
        "purpose": format!("purpose of agent {i}"),
        "environment": if i.is_multiple_of(2) { "production" } else { "staging" },
        "acts_on_behalf_of": acts_on_behalf_of,
        "tags": tags,
    })
}

/// The first grant of agent `i`, asked for at the first moment.
fn first_plan(i: usize) -> Plan {
    let fate = match i % 7 {
        3 => Fate::Denied,
        5 => Fate::Requested,
        6 => Fate::Revoked,
        _ => Fate::Approved,
    };
    // Approved grants: some expire before the second moment, some within 14
    // days after it, the others later.
    let expires_in = match (fate, i % 4) {
        (Fate::Approved, 0) => 10 * DAY,
        (Fate::Approved, 1) => 40 * DAY,
        _ => 80 * DAY,
    };
    Plan { agent: i, resource: i % 4, classes: CLASS_SETS[i % 5], fate, expires_in }
}

/// The grants of agent `i` asked for at the second moment.
fn second_plans(i: usize) -> Vec<Plan> {
    let classes = CLASS_SETS[(i + 2) % 5];
    let two_person = classes.iter().any(|c| *c == "payment" || *c == "credentials");
    let fate = match i % 8 {
        3 => Fate::Requested,
        6 if two_person => Fate::HalfApproved,
        _ => Fate::Approved,
    };
    let expires_in = if i.is_multiple_of(3) { 7 * DAY } else { 60 * DAY };
    let mut plans = vec![Plan { agent: i, resource: (i + 1) % 4, classes, fate, expires_in }];
    if i % 6 == 1 {
        // A second grant on the resource of its first grant.
        plans.push(Plan {
            agent: i,
            resource: i % 4,
            classes: &["public"],
            fate: Fate::Approved,
            expires_in: 20 * DAY,
        });
    }
    plans
}

/// Everything the building needs to act.
struct Crew {
    requester: Operator,
    first: Operator,
    second: Operator,
}

impl Inventory {
    /// Builds the fleet on `app` (moving its clock 35 days) and returns the model.
    pub async fn build(app: &mut TestApp) -> Inventory {
        let mut crew = Crew {
            requester: app.create_operator(&["requester"]).await,
            first: app.create_operator(&["approver"]).await,
            second: app.create_operator(&["approver"]).await,
        };
        let mut inventory = Inventory {
            agents: Vec::new(),
            resources: Vec::new(),
            grants: Vec::new(),
            now: 0,
            tokens: Vec::new(),
        };
        let scopes: Vec<(&str, &str)> = CLASSES.iter().map(|class| (scope_of(class), *class)).collect();
        for (name, kind) in RESOURCES {
            let resource = app.create_classified_resource(name, kind, &scopes).await;
            inventory.resources.push(ModelResource {
                id: resource.id,
                name,
                kind,
                audience: resource.audience,
            });
        }
        for i in 0..AGENTS {
            let body = agent_body(i);
            let agent = app.register_agent(&crew.requester.token, &body).await;
            inventory.agents.push(ModelAgent {
                id: agent.id,
                client_id: agent.client_id,
                secret: agent.secret.expect("an agent registered without jwks has a secret"),
                name: body["name"].as_str().expect("a name").to_owned(),
                platform: PLATFORMS[i % 6],
                vendor: VENDORS[i % 4],
                owner: owner(i),
                tags: body["tags"].as_array().expect("tags").iter().map(|t| tag(t.as_str())).collect(),
                status: "active",
                last_token: None,
            });
        }

        // The first moment: first grants, and tokens for every third agent.
        let mut revoke_later = Vec::new();
        for i in 0..AGENTS {
            let plan = first_plan(i);
            let fate = if plan.fate == Fate::Revoked { Fate::Approved } else { plan.fate };
            let index = inventory.grant(app, &crew, &plan, fate).await;
            if plan.fate == Fate::Revoked {
                revoke_later.push(index);
            }
        }
        for i in (0..AGENTS).step_by(3) {
            inventory.token_if_live(app, i, first_plan(i).resource).await;
        }

        app.clock.advance(GAP);
        app.renew_admin_token().await;
        for operator in [&mut crew.requester, &mut crew.first, &mut crew.second] {
            app.renew(operator).await;
        }

        // The second moment: revocations, new grants, tokens, status changes.
        for index in revoke_later {
            let grant_id = inventory.grants[index].id.clone();
            let response = app.revoke(&crew.first.token, &grant_id).await;
            assert_eq!(response.status(), reqwest::StatusCode::OK, "revoking {grant_id}");
            inventory.grants[index].fate = Fate::Revoked;
        }
        // A revocation kills the agent's tokens for that resource issued in
        // its second too, so the server refuses to issue them: move on.
        app.clock.advance(1);
        for i in 0..AGENTS {
            for plan in second_plans(i) {
                inventory.grant(app, &crew, &plan, plan.fate).await;
            }
        }
        for i in 0..AGENTS {
            match i % 3 {
                1 => inventory.token_if_live(app, i, first_plan(i).resource).await,
                2 => inventory.token_if_live(app, i, (i + 1) % 4).await,
                _ => {}
            }
        }
        for i in 0..AGENTS {
            match i % 9 {
                4 => {
                    app.suspend_ok(&inventory.agents[i].id).await;
                    inventory.agents[i].status = "suspended";
                }
                8 => {
                    app.kill_ok(&inventory.agents[i].id, "inventory drill").await;
                    inventory.agents[i].status = "killed";
                }
                _ => {}
            }
        }
        inventory.now = app.now();
        inventory
    }

    /// Requests the planned grant and takes it to `fate`; returns its index.
    async fn grant(&mut self, app: &TestApp, crew: &Crew, plan: &Plan, fate: Fate) -> usize {
        let scopes: Vec<&str> = plan.classes.iter().map(|class| scope_of(class)).collect();
        let audience = self.resources[plan.resource].audience.clone();
        let body = app.grant_body(&audience, &scopes, plan.expires_in, None);
        let agent_id = self.agents[plan.agent].id.clone();
        let grant_id = app.requested_grant(&crew.requester, &agent_id, &body).await;
        let mut grant = ModelGrant {
            id: grant_id.clone(),
            agent: plan.agent,
            resource: plan.resource,
            classes: plan.classes.to_vec(),
            fate,
            approved_at: None,
            expires_at: app.now() + plan.expires_in,
        };
        match fate {
            Fate::Requested => {}
            Fate::Denied => {
                let response = app.deny(&crew.first.token, &grant_id).await;
                assert_eq!(response.status(), reqwest::StatusCode::OK, "denying {grant_id}");
            }
            Fate::HalfApproved => {
                assert!(grant.two_person(), "only a two-person grant can be half approved");
                let answer = app.approve_ok(&crew.first, &grant_id).await;
                assert_eq!(answer["status"], "requested", "after one approval of two: {answer}");
            }
            Fate::Approved | Fate::Revoked => {
                let mut answer = app.approve_ok(&crew.first, &grant_id).await;
                if grant.two_person() {
                    answer = app.approve_ok(&crew.second, &grant_id).await;
                }
                assert_eq!(answer["status"], "approved", "{answer}");
                grant.approved_at = Some(unix_of(&answer, "approved_at"));
                assert_eq!(grant.approved_at, Some(app.now()));
            }
        }
        self.grants.push(grant);
        self.grants.len() - 1
    }

    /// Gets a token of agent `i` for `resource` when the model says it holds a
    /// live grant there, and records it.
    async fn token_if_live(&mut self, app: &TestApp, i: usize, resource: usize) {
        let now = app.now();
        if !self.grants.iter().any(|g| g.agent == i && g.resource == resource && g.live(now)) {
            return;
        }
        let agent = &self.agents[i];
        let audience = self.resources[resource].audience.clone();
        app.token_for(&agent.client_id, &agent.secret, &audience).await;
        self.agents[i].last_token = Some((now, audience));
        self.tokens.push((now, i, resource));
    }

    // ---- The figures the server should report ----

    pub fn live_grants(&self) -> impl Iterator<Item = &ModelGrant> {
        self.grants.iter().filter(|g| g.live(self.now))
    }

    /// Agents (indices, in creation order) holding a live grant on `resource`.
    pub fn holders(&self, resource: usize) -> Vec<usize> {
        let set: BTreeSet<usize> =
            self.live_grants().filter(|g| g.resource == resource).map(|g| g.agent).collect();
        set.into_iter().collect()
    }

    /// Audiences an agent holds a live grant on, sorted.
    pub fn reach(&self, agent: usize) -> Vec<String> {
        let set: BTreeSet<String> = self
            .live_grants()
            .filter(|g| g.agent == agent)
            .map(|g| self.resources[g.resource].audience.clone())
            .collect();
        set.into_iter().collect()
    }

    /// The access list of `resource`, restricted to `class` when given, sorted.
    /// With a class, only the grants holding a scope of it count, for the
    /// scopes and for the earliest expiry.
    pub fn access(&self, resource: usize, class: Option<&str>) -> Vec<Access> {
        let mut access = Vec::new();
        for agent in self.holders(resource) {
            let grants: Vec<&ModelGrant> = self
                .live_grants()
                .filter(|g| g.agent == agent && g.resource == resource)
                .filter(|g| class.is_none_or(|wanted| g.classes.contains(&wanted)))
                .collect();
            let scopes: BTreeSet<(String, String)> = grants
                .iter()
                .flat_map(|g| g.classes.iter())
                .filter(|c| class.is_none_or(|wanted| wanted == **c))
                .map(|c| (scope_of(c).to_owned(), (*c).to_owned()))
                .collect();
            let Some(expires_at) = grants.iter().map(|g| g.expires_at).min() else {
                continue;
            };
            let model = &self.agents[agent];
            access.push(Access {
                agent_id: model.id.clone(),
                name: model.name.clone(),
                platform: model.platform.to_owned(),
                status: model.status.to_owned(),
                owner: model.owner.to_owned(),
                scopes: scopes.into_iter().collect(),
                expires_at,
            });
        }
        access.sort();
        access
    }

    /// `{"agents": ..., "data_classes": ...}` sections of the report.
    pub fn counts(&self) -> (Value, Value) {
        let by_platform: BTreeMap<&str, usize> =
            PLATFORMS.iter().map(|p| (*p, self.agents.iter().filter(|a| a.platform == *p).count())).collect();
        let by_status: BTreeMap<&str, usize> = ["active", "suspended", "killed"]
            .iter()
            .map(|s| (*s, self.agents.iter().filter(|a| a.status == *s).count()))
            .collect();
        let classes: BTreeMap<&str, usize> = CLASSES
            .iter()
            .map(|class| {
                let holders: BTreeSet<usize> =
                    self.live_grants().filter(|g| g.classes.contains(class)).map(|g| g.agent).collect();
                (*class, holders.len())
            })
            .collect();
        let agents = json!({"total": self.agents.len(), "by_platform": by_platform, "by_status": by_status});
        (agents, json!(classes))
    }

    /// Sorted (agent id, name) of the agents without an owner.
    pub fn without_owner(&self) -> Vec<(String, String)> {
        let mut list: Vec<(String, String)> = self
            .agents
            .iter()
            .filter(|a| a.owner.is_empty())
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect();
        list.sort();
        list
    }

    /// Sorted (grant id, agent id, audience, expires_at) of live grants expiring within 14 days.
    pub fn expiring_soon(&self) -> Vec<(String, String, String, i64)> {
        let mut list: Vec<_> = self
            .live_grants()
            .filter(|g| g.expires_at - self.now <= 14 * DAY)
            .map(|g| self.row(g, g.expires_at))
            .collect();
        list.sort();
        list
    }

    /// Sorted (grant id, agent id, audience, approved_at) of live grants
    /// approved over 30 days ago with no token for that agent and resource
    /// in the last 30 days.
    pub fn unused(&self) -> Vec<(String, String, String, i64)> {
        let since = self.now - 30 * DAY;
        let mut list: Vec<_> = self
            .live_grants()
            .filter(|g| g.approved_at.is_some_and(|at| at < since))
            .filter(|g| {
                !self.tokens.iter().any(|(at, a, r)| *at >= since && *a == g.agent && *r == g.resource)
            })
            .map(|g| self.row(g, g.approved_at.expect("an approved grant")))
            .collect();
        list.sort();
        list
    }

    fn row(&self, grant: &ModelGrant, at: i64) -> (String, String, String, i64) {
        let audience = self.resources[grant.resource].audience.clone();
        (grant.id.clone(), self.agents[grant.agent].id.clone(), audience, at)
    }

    /// Ids, in creation order, of the agents `keep` selects.
    pub fn ids_where(&self, keep: impl Fn(usize, &ModelAgent) -> bool) -> Vec<String> {
        self.agents.iter().enumerate().filter(|(i, a)| keep(*i, a)).map(|(_, a)| a.id.clone()).collect()
    }
}

fn tag(name: Option<&str>) -> &'static str {
    match name {
        Some("billing") => TAGS[0],
        Some("voice") => TAGS[1],
        other => panic!("an unplanned tag {other:?}"),
    }
}
