//! The in-memory denylist every implementation keeps or falls back on, and
//! the one-line events that travel on the Redis channel.

use std::collections::HashMap;

use warrant_policy::Timestamp;

use super::{Inactive, TokenFacts};
use crate::DenylistSnapshot;

/// One change to the denylist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Kill {
        agent_id: String,
        at: Timestamp,
    },
    Token {
        jti: String,
        expires_at: Timestamp,
    },
    Grant {
        agent_id: String,
        audience: String,
        at: Timestamp,
    },
    /// A client's stored data changed (a change notice, not a denial).
    Changed {
        client_id: String,
    },
}

impl Event {
    /// The wire form: `k <agent> <at>`, `t <jti> <exp>`, `g <agent> <at> <audience>`,
    /// `c <client> 0`.
    pub fn encode(&self) -> String {
        match self {
            Event::Kill { agent_id, at } => format!("k {agent_id} {}", at.unix()),
            Event::Token { jti, expires_at } => format!("t {jti} {}", expires_at.unix()),
            Event::Grant { agent_id, audience, at } => format!("g {agent_id} {} {audience}", at.unix()),
            Event::Changed { client_id } => format!("c {client_id} 0"),
        }
    }

    /// The time a kill or a grant revocation holds.
    pub fn time(&self) -> Option<Timestamp> {
        match self {
            Event::Kill { at, .. } | Event::Grant { at, .. } => Some(*at),
            Event::Token { .. } | Event::Changed { .. } => None,
        }
    }

    pub fn decode(text: &str) -> Option<Event> {
        let mut parts = text.splitn(4, ' ');
        let (kind, id, time) =
            (parts.next()?, parts.next()?.to_owned(), Timestamp(parts.next()?.parse().ok()?));
        match (kind, parts.next()) {
            ("k", None) => Some(Event::Kill { agent_id: id, at: time }),
            ("t", None) => Some(Event::Token { jti: id, expires_at: time }),
            ("c", None) => Some(Event::Changed { client_id: id }),
            ("g", Some(audience)) => {
                Some(Event::Grant { agent_id: id, audience: audience.to_owned(), at: time })
            }
            _ => None,
        }
    }
}

/// The denylist's content.
#[derive(Debug, Default)]
pub struct Cache {
    kills: HashMap<String, Timestamp>,
    tokens: HashMap<String, Timestamp>,
    grants: HashMap<(String, String), Timestamp>,
    inserts_since_prune: usize,
}

/// Revoked ids are pruned of expired ones after this many inserts.
const PRUNE_EVERY: usize = 4_096;

impl Cache {
    pub fn from_snapshot(snapshot: DenylistSnapshot) -> Cache {
        let mut cache = Cache::default();
        for (agent_id, at) in snapshot.kills {
            cache.apply(Event::Kill { agent_id, at }, Timestamp(0));
        }
        for (jti, expires_at) in snapshot.tokens {
            cache.apply(Event::Token { jti, expires_at }, Timestamp(0));
        }
        for (agent_id, audience, at) in snapshot.grants {
            cache.apply(Event::Grant { agent_id, audience, at }, Timestamp(0));
        }
        cache
    }

    /// Takes in everything `older` holds: a denylist only grows (kill and
    /// revocation times only move forward; revoked ids stay until they
    /// expire), so what a copy once held stays true.
    pub fn absorb(&mut self, older: Cache) {
        for (agent_id, at) in older.kills {
            self.apply(Event::Kill { agent_id, at }, Timestamp(0));
        }
        for (jti, expires_at) in older.tokens {
            self.tokens.entry(jti).or_insert(expires_at);
        }
        for ((agent_id, audience), at) in older.grants {
            self.apply(Event::Grant { agent_id, audience, at }, Timestamp(0));
        }
    }

    /// Applies an event; times only move forward, so events may arrive twice
    /// or out of order.
    pub fn apply(&mut self, event: Event, now: Timestamp) {
        match event {
            Event::Kill { agent_id, at } => {
                let entry = self.kills.entry(agent_id).or_insert(at);
                *entry = (*entry).max(at);
            }
            Event::Token { jti, expires_at } => {
                self.tokens.insert(jti, expires_at);
                self.inserts_since_prune += 1;
                if self.inserts_since_prune >= PRUNE_EVERY {
                    self.tokens.retain(|_, exp| *exp > now);
                    self.inserts_since_prune = 0;
                }
            }
            Event::Grant { agent_id, audience, at } => {
                let entry = self.grants.entry((agent_id, audience)).or_insert(at);
                *entry = (*entry).max(at);
            }
            Event::Changed { .. } => {}
        }
    }

    /// The number of kills, revoked tokens and revoked grants held.
    pub fn sizes(&self) -> (usize, usize, usize) {
        (self.kills.len(), self.tokens.len(), self.grants.len())
    }

    pub fn check(&self, token: &TokenFacts<'_>) -> Option<Inactive> {
        decide(
            self.tokens.contains_key(token.jti),
            self.kills.get(token.agent_id).copied(),
            self.grants.get(&(token.agent_id.to_owned(), token.audience.to_owned())).copied(),
            token.issued_at,
        )
    }
}

/// The rule, given what the denylist holds for a token.
pub fn decide(
    revoked: bool,
    killed_at: Option<Timestamp>,
    grant_revoked_at: Option<Timestamp>,
    issued_at: Timestamp,
) -> Option<Inactive> {
    if revoked {
        Some(Inactive::Revoked)
    } else if killed_at.is_some_and(|at| issued_at <= at) {
        Some(Inactive::Killed)
    } else if grant_revoked_at.is_some_and(|at| issued_at <= at) {
        Some(Inactive::GrantRevoked)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(iat: i64) -> TokenFacts<'static> {
        TokenFacts { jti: "j1", agent_id: "agt_1", audience: "https://crm", issued_at: Timestamp(iat) }
    }

    #[test]
    fn events_round_trip_their_wire_form() {
        let events = [
            Event::Kill { agent_id: "agt_1".into(), at: Timestamp(10) },
            Event::Token { jti: "3f2a-11".into(), expires_at: Timestamp(20) },
            Event::Grant { agent_id: "agt_1".into(), audience: "urn:x:y".into(), at: Timestamp(30) },
            Event::Changed { client_id: "agt_1".into() },
        ];
        for event in events {
            assert_eq!(Event::decode(&event.encode()), Some(event));
        }
        for bad in ["", "k agt_1", "k agt_1 soon", "x a 1", "g agt_1 1", "k a 1 extra"] {
            assert_eq!(Event::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_token_issued_at_or_before_a_kill_is_dead_and_a_later_one_lives() {
        let mut cache = Cache::default();
        cache.apply(Event::Kill { agent_id: "agt_1".into(), at: Timestamp(100) }, Timestamp(100));
        assert_eq!(cache.check(&facts(99)), Some(Inactive::Killed));
        assert_eq!(cache.check(&facts(100)), Some(Inactive::Killed));
        assert_eq!(cache.check(&facts(101)), None);
        cache.apply(Event::Kill { agent_id: "agt_1".into(), at: Timestamp(50) }, Timestamp(100));
        assert_eq!(
            cache.check(&facts(100)),
            Some(Inactive::Killed),
            "an older kill never moves the time back"
        );
    }

    #[test]
    fn a_grant_revocation_kills_only_that_audience() {
        let mut cache = Cache::default();
        cache.apply(
            Event::Grant { agent_id: "agt_1".into(), audience: "https://crm".into(), at: Timestamp(100) },
            Timestamp(100),
        );
        assert_eq!(cache.check(&facts(100)), Some(Inactive::GrantRevoked));
        let other = TokenFacts { audience: "https://tickets", ..facts(100) };
        assert_eq!(cache.check(&other), None);
        assert_eq!(cache.check(&facts(101)), None);
    }

    #[test]
    fn a_copy_absorbing_an_older_one_keeps_what_either_held() {
        let mut older = Cache::default();
        older.apply(Event::Kill { agent_id: "agt_1".into(), at: Timestamp(100) }, Timestamp(100));
        older.apply(Event::Token { jti: "j1".into(), expires_at: Timestamp(500) }, Timestamp(100));
        let mut fresh = Cache::default();
        fresh.apply(Event::Kill { agent_id: "agt_1".into(), at: Timestamp(50) }, Timestamp(100));
        fresh.apply(
            Event::Grant { agent_id: "agt_1".into(), audience: "https://crm".into(), at: Timestamp(120) },
            Timestamp(120),
        );
        fresh.absorb(older);
        assert_eq!(
            fresh.check(&TokenFacts { jti: "j9", ..facts(100) }),
            Some(Inactive::Killed),
            "the later kill"
        );
        assert_eq!(fresh.check(&facts(200)), Some(Inactive::Revoked), "the revoked id");
        assert_eq!(fresh.check(&TokenFacts { jti: "j9", ..facts(120) }), Some(Inactive::GrantRevoked));
    }

    #[test]
    fn a_revoked_jti_is_dead_whatever_its_time() {
        let mut cache = Cache::from_snapshot(DenylistSnapshot {
            tokens: vec![("j1".into(), Timestamp(500))],
            ..DenylistSnapshot::default()
        });
        assert_eq!(cache.check(&facts(400)), Some(Inactive::Revoked));
        cache.apply(Event::Token { jti: "j2".into(), expires_at: Timestamp(1) }, Timestamp(1));
        assert_eq!(cache.check(&TokenFacts { jti: "j3", ..facts(1) }), None);
    }
}
