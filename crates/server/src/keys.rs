//! Keeping a running server's signing keys in step with the keys
//! directory, so that `warrant keys rotate` reaches every replica without a
//! restart: the directory is read again every `WARRANT_KEYS_RELOAD_INTERVAL`,
//! on SIGHUP ([`KeyReloader`]), and when a token names a `kid` the server
//! does not know (at most once a second). Each reload also hands the
//! verifier the keys published at that moment (a retired key drops out
//! once every token it signed has expired) and deletes, where the
//! directory is writable, the files of such keys.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use warrant_introspection::RefreshKeys;
use warrant_issuer::SigningKeys;
use warrant_policy::Clock;

use crate::state::AppState;

/// Least time between two reloads caused by unknown key ids.
const UNKNOWN_KID_RELOAD_EVERY: Duration = Duration::from_secs(1);

/// Reloads the keys of a running server; cheap to clone.
#[derive(Clone)]
pub struct KeyReloader {
    state: AppState,
}

impl KeyReloader {
    pub(crate) fn new(state: AppState) -> KeyReloader {
        KeyReloader { state }
    }

    /// Reads the keys directory again; true when the keys changed. A
    /// directory that cannot be read, or holds a bad key, leaves the keys
    /// in use as they are (logged).
    pub fn reload(&self) -> bool {
        let keys = &self.state.tokens.key;
        let changed = match keys.reload() {
            Ok(changed) => changed,
            Err(error) => {
                tracing::warn!(error = %crate::error_chain(&error), "cannot reload the signing keys; keeping those in use");
                return false;
            }
        };
        let now = self.state.tokens.clock.now();
        if let Err(error) = self.state.verifier.set_keys(&keys.published(now)) {
            tracing::warn!(%error, "the published keys do not parse");
        }
        match warrant_issuer::prune_expired(keys.dir(), now) {
            Ok(pruned) if !pruned.is_empty() => tracing::info!(?pruned, "retired signing keys deleted"),
            Ok(_) => {}
            Err(error) => tracing::debug!(error = %crate::error_chain(&error), "retired keys not deleted"),
        }
        changed
    }

    /// Reloads every `interval`, forever (the caller aborts it).
    pub(crate) async fn every(self, interval: Duration) {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let reloader = self.clone();
            // Reading files: off the request threads.
            let _ = tokio::task::spawn_blocking(move || reloader.reload()).await;
        }
    }
}

/// The verifier's answer to an unknown `kid`: read the directory again,
/// at most once per second, and hand over the published keys if they changed.
pub(crate) fn refresh_on_unknown_kid(keys: Arc<SigningKeys>, clock: Arc<dyn Clock>) -> RefreshKeys {
    let last = Mutex::new(None::<Instant>);
    Arc::new(move || {
        {
            let mut last = last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.is_some_and(|at| at.elapsed() < UNKNOWN_KID_RELOAD_EVERY) {
                return None;
            }
            *last = Some(Instant::now());
        }
        match keys.reload() {
            Ok(true) => Some(keys.published(clock.now())),
            Ok(false) => None,
            Err(error) => {
                tracing::warn!(error = %crate::error_chain(&error), "cannot reload the signing keys");
                None
            }
        }
    })
}
