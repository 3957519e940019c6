//! Which scopes a token carries, for which resource, and until when
//! (DESIGN.md "Tokens"; RFC 6749 §3.3, RFC 8707 §2).
//!
//! The rule: one resource per token; the scopes are the requested ones, each
//! of which must be held through an approved, unexpired grant on that
//! resource (never silently narrowed or widened); with no `scope` parameter,
//! every held scope. The lifetime is the default, cut short by every
//! contributing grant's `max_token_ttl` and expiry.

use crate::clock::Timestamp;
use crate::error::OAuthError;
use crate::id::Audience;
use crate::scope::ScopeSet;

/// The audience of admin tokens; an operator's roles are its scopes there.
pub const ADMIN_AUDIENCE: &str = "urn:warrant:admin";

/// Scopes a client holds on one resource: an approved grant of an agent, or
/// an operator's roles on the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldGrant {
    pub audience: Audience,
    pub scopes: ScopeSet,
    /// `None` for what never expires (an operator's roles).
    pub expires_at: Option<Timestamp>,
    pub max_token_ttl: Option<i64>,
}

impl HeldGrant {
    fn live_at(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// What the token will say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenDecision {
    pub audience: Audience,
    pub scopes: ScopeSet,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Decides the resource, scopes and expiry of a token.
///
/// `held` is everything the client holds, possibly including expired grants
/// (they are ignored). Errors: `invalid_target` when the resource is not one
/// the client holds a live grant on, or is omitted while grants span several
/// resources; `invalid_scope` when a requested scope is not held there.
pub fn decide_token(
    resource: Option<&Audience>,
    requested: Option<&ScopeSet>,
    held: &[HeldGrant],
    now: Timestamp,
    default_ttl: i64,
) -> Result<TokenDecision, OAuthError> {
    let live: Vec<&HeldGrant> = held.iter().filter(|g| g.live_at(now)).collect();
    let audience = match resource {
        Some(aud) if live.iter().any(|g| &g.audience == aud) => aud.clone(),
        Some(_) => {
            return Err(OAuthError::invalid_target(
                "the client holds no approved, unexpired grant on this resource",
            ))
        }
        None => {
            let mut audiences: Vec<&Audience> = live.iter().map(|g| &g.audience).collect();
            audiences.sort();
            audiences.dedup();
            match audiences.as_slice() {
                [one] => (*one).clone(),
                [] => {
                    return Err(OAuthError::invalid_target("the client holds no approved, unexpired grant"))
                }
                _ => {
                    return Err(OAuthError::invalid_target(
                        "the resource parameter is required: the client holds grants on several resources",
                    ))
                }
            }
        }
    };
    let on_audience: Vec<&HeldGrant> = live.into_iter().filter(|g| g.audience == audience).collect();
    let mut available = ScopeSet::default();
    for grant in &on_audience {
        available.extend(&grant.scopes);
    }
    let scopes = match requested {
        Some(req) if req.is_empty() => return Err(OAuthError::invalid_scope("the scope parameter is empty")),
        Some(req) => {
            let missing = req.difference(&available);
            if !missing.is_empty() {
                return Err(OAuthError::invalid_scope(format!("not granted on this resource: {missing}")));
            }
            req.clone()
        }
        None => available,
    };
    let mut expires_at = now.plus(default_ttl);
    for grant in on_audience.iter().filter(|g| !g.scopes.intersection(&scopes).is_empty()) {
        if let Some(ttl) = grant.max_token_ttl {
            expires_at = expires_at.min(now.plus(ttl));
        }
        if let Some(at) = grant.expires_at {
            expires_at = expires_at.min(at);
        }
    }
    Ok(TokenDecision { audience, scopes, issued_at: now, expires_at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OAuthErrorCode;
    use proptest::prelude::*;

    const NOW: Timestamp = Timestamp(1_700_000_000);

    fn aud(s: &str) -> Audience {
        Audience::parse(s).unwrap()
    }
    fn scopes(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }
    fn grant(a: &str, s: &str, expires_in: i64, max_ttl: Option<i64>) -> HeldGrant {
        HeldGrant {
            audience: aud(a),
            scopes: scopes(s),
            expires_at: Some(NOW.plus(expires_in)),
            max_token_ttl: max_ttl,
        }
    }

    #[test]
    fn the_requested_scopes_that_are_held_are_issued() {
        let held = [grant("https://crm", "read write", 86_400, None)];
        let d = decide_token(Some(&aud("https://crm")), Some(&scopes("read")), &held, NOW, 300).unwrap();
        assert_eq!(d.scopes, scopes("read"));
        assert_eq!(d.audience, aud("https://crm"));
        assert_eq!(d.expires_at, NOW.plus(300));
    }

    #[test]
    fn one_scope_not_held_refuses_the_whole_request() {
        let held = [grant("https://crm", "read", 86_400, None)];
        let err = decide_token(Some(&aud("https://crm")), Some(&scopes("read delete")), &held, NOW, 300)
            .unwrap_err();
        assert_eq!(err.code, OAuthErrorCode::InvalidScope);
        assert!(err.description.contains("delete"));
    }

    #[test]
    fn scopes_held_on_another_resource_do_not_count() {
        let held =
            [grant("https://crm", "read", 86_400, None), grant("https://tickets", "write", 86_400, None)];
        let err =
            decide_token(Some(&aud("https://crm")), Some(&scopes("write")), &held, NOW, 300).unwrap_err();
        assert_eq!(err.code, OAuthErrorCode::InvalidScope);
    }

    #[test]
    fn without_a_scope_every_held_scope_of_the_resource_is_issued() {
        let held = [grant("https://crm", "read", 86_400, None), grant("https://crm", "write", 86_400, None)];
        let d = decide_token(Some(&aud("https://crm")), None, &held, NOW, 300).unwrap();
        assert_eq!(d.scopes, scopes("read write"));
    }

    #[test]
    fn the_resource_may_be_omitted_only_when_one_is_held() {
        let one = [grant("https://crm", "read", 86_400, None)];
        assert_eq!(decide_token(None, None, &one, NOW, 300).unwrap().audience, aud("https://crm"));
        let two =
            [grant("https://crm", "read", 86_400, None), grant("https://tickets", "read", 86_400, None)];
        assert_eq!(decide_token(None, None, &two, NOW, 300).unwrap_err().code, OAuthErrorCode::InvalidTarget);
        assert_eq!(decide_token(None, None, &[], NOW, 300).unwrap_err().code, OAuthErrorCode::InvalidTarget);
    }

    #[test]
    fn a_resource_without_a_live_grant_is_an_invalid_target() {
        let held = [grant("https://crm", "read", -1, None), grant("https://tickets", "read", 0, None)];
        for a in ["https://crm", "https://tickets", "https://unknown"] {
            let err = decide_token(Some(&aud(a)), None, &held, NOW, 300).unwrap_err();
            assert_eq!(err.code, OAuthErrorCode::InvalidTarget, "{a}");
        }
    }

    #[test]
    fn the_lifetime_is_cut_by_max_ttl_and_by_expiry() {
        let held = [grant("https://crm", "read", 86_400, Some(60))];
        assert_eq!(decide_token(None, None, &held, NOW, 300).unwrap().expires_at, NOW.plus(60));
        let held = [grant("https://crm", "read", 42, None)];
        assert_eq!(decide_token(None, None, &held, NOW, 300).unwrap().expires_at, NOW.plus(42));
    }

    #[test]
    fn a_grant_whose_scopes_are_not_issued_does_not_shorten_the_token() {
        let held = [grant("https://crm", "read", 86_400, None), grant("https://crm", "write", 10, Some(5))];
        let d = decide_token(None, Some(&scopes("read")), &held, NOW, 300).unwrap();
        assert_eq!(d.expires_at, NOW.plus(300));
    }

    #[test]
    fn roles_that_never_expire_are_held_until_the_default_lifetime() {
        let held = [HeldGrant {
            audience: aud(ADMIN_AUDIENCE),
            scopes: scopes("admin"),
            expires_at: None,
            max_token_ttl: None,
        }];
        let d = decide_token(Some(&aud(ADMIN_AUDIENCE)), None, &held, NOW, 300).unwrap();
        assert_eq!((d.scopes, d.expires_at), (scopes("admin"), NOW.plus(300)));
    }

    fn arb_grant() -> impl Strategy<Value = HeldGrant> {
        let audiences = ["https://a", "https://b", "https://c"];
        let pool = ["s1", "s2", "s3", "s4", "s5"];
        (
            0..audiences.len(),
            proptest::sample::subsequence(pool.to_vec(), 1..=pool.len()),
            -100i64..1_000,
            proptest::option::of(1i64..600),
        )
            .prop_map(move |(a, s, exp, ttl)| HeldGrant {
                audience: aud(audiences[a]),
                scopes: scopes(&s.join(" ")),
                expires_at: Some(NOW.plus(exp)),
                max_token_ttl: ttl,
            })
    }

    fn arb_request() -> impl Strategy<Value = (Option<Audience>, Option<ScopeSet>)> {
        (
            proptest::option::of(proptest::sample::select(vec![
                "https://a",
                "https://b",
                "https://c",
                "https://z",
            ])),
            proptest::option::of(proptest::sample::subsequence(
                vec!["s1", "s2", "s3", "s4", "s5", "s6"],
                1..=3,
            )),
        )
            .prop_map(|(a, s)| (a.map(aud), s.map(|s| scopes(&s.join(" ")))))
    }

    proptest! {
        /// An issued token never carries a scope that is not both requested
        /// (when a scope was asked for) and held through a live grant on its
        /// resource, and never outlives a grant it draws on.
        #[test]
        fn issued_scopes_are_requested_and_held_and_the_lifetime_is_bounded(
            held in proptest::collection::vec(arb_grant(), 0..6),
            (resource, requested) in arb_request(),
            default_ttl in 1i64..900,
        ) {
            let result = decide_token(resource.as_ref(), requested.as_ref(), &held, NOW, default_ttl);
            let live: Vec<&HeldGrant> = held.iter().filter(|g| g.expires_at.unwrap() > NOW).collect();
            match result {
                Ok(d) => {
                    let on_aud: Vec<&&HeldGrant> = live.iter().filter(|g| g.audience == d.audience).collect();
                    let mut available = ScopeSet::default();
                    on_aud.iter().for_each(|g| available.extend(&g.scopes));
                    prop_assert!(!d.scopes.is_empty());
                    prop_assert!(d.scopes.is_subset(&available));
                    if let Some(r) = &requested { prop_assert_eq!(&d.scopes, r); }
                    if let Some(r) = &resource { prop_assert_eq!(&d.audience, r); }
                    prop_assert!(d.expires_at > NOW);
                    prop_assert!(d.expires_at <= NOW.plus(default_ttl));
                    for g in on_aud.iter().filter(|g| !g.scopes.intersection(&d.scopes).is_empty()) {
                        prop_assert!(d.expires_at <= g.expires_at.unwrap());
                        if let Some(ttl) = g.max_token_ttl { prop_assert!(d.expires_at <= NOW.plus(ttl)); }
                    }
                }
                Err(e) => {
                    // A refusal is right only when the request cannot be met.
                    let audience = resource.clone().or_else(|| {
                        let mut a: Vec<_> = live.iter().map(|g| g.audience.clone()).collect();
                        a.sort(); a.dedup();
                        (a.len() == 1).then(|| a[0].clone())
                    });
                    let held_here: Vec<&&HeldGrant> = live.iter().filter(|g| Some(&g.audience) == audience.as_ref()).collect();
                    if held_here.is_empty() {
                        prop_assert_eq!(e.code, OAuthErrorCode::InvalidTarget);
                    } else {
                        prop_assert_eq!(e.code, OAuthErrorCode::InvalidScope);
                        let mut available = ScopeSet::default();
                        held_here.iter().for_each(|g| available.extend(&g.scopes));
                        prop_assert!(!requested.unwrap().is_subset(&available));
                    }
                }
            }
        }
    }
}
