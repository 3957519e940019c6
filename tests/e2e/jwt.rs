//! JWTs on the client side: an agent's key pair and its client assertions
//! (RFC 7523, signed with josekit), and the verification of access tokens with
//! `jsonwebtoken`, an implementation independent of the server's.

use base64::Engine as _;
use josekit::jwk::alg::ec::EcKeyPair;
use josekit::jwk::KeyPair as _;
use josekit::jws::{JwsHeader, ES256, HS256};
use josekit::jwt::JwtPayload;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::helpers::TestApp;

/// An agent's EC P-256 key pair and the `kid` it is registered under.
pub struct AgentKey {
    pub kid: String,
    key_pair: EcKeyPair,
}

impl AgentKey {
    pub fn generate() -> AgentKey {
        AgentKey {
            kid: format!("agent-key-{}", Uuid::new_v4().simple()),
            key_pair: ES256.generate_key_pair().expect("an EC P-256 key pair"),
        }
    }

    /// The public JWK, with `kid`.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = self.key_pair.to_jwk_public_key();
        jwk.set_key_id(self.kid.clone());
        Value::Object(jwk.into())
    }

    /// `{"keys": [public JWK]}`, as sent at registration.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.public_jwk()] })
    }

    /// The public key as PEM: the bytes an HS256 confusion attack keys with.
    pub fn public_pem(&self) -> Vec<u8> {
        self.key_pair.to_pem_public_key()
    }

    /// Signs `claims` with ES256 under this key's `kid`.
    pub fn sign(&self, claims: Map<String, Value>) -> String {
        self.sign_with_kid(&self.kid, claims)
    }

    /// Signs `claims` with ES256, naming `kid` in the header.
    pub fn sign_with_kid(&self, kid: &str, claims: Map<String, Value>) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(kid);
        let payload = JwtPayload::from_map(claims).expect("a JWT payload");
        let signer = ES256.signer_from_jwk(&self.key_pair.to_jwk_key_pair()).expect("an ES256 signer");
        josekit::jwt::encode_with_signer(&payload, &header, &signer).expect("a signed JWT")
    }
}

/// The claims of a valid client assertion for `client_id` at `app`: iss and
/// sub the client, aud the token endpoint, a fresh jti, iat now, exp in 60 s
/// (times from the server's clock).
pub fn assertion_claims(app: &TestApp, client_id: &str) -> Map<String, Value> {
    let now = app.now();
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": app.token_endpoint(),
        "jti": Uuid::new_v4().to_string(),
        "iat": now,
        "exp": now + 60,
    });
    match claims {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// An unsigned JWT (`alg: none`) with these claims.
pub fn unsigned(kid: &str, claims: &Map<String, Value>) -> String {
    let header = json!({"alg": "none", "typ": "JWT", "kid": kid});
    format!("{}.{}.", b64(&header.to_string()), b64(&Value::Object(claims.clone()).to_string()))
}

/// A JWT signed with HS256 keyed with `secret`.
pub fn hs256(kid: &str, secret: &[u8], claims: Map<String, Value>) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    header.set_key_id(kid);
    let payload = JwtPayload::from_map(claims).expect("a JWT payload");
    let signer = HS256.signer_from_bytes(secret).expect("an HS256 signer");
    josekit::jwt::encode_with_signer(&payload, &header, &signer).expect("a signed JWT")
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// Verifies an access token against the JWKS fetched over HTTP (RFC 9068):
/// ES256, `typ: at+jwt`, a `kid` present in the JWKS, iss == the issuer,
/// aud == `audience`, iat == the server's now, exp in the future, and every
/// required claim present. Returns the claims.
pub async fn verify_access_token(app: &TestApp, token: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).expect("a JWS header");
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let kid = header.kid.expect("a kid in the token header");
    let jwks: JwkSet = serde_json::from_value(app.jwks().await).expect("a JWK set");
    let jwk = jwks.find(&kid).unwrap_or_else(|| panic!("kid {kid} is in the JWKS"));
    let key = DecodingKey::from_jwk(jwk).expect("a decoding key from the JWK");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[app.issuer.as_str()]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    // The server runs on a manual clock: expiry is checked against it below.
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap_or_else(|e| panic!("the access token verifies: {e}"));
    let claims = data.claims;
    assert_eq!(claims["aud"], audience, "aud is a single string");
    for name in ["sub", "client_id", "scope", "jti"] {
        assert!(claims[name].as_str().is_some_and(|v| !v.is_empty()), "{name} in {claims}");
    }
    let iat = claims["iat"].as_i64().expect("iat is a number");
    let exp = claims["exp"].as_i64().expect("exp is a number");
    assert_eq!(iat, app.now(), "iat is the server's now");
    assert!(exp > iat, "exp after iat");
    claims
}

/// The lifetime of a verified token: exp - iat.
pub fn lifetime(claims: &Value) -> i64 {
    claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat")
}

/// The space-separated `scope` claim or field as a sorted list.
pub fn scopes(value: &Value) -> Vec<String> {
    let mut scopes: Vec<String> =
        value["scope"].as_str().expect("scope is a string").split(' ').map(str::to_owned).collect();
    scopes.sort();
    scopes
}
