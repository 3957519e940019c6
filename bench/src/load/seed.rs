//! Seeding a realistic inventory through the admin API, as operators would:
//! resources with their introspection credentials, agents (a quarter of
//! them registered with an EC P-256 JWK Set for `private_key_jwt`, the rest
//! with a client secret), and grants requested by the bootstrap admin and
//! approved by a second operator (the requester may not approve its own).
//! Calls run concurrently, at most [`IN_FLIGHT`] at a time.

use anyhow::{ensure, Context, Result};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use josekit::jwk::alg::ec::EcKeyPair;
use josekit::jwk::{Jwk, KeyPair as _};
use josekit::jws::ES256;
use serde_json::{json, Value};
use warrant_policy::{Clock, SystemClock};

use crate::api::{admin_post, text, token};

/// Most admin calls in flight while seeding.
const IN_FLIGHT: usize = 16;
/// Every fourth agent authenticates with `private_key_jwt`.
pub const KEY_AGENT_EVERY: usize = 4;

/// How much to seed.
#[derive(Clone, Copy, Debug)]
pub struct Counts {
    pub agents: usize,
    pub resources: usize,
    pub grants: usize,
}

/// A resource server and its introspection credentials.
pub struct SeededResource {
    pub audience: String,
    pub client_id: String,
    pub client_secret: String,
}

/// How an agent authenticates.
pub enum AgentCredential {
    Secret(String),
    /// The private JWK (with `kid`) whose public half is registered.
    Key(Jwk),
}

/// An agent and the resources (indexes into [`Inventory::resources`]) it
/// holds approved grants on.
pub struct SeededAgent {
    pub client_id: String,
    pub credential: AgentCredential,
    pub resources: Vec<usize>,
}

/// What the benchmark works with.
pub struct Inventory {
    pub resources: Vec<SeededResource>,
    pub agents: Vec<SeededAgent>,
}

/// The resource grant `g` is on, given the agent it is for: an agent's
/// grants are on consecutive resources, so no agent holds two on one.
fn grant_layout(g: usize, counts: Counts) -> (usize, usize) {
    let agent = g % counts.agents;
    let round = g / counts.agents;
    (agent, (agent + round) % counts.resources)
}

/// Seeds `counts` through the admin API at `base`.
pub async fn seed(
    http: &reqwest::Client,
    base: &str,
    admin_id: &str,
    admin_secret: &str,
    counts: Counts,
) -> Result<Inventory> {
    ensure!(counts.agents > 0 && counts.resources > 0, "--agents and --resources must be positive");
    ensure!(
        counts.grants >= counts.agents && counts.grants <= counts.agents * counts.resources,
        "--grants must be at least --agents (every agent holds a grant) and at most --agents × --resources"
    );
    let admin = token(http, base, admin_id, admin_secret, &[("resource", "urn:warrant:admin")]).await?;
    let approver = admin_post(
        http,
        base,
        &admin,
        "/operators",
        json!({"name": "Bench approver", "email": "approver@bench.example", "roles": ["approver"]}),
    )
    .await?;
    let approver = token(
        http,
        base,
        text(&approver, "client_id")?,
        text(&approver, "client_secret")?,
        &[("resource", "urn:warrant:admin")],
    )
    .await?;

    const KINDS: [&str; 6] = ["crm", "cdp", "ticketing", "telephony", "knowledge", "other"];
    let admin = admin.as_str();
    let resources: Vec<SeededResource> = stream::iter(0..counts.resources)
        .map(|i| async move {
            let audience = format!("https://resource-{i}.bench.example");
            let body = json!({
                "name": format!("Bench resource {i}"), "kind": KINDS[i % KINDS.len()], "audience": audience,
                "scopes": [
                    {"name": "records:read", "description": "read records", "data_class": "internal"},
                    {"name": "records:write", "description": "change records", "data_class": "pii"}
                ]
            });
            let created = admin_post(http, base, admin, "/resources", body).await?;
            Ok::<_, anyhow::Error>(SeededResource {
                audience,
                client_id: text(&created, "client_id")?.to_owned(),
                client_secret: text(&created, "client_secret")?.to_owned(),
            })
        })
        .buffered(IN_FLIGHT)
        .try_collect()
        .await?;

    const PLATFORMS: [&str; 5] = ["dynamics365", "agentforce", "sap", "ccaas", "internal"];
    let mut agents: Vec<SeededAgent> = stream::iter(0..counts.agents)
        .map(|i| async move {
            let key = if i % KEY_AGENT_EVERY == 0 { Some(agent_key(i)?) } else { None };
            let mut body = json!({
                "name": format!("bench agent {i}"), "platform": PLATFORMS[i % PLATFORMS.len()],
                "owner": "bench@example.com", "purpose": "load benchmark",
            });
            if let Some((_, public)) = &key {
                body["jwks"] = json!({ "keys": [public] });
            }
            let created = admin_post(http, base, admin, "/agents", body).await?;
            let credential = match key {
                Some((private, _)) => AgentCredential::Key(private),
                None => AgentCredential::Secret(text(&created, "client_secret")?.to_owned()),
            };
            let client_id = text(&created, "client_id")?.to_owned();
            Ok::<_, anyhow::Error>(SeededAgent { client_id, credential, resources: Vec::new() })
        })
        .buffered(IN_FLIGHT)
        .try_collect()
        .await?;

    let expires_at = SystemClock.now().plus(30 * 86_400).to_rfc3339();
    let (agents_ref, resources_ref, expires_at, approver) = (&agents, &resources, &expires_at, &approver);
    stream::iter(0..counts.grants)
        .map(|g| async move {
            let (agent, resource) = grant_layout(g, counts);
            let agent = agents_ref.get(agent).context("an agent")?;
            let resource = resources_ref.get(resource).context("a resource")?;
            let body = json!({
                "resource": resource.audience, "scopes": ["records:read"],
                "justification": "load benchmark", "expires_at": expires_at,
            });
            let grant =
                admin_post(http, base, admin, &format!("/agents/{}/grants", agent.client_id), body).await?;
            let approve = format!("/grants/{}/approve", text(&grant, "id")?);
            let approved = admin_post(http, base, approver, &approve, json!({})).await?;
            ensure!(text(&approved, "status")? == "approved", "grant not approved: {approved}");
            Ok(())
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    for g in 0..counts.grants {
        let (agent, resource) = grant_layout(g, counts);
        if let Some(agent) = agents.get_mut(agent) {
            agent.resources.push(resource);
        }
    }
    Ok(Inventory { resources, agents })
}

/// A new EC P-256 key for agent `n`: the private JWK and the public one,
/// both with the same `kid`.
fn agent_key(n: usize) -> Result<(Jwk, Value)> {
    let pair: EcKeyPair = ES256.generate_key_pair()?;
    let kid = format!("bench-agent-{n}");
    let mut private = pair.to_jwk_key_pair();
    private.set_key_id(&kid);
    let mut public = pair.to_jwk_public_key();
    public.set_key_id(&kid);
    Ok((private, Value::Object(public.into())))
}
