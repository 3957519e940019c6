//! Micro-benchmarks of the pieces on every request (`cargo bench -p
//! warrant-issuer`): the scope decision, minting and verifying an ES256
//! access token (a cache miss and a hit), the denylist check and the
//! client-secret check. Not run by the tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use warrant_introspection::AccessTokenVerifier;
use warrant_issuer::{mint, SecretHasher, SigningKey};
use warrant_policy::{decide_token, Audience, ClientId, HeldGrant, ScopeSet, Timestamp};
use warrant_store::denylist::{Denylist, MemoryDenylist, TokenFacts};

const ISSUER: &str = "https://warrant.bench";
const NOW: Timestamp = Timestamp(1_800_000_000);

fn held_grants() -> Vec<HeldGrant> {
    let grant = |aud: &str, scopes: &str| HeldGrant {
        audience: Audience::parse(aud).unwrap(),
        scopes: ScopeSet::parse(scopes).unwrap(),
        expires_at: Some(NOW.plus(86_400)),
        max_token_ttl: Some(600),
    };
    vec![
        grant("https://crm.example.com", "contacts:read cases:read"),
        grant("https://crm.example.com", "cases:write"),
        grant("https://tickets.example.com", "tickets:read tickets:write"),
        grant("https://kb.example.com", "articles:read"),
        grant("https://pay.example.com", "refunds:create"),
    ]
}

fn benches(c: &mut Criterion) {
    let held = held_grants();
    let audience = Audience::parse("https://crm.example.com").unwrap();
    let requested = ScopeSet::parse("contacts:read cases:write").unwrap();
    c.bench_function("policy/decide_token", |b| {
        b.iter(|| decide_token(Some(black_box(&audience)), Some(&requested), black_box(&held), NOW, 300))
    });

    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::load_or_create(dir.path()).unwrap();
    let client_id = ClientId::parse("agt_bench").unwrap();
    let decision = decide_token(Some(&audience), Some(&requested), &held, NOW, 300).unwrap();
    c.bench_function("jwt/mint_es256", |b| {
        b.iter(|| mint(&key, ISSUER, "agt_bench", &client_id, black_box(&decision)))
    });

    let verifier = AccessTokenVerifier::new(ISSUER, std::slice::from_ref(key.public_jwk())).unwrap();
    // More distinct tokens than the verified cache holds, cycled: every verify misses.
    let tokens: Vec<String> = (0..10_000)
        .map(|_| mint(&key, ISSUER, "agt_bench", &client_id, &decision).unwrap().0.access_token)
        .collect();
    let mut next = 0;
    c.bench_function("jwt/verify_es256_uncached", |b| {
        b.iter(|| {
            next = (next + 1) % tokens.len();
            verifier.verify(black_box(&tokens[next]), audience.as_str(), NOW).unwrap()
        })
    });
    c.bench_function("jwt/verify_cached", |b| {
        b.iter(|| verifier.verify(black_box(&tokens[0]), audience.as_str(), NOW).unwrap())
    });

    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let denylist = MemoryDenylist::default();
    let killed: Vec<String> = (0..10_000).map(|n| format!("agt_{n}")).collect();
    runtime.block_on(denylist.kill(&killed, NOW)).unwrap();
    let facts = TokenFacts {
        jti: "jti-1",
        agent_id: "agt_live",
        audience: "https://crm.example.com",
        issued_at: NOW,
    };
    c.bench_function("denylist/memory_check", |b| {
        b.iter(|| runtime.block_on(denylist.check(black_box(&facts))))
    });

    let hasher = SecretHasher::new(&[7; 32]);
    let (secret, hash) = hasher.generate().unwrap();
    c.bench_function("secret/hmac_verify", |b| b.iter(|| hasher.verify(black_box(secret.expose()), &hash)));
}

criterion_group!(hot_paths, benches);
criterion_main!(hot_paths);
