//! The ES256 signing key and the secret-hashing pepper, kept as files in the
//! keys directory (mode 0600), created on first start and reused after.
//! The key id is the key's RFC 7638 JWK thumbprint.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::ES256;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

use crate::secret::random_bytes;
use crate::KeyError;

pub(crate) const SIGNING_KEY_FILE: &str = "signing-es256.pem";
const PEPPER_FILE: &str = "pepper";

/// The key that signs access tokens. josekit reads, generates and
/// publishes it; ring signs with it (about twice as fast as josekit's
/// OpenSSL path, on the token endpoint's hot path).
pub struct SigningKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    /// The base64url JWS header every token of this key carries.
    header: String,
    kid: String,
    public_jwk: Jwk,
}

impl SigningKey {
    /// Loads `<dir>/signing-es256.pem`, or generates it (mode 0600) when absent.
    pub fn load_or_create(dir: &Path) -> Result<SigningKey, KeyError> {
        let path = dir.join(SIGNING_KEY_FILE);
        let pem = match fs::read(&path) {
            Ok(pem) => pem,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let pair = ES256.generate_key_pair().map_err(KeyError::Generate)?;
                let pem = pair.to_pem_private_key();
                write_private(&path, &pem)?;
                tracing::info!(path = %path.display(), "generated a new ES256 signing key");
                pem
            }
            Err(source) => return Err(KeyError::Io { path, source }),
        };
        SigningKey::from_pem(&pem, &path)
    }

    /// Parses an ES256 private key in PEM (`path` names it in errors).
    pub(crate) fn from_pem(pem: &[u8], path: &Path) -> Result<SigningKey, KeyError> {
        let invalid = |source| KeyError::Invalid { path: path.to_path_buf(), source };
        let pair = ES256.key_pair_from_pem(pem).map_err(invalid)?;
        let mut public_jwk = pair.to_jwk_public_key();
        let kid = thumbprint(&public_jwk);
        public_jwk.set_key_id(&kid);
        public_jwk.set_algorithm("ES256");
        public_jwk.set_key_use("sig");
        // ring takes the raw private scalar and public point, which the
        // JWKs hold whatever the PEM's layout (SEC 1 or PKCS#8).
        let private_jwk = pair.to_jwk_private_key();
        let coordinate = |jwk: &Jwk, name: &str| {
            let text = jwk.parameter(name).and_then(|v| v.as_str()).unwrap_or_default();
            match URL_SAFE_NO_PAD.decode(text) {
                Ok(bytes) if bytes.len() == 32 => Ok(bytes),
                _ => Err(KeyError::NotP256 { path: path.to_path_buf() }),
            }
        };
        let mut public_point = vec![0x04];
        public_point.extend(coordinate(&public_jwk, "x")?);
        public_point.extend(coordinate(&public_jwk, "y")?);
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &coordinate(&private_jwk, "d")?,
            &public_point,
            &rng,
        )
        .map_err(|_| KeyError::NotP256 { path: path.to_path_buf() })?;
        let header = serde_json::json!({"alg": "ES256", "typ": "at+jwt", "kid": kid});
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        Ok(SigningKey { pair, rng, header, kid, public_jwk })
    }

    /// Signs `claims` (a JSON object) as a compact JWS: ES256, `typ:
    /// at+jwt`, this key's `kid`.
    pub(crate) fn sign_jwt(&self, claims: &[u8]) -> Result<String, KeyError> {
        let mut token = String::with_capacity(self.header.len() + claims.len() * 4 / 3 + 92);
        token.push_str(&self.header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut token);
        let signature = self.pair.sign(&self.rng, token.as_bytes()).map_err(|_| KeyError::Sign)?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
        Ok(token)
    }

    /// The key id (`kid`) tokens carry.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK with `kid`, `alg` and `use` (no private part).
    pub fn public_jwk(&self) -> &Jwk {
        &self.public_jwk
    }
}

/// Loads `<dir>/pepper` (32 bytes), or generates it (mode 0600) when absent.
pub fn load_or_create_pepper(dir: &Path) -> Result<[u8; 32], KeyError> {
    let path = dir.join(PEPPER_FILE);
    match fs::read(&path) {
        Ok(bytes) => bytes.try_into().map_err(|_| KeyError::PepperLength { path }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let pepper = random_bytes::<32>()?;
            write_private(&path, &pepper)?;
            Ok(pepper)
        }
        Err(source) => Err(KeyError::Io { path, source }),
    }
}

/// Creates `path` with mode 0600 and writes `bytes`; never overwrites.
pub(crate) fn write_private(path: &PathBuf, bytes: &[u8]) -> Result<(), KeyError> {
    let io = |source| KeyError::Io { path: path.clone(), source };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io)?;
    }
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io)?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io)
}

/// Writes `bytes` to `path` (mode 0600) atomically: a temporary file in
/// the same directory, synced, then renamed over `path`, so that a reader
/// sees the old content or the new, never a part.
pub(crate) fn replace_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", crate::new_id("w")));
    write_private(&temporary, bytes)?;
    fs::rename(&temporary, path).map_err(|source| {
        let _ = fs::remove_file(&temporary);
        KeyError::Io { path: path.to_path_buf(), source }
    })?;
    if let Some(dir) = path.parent() {
        // Make the rename itself durable.
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| KeyError::Io { path: dir.to_path_buf(), source })?;
    }
    Ok(())
}

/// RFC 7638 thumbprint of an EC public key: SHA-256 over the required
/// members in lexicographic order, base64url.
pub(crate) fn thumbprint(jwk: &Jwk) -> String {
    let member = |name: &str| jwk.parameter(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let canonical = format!(
        r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
        member("crv"),
        member("kty"),
        member("x"),
        member("y")
    );
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_key_is_created_once_with_mode_0600_and_reused() {
        let dir = std::env::temp_dir().join(crate::new_id("warrant-keys-test"));
        let first = SigningKey::load_or_create(&dir).unwrap();
        let second = SigningKey::load_or_create(&dir).unwrap();
        assert_eq!(first.kid(), second.kid());
        let mode = fs::metadata(dir.join(SIGNING_KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(first.public_jwk().parameter("d").is_none(), "the public JWK has no private part");
        let pepper = load_or_create_pepper(&dir).unwrap();
        assert_eq!(load_or_create_pepper(&dir).unwrap(), pepper);
        assert_eq!(fs::metadata(dir.join(PEPPER_FILE)).unwrap().permissions().mode() & 0o777, 0o600);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_token_signed_with_ring_verifies_with_the_published_key_whatever_the_pem_layout() {
        let pair = ES256.generate_key_pair().unwrap();
        for pem in [pair.to_pem_private_key(), pair.to_traditional_pem_private_key()] {
            let key = SigningKey::from_pem(&pem, Path::new("test.pem")).unwrap();
            let token = key.sign_jwt(br#"{"sub":"agt_1","exp":1}"#).unwrap();
            let verifier = ES256.verifier_from_jwk(key.public_jwk()).unwrap();
            let (payload, header) = josekit::jwt::decode_with_verifier(&token, &verifier).unwrap();
            assert_eq!(payload.subject(), Some("agt_1"));
            assert_eq!(header.token_type(), Some("at+jwt"));
            assert_eq!(header.key_id(), Some(key.kid()));
            let mut forged = token.clone();
            forged.replace_range(forged.len() - 4.., "AAAA");
            assert!(josekit::jwt::decode_with_verifier(&forged, &verifier).is_err());
        }
    }
}
