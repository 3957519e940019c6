//! A bounded cache of tokens whose signature has already been verified, so
//! that a token presented again (an agent uses one token for many calls) is
//! not verified twice. Keyed by the whole compact token: a token that
//! differs in any byte, signature included, misses. Only the signature
//! check and the claim parsing are skipped on a hit; expiry, issuer,
//! audience, the key's presence and (in the callers) the denylist are
//! checked on every call.
//!
//! Two generations bound it: inserts go to the young map; when it is full
//! the old map is dropped and the young one takes its place. At most
//! `2 × generation` entries, no per-entry bookkeeping.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::AccessClaims;

/// Entries per generation: at most twice this many tokens are held
/// (about 1 KiB each with their claims).
pub const GENERATION: usize = 4_096;

/// A verified token's key id and claims.
pub(crate) type Verified = Arc<(String, AccessClaims)>;

#[derive(Default)]
struct Generations {
    young: HashMap<String, Verified>,
    old: HashMap<String, Verified>,
}

/// The cache; see the module documentation.
pub(crate) struct VerifiedTokens {
    generation: usize,
    maps: RwLock<Generations>,
}

impl VerifiedTokens {
    pub(crate) fn new(generation: usize) -> VerifiedTokens {
        VerifiedTokens { generation: generation.max(1), maps: RwLock::new(Generations::default()) }
    }

    pub(crate) fn get(&self, token: &str) -> Option<Verified> {
        let maps = self.maps.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        maps.young.get(token).or_else(|| maps.old.get(token)).cloned()
    }

    pub(crate) fn insert(&self, token: &str, verified: Verified) {
        let mut maps = self.maps.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if maps.young.len() >= self.generation {
            maps.old = std::mem::take(&mut maps.young);
        }
        maps.young.insert(token.to_owned(), verified);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        let maps = self.maps.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        maps.young.len() + maps.old.len()
    }
}
