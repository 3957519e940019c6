//! The scenarios and the requests each one sends, prepared before the timed
//! window so that the window measures the server, not the client: tokens
//! for introspection are fetched beforehand, client assertions signed
//! beforehand. Each scenario names the reference route it is compared with.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use josekit::jwk::Jwk;
use josekit::jws::{JwsHeader, ES256};
use josekit::jwt::JwtPayload;
use serde_json::{json, Value};
use warrant_policy::{Clock, SystemClock};

use super::driver::{Call, Expect, Plan, Pool, Source};
use super::reference::ReferenceServer;
use super::seed::{AgentCredential, Inventory};

/// Tokens introspected over and over in `introspect-seen`.
pub const WORKING_SET: usize = 100;
/// Token requests in flight while tokens are fetched for introspection.
const FETCH_IN_FLIGHT: usize = 64;
/// `client_assertion_type` for a JWT client assertion (RFC 7523 §2.2).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A benchmark scenario; [`Scenario::ALL`] is also the order they run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    RefConstant,
    RefSign,
    RefVerify,
    Jwks,
    IntrospectSeen,
    IntrospectFresh,
    ClientSecretBasic,
    PrivateKeyJwt,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::RefConstant,
        Scenario::RefSign,
        Scenario::RefVerify,
        Scenario::Jwks,
        Scenario::IntrospectSeen,
        Scenario::IntrospectFresh,
        Scenario::ClientSecretBasic,
        Scenario::PrivateKeyJwt,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::RefConstant => "ref-constant",
            Scenario::RefSign => "ref-sign",
            Scenario::RefVerify => "ref-verify",
            Scenario::Jwks => "jwks",
            Scenario::IntrospectSeen => "introspect-seen",
            Scenario::IntrospectFresh => "introspect-fresh",
            Scenario::ClientSecretBasic => "client-secret-basic",
            Scenario::PrivateKeyJwt => "private-key-jwt",
        }
    }

    pub fn parse(name: &str) -> Result<Scenario> {
        match Scenario::ALL.into_iter().find(|s| s.name() == name) {
            Some(scenario) => Ok(scenario),
            None => {
                let known: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                bail!("unknown scenario {name:?}; known: {}", known.join(", "))
            }
        }
    }

    /// The reference route this scenario's throughput is divided by.
    pub fn reference(self) -> Option<Scenario> {
        match self {
            Scenario::RefConstant | Scenario::RefSign | Scenario::RefVerify => None,
            Scenario::Jwks | Scenario::IntrospectSeen => Some(Scenario::RefConstant),
            Scenario::IntrospectFresh => Some(Scenario::RefVerify),
            Scenario::ClientSecretBasic | Scenario::PrivateKeyJwt => Some(Scenario::RefSign),
        }
    }

    /// Whether each request uses up an input prepared for it alone.
    pub fn consumes(self) -> bool {
        matches!(self, Scenario::IntrospectFresh | Scenario::PrivateKeyJwt)
    }
}

/// Everything a scenario is prepared from.
pub struct Target<'a> {
    pub warrant: &'a str,
    /// The `token_endpoint` from Warrant's metadata: the `aud` of assertions.
    pub token_endpoint: String,
    pub reference: &'a ReferenceServer,
    pub inventory: &'a Inventory,
    pub http: reqwest::Client,
}

/// Prepares `scenario`; `need` is how many single-use inputs to prepare
/// for a scenario that [`consumes`](Scenario::consumes) them.
pub async fn plan(target: &Target<'_>, scenario: Scenario, need: usize) -> Result<Plan> {
    let warrant = target.warrant;
    let reference = &target.reference.base;
    let plain = |body: String| Call { authorization: None, body };
    Ok(match scenario {
        Scenario::RefConstant => Plan {
            url: format!("{reference}/constant"),
            post: false,
            source: Source::Fixed(plain(String::new())),
            expect: Expect::Constant,
        },
        Scenario::RefSign => Plan {
            url: format!("{reference}/sign"),
            post: true,
            source: Source::Fixed(plain(token_form("https://resource-0.bench.example"))),
            expect: Expect::AccessToken,
        },
        Scenario::RefVerify => Plan {
            url: format!("{reference}/verify"),
            post: true,
            source: Source::Fixed(plain(encode(&[("token", &target.reference.token)]))),
            expect: Expect::Active,
        },
        Scenario::Jwks => Plan {
            url: format!("{warrant}/.well-known/jwks.json"),
            post: false,
            source: Source::Fixed(plain(String::new())),
            expect: Expect::Keys,
        },
        Scenario::ClientSecretBasic => {
            let calls: Vec<Call> = secret_pairs(target.inventory)
                .map(|(id, secret, audience)| Call {
                    authorization: Some(basic(id, secret)),
                    body: token_form(audience),
                })
                .collect();
            if calls.is_empty() {
                bail!("no agent with a client secret holds a grant");
            }
            Plan {
                url: format!("{warrant}/oauth2/token"),
                post: true,
                source: Source::Rotate(calls),
                expect: Expect::AccessToken,
            }
        }
        Scenario::PrivateKeyJwt => Plan {
            url: format!("{warrant}/oauth2/token"),
            post: true,
            source: Source::Consume(Pool::new(assertions(target, need).await?)),
            expect: Expect::AccessToken,
        },
        Scenario::IntrospectSeen => Plan {
            url: format!("{warrant}/oauth2/introspect"),
            post: true,
            source: Source::Rotate(introspections(target, WORKING_SET).await?),
            expect: Expect::Active,
        },
        Scenario::IntrospectFresh => Plan {
            url: format!("{warrant}/oauth2/introspect"),
            post: true,
            source: Source::Consume(Pool::new(introspections(target, need).await?)),
            expect: Expect::Active,
        },
    })
}

/// `(client_id, secret, audience)` for every grant of every agent with a
/// client secret, one agent after another within each round of grants.
fn secret_pairs(inventory: &Inventory) -> impl Iterator<Item = (&str, &str, &str)> {
    let rounds = inventory.agents.iter().map(|a| a.resources.len()).max().unwrap_or(0);
    (0..rounds).flat_map(move |round| {
        inventory.agents.iter().filter_map(move |agent| {
            let AgentCredential::Secret(secret) = &agent.credential else { return None };
            let resource = inventory.resources.get(*agent.resources.get(round)?)?;
            Some((agent.client_id.as_str(), secret.as_str(), resource.audience.as_str()))
        })
    })
}

/// `count` introspection calls, each for a token fetched for it alone,
/// authenticated as the resource the token is for.
async fn introspections(target: &Target<'_>, count: usize) -> Result<Vec<Call>> {
    let inventory = target.inventory;
    let pairs: Vec<(&str, &str, &str)> = secret_pairs(inventory).collect();
    if pairs.is_empty() {
        bail!("no agent with a client secret holds a grant");
    }
    let auth: Vec<(String, String)> = inventory
        .resources
        .iter()
        .map(|r| (r.audience.clone(), basic(&r.client_id, &r.client_secret)))
        .collect();
    let url = format!("{}/oauth2/token", target.warrant);
    let (http, url, pairs, auth) = (&target.http, &url, &pairs, &auth);
    stream::iter(0..count)
        .map(|i| async move {
            let (id, secret, audience) = pairs.get(i % pairs.len()).context("a grant")?;
            let answer = http
                .post(url)
                .basic_auth(id, Some(secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(token_form(audience))
                .send()
                .await?;
            let status = answer.status();
            let body: Value = answer.json().await?;
            if !status.is_success() {
                bail!("token answered {status}: {body}");
            }
            let token = body["access_token"].as_str().context("no access_token")?;
            let (_, authorization) = auth.iter().find(|(a, _)| a == audience).context("the resource")?;
            Ok(Call { authorization: Some(authorization.clone()), body: encode(&[("token", token)]) })
        })
        .buffer_unordered(FETCH_IN_FLIGHT)
        .try_collect()
        .await
}

/// An agent that signs client assertions, and the audiences it may ask for.
struct KeyAgent {
    client_id: String,
    key: Jwk,
    audiences: Vec<String>,
}

/// `count` token requests authenticated with `private_key_jwt`, each with
/// an assertion of its own (a unique `jti`), signed on every core.
async fn assertions(target: &Target<'_>, count: usize) -> Result<Vec<Call>> {
    let inventory = target.inventory;
    let agents: Vec<KeyAgent> = inventory
        .agents
        .iter()
        .filter_map(|agent| {
            let AgentCredential::Key(key) = &agent.credential else { return None };
            let audiences: Vec<String> = agent
                .resources
                .iter()
                .filter_map(|r| inventory.resources.get(*r).map(|r| r.audience.clone()))
                .collect();
            (!audiences.is_empty()).then(|| KeyAgent {
                client_id: agent.client_id.clone(),
                key: key.clone(),
                audiences,
            })
        })
        .collect();
    if agents.is_empty() {
        bail!("no agent with a registered key holds a grant");
    }
    let agents = Arc::new(agents);
    let chunks = crate::machine::cores();
    let mut tasks = Vec::with_capacity(chunks);
    for chunk in 0..chunks {
        let (agents, endpoint) = (Arc::clone(&agents), target.token_endpoint.clone());
        tasks.push(tokio::task::spawn_blocking(move || sign_chunk(&agents, &endpoint, chunk, chunks, count)));
    }
    let mut calls = Vec::with_capacity(count);
    for task in tasks {
        calls.extend(task.await??);
    }
    Ok(calls)
}

/// The calls `i` (of `count`) with `i % chunks == chunk`; call `i` is for
/// agent `i % agents` and that agent's grant `i / agents`, cycled.
fn sign_chunk(
    agents: &[KeyAgent],
    endpoint: &str,
    chunk: usize,
    chunks: usize,
    count: usize,
) -> Result<Vec<Call>> {
    let signers = agents.iter().map(|a| ES256.signer_from_jwk(&a.key)).collect::<Result<Vec<_>, _>>()?;
    let now = SystemClock.now().unix();
    let mut calls = Vec::with_capacity(count / chunks + 1);
    for i in (chunk..count).step_by(chunks) {
        let n = i % agents.len();
        let (Some(agent), Some(signer)) = (agents.get(n), signers.get(n)) else { continue };
        let audience =
            agent.audiences.get((i / agents.len()) % agent.audiences.len()).context("an audience")?;
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        if let Some(kid) = agent.key.key_id() {
            header.set_key_id(kid);
        }
        let claims = json!({
            "iss": agent.client_id, "sub": agent.client_id, "aud": endpoint,
            "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 3_000,
        });
        let Value::Object(claims) = claims else { bail!("claims are an object") };
        let assertion = josekit::jwt::encode_with_signer(&JwtPayload::from_map(claims)?, &header, signer)?;
        let body = encode(&[
            ("grant_type", "client_credentials"),
            ("resource", audience),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &assertion),
        ]);
        calls.push(Call { authorization: None, body });
    }
    Ok(calls)
}

/// A client-credentials token request body for `audience`.
fn token_form(audience: &str) -> String {
    encode(&[("grant_type", "client_credentials"), ("resource", audience)])
}

/// An `application/x-www-form-urlencoded` body.
fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// `Authorization: Basic` for a client id and secret (RFC 6749 §2.3.1).
fn basic(id: &str, secret: &str) -> String {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(id), encode(secret))))
}
