//! Access tokens made by the test itself: signed with the server's own key
//! (read from `<WARRANT_KEYS_DIR>/signing-es256.pem`, see keys/README.md) or
//! with a stranger's, so that exactly one property of a token differs from a
//! good one; and the encodings of the server's public key an HS256 forgery
//! would be keyed with.

use base64::Engine as _;
use josekit::jws::{JwsHeader, ES256};
use josekit::jwt::JwtPayload;
use serde_json::{Map, Value};

use crate::helpers::TestApp;

/// An ES256 private key as PEM.
pub struct SigningKey {
    pem: Vec<u8>,
}

impl SigningKey {
    /// The key `app` signs its tokens with.
    pub fn of(app: &TestApp) -> SigningKey {
        let dir = app.var("WARRANT_KEYS_DIR").expect("a keys directory");
        let path = std::path::Path::new(dir).join("signing-es256.pem");
        let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        SigningKey { pem }
    }

    /// A key the server has never seen.
    pub fn stranger() -> SigningKey {
        let pair = ES256.generate_key_pair().expect("an EC P-256 key pair");
        SigningKey { pem: pair.to_pem_private_key() }
    }

    /// An access token (`typ: at+jwt`, ES256) with these claims under `kid`.
    pub fn sign(&self, kid: &str, claims: &Map<String, Value>) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("at+jwt");
        header.set_key_id(kid);
        let payload = JwtPayload::from_map(claims.clone()).expect("a JWT payload");
        let signer = ES256.signer_from_pem(&self.pem).expect("an ES256 signer");
        josekit::jwt::encode_with_signer(&payload, &header, &signer).expect("a signed JWT")
    }
}

/// The claims of a compact JWS, read without verification.
pub fn claims_of(token: &str) -> Map<String, Value> {
    match serde_json::from_slice(&segment(token, 1)).expect("a JSON payload") {
        Value::Object(claims) => claims,
        other => panic!("the payload is an object: {other}"),
    }
}

/// The `kid` in a compact JWS header.
pub fn kid_of(token: &str) -> String {
    let header: Value = serde_json::from_slice(&segment(token, 0)).expect("a JSON header");
    header["kid"].as_str().expect("a kid in the header").to_owned()
}

fn segment(token: &str, index: usize) -> Vec<u8> {
    let part = token.split('.').nth(index).expect("a compact JWS");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("base64url")
}

/// The public JWK named `kid` in the server's JWKS, and the encodings of it
/// an alg-confusion forgery may use as an HMAC key: the JWK JSON as served,
/// the SubjectPublicKeyInfo as PEM and as DER, the uncompressed EC point.
pub async fn public_key_encodings(app: &TestApp, kid: &str) -> Vec<(&'static str, Vec<u8>)> {
    let jwks = app.jwks().await;
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|key| key["kid"] == kid)
        .unwrap_or_else(|| panic!("{kid} in {jwks}"))
        .clone();
    let coordinate = |name: &str| {
        let text = jwk[name].as_str().unwrap_or_else(|| panic!("{name} in {jwk}"));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).expect("base64url coordinate")
    };
    let mut point = vec![0x04];
    point.extend(coordinate("x"));
    point.extend(coordinate("y"));
    // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (65 bytes) }
    let mut der = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    der.extend_from_slice(&point);
    let body = base64::engine::general_purpose::STANDARD.encode(&der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|line| std::str::from_utf8(line).expect("base64 is ASCII")).collect();
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"));
    vec![
        ("the JWK as served", jwk.to_string().into_bytes()),
        ("PEM", pem.into_bytes()),
        ("DER", der),
        ("the EC point", point),
    ]
}
