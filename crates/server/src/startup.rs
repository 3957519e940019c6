//! Building and running the application: bind, open the store (running
//! migrations), load or create the signing key and pepper, create the
//! bootstrap operator on an empty store, then serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use warrant_introspection::AccessTokenVerifier;
use warrant_issuer::{load_or_create_pepper, KeyError, SecretHasher, SecretString, SigningKey, TokenService};
use warrant_policy::{ClientId, ClientKind, Clock, Credential, CredentialMethod, Operator, Role, Roles};
use warrant_store::audit::AuditWriter;
use warrant_store::denylist::{Denylist, DenylistError, MemoryDenylist, RedisDenylist, Refill};
use warrant_store::{CachedStore, Store, StoreError};

use crate::config::Config;
use crate::routes;
use crate::state::{AppState, Governance};

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store")]
    Store(#[from] StoreError),
    #[error("cannot set up the denylist")]
    Denylist(#[from] DenylistError),
    #[error("cannot load or create the keys")]
    Keys(#[from] KeyError),
    #[error("the bootstrap operator is not valid")]
    Bootstrap(#[from] warrant_policy::ParseError),
    #[error("the signing key cannot verify tokens")]
    Verifier(#[source] josekit::JoseError),
}

/// A built application, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
}

impl Application {
    /// Binds `config.listen` (port 0 picks a free port), opens the store,
    /// loads the keys and bootstraps the first operator.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Application, StartError> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let addr =
            listener.local_addr().map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let issuer = config.issuer.clone().unwrap_or_else(|| format!("http://{addr}"));

        let store =
            warrant_store::open(config.database_url.as_ref().map(SecretString::expose), &config.data_dir)
                .await?;
        let key = Arc::new(SigningKey::load_or_create(&config.keys_dir)?);
        let hasher = Arc::new(SecretHasher::new(&load_or_create_pepper(&config.keys_dir)?));
        bootstrap_operator(&*store, &hasher, &*clock, &config).await?;

        let denylist: Arc<dyn Denylist> = match &config.redis_url {
            Some(url) => {
                let refill = Refill { store: store.clone(), clock: clock.clone() };
                Arc::new(RedisDenylist::connect(url.expose(), &config.redis_prefix, Some(refill))?)
            }
            None => Arc::new(MemoryDenylist::load(&*store, clock.now()).await?),
        };
        let verifier = AccessTokenVerifier::new(issuer.clone(), std::slice::from_ref(key.public_jwk()))
            .map_err(StartError::Verifier)?;
        let audit = AuditWriter::spawn(store.clone());
        let tokens = TokenService {
            store: Arc::new(CachedStore::new(store, denylist.clone())),
            key,
            hasher,
            clock,
            issuer,
            default_ttl: config.token_ttl,
            audit,
            denylist: denylist.clone(),
        };
        let governance = Governance {
            grant_max_lifetime: config.grant_max_lifetime,
            max_credentials: config.max_credentials,
        };
        let state = AppState {
            tokens: Arc::new(tokens),
            verifier: Arc::new(verifier),
            denylist,
            governance,
            audiences: Arc::default(),
        };
        tracing::info!(%addr, issuer = %state.tokens.issuer, backend = if config.database_url.is_some() { "postgres" } else { "sqlite" }, denylist = if config.redis_url.is_some() { "redis" } else { "in-process" }, "warrant is ready");
        Ok(Application { listener, addr, state })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The issuer URL tokens carry.
    pub fn issuer(&self) -> &str {
        &self.state.tokens.issuer
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, routes::router(self.state)).with_graceful_shutdown(shutdown).await
    }
}

/// Creates the bootstrap operator (role `admin`) when the store has none:
/// with the configured id and secret, or generated ones printed once.
async fn bootstrap_operator(
    store: &dyn Store,
    hasher: &SecretHasher,
    clock: &dyn Clock,
    config: &Config,
) -> Result<(), StartError> {
    if store.count_operators().await? > 0 {
        return Ok(());
    }
    let (client_id, secret, generated) = match &config.bootstrap_admin {
        Some(admin) => (admin.id.clone(), admin.secret.clone(), false),
        None => {
            let id = ClientId::parse(&warrant_issuer::new_id("op"))?;
            let (secret, _) = hasher.generate()?;
            (id, secret, true)
        }
    };
    let now = clock.now();
    let roles = Roles::new([Role::Admin])?;
    let operator = Operator {
        id: client_id.as_str().to_owned(),
        client_id: client_id.clone(),
        name: "Bootstrap administrator".into(),
        email: "admin@localhost".into(),
        roles,
        created_by: "bootstrap".into(),
        created_at: now,
    };
    let credential = Credential {
        id: warrant_issuer::new_id("cred"),
        client_id: client_id.clone(),
        client_kind: ClientKind::Operator,
        method: CredentialMethod::ClientSecret,
        secret_hash: Some(hasher.hash(&secret)),
        jwks: None,
        created_at: now,
        last_used_at: None,
        retired_at: None,
    };
    store.insert_operator(&operator, &credential).await?;
    if generated {
        // Shown once, on standard output, never through the log.
        println!(
            "\nWarrant created the bootstrap operator (role admin). Its secret is shown once: store it now.\n  \
             client_id:     {client_id}\n  client_secret: {}\n",
            secret.expose()
        );
    } else {
        tracing::info!(client_id = %client_id, "bootstrap operator created from WARRANT_BOOTSTRAP_ADMIN_ID");
    }
    Ok(())
}
