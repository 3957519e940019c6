//! Verification of Warrant's access tokens (RFC 9068 §4), shared by every
//! place that accepts one: the admin API today, RFC 7662 introspection and
//! the resource-server layer later. It checks the signature against the
//! public keys it was given (replaced whole when Warrant's keys rotate, and
//! asked for again on an unknown `kid`), the header (`alg: ES256`, `typ: at+jwt`, a
//! known `kid`), the issuer, the audience and the time claims; then
//! [`introspect`] asks the denylist about revocations and kills.

mod introspect;
mod verified;

pub use introspect::{introspect, InactiveReason, Introspection};

pub mod layer;

use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::ES256;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde::Deserialize;
use warrant_policy::{ScopeSet, Timestamp};

/// Allowance for clocks that disagree on `iat`, in seconds.
pub const CLOCK_SKEW: i64 = 60;

/// The claims of a verified access token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    #[serde(deserialize_with = "scope_set")]
    pub scope: ScopeSet,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

fn scope_set<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ScopeSet, D::Error> {
    ScopeSet::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// Why a token is not accepted. The description is safe to show the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not ES256")]
    Algorithm,
    #[error("the token is not an access token (typ must be at+jwt)")]
    Type,
    #[error("the token's key id is unknown")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token was issued by someone else")]
    Issuer,
    #[error("the token is for another audience")]
    Audience,
    #[error("the token has expired")]
    Expired,
    #[error("the token was issued in the future")]
    IssuedInFuture,
}

/// The keys a verifier accepts, by key id: P-256 public points, checked
/// with ring (about twice as fast as josekit's OpenSSL path).
type KeySet = Arc<Vec<(String, UnparsedPublicKey<Vec<u8>>)>>;

/// Asked for the current keys when a token names an unknown `kid`
/// (Warrant may have rotated); `None` when they have not changed. It
/// should rate-limit itself: made-up key ids are cheap to send.
pub type RefreshKeys = Arc<dyn Fn() -> Option<Vec<Jwk>> + Send + Sync>;

/// Verifies access tokens signed by one of a set of ES256 keys.
pub struct AccessTokenVerifier {
    issuer: String,
    /// Replaced whole when the published keys change (rotation).
    keys: RwLock<KeySet>,
    refresh: Option<RefreshKeys>,
    /// Tokens whose signature already verified (claims still checked each time).
    verified: verified::VerifiedTokens,
}

fn key_set(keys: &[Jwk]) -> Result<KeySet, josekit::JoseError> {
    let keys = keys
        .iter()
        .map(|jwk| {
            // josekit checks that the JWK is an EC P-256 public key.
            ES256.verifier_from_jwk(jwk)?;
            let coordinate = |name: &str| {
                let text = jwk.parameter(name).and_then(|v| v.as_str()).unwrap_or_default();
                match URL_SAFE_NO_PAD.decode(text) {
                    Ok(bytes) if bytes.len() == 32 => Ok(bytes),
                    _ => Err(josekit::JoseError::InvalidKeyFormat(anyhow::anyhow!("{name} is not 32 bytes"))),
                }
            };
            let mut point = vec![0x04];
            point.extend(coordinate("x")?);
            point.extend(coordinate("y")?);
            let kid = jwk.key_id().unwrap_or_default().to_owned();
            Ok((kid, UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)))
        })
        .collect::<Result<_, josekit::JoseError>>()?;
    Ok(Arc::new(keys))
}

/// The JWS header fields a token is checked on.
#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: String,
    kid: Option<String>,
    /// Critical extensions (RFC 7515 §4.1.11): none is understood.
    crit: Option<serde_json::Value>,
}

impl AccessTokenVerifier {
    /// A verifier for tokens of `issuer` signed by any of `keys` (public
    /// JWKs with a `kid`).
    pub fn new(issuer: impl Into<String>, keys: &[Jwk]) -> Result<AccessTokenVerifier, josekit::JoseError> {
        Ok(AccessTokenVerifier {
            issuer: issuer.into(),
            keys: RwLock::new(key_set(keys)?),
            refresh: None,
            verified: verified::VerifiedTokens::new(verified::GENERATION),
        })
    }

    /// Asks `refresh` for the keys when a token names an unknown `kid`,
    /// and tries once more with what it answers.
    pub fn with_refresh(mut self, refresh: RefreshKeys) -> AccessTokenVerifier {
        self.refresh = Some(refresh);
        self
    }

    /// Replaces the accepted keys (public JWKs with a `kid`). A token
    /// signed by a key no longer among them stops verifying, even one
    /// verified before.
    pub fn set_keys(&self, keys: &[Jwk]) -> Result<(), josekit::JoseError> {
        let keys = key_set(keys)?;
        *self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = keys;
        Ok(())
    }

    /// The key ids accepted now.
    pub fn key_ids(&self) -> Vec<String> {
        self.keys().iter().map(|(kid, _)| kid.clone()).collect()
    }

    fn keys(&self) -> KeySet {
        self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Verifies `token` for `audience` at `now`.
    pub fn verify(&self, token: &str, audience: &str, now: Timestamp) -> Result<AccessClaims, VerifyError> {
        self.verify_for(token, Some(audience), now)
    }

    /// Verifies `token` for whatever audience it names (revocation, where
    /// the caller is the client the token was issued to).
    pub fn verify_any_audience(&self, token: &str, now: Timestamp) -> Result<AccessClaims, VerifyError> {
        self.verify_for(token, None, now)
    }

    fn verify_for(
        &self,
        token: &str,
        audience: Option<&str>,
        now: Timestamp,
    ) -> Result<AccessClaims, VerifyError> {
        let verified = match self.verified.get(token) {
            Some(verified) => verified,
            None => {
                let verified = Arc::new(self.verify_signature(token)?);
                self.verified.insert(token, verified.clone());
                verified
            }
        };
        let (kid, claims) = &*verified;
        if !self.keys().iter().any(|(k, _)| k == kid) {
            return Err(VerifyError::UnknownKey);
        }
        let claims = claims.clone();
        if claims.iss != self.issuer {
            return Err(VerifyError::Issuer);
        }
        if audience.is_some_and(|aud| claims.aud != aud) {
            return Err(VerifyError::Audience);
        }
        if claims.exp <= now.unix() {
            return Err(VerifyError::Expired);
        }
        if claims.iat > now.unix() + CLOCK_SKEW {
            return Err(VerifyError::IssuedInFuture);
        }
        Ok(claims)
    }

    /// Checks the header and the signature, and parses the claims: the
    /// expensive part, done once per token.
    fn verify_signature(&self, token: &str) -> Result<(String, AccessClaims), VerifyError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::Malformed);
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| VerifyError::Malformed);
        let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| VerifyError::Malformed)?;
        if header.alg != "ES256" {
            return Err(VerifyError::Algorithm);
        }
        let typ = header.typ.to_ascii_lowercase();
        if typ != "at+jwt" && typ != "application/at+jwt" {
            return Err(VerifyError::Type);
        }
        if header.crit.is_some() {
            return Err(VerifyError::Malformed);
        }
        let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
        let mut keys = self.keys();
        if !keys.iter().any(|(k, _)| *k == kid) {
            let refreshed = self.refresh.as_ref().and_then(|refresh| refresh());
            if let Some(jwks) = refreshed {
                // A key that does not parse stays out; the others are taken.
                match key_set(&jwks) {
                    Ok(fresh) => {
                        *self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh.clone();
                        keys = fresh;
                    }
                    Err(error) => tracing::warn!(%error, "the refreshed keys do not parse"),
                }
            }
        }
        let (_, key) = keys.iter().find(|(k, _)| *k == kid).ok_or(VerifyError::UnknownKey)?;
        let signing_input = &token[..token.len() - signature.len() - 1];
        key.verify(signing_input.as_bytes(), &decode(signature)?).map_err(|_| VerifyError::Signature)?;
        let claims: AccessClaims =
            serde_json::from_slice(&decode(payload)?).map_err(|_| VerifyError::Malformed)?;
        Ok((kid, claims))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jws::{JwsHeader, HS256};
    use josekit::jwt::{self, JwtPayload};
    use serde_json::Value;

    const ISS: &str = "https://warrant.example";
    const AUD: &str = "https://crm.example";
    const NOW: Timestamp = Timestamp(1_800_000_000);

    struct Fixture {
        signer: josekit::jws::alg::ecdsa::EcdsaJwsSigner,
        public: Jwk,
        verifier: AccessTokenVerifier,
    }

    fn fixture() -> Fixture {
        let pair = ES256.generate_key_pair().unwrap();
        let mut public = pair.to_jwk_public_key();
        public.set_key_id("k1");
        let signer = ES256.signer_from_jwk(&pair.to_jwk_private_key()).unwrap();
        let verifier = AccessTokenVerifier::new(ISS, std::slice::from_ref(&public)).unwrap();
        Fixture { signer, public, verifier }
    }

    fn claims(overrides: &[(&str, Value)]) -> JwtPayload {
        let mut p = JwtPayload::new();
        let base = [
            ("iss", Value::from(ISS)),
            ("sub", Value::from("agt_1")),
            ("aud", Value::from(AUD)),
            ("client_id", Value::from("agt_1")),
            ("scope", Value::from("cases:read")),
            ("jti", Value::from("j1")),
            ("iat", Value::from(NOW.unix())),
            ("exp", Value::from(NOW.unix() + 300)),
        ];
        for (k, v) in base.into_iter().chain(overrides.iter().cloned()) {
            p.set_claim(k, Some(v)).unwrap();
        }
        p
    }

    /// A good header with extra fields.
    fn sign_with(f: &Fixture, extra: &[(&str, Value)], payload: &JwtPayload) -> String {
        let mut h = JwsHeader::new();
        h.set_token_type("at+jwt");
        h.set_key_id("k1");
        for (name, value) in extra {
            h.set_claim(name, Some(value.clone())).unwrap();
        }
        jwt::encode_with_signer(payload, &h, &f.signer).unwrap()
    }

    /// The token with one byte of its signature changed.
    fn tampered_signature(token: &str) -> String {
        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[10] ^= 1;
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    fn sign(f: &Fixture, typ: &str, kid: &str, payload: &JwtPayload) -> String {
        let mut h = JwsHeader::new();
        h.set_token_type(typ);
        h.set_key_id(kid);
        jwt::encode_with_signer(payload, &h, &f.signer).unwrap()
    }

    #[test]
    fn a_good_token_verifies_with_its_claims() {
        let f = fixture();
        let c = f.verifier.verify(&sign(&f, "at+jwt", "k1", &claims(&[])), AUD, NOW).unwrap();
        assert_eq!((c.sub.as_str(), c.scope.to_string().as_str()), ("agt_1", "cases:read"));
    }

    #[test]
    fn each_bad_token_is_refused_for_its_reason() {
        let f = fixture();
        let cases = [
            (sign(&f, "JWT", "k1", &claims(&[])), VerifyError::Type),
            (sign(&f, "at+jwt", "k9", &claims(&[])), VerifyError::UnknownKey),
            (sign(&f, "at+jwt", "k1", &claims(&[("iss", "https://evil".into())])), VerifyError::Issuer),
            (sign(&f, "at+jwt", "k1", &claims(&[("aud", "https://other".into())])), VerifyError::Audience),
            (sign(&f, "at+jwt", "k1", &claims(&[("exp", NOW.unix().into())])), VerifyError::Expired),
            (
                sign(&f, "at+jwt", "k1", &claims(&[("iat", (NOW.unix() + 120).into())])),
                VerifyError::IssuedInFuture,
            ),
            ("not.a.jwt".to_owned(), VerifyError::Malformed),
            (format!("{}.extra", sign(&f, "at+jwt", "k1", &claims(&[]))), VerifyError::Malformed),
            (sign_with(&f, &[("crit", Value::from(vec!["exp"]))], &claims(&[])), VerifyError::Malformed),
            (tampered_signature(&sign(&f, "at+jwt", "k1", &claims(&[]))), VerifyError::Signature),
        ];
        for (token, expected) in cases {
            assert_eq!(f.verifier.verify(&token, AUD, NOW), Err(expected));
        }
    }

    #[test]
    fn alg_none_and_hmac_keyed_with_the_public_key_are_refused() {
        let f = fixture();
        let body = URL_SAFE_NO_PAD.encode(claims(&[]).to_string());
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt","kid":"k1"}"#);
        assert_eq!(
            f.verifier.verify(&format!("{none_header}.{body}."), AUD, NOW),
            Err(VerifyError::Algorithm)
        );

        let hmac = HS256.signer_from_bytes(f.public.to_string().as_bytes()).unwrap();
        let mut h = JwsHeader::new();
        h.set_token_type("at+jwt");
        h.set_key_id("k1");
        let forged = jwt::encode_with_signer(&claims(&[]), &h, &hmac).unwrap();
        assert_eq!(f.verifier.verify(&forged, AUD, NOW), Err(VerifyError::Algorithm));
    }

    #[test]
    fn a_token_seen_before_is_still_checked_for_audience_and_expiry() {
        let f = fixture();
        let token = sign(&f, "at+jwt", "k1", &claims(&[]));
        assert!(f.verifier.verify(&token, AUD, NOW).is_ok());
        assert!(f.verifier.verify(&token, AUD, NOW).is_ok(), "the cached answer");
        assert_eq!(f.verifier.verify(&token, "https://other", NOW), Err(VerifyError::Audience));
        assert_eq!(f.verifier.verify(&token, AUD, NOW.plus(300)), Err(VerifyError::Expired));
        let other = fixture();
        let forged = sign(&other, "at+jwt", "k1", &claims(&[]));
        assert_eq!(
            f.verifier.verify(&forged, AUD, NOW),
            Err(VerifyError::Signature),
            "a different token misses"
        );
    }

    #[test]
    fn the_verified_cache_is_bounded() {
        let cache = verified::VerifiedTokens::new(10);
        let f = fixture();
        let c = f.verifier.verify(&sign(&f, "at+jwt", "k1", &claims(&[])), AUD, NOW).unwrap();
        for n in 0..100 {
            cache.insert(&format!("token-{n}"), Arc::new(("k1".into(), c.clone())));
        }
        assert!(cache.len() <= 20, "{}", cache.len());
        assert!(cache.get("token-99").is_some() && cache.get("token-0").is_none());
    }

    #[test]
    fn every_key_set_is_accepted_and_a_removed_key_stops_verifying() {
        let f = fixture();
        let other = fixture();
        let mut other_public = other.public.clone();
        other_public.set_key_id("k2");
        let mut h = JwsHeader::new();
        h.set_token_type("at+jwt");
        h.set_key_id("k2");
        let by_k2 = jwt::encode_with_signer(&claims(&[]), &h, &other.signer).unwrap();
        let by_k1 = sign(&f, "at+jwt", "k1", &claims(&[]));
        assert_eq!(f.verifier.verify(&by_k2, AUD, NOW), Err(VerifyError::UnknownKey));

        f.verifier.set_keys(&[f.public.clone(), other_public.clone()]).unwrap();
        assert!(f.verifier.verify(&by_k1, AUD, NOW).is_ok());
        assert!(f.verifier.verify(&by_k2, AUD, NOW).is_ok());

        f.verifier.set_keys(&[other_public]).unwrap();
        assert_eq!(f.verifier.verify(&by_k1, AUD, NOW), Err(VerifyError::UnknownKey), "even when cached");
        assert_eq!(f.verifier.key_ids(), ["k2"]);
    }

    #[test]
    fn an_unknown_kid_asks_for_the_keys_once_more() {
        let f = fixture();
        let other = fixture();
        let mut other_public = other.public.clone();
        other_public.set_key_id("k2");
        let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (count, published) = (asked.clone(), vec![f.public.clone(), other_public]);
        let verifier = AccessTokenVerifier::new(ISS, std::slice::from_ref(&f.public)).unwrap().with_refresh(
            Arc::new(move || {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Some(published.clone())
            }),
        );
        let mut h = JwsHeader::new();
        h.set_token_type("at+jwt");
        h.set_key_id("k2");
        let by_k2 = jwt::encode_with_signer(&claims(&[]), &h, &other.signer).unwrap();
        assert!(verifier.verify(&by_k2, AUD, NOW).is_ok());
        assert!(verifier.verify(&sign(&f, "at+jwt", "k1", &claims(&[])), AUD, NOW).is_ok());
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1, "known keys ask nothing");
        let stranger = sign(&f, "at+jwt", "k9", &claims(&[]));
        assert_eq!(verifier.verify(&stranger, AUD, NOW), Err(VerifyError::UnknownKey));
    }

    #[test]
    fn a_token_signed_by_another_key_with_our_kid_is_refused() {
        let f = fixture();
        let other = fixture();
        let token = sign(&other, "at+jwt", "k1", &claims(&[]));
        assert_eq!(f.verifier.verify(&token, AUD, NOW), Err(VerifyError::Signature));
    }
}
