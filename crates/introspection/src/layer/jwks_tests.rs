//! The key cache without a network: first fetch, refetch on an unknown
//! `kid`, the refresh bound, shared refreshes, and failed fetches.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::layer::test_support::{FakeSource, Key, AUD, ISS, NOW};

const HOUR: Duration = Duration::from_secs(3_600);

fn cache(source: &Arc<FakeSource>, interval: Duration) -> JwksCache {
    JwksCache::new(ISS, source.clone(), interval)
}

#[tokio::test]
async fn keys_are_fetched_once_and_then_served_from_the_cache() {
    let k1 = Key::generate("k1");
    let source = Arc::new(FakeSource::serving(&[&k1]));
    let cache = cache(&source, Duration::ZERO);
    for _ in 0..3 {
        let claims = cache.verify(&k1.token("tickets:read"), AUD, NOW).await.unwrap().unwrap();
        assert_eq!(claims.sub, "agt_1");
    }
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn an_unknown_kid_refetches_and_finds_a_rotated_key() {
    let (k1, k2) = (Key::generate("k1"), Key::generate("k2"));
    let source = Arc::new(FakeSource::serving(&[&k1]));
    let cache = cache(&source, Duration::ZERO);
    cache.preload().await.unwrap();
    source.serve(&[&k1, &k2]);
    let claims = cache.verify(&k2.token("tickets:read"), AUD, NOW).await.unwrap().unwrap();
    assert_eq!(claims.jti, "jti_1");
    assert_eq!(source.fetches(), 2);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_fetches_at_most_once_per_interval() {
    let k1 = Key::generate("k1");
    let source = Arc::new(FakeSource::serving(&[&k1]));
    let cache = cache(&source, HOUR);
    for n in 0..50 {
        let token = k1.token_with_kid(Some(&format!("bogus-{n}")), "tickets:read", &[]);
        assert_eq!(cache.verify(&token, AUD, NOW).await.unwrap(), Err(VerifyError::UnknownKey));
    }
    assert_eq!(source.fetches(), 1, "the first fetch already falls within the bound");
    assert!(cache.verify(&k1.token("tickets:read"), AUD, NOW).await.unwrap().is_ok());
}

#[tokio::test]
async fn a_refetch_is_allowed_again_once_the_interval_has_passed() {
    let k1 = Key::generate("k1");
    let source = Arc::new(FakeSource::serving(&[&k1]));
    let cache = cache(&source, Duration::from_millis(100));
    let bogus = k1.token_with_kid(Some("bogus"), "tickets:read", &[]);
    cache.preload().await.unwrap();
    assert_eq!(cache.verify(&bogus, AUD, NOW).await.unwrap(), Err(VerifyError::UnknownKey));
    assert_eq!(source.fetches(), 1);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(cache.verify(&bogus, AUD, NOW).await.unwrap(), Err(VerifyError::UnknownKey));
    assert_eq!(cache.verify(&bogus, AUD, NOW).await.unwrap(), Err(VerifyError::UnknownKey));
    assert_eq!(source.fetches(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_share_one_fetch() {
    let (k1, k2) = (Key::generate("k1"), Key::generate("k2"));
    let source = Arc::new(FakeSource::slow(&[&k1], Duration::from_millis(100)));
    let cache = Arc::new(cache(&source, Duration::ZERO));
    cache.preload().await.unwrap();
    source.serve(&[&k1, &k2]);
    let token = k2.token("tickets:read");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (cache, token) = (cache.clone(), token.clone());
            tokio::spawn(async move { cache.verify(&token, AUD, NOW).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().unwrap().is_ok());
    }
    assert_eq!(source.fetches(), 2);
}

#[tokio::test]
async fn a_failed_fetch_makes_the_keys_unavailable_without_refetching_within_the_interval() {
    let k1 = Key::generate("k1");
    let source = Arc::new(FakeSource::failing());
    let cache = cache(&source, HOUR);
    for _ in 0..5 {
        let outcome = cache.verify(&k1.token("tickets:read"), AUD, NOW).await;
        assert!(matches!(outcome, Err(LayerError::Unavailable(_))), "{outcome:?}");
    }
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn known_keys_keep_working_while_a_refetch_fails() {
    let k1 = Key::generate("k1");
    let source = Arc::new(FakeSource::serving(&[&k1]));
    let cache = cache(&source, Duration::ZERO);
    cache.preload().await.unwrap();
    source.serve(&[]);
    let bogus = k1.token_with_kid(Some("bogus"), "tickets:read", &[]);
    assert!(matches!(cache.verify(&bogus, AUD, NOW).await, Err(LayerError::Unavailable(_))));
    assert!(cache.verify(&k1.token("tickets:read"), AUD, NOW).await.unwrap().is_ok());
}

#[tokio::test]
async fn a_token_without_a_kid_or_with_a_bad_header_does_not_trigger_a_refetch() {
    let k1 = Key::generate("k1");
    let source = Arc::new(FakeSource::serving(&[&k1]));
    let cache = cache(&source, Duration::ZERO);
    cache.preload().await.unwrap();
    let no_kid = k1.token_with_kid(None, "tickets:read", &[]);
    assert_eq!(cache.verify(&no_kid, AUD, NOW).await.unwrap(), Err(VerifyError::UnknownKey));
    assert_eq!(cache.verify("not.a.jwt", AUD, NOW).await.unwrap(), Err(VerifyError::Malformed));
    assert_eq!(source.fetches(), 1);
}

#[test]
fn only_ec_p256_signing_keys_with_a_kid_are_kept() {
    let good = Key::generate("k1").public;
    assert!(is_es256_signing_key(&good));
    let mut no_kid = Key::generate("k1").public;
    no_kid.set_key_id("");
    assert!(!is_es256_signing_key(&no_kid));
    let mut for_encryption = good.clone();
    for_encryption.set_key_use("enc");
    assert!(!is_es256_signing_key(&for_encryption));
    let mut other_alg = good.clone();
    other_alg.set_algorithm("ES384");
    assert!(!is_es256_signing_key(&other_alg));
}

#[tokio::test]
async fn a_key_set_without_a_usable_key_is_an_error() {
    let source = Arc::new(FakeSource::serving(&[]));
    let outcome = cache(&source, HOUR).preload().await;
    assert!(
        matches!(&outcome, Err(LayerError::Unavailable(cause)) if matches!(**cause, LayerError::NoUsableKey)),
        "{outcome:?}"
    );
}
