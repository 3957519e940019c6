//! The per-client rate limit of the token endpoint: a token bucket of
//! `burst` requests refilled at `per_second`, kept in memory by each
//! replica (so N replicas allow up to N times the rate).
//!
//! It is keyed by the *authenticated* client id and checked after client
//! authentication: a request that does not prove who it is never touches a
//! client's bucket, so nobody can throttle a victim by naming its
//! `client_id`, and only registered clients ever get an entry (the map is
//! bounded by the inventory). Floods of unauthenticated requests are left
//! to the network edge (and cost a constant-time HMAC each).
//!
//! The bucket is kept as GCRA's "theoretical arrival time" in one atomic
//! per client, updated by compare-and-swap: no lock is held across a
//! request, and the map's shard lock is only written when a client is seen
//! for the first time.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

const SHARDS: usize = 64;
const NANOS: u64 = 1_000_000_000;

/// A request over its client's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// When the next request would be allowed.
    pub retry_after: Duration,
    /// Whether this is the client's first refusal in this second: refusals
    /// are audited at most once per client per second, so that a runaway
    /// client cannot flood the audit trail.
    pub audit: bool,
}

impl Limited {
    /// `retry_after` in whole seconds, rounded up (the `Retry-After` header).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_nanos().div_ceil(u128::from(NANOS)).max(1).try_into().unwrap_or(u64::MAX)
    }
}

struct Bucket {
    /// The theoretical arrival time of the next request, in nanoseconds
    /// since the limiter's epoch.
    tat: AtomicU64,
    /// The second (since the epoch, plus one) of the last audited refusal.
    audited: AtomicU64,
}

struct Limiter {
    /// Nanoseconds between two requests at the sustained rate.
    interval: u64,
    /// How far ahead of now the arrival time may run: `burst - 1` intervals.
    tolerance: u64,
    epoch: Instant,
    hasher: RandomState,
    shards: Vec<RwLock<HashMap<String, Bucket>>>,
}

/// The token endpoint's per-client rate limit; [`RateLimit::off`] allows
/// everything.
pub struct RateLimit(Option<Limiter>);

impl RateLimit {
    /// No limit.
    pub fn off() -> RateLimit {
        RateLimit(None)
    }

    /// `per_second` requests per second per client, in bursts of up to
    /// `burst`; `per_second == 0` means no limit.
    pub fn new(per_second: u32, burst: u32) -> RateLimit {
        if per_second == 0 {
            return RateLimit(None);
        }
        let interval = NANOS / u64::from(per_second);
        RateLimit(Some(Limiter {
            interval,
            tolerance: interval.saturating_mul(u64::from(burst.max(1) - 1)),
            epoch: Instant::now(),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
        }))
    }

    /// Whether a limit is set.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Counts one request of `client_id` now.
    pub fn check(&self, client_id: &str) -> Result<(), Limited> {
        match &self.0 {
            None => Ok(()),
            Some(limiter) => {
                let now = u64::try_from(limiter.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
                limiter.check_at(client_id, now)
            }
        }
    }
}

impl Limiter {
    fn check_at(&self, client_id: &str, now: u64) -> Result<(), Limited> {
        let index = usize::try_from(self.hasher.hash_one(client_id) % SHARDS as u64).unwrap_or(0);
        let shard = &self.shards[index];
        {
            let buckets = shard.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(bucket) = buckets.get(client_id) {
                return self.take(bucket, now);
            }
        }
        let mut buckets = shard.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets
            .entry(client_id.to_owned())
            .or_insert_with(|| Bucket { tat: AtomicU64::new(0), audited: AtomicU64::new(0) });
        self.take(bucket, now)
    }

    /// GCRA: a request at `now` conforms when the arrival time is at most
    /// `tolerance` ahead of it; it then moves the arrival time one interval on.
    fn take(&self, bucket: &Bucket, now: u64) -> Result<(), Limited> {
        let mut tat = bucket.tat.load(Ordering::Relaxed);
        loop {
            let limit = now.saturating_add(self.tolerance);
            if tat > limit {
                let second = now / NANOS + 1;
                let audit = bucket.audited.swap(second, Ordering::Relaxed) != second;
                return Err(Limited { retry_after: Duration::from_nanos(tat - limit), audit });
            }
            let next = tat.max(now).saturating_add(self.interval);
            match bucket.tat.compare_exchange_weak(tat, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Ok(()),
                Err(actual) => tat = actual,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: u32, burst: u32) -> Limiter {
        RateLimit::new(per_second, burst).0.unwrap()
    }

    const MS: u64 = 1_000_000;

    #[test]
    fn a_burst_is_allowed_then_the_sustained_rate() {
        let l = limiter(10, 5);
        for _ in 0..5 {
            assert!(l.check_at("agt_a", 0).is_ok());
        }
        let refused = l.check_at("agt_a", 0).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_millis(100));
        assert_eq!(refused.retry_after_secs(), 1);
        assert!(l.check_at("agt_a", 99 * MS).is_err(), "not yet refilled");
        assert!(l.check_at("agt_a", 100 * MS).is_ok(), "one token back after 100 ms");
        assert!(l.check_at("agt_a", 100 * MS).is_err());
        // A long pause refills the bucket to its burst, no more.
        let later = 10 * NANOS;
        assert_eq!((0..10).filter(|_| l.check_at("agt_a", later).is_ok()).count(), 5);
    }

    #[test]
    fn each_client_has_its_own_bucket() {
        let l = limiter(1, 1);
        assert!(l.check_at("agt_a", 0).is_ok());
        assert!(l.check_at("agt_a", 0).is_err());
        assert!(l.check_at("agt_b", 0).is_ok(), "another client is not throttled");
    }

    #[test]
    fn refusals_are_audited_once_per_client_per_second() {
        let l = limiter(1, 1);
        assert!(l.check_at("agt_a", 0).is_ok());
        let audits: Vec<bool> = (0..5).map(|i| l.check_at("agt_a", i * MS).unwrap_err().audit).collect();
        assert_eq!(audits, [true, false, false, false, false]);
        assert!(l.check_at("agt_a", NANOS + 1).is_ok());
        assert!(l.check_at("agt_a", NANOS + 2).unwrap_err().audit, "a new second, a new audit");
    }

    #[test]
    fn off_allows_everything() {
        let off = RateLimit::new(0, 10);
        assert!(!off.is_on());
        assert!((0..10_000).all(|_| off.check("agt_a").is_ok()));
    }

    #[test]
    fn concurrent_requests_never_exceed_the_burst() {
        let l = std::sync::Arc::new(limiter(1, 100));
        let allowed = std::sync::Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (l, allowed) = (l.clone(), allowed.clone());
                std::thread::spawn(move || {
                    for _ in 0..1_000 {
                        if l.check_at("agt_a", 0).is_ok() {
                            allowed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(allowed.load(Ordering::Relaxed), 100);
    }
}
