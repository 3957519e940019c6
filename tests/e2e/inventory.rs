//! The governance views against the test's own model of a fleet (see
//! `inventory_model`): the report, the access of every resource by data
//! class, the agent list's filters and paging, the CSV export, and the grant
//! states in each agent's access report.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::governance::{encode, ids, parse_csv, unix, unix_or_null, CLASSES};
use crate::helpers::{assert_admin_error, spawn_app, str_field, TestApp};
use crate::inventory_model::{
    Access, Fate, Inventory, AGENTS, DAY, OWNERS, PLATFORMS, QUOTED_AGENT, QUOTED_NAME, TAGS, VENDORS,
};

const CSV_HEADER: &str = "id,name,platform,vendor,owner,purpose,environment,acts_on_behalf_of,tags,status,\
created_by,created_at,last_token_at,last_token_resource,resources";

async fn built() -> (TestApp, Inventory) {
    let mut app = spawn_app().await;
    let inventory = Inventory::build(&mut app).await;
    (app, inventory)
}

/// A JSON string as text, or the JSON itself when it is not a string (so a
/// mismatch shows what came instead).
fn text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

fn sorted<T: Ord>(mut list: Vec<T>) -> Vec<T> {
    list.sort();
    list
}

#[tokio::test]
async fn the_built_fleet_covers_every_state_the_report_distinguishes() {
    let (app, inventory) = built().await;
    let now = inventory.now;
    let states: BTreeSet<&str> = inventory.grants.iter().map(|g| g.status(now)).collect();
    assert_eq!(states, BTreeSet::from(["approved", "denied", "expired", "requested", "revoked"]));
    assert!(inventory.grants.iter().any(|g| g.fate == Fate::HalfApproved));
    let statuses: BTreeSet<&str> = inventory.agents.iter().map(|a| a.status).collect();
    assert_eq!(statuses, BTreeSet::from(["active", "killed", "suspended"]));
    assert!(!inventory.without_owner().is_empty());
    assert!(!inventory.expiring_soon().is_empty());
    assert!(!inventory.unused().is_empty());
    // Some grants approved long ago were used recently, so they are not unused.
    let old_live =
        inventory.live_grants().filter(|g| g.approved_at.is_some_and(|at| at < now - 30 * DAY)).count();
    assert!(old_live > inventory.unused().len(), "some old grants are in use");
    for resource in 0..inventory.resources.len() {
        for class in CLASSES {
            assert!(
                !inventory.access(resource, Some(class)).is_empty(),
                "someone holds {class} on {resource}"
            );
        }
    }

    // Each agent's access report shows every grant in the state the model expects.
    for (i, agent) in inventory.agents.iter().enumerate() {
        let report = app.agent_report(&agent.id).await;
        assert_eq!(report["status"], agent.status, "agent {i}");
        let shown: BTreeMap<String, &Value> =
            report["grants"].as_array().expect("grants").iter().map(|g| (str_field(g, "id"), g)).collect();
        let expected: Vec<_> = inventory.grants.iter().filter(|g| g.agent == i).collect();
        assert_eq!(shown.len(), expected.len(), "agent {i}: {report}");
        for grant in expected {
            let got = shown.get(&grant.id).unwrap_or_else(|| panic!("grant {} in {report}", grant.id));
            assert_eq!(got["status"], grant.status(now), "grant {} of agent {i}: {got}", grant.id);
            let required = if grant.two_person() { 2 } else { 1 };
            assert_eq!(got["approvals_required"], required, "{got}");
            let approvals = got["approvals"].as_array().unwrap_or_else(|| panic!("approvals in {got}")).len();
            match grant.fate {
                Fate::HalfApproved => assert_eq!(approvals, 1, "{got}"),
                Fate::Approved | Fate::Revoked => assert_eq!(approvals, required, "{got}"),
                Fate::Requested | Fate::Denied => assert_eq!(approvals, 0, "{got}"),
            }
        }
        let last = &report["last_token"];
        match &agent.last_token {
            None => assert!(last.is_null(), "agent {i} never got a token: {last}"),
            Some((at, audience)) => {
                assert_eq!(unix(&text(&last["at"])), *at, "agent {i}: {last}");
                assert_eq!(last["resource"], audience.as_str(), "agent {i}: {last}");
            }
        }
        let kills = report["kills"].as_array().expect("kills").len();
        assert_eq!(kills, usize::from(agent.status == "killed"), "agent {i}");
    }
}

#[tokio::test]
async fn the_report_counts_agents_classes_owners_and_grants_as_the_model_does() {
    let (app, inventory) = built().await;
    let report = app.governance_report().await;
    let (agents, classes) = inventory.counts();
    assert_eq!(report["agents"], agents, "report: {report}");
    assert_eq!(report["data_classes"], classes, "report: {report}");

    let without_owner = report["agents_without_owner"]
        .as_array()
        .expect("agents_without_owner")
        .iter()
        .map(|a| (text(&a["agent_id"]), text(&a["name"])))
        .collect();
    assert_eq!(sorted(without_owner), inventory.without_owner());

    let rows = |list: &Value, time: &str| -> Vec<(String, String, String, i64)> {
        let list = list.as_array().unwrap_or_else(|| panic!("an array: {list}"));
        sorted(
            list.iter()
                .map(|g| {
                    (text(&g["grant_id"]), text(&g["agent_id"]), text(&g["resource"]), unix(&text(&g[time])))
                })
                .collect(),
        )
    };
    assert_eq!(rows(&report["grants_expiring_soon"], "expires_at"), inventory.expiring_soon());
    assert_eq!(rows(&report["grants_unused"], "approved_at"), inventory.unused());
}

#[tokio::test]
async fn the_report_of_an_empty_inventory_counts_zero_everywhere() {
    let app = spawn_app().await;
    let report = app.governance_report().await;
    let platforms: BTreeMap<&str, i64> = PLATFORMS.iter().map(|p| (*p, 0)).collect();
    let agents = json!({"total": 0, "by_platform": platforms, "by_status": {"active": 0, "suspended": 0, "killed": 0}});
    assert_eq!(report["agents"], agents);
    let classes: BTreeMap<&str, i64> = CLASSES.iter().map(|c| (*c, 0)).collect();
    assert_eq!(report["data_classes"], json!(classes));
    for list in ["agents_without_owner", "grants_expiring_soon", "grants_unused"] {
        assert_eq!(report[list], json!([]), "{list} in {report}");
    }
}

/// The entries of an access answer, normalised like `Inventory::access`.
fn access_of(answer: &Value) -> Vec<Access> {
    let agents = answer["agents"].as_array().unwrap_or_else(|| panic!("agents in {answer}"));
    sorted(
        agents
            .iter()
            .map(|a| Access {
                agent_id: text(&a["agent_id"]),
                name: text(&a["name"]),
                platform: text(&a["platform"]),
                status: text(&a["status"]),
                owner: text(&a["owner"]),
                scopes: sorted(
                    a["scopes"]
                        .as_array()
                        .unwrap_or_else(|| panic!("scopes in {a}"))
                        .iter()
                        .map(|s| (text(&s["name"]), text(&s["data_class"])))
                        .collect(),
                ),
                expires_at: unix(&text(&a["expires_at"])),
            })
            .collect(),
    )
}

#[tokio::test]
async fn the_access_of_every_resource_by_data_class_matches_the_model() {
    let (app, inventory) = built().await;
    for (r, resource) in inventory.resources.iter().enumerate() {
        for class in [None].into_iter().chain(CLASSES.map(Some)) {
            let answer = app.resource_access(&resource.id, class).await;
            let shown = &answer["resource"];
            assert_eq!(shown["id"], resource.id.as_str(), "{answer}");
            assert_eq!(shown["name"], resource.name, "{answer}");
            assert_eq!(shown["kind"], resource.kind, "{answer}");
            assert_eq!(shown["audience"], resource.audience.as_str(), "{answer}");
            assert_eq!(
                access_of(&answer),
                inventory.access(r, class),
                "{} data_class {class:?}",
                resource.name
            );
        }
    }
    let response = app.admin_get("/resources/res_missing/access", &app.admin_token).await;
    assert_admin_error(response, StatusCode::NOT_FOUND, "not_found").await;
    let path = format!("/resources/{}/access?data_class=secret", inventory.resources[0].id);
    let response = app.admin_get(&path, &app.admin_token).await;
    assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn the_agent_list_filters_by_every_selector_as_the_model_does() {
    let (app, inventory) = built().await;
    let all = inventory.ids_where(|_, _| true);
    let default_page = app.agents_page("").await;
    assert_eq!(sorted(ids(&default_page["agents"], "id")), sorted(all.clone()), "the default limit (100)");
    assert!(default_page["next"].is_null(), "{default_page}");

    let mut cases: Vec<(String, Vec<String>)> =
        vec![(String::new(), all.clone()), ("owner=".to_owned(), all)];
    for platform in PLATFORMS {
        cases.push((format!("platform={platform}"), inventory.ids_where(|_, a| a.platform == platform)));
    }
    for vendor in VENDORS.into_iter().chain(["Nobody"]) {
        cases.push((format!("vendor={}", encode(vendor)), inventory.ids_where(|_, a| a.vendor == vendor)));
    }
    for status in ["active", "suspended", "killed"] {
        cases.push((format!("status={status}"), inventory.ids_where(|_, a| a.status == status)));
    }
    for owner in OWNERS {
        cases.push((format!("owner={}", encode(owner)), inventory.ids_where(|_, a| a.owner == owner)));
    }
    for tag in TAGS.into_iter().chain(["none-such"]) {
        cases.push((format!("tag={tag}"), inventory.ids_where(|_, a| a.tags.contains(&tag))));
    }
    for (r, resource) in inventory.resources.iter().enumerate() {
        let holders = inventory.holders(r);
        cases.push((
            format!("resource={}", encode(&resource.audience)),
            inventory.ids_where(|i, _| holders.contains(&i)),
        ));
        let killed = inventory.ids_where(|i, a| holders.contains(&i) && a.status == "killed");
        cases.push((format!("resource={}&status=killed", encode(&resource.audience)), killed));
    }
    cases.push((
        "platform=sap&status=active".to_owned(),
        inventory.ids_where(|_, a| a.platform == "sap" && a.status == "active"),
    ));
    cases.push((
        "vendor=Salesforce&tag=billing".to_owned(),
        inventory.ids_where(|_, a| a.vendor == "Salesforce" && a.tags.contains(&"billing")),
    ));
    // Which agents first, then their order (creation order).
    let (mut members, mut order) = (Vec::new(), Vec::new());
    for (query, expected) in cases {
        let got = app.listed_ids(&format!("&{query}")).await;
        if sorted(got.clone()) != sorted(expected.clone()) {
            members.push(format!("?{query}: expected {expected:?}, got {got:?}"));
        } else if got != expected {
            order.push(format!("?{query}"));
        }
    }
    assert!(members.is_empty(), "filter mismatches:\n{}", members.join("\n"));
    assert!(order.is_empty(), "the right agents, not in creation order, for: {}", order.join(" "));
}

#[tokio::test]
async fn the_agent_list_shows_each_agents_fields_and_last_token() {
    let (app, inventory) = built().await;
    let page = app.agents_page("?limit=500").await;
    let listed = page["agents"].as_array().expect("agents");
    assert_eq!(listed.len(), AGENTS);
    for agent in &inventory.agents {
        let shown = listed
            .iter()
            .find(|a| a["id"] == agent.id.as_str())
            .unwrap_or_else(|| panic!("{} listed", agent.id));
        assert_eq!(shown["client_id"], agent.client_id.as_str());
        assert_eq!(shown["name"], agent.name.as_str());
        assert_eq!(shown["platform"], agent.platform);
        assert_eq!(shown["vendor"], agent.vendor);
        assert_eq!(shown["owner"], agent.owner);
        assert_eq!(shown["tags"], json!(agent.tags));
        assert_eq!(shown["status"], agent.status);
        assert!(shown.get("client_secret").is_none(), "{shown}");
        let expected = agent.last_token.as_ref().map(|(at, audience)| (*at, audience.clone()));
        let got = (!shown["last_token"].is_null())
            .then(|| (unix(&text(&shown["last_token"]["at"])), text(&shown["last_token"]["resource"])));
        assert_eq!(got, expected, "last_token of {}: {shown}", agent.id);
    }
}

#[tokio::test]
async fn paging_the_agent_list_gives_every_agent_once_in_order() {
    let (app, inventory) = built().await;
    let all = inventory.ids_where(|_, _| true);
    let sap = inventory.ids_where(|_, a| a.platform == "sap");
    let billing = inventory.ids_where(|_, a| a.tags.contains(&"billing"));
    let cases = [
        ("", 1, &all),
        ("", 7, &all),
        ("", 12, &all),
        ("", 35, &all),
        ("", 36, &all),
        ("", 500, &all),
        ("&platform=sap", 4, &sap),
        ("&tag=billing", 5, &billing),
        ("&tag=none-such", 5, &Vec::new()),
    ];
    let mut wrong = Vec::new();
    for (filters, limit, expected) in cases {
        let (paged, pages) = app.paged_ids(filters, limit, AGENTS + 2).await;
        let case = format!("filters {filters:?} limit {limit}");
        let unique: BTreeSet<&String> = paged.iter().collect();
        if unique.len() != paged.len() {
            wrong.push(format!("{case}: an agent listed twice"));
        }
        if sorted(paged.clone()) != sorted(expected.clone()) {
            wrong.push(format!("{case}: expected {expected:?}, got {paged:?}"));
        } else if paged != *expected {
            wrong.push(format!("{case}: not in creation order"));
        }
        let last_page = expected.len().div_ceil(limit).max(1);
        if pages != last_page {
            wrong.push(format!(
                "{case}: {pages} pages for {} agents, next should be null on page {last_page}",
                expected.len()
            ));
        }
    }
    assert!(wrong.is_empty(), "paging mismatches:\n{}", wrong.join("\n"));
    for query in ["?limit=0", "?limit=501", "?limit=ten"] {
        let response = app.admin_get(&format!("/agents{query}"), &app.admin_token).await;
        assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

#[tokio::test]
async fn the_csv_export_has_the_contract_header_and_one_quoted_row_per_agent() {
    let (app, inventory) = built().await;
    let csv = app.inventory_csv("").await;
    let first_line = csv.split('\n').next().expect("a header line").trim_end_matches('\r');
    assert_eq!(first_line, CSV_HEADER);
    assert!(csv.contains(r#""Billing, ""Gold"" bot""#), "the name is quoted with its quotes doubled:\n{csv}");
    let rows = parse_csv(&csv);
    let header: Vec<&str> = CSV_HEADER.split(',').collect();
    assert_eq!(rows[0], header);
    assert_eq!(rows.len(), AGENTS + 1, "one row per agent:\n{csv}");
    let column = |name: &str| header.iter().position(|h| *h == name).expect("a column of the header");
    let by_id: BTreeMap<&str, &Vec<String>> = rows[1..]
        .iter()
        .map(|row| {
            assert_eq!(row.len(), header.len(), "every row has every field: {row:?}");
            (row[0].as_str(), row)
        })
        .collect();
    assert_eq!(by_id.len(), AGENTS, "each agent once");
    let listed = app.agents_page("?limit=500").await;
    let listed = listed["agents"].as_array().expect("agents");
    let split = |field: &str| -> Vec<String> {
        sorted(field.split(';').filter(|part| !part.is_empty()).map(str::to_owned).collect())
    };
    for (i, agent) in inventory.agents.iter().enumerate() {
        let shown = listed
            .iter()
            .find(|a| a["id"] == agent.id.as_str())
            .unwrap_or_else(|| panic!("{} listed", agent.id));
        let row = by_id.get(agent.id.as_str()).unwrap_or_else(|| panic!("a row for {}", agent.id));
        let field = |name: &str| row[column(name)].as_str();
        assert_eq!(field("name"), agent.name);
        assert_eq!(field("platform"), agent.platform);
        assert_eq!(field("vendor"), agent.vendor);
        assert_eq!(field("owner"), agent.owner);
        assert_eq!(field("status"), agent.status);
        assert_eq!(field("purpose"), format!("purpose of agent {i}"));
        assert_eq!(field("acts_on_behalf_of"), ["none", "customer", "employee"][i % 3]);
        assert_eq!(field("created_by"), text(&shown["created_by"]));
        assert_eq!(unix(field("created_at")), unix(&text(&shown["created_at"])));
        assert_eq!(split(field("tags")), sorted(agent.tags.iter().map(|t| (*t).to_owned()).collect()));
        assert_eq!(split(field("resources")), inventory.reach(i), "resources of agent {i}");
        let last = (!field("last_token_at").is_empty()).then(|| unix(field("last_token_at")));
        assert_eq!(last, agent.last_token.as_ref().map(|(at, _)| *at), "last_token_at of agent {i}");
        let resource = agent.last_token.as_ref().map_or("", |(_, audience)| audience.as_str());
        assert_eq!(field("last_token_resource"), resource, "last_token_resource of agent {i}");
    }
    assert_eq!(by_id[inventory.agents[QUOTED_AGENT].id.as_str()][column("name")], QUOTED_NAME);

    // The same filters as the list.
    let sap = parse_csv(&app.inventory_csv("?platform=sap&status=active").await);
    let sap: Vec<String> = sorted(sap[1..].iter().map(|row| row[0].clone()).collect());
    assert_eq!(sap, sorted(app.listed_ids("&platform=sap&status=active").await));
    assert!(!sap.is_empty());
}

#[tokio::test]
async fn an_agents_last_token_is_null_until_it_gets_one() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(crate::helpers::Setup::default()).await;
    let listed = app.agents_page("").await;
    assert!(listed["agents"][0]["last_token"].is_null(), "{listed}");
    app.clock.advance(42);
    app.granted_token(&granted).await;
    let listed = app.agents_page("").await;
    let last = &listed["agents"][0]["last_token"];
    assert_eq!(unix_or_null(&last["at"]), Some(app.now()), "{listed}");
    assert_eq!(last["resource"], granted.resource.audience.as_str());
}
