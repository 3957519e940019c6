//! Signing-key rotation with no downtime. Besides the active key
//! (`signing-es256.pem`, see [`SigningKey`]) the keys directory holds:
//!
//! - `next-es256.pem`: the next key. It signs nothing yet but is already
//!   published in the JWKS and accepted by every verifier, so that when a
//!   rotation makes it sign, every replica and every resource server that
//!   caches the JWKS knows it already.
//! - `previous-es256-<kid>.json`: a retired key's public JWK (never its
//!   private part), when it was retired, and `expires_at`, the time after
//!   which no token it signed can still be alive. It is published until
//!   then, and ignored and deleted after.
//!
//! [`rotate`] (the `warrant keys rotate` command) promotes next to active,
//! retires the active key, and generates a new next key; every file is
//! replaced atomically (temporary file, then rename; mode 0600), so a
//! replica reading the directory at any moment sees a usable set. Running
//! replicas pick the change up through [`SigningKeys::reload`] (the server
//! calls it periodically, on SIGHUP, and when it meets an unknown `kid`).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use josekit::jwk::Jwk;
use josekit::jws::ES256;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use warrant_policy::Timestamp;

use crate::keys::{replace_private, write_private, SIGNING_KEY_FILE};
use crate::{KeyError, SigningKey};

/// The next key's file name.
pub const NEXT_KEY_FILE: &str = "next-es256.pem";
const RETIRED_PREFIX: &str = "previous-es256-";
const RETIRED_SUFFIX: &str = ".json";

/// A retired key as stored in `previous-es256-<kid>.json`.
#[derive(Debug, Serialize, Deserialize)]
struct RetiredRecord {
    kid: String,
    retired_at: i64,
    expires_at: i64,
    jwk: Map<String, Value>,
}

/// A retired key: still published until `expires_at`.
#[derive(Debug, Clone)]
pub struct RetiredKey {
    pub kid: String,
    pub retired_at: Timestamp,
    /// No token the key signed outlives this time.
    pub expires_at: Timestamp,
    pub jwk: Jwk,
}

/// The keys read from the directory at one moment.
pub struct KeyRing {
    /// Signs every new token.
    pub active: Arc<SigningKey>,
    /// Published ahead of its use: the public JWK of the next key.
    pub next: Option<Jwk>,
    /// Retired keys, expired ones included (see [`KeyRing::published`]).
    pub retired: Vec<RetiredKey>,
}

impl KeyRing {
    /// Reads the active key (which must exist), the next key and the
    /// retired keys of `dir`.
    pub fn load(dir: &Path) -> Result<KeyRing, KeyError> {
        let active = Arc::new(read_signing_key(&dir.join(SIGNING_KEY_FILE))?);
        let next_path = dir.join(NEXT_KEY_FILE);
        let next = match fs::read(&next_path) {
            Ok(pem) => Some(SigningKey::from_pem(&pem, &next_path)?.public_jwk().clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(KeyError::Io { path: next_path, source }),
        };
        let retired = read_retired(dir)?.into_iter().map(|(_, key)| key).collect();
        Ok(KeyRing { active, next, retired })
    }

    /// The public keys to publish and accept at `now`: the active key, the
    /// next key, and each retired key until its `expires_at`; each once.
    pub fn published(&self, now: Timestamp) -> Vec<Jwk> {
        let mut keys = vec![self.active.public_jwk().clone()];
        let candidates =
            self.next.iter().chain(self.retired.iter().filter(|r| r.expires_at > now).map(|r| &r.jwk));
        for jwk in candidates {
            if !keys.iter().any(|k| k.key_id() == jwk.key_id()) {
                keys.push(jwk.clone());
            }
        }
        keys
    }

    /// What identifies this ring's content, to tell whether a reload changed it.
    fn fingerprint(&self) -> Vec<(String, i64)> {
        let mut ids = vec![(self.active.kid().to_owned(), 0)];
        ids.extend(self.next.iter().map(|jwk| (jwk.key_id().unwrap_or_default().to_owned(), 1)));
        ids.extend(self.retired.iter().map(|r| (r.kid.clone(), r.expires_at.unix())));
        ids
    }
}

/// The signing keys of a running server, replaced whole on reload.
pub struct SigningKeys {
    dir: PathBuf,
    ring: RwLock<Arc<KeyRing>>,
}

impl SigningKeys {
    /// Opens the keys of `dir`: creates the active key on first start, and
    /// the next key when it is missing and the directory is writable (a
    /// read-only copy, such as a mounted secret, is used as it is).
    pub fn open(dir: &Path) -> Result<SigningKeys, KeyError> {
        SigningKey::load_or_create(dir)?;
        let next = dir.join(NEXT_KEY_FILE);
        if !next.exists() {
            match create_if_absent(&next, &new_private_pem()?) {
                Ok(()) => tracing::info!(path = %next.display(), "generated the next ES256 signing key"),
                Err(error) => tracing::warn!(
                    %error,
                    "no next signing key and none could be created: the next rotation will not be published in advance"
                ),
            }
        }
        let ring = KeyRing::load(dir)?;
        Ok(SigningKeys { dir: dir.to_path_buf(), ring: RwLock::new(Arc::new(ring)) })
    }

    /// The key that signs new tokens.
    pub fn active(&self) -> Arc<SigningKey> {
        self.ring().active.clone()
    }

    /// The keys as last read.
    pub fn ring(&self) -> Arc<KeyRing> {
        self.ring.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// The public keys to publish and accept at `now`.
    pub fn published(&self, now: Timestamp) -> Vec<Jwk> {
        self.ring().published(now)
    }

    /// The keys directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads the directory again and takes its keys; true when they
    /// changed. On an error the keys in use stay.
    pub fn reload(&self) -> Result<bool, KeyError> {
        let ring = KeyRing::load(&self.dir)?;
        let mut current = self.ring.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if current.fingerprint() == ring.fingerprint() {
            return Ok(false);
        }
        tracing::info!(active = ring.active.kid(), "signing keys reloaded");
        *current = Arc::new(ring);
        Ok(true)
    }
}

/// What [`rotate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The key retired (it stays published until `retired_until`).
    pub retired: String,
    pub retired_until: Timestamp,
    /// The key that signs from now on.
    pub active: String,
    /// Whether the new active key had been published in advance (as the
    /// next key); when not, replicas and JWKS caches learn it on reload.
    pub was_published: bool,
    /// The new next key.
    pub next: String,
    /// Retired keys whose tokens had all expired, deleted.
    pub pruned: Vec<String>,
}

/// Rotates the keys of `dir` at `now`: the next key (or, when there is
/// none, a new one) becomes active; the active key is retired and stays
/// published for `keep_for` seconds, long enough for every token it signed
/// (and may still sign on replicas that have not reloaded yet) to expire;
/// a new next key is generated; expired retired keys are deleted.
pub fn rotate(dir: &Path, now: Timestamp, keep_for: i64) -> Result<Rotation, KeyError> {
    let active_path = dir.join(SIGNING_KEY_FILE);
    let next_path = dir.join(NEXT_KEY_FILE);
    let old = read_signing_key(&active_path)?;
    let next_pem = match fs::read(&next_path) {
        Ok(pem) => Some(pem),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(KeyError::Io { path: next_path, source }),
    };
    // A next key equal to the active one is what an interrupted rotation leaves.
    let next_pem = match next_pem {
        Some(pem) if SigningKey::from_pem(&pem, &next_path)?.kid() != old.kid() => Some(pem),
        _ => None,
    };
    let was_published = next_pem.is_some();
    let new_pem = match next_pem {
        Some(pem) => pem,
        None => new_private_pem()?,
    };
    let new = SigningKey::from_pem(&new_pem, &active_path)?;

    // Order matters: a replica reading in between sees the old key as
    // active and retired (the same kid, published once), then the new key
    // as active and next, then the final set; never a set without a key
    // that signed a live token.
    let retired_until = now.plus(keep_for);
    let record = RetiredRecord {
        kid: old.kid().to_owned(),
        retired_at: now.unix(),
        expires_at: retired_until.unix(),
        jwk: old.public_jwk().as_ref().clone(),
    };
    let text = serde_json::to_vec_pretty(&record)
        .map_err(|source| KeyError::Record { path: retired_path(dir, old.kid()), source })?;
    replace_private(&retired_path(dir, old.kid()), &text)?;
    replace_private(&active_path, &new_pem)?;
    let fresh_pem = new_private_pem()?;
    let fresh = SigningKey::from_pem(&fresh_pem, &next_path)?;
    replace_private(&next_path, &fresh_pem)?;
    let pruned = prune_expired(dir, now)?;
    tracing::info!(retired = old.kid(), active = new.kid(), next = fresh.kid(), "signing keys rotated");
    Ok(Rotation {
        retired: old.kid().to_owned(),
        retired_until,
        active: new.kid().to_owned(),
        was_published,
        next: fresh.kid().to_owned(),
        pruned,
    })
}

/// Deletes the retired keys of `dir` whose tokens have all expired at
/// `now`; returns their key ids.
pub fn prune_expired(dir: &Path, now: Timestamp) -> Result<Vec<String>, KeyError> {
    let mut pruned = Vec::new();
    for (path, key) in read_retired(dir)? {
        if key.expires_at <= now {
            fs::remove_file(&path).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(KeyError::Io { path: path.clone(), source: e }),
            })?;
            pruned.push(key.kid);
        }
    }
    Ok(pruned)
}

/// The state of a key in the directory, for `warrant keys list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// Signs new tokens.
    Active,
    /// Published, signs after the next rotation.
    Next,
    /// Retired; published until the time given.
    Retiring(Timestamp),
    /// Retired and no longer published since the time given (deleted at
    /// the next rotation or reload).
    Expired(Timestamp),
}

/// Every key of `dir` with its state at `now`: active, next, then retired
/// keys newest first.
pub fn list_keys(dir: &Path, now: Timestamp) -> Result<Vec<(String, KeyStatus)>, KeyError> {
    let ring = KeyRing::load(dir)?;
    let mut keys = vec![(ring.active.kid().to_owned(), KeyStatus::Active)];
    if let Some(next) = &ring.next {
        keys.push((next.key_id().unwrap_or_default().to_owned(), KeyStatus::Next));
    }
    let mut retired = ring.retired;
    retired.sort_by_key(|r| std::cmp::Reverse(r.retired_at));
    keys.extend(retired.into_iter().map(|r| {
        let status = if r.expires_at > now {
            KeyStatus::Retiring(r.expires_at)
        } else {
            KeyStatus::Expired(r.expires_at)
        };
        (r.kid, status)
    }));
    Ok(keys)
}

fn read_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    let pem = fs::read(path).map_err(|source| KeyError::Io { path: path.to_path_buf(), source })?;
    SigningKey::from_pem(&pem, path)
}

fn retired_path(dir: &Path, kid: &str) -> PathBuf {
    dir.join(format!("{RETIRED_PREFIX}{kid}{RETIRED_SUFFIX}"))
}

/// The retired keys of `dir`, with their files.
fn read_retired(dir: &Path) -> Result<Vec<(PathBuf, RetiredKey)>, KeyError> {
    let entries = fs::read_dir(dir).map_err(|source| KeyError::Io { path: dir.to_path_buf(), source })?;
    let mut retired = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| KeyError::Io { path: dir.to_path_buf(), source })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(RETIRED_PREFIX) && name.ends_with(RETIRED_SUFFIX)) {
            continue;
        }
        let path = entry.path();
        let text = match fs::read(&path) {
            Ok(text) => text,
            // Deleted by a prune since the directory was listed.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(KeyError::Io { path, source }),
        };
        let record: RetiredRecord = serde_json::from_slice(&text)
            .map_err(|source| KeyError::Record { path: path.clone(), source })?;
        let jwk =
            Jwk::from_map(record.jwk).map_err(|source| KeyError::Invalid { path: path.clone(), source })?;
        if jwk.key_id() != Some(record.kid.as_str()) || jwk.parameter("d").is_some() {
            return Err(KeyError::NotPublic { path });
        }
        retired.push((
            path,
            RetiredKey {
                kid: record.kid,
                retired_at: Timestamp(record.retired_at),
                expires_at: Timestamp(record.expires_at),
                jwk,
            },
        ));
    }
    Ok(retired)
}

/// A new ES256 private key in PEM.
fn new_private_pem() -> Result<Vec<u8>, KeyError> {
    Ok(ES256.generate_key_pair().map_err(KeyError::Generate)?.to_pem_private_key())
}

/// Writes `bytes` to `path` (mode 0600) unless it exists, atomically: a
/// complete temporary file hard-linked into place, so that a reader never
/// sees a part and two writers racing leave one whole file.
fn create_if_absent(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", crate::new_id("w")));
    write_private(&temporary, bytes)?;
    let linked = fs::hard_link(&temporary, path);
    let _ = fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(KeyError::Io { path: path.to_path_buf(), source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const T0: Timestamp = Timestamp(1_800_000_000);

    fn kids(keys: &[Jwk]) -> Vec<String> {
        keys.iter().map(|k| k.key_id().unwrap().to_owned()).collect()
    }

    #[test]
    fn a_first_start_creates_the_active_and_the_next_key_both_published() {
        let dir = tempfile::tempdir().unwrap();
        let keys = SigningKeys::open(dir.path()).unwrap();
        let ring = keys.ring();
        let next = ring.next.as_ref().unwrap().key_id().unwrap().to_owned();
        assert_ne!(ring.active.kid(), next);
        assert_eq!(kids(&keys.published(T0)), [ring.active.kid().to_owned(), next]);
        for file in [SIGNING_KEY_FILE, NEXT_KEY_FILE] {
            let mode = fs::metadata(dir.path().join(file)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        assert!(
            keys.published(T0).iter().all(|k| k.parameter("d").is_none()),
            "no private part is published"
        );
        let again = SigningKeys::open(dir.path()).unwrap();
        assert_eq!(again.ring().fingerprint(), ring.fingerprint(), "a second start reuses both");
    }

    #[test]
    fn a_rotation_makes_the_next_key_sign_and_keeps_the_old_one_until_its_tokens_expire() {
        let dir = tempfile::tempdir().unwrap();
        let keys = SigningKeys::open(dir.path()).unwrap();
        let (old, next) = (keys.active().kid().to_owned(), keys.ring().next.clone().unwrap());
        let next = next.key_id().unwrap().to_owned();

        let rotation = rotate(dir.path(), T0, 400).unwrap();
        assert_eq!((rotation.retired.as_str(), rotation.active.as_str()), (old.as_str(), next.as_str()));
        assert!(rotation.was_published);
        assert_eq!(rotation.retired_until, T0.plus(400));
        assert!(keys.reload().unwrap(), "a running server reads the rotation");
        assert_eq!(keys.active().kid(), next, "the pre-published key signs");
        assert!(!keys.reload().unwrap(), "nothing changed since");

        let published = kids(&keys.published(T0.plus(399)));
        assert_eq!(published, [next.clone(), rotation.next.clone(), old.clone()]);
        assert_eq!(kids(&keys.published(T0.plus(400))), [next.clone(), rotation.next.clone()]);

        let record = fs::read_to_string(retired_path(dir.path(), &old)).unwrap();
        assert!(!record.contains("\"d\""), "the retired key's private part is gone: {record}");
        let mode = fs::metadata(retired_path(dir.path(), &old)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        let listed = list_keys(dir.path(), T0.plus(10)).unwrap();
        assert_eq!(
            listed,
            [
                (next.clone(), KeyStatus::Active),
                (rotation.next.clone(), KeyStatus::Next),
                (old.clone(), KeyStatus::Retiring(T0.plus(400)))
            ]
        );
        assert_eq!(prune_expired(dir.path(), T0.plus(399)).unwrap(), Vec::<String>::new());
        assert_eq!(prune_expired(dir.path(), T0.plus(400)).unwrap(), std::slice::from_ref(&old));
        assert!(!retired_path(dir.path(), &old).exists());
        assert!(fs::read_dir(dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")));
    }

    #[test]
    fn a_second_rotation_prunes_what_has_expired_and_keeps_what_has_not() {
        let dir = tempfile::tempdir().unwrap();
        SigningKeys::open(dir.path()).unwrap();
        let first = rotate(dir.path(), T0, 100).unwrap();
        let second = rotate(dir.path(), T0.plus(50), 100).unwrap();
        assert_eq!(second.retired, first.active);
        assert!(second.pruned.is_empty());
        let third = rotate(dir.path(), T0.plus(120), 100).unwrap();
        assert_eq!(third.pruned, std::slice::from_ref(&first.retired));
        let ring = KeyRing::load(dir.path()).unwrap();
        let mut retired: Vec<&str> = ring.retired.iter().map(|r| r.kid.as_str()).collect();
        retired.sort_unstable();
        let mut expected = [second.retired.as_str(), third.retired.as_str()];
        expected.sort_unstable();
        assert_eq!(retired, expected);
    }

    #[test]
    fn without_a_next_key_a_rotation_still_rotates_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        SigningKey::load_or_create(dir.path()).unwrap();
        let rotation = rotate(dir.path(), T0, 100).unwrap();
        assert!(!rotation.was_published);
        assert_ne!(rotation.active, rotation.retired);
        assert!(dir.path().join(NEXT_KEY_FILE).exists(), "the next rotation will be published in advance");
    }

    #[test]
    fn an_interrupted_rotation_is_completed_by_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        SigningKeys::open(dir.path()).unwrap();
        // As if a rotation stopped after writing the active key: next == active.
        fs::copy(dir.path().join(NEXT_KEY_FILE), dir.path().join(SIGNING_KEY_FILE)).unwrap();
        let ring = KeyRing::load(dir.path()).unwrap();
        assert_eq!(ring.published(T0).len(), 1, "the same key is published once");
        let rotation = rotate(dir.path(), T0, 100).unwrap();
        assert!(!rotation.was_published);
        assert_ne!(rotation.active, rotation.retired);
    }

    #[test]
    fn a_directory_that_cannot_be_read_keeps_the_keys_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let keys = SigningKeys::open(dir.path()).unwrap();
        let kid = keys.active().kid().to_owned();
        fs::write(dir.path().join("previous-es256-bogus.json"), b"{not json").unwrap();
        assert!(matches!(keys.reload(), Err(KeyError::Record { .. })));
        assert_eq!(keys.active().kid(), kid);
        fs::write(dir.path().join(SIGNING_KEY_FILE), b"garbage").unwrap();
        assert!(keys.reload().is_err());
        assert_eq!(keys.active().kid(), kid);
    }

    #[test]
    fn a_retired_record_holding_a_private_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        SigningKeys::open(dir.path()).unwrap();
        let pair = ES256.generate_key_pair().unwrap();
        let mut private = pair.to_jwk_private_key();
        private.set_key_id("k1");
        let record =
            RetiredRecord { kid: "k1".into(), retired_at: 0, expires_at: 1, jwk: private.as_ref().clone() };
        fs::write(retired_path(dir.path(), "k1"), serde_json::to_vec(&record).unwrap()).unwrap();
        assert!(matches!(KeyRing::load(dir.path()), Err(KeyError::NotPublic { .. })));
    }
}
