//! The reference server: a tiny axum server (the same axum as Warrant's)
//! with three routes that bound what an OAuth endpoint could cost on this
//! machine. `GET /constant` answers a constant JSON; `POST /sign` parses a
//! small form and signs an ES256 JWT with ring (a token endpoint without
//! authentication, storage or audit); `POST /verify` parses a form holding
//! a JWT and verifies its ES256 signature with ring, then reads its claims
//! (an introspection without client authentication or denylist).
//!
//! It runs in the bench's process but on its own tokio runtime and OS
//! threads (as many workers as cores, like Warrant's), so it competes with
//! the load generator for the cores the way the Warrant process does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde_json::{json, Map, Value};

/// The reference server's signing key, and its public half for `/verify`.
struct Keys {
    signing: EcdsaKeyPair,
    public: UnparsedPublicKey<Vec<u8>>,
    rng: SystemRandom,
}

/// A running reference server; [`ReferenceServer::stop`] ends it.
pub struct ReferenceServer {
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// A valid ES256 JWT (an hour long) for `/verify`.
    pub token: String,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<Result<()>>,
}

impl ReferenceServer {
    /// Binds 127.0.0.1:0 and serves on a runtime of its own.
    pub fn start() -> Result<ReferenceServer> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow!("cannot generate a P-256 key"))?;
        let signing = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| anyhow!("cannot read the generated P-256 key"))?;
        let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, signing.public_key().as_ref().to_vec());
        let keys = Arc::new(Keys { signing, public, rng });
        let token = sign(&keys, "agt_reference", "https://reference.bench.example")
            .map_err(|status| anyhow!("cannot sign the reference token ({status})"))?;

        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        listener.set_nonblocking(true)?;
        let base = format!("http://{}", listener.local_addr()?);
        let router = Router::new()
            .route("/constant", get(constant))
            .route("/sign", post(sign_route))
            .route("/verify", post(verify_route))
            .with_state(keys);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("reference-server".into()).spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(crate::machine::cores())
                .thread_name("reference-worker")
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .context("the reference server stopped")
            })
        })?;
        Ok(ReferenceServer { base, token, stop, thread })
    }

    /// Stops the server and waits for its thread.
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await?
            .map_err(|_| anyhow!("the reference server's thread panicked"))?
    }
}

async fn constant() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], r#"{"ok":true}"#)
}

/// `grant_type=client_credentials&resource=…` → a signed token response.
async fn sign_route(State(keys): State<Arc<Keys>>, body: Bytes) -> Result<Json<Value>, StatusCode> {
    let mut grant_type = None;
    let mut resource = None;
    for (name, value) in form_urlencoded::parse(&body) {
        match name.as_ref() {
            "grant_type" => grant_type = Some(value),
            "resource" => resource = Some(value),
            _ => {}
        }
    }
    if grant_type.as_deref() != Some("client_credentials") {
        return Err(StatusCode::BAD_REQUEST);
    }
    let resource = resource.ok_or(StatusCode::BAD_REQUEST)?;
    let access_token = sign(&keys, "agt_reference", &resource)?;
    Ok(Json(json!({
        "access_token": access_token, "token_type": "Bearer", "expires_in": 300, "scope": "records:read"
    })))
}

/// `token=…` → the token's claims if its ES256 signature verifies and it
/// has not expired.
async fn verify_route(State(keys): State<Arc<Keys>>, body: Bytes) -> Result<Json<Value>, StatusCode> {
    let token = form_urlencoded::parse(&body)
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value)
        .ok_or(StatusCode::BAD_REQUEST)?;
    let (input, signature) = token.rsplit_once('.').ok_or(StatusCode::BAD_REQUEST)?;
    let (header, payload) = input.split_once('.').ok_or(StatusCode::BAD_REQUEST)?;
    let header: Value = decode_json(header)?;
    if header["alg"] != "ES256" {
        return Err(StatusCode::BAD_REQUEST);
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| StatusCode::BAD_REQUEST)?;
    keys.public.verify(input.as_bytes(), &signature).map_err(|_| StatusCode::BAD_REQUEST)?;
    let claims: Map<String, Value> = decode_json(payload)?;
    if !matches!(claims.get("exp").and_then(Value::as_i64), Some(exp) if exp > now()) {
        return Err(StatusCode::BAD_REQUEST);
    }
    Ok(Json(json!({
        "active": true, "sub": claims.get("sub"), "aud": claims.get("aud"), "scope": claims.get("scope"),
        "exp": claims.get("exp"), "jti": claims.get("jti"), "token_type": "Bearer",
    })))
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, StatusCode> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| StatusCode::BAD_REQUEST)?;
    serde_json::from_slice(&bytes).map_err(|_| StatusCode::BAD_REQUEST)
}

/// An ES256 JWT with the claims of a Warrant access token.
fn sign(keys: &Keys, subject: &str, audience: &str) -> Result<String, StatusCode> {
    let now = now();
    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": "reference"});
    let claims = json!({
        "iss": "http://reference.bench", "sub": subject, "aud": audience, "client_id": subject,
        "scope": "records:read", "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 3_600,
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature =
        keys.signing.sign(&keys.rng, input.as_bytes()).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref())))
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}
