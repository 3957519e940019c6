//! Client secrets: generated from ring's CSPRNG (256 bits), stored only as
//! HMAC-SHA-256 under a server pepper, compared in constant time, and held
//! in a type whose `Debug` never shows them.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::KeyError;

/// A secret in memory: shown once to its owner, never in a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(secret: String) -> SecretString {
        SecretString(secret)
    }

    /// The secret itself; call only to hand it to its owner or to hash it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

/// Random bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut bytes = [0u8; N];
    SystemRandom::new().fill(&mut bytes).map_err(|_| KeyError::Random)?;
    Ok(bytes)
}

/// A new identifier such as `agt_0194…`: a prefix and a UUIDv7 (48 bits
/// of milliseconds, then 74 random bits), so that ids sort in creation
/// order and the inventory pages in the order agents were registered.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// Hashes and checks client secrets with HMAC-SHA-256 under the pepper.
pub struct SecretHasher {
    key: hmac::Key,
}

impl SecretHasher {
    /// A hasher keyed with the 32-byte server pepper.
    pub fn new(pepper: &[u8; 32]) -> SecretHasher {
        SecretHasher { key: hmac::Key::new(hmac::HMAC_SHA256, pepper) }
    }

    /// A fresh secret (32 random bytes, base64url) and its hash.
    pub fn generate(&self) -> Result<(SecretString, Vec<u8>), KeyError> {
        let secret = SecretString(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?));
        let hash = self.hash(&secret);
        Ok((secret, hash))
    }

    /// The stored form of `secret`.
    pub fn hash(&self, secret: &SecretString) -> Vec<u8> {
        hmac::sign(&self.key, secret.expose().as_bytes()).as_ref().to_vec()
    }

    /// Whether `presented` hashes to `stored`, compared in constant time.
    pub fn verify(&self, presented: &str, stored: &[u8]) -> bool {
        hmac::verify(&self.key, presented.as_bytes(), stored).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_verifies_and_a_wrong_one_does_not() {
        let hasher = SecretHasher::new(&[1; 32]);
        let (secret, hash) = hasher.generate().unwrap();
        assert!(secret.expose().len() >= 43, "256 bits in base64url is 43 characters");
        assert!(hasher.verify(secret.expose(), &hash));
        assert!(!hasher.verify("guess", &hash));
        assert!(
            !SecretHasher::new(&[2; 32]).verify(secret.expose(), &hash),
            "the pepper is part of the hash"
        );
    }

    #[test]
    fn two_secrets_differ_and_debug_hides_them() {
        let hasher = SecretHasher::new(&[1; 32]);
        let (a, _) = hasher.generate().unwrap();
        let (b, _) = hasher.generate().unwrap();
        assert_ne!(a, b);
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
