//! Fixtures for the layer's unit tests: signing keys, tokens, and a key
//! source that counts its fetches and needs no network.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::alg::ecdsa::EcdsaJwsSigner;
use josekit::jws::{JwsHeader, ES256};
use josekit::jwt::{self, JwtPayload};
use serde_json::Value;
use warrant_policy::Timestamp;

use super::error::LayerError;
use super::jwks::JwksSource;

pub const ISS: &str = "https://warrant.example";
pub const AUD: &str = "https://tickets.example";
pub const NOW: Timestamp = Timestamp(1_800_000_000);

/// A signing key and its public half, under a key id.
pub struct Key {
    pub public: Jwk,
    signer: EcdsaJwsSigner,
}

impl Key {
    pub fn generate(kid: &str) -> Key {
        let pair = ES256.generate_key_pair().unwrap();
        let mut public = pair.to_jwk_public_key();
        public.set_key_id(kid);
        public.set_algorithm("ES256");
        public.set_key_use("sig");
        let signer = ES256.signer_from_jwk(&pair.to_jwk_private_key()).unwrap();
        Key { public, signer }
    }

    /// A token with the usual claims (scope `scope`), `overrides` applied,
    /// signed under `kid`.
    pub fn token_with_kid(&self, kid: Option<&str>, scope: &str, overrides: &[(&str, Value)]) -> String {
        let mut payload = JwtPayload::new();
        let base = [
            ("iss", Value::from(ISS)),
            ("sub", Value::from("agt_1")),
            ("aud", Value::from(AUD)),
            ("client_id", Value::from("agt_1")),
            ("scope", Value::from(scope)),
            ("jti", Value::from("jti_1")),
            ("iat", Value::from(NOW.unix())),
            ("exp", Value::from(NOW.unix() + 300)),
        ];
        for (name, value) in base.into_iter().chain(overrides.iter().cloned()) {
            payload.set_claim(name, Some(value)).unwrap();
        }
        let mut header = JwsHeader::new();
        header.set_token_type("at+jwt");
        if let Some(kid) = kid {
            header.set_key_id(kid);
        }
        jwt::encode_with_signer(&payload, &header, &self.signer).unwrap()
    }

    /// A token signed under this key's own `kid`.
    pub fn token(&self, scope: &str) -> String {
        self.token_with_kid(self.public.key_id(), scope, &[])
    }
}

/// A key source serving whatever it is told, counting fetches.
#[derive(Default)]
pub struct FakeSource {
    keys: Mutex<Option<Vec<Jwk>>>,
    fetches: AtomicUsize,
    delay: Option<Duration>,
}

impl FakeSource {
    /// Serves `keys`.
    pub fn serving(keys: &[&Key]) -> FakeSource {
        let source = FakeSource::default();
        source.serve(keys);
        source
    }

    /// Serves `keys`, each fetch taking `delay`.
    pub fn slow(keys: &[&Key], delay: Duration) -> FakeSource {
        let mut source = FakeSource::serving(keys);
        source.delay = Some(delay);
        source
    }

    /// Fails every fetch.
    pub fn failing() -> FakeSource {
        FakeSource::default()
    }

    pub fn serve(&self, keys: &[&Key]) {
        *self.keys.lock().unwrap() = Some(keys.iter().map(|k| k.public.clone()).collect());
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl JwksSource for FakeSource {
    async fn fetch(&self) -> Result<JwkSet, LayerError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        let keys = self.keys.lock().unwrap().clone().ok_or(LayerError::NoUsableKey)?;
        let mut set = JwkSet::new();
        for key in keys {
            set.push_key(key);
        }
        Ok(set)
    }
}
