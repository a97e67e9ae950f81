//! Secrets at rest. What RepoPass obtains itself (a Stripe key pasted in
//! the wizard, a GitHub App's private key) is stored in `stored_settings`
//! sealed with XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`), the
//! setting's name bound in as associated data so that a sealed value cannot
//! be moved to another name. The key is `REPOPASS_SECRET_KEY`, or else a
//! file `secret.key` (mode 0600) in the data directory created on first
//! start. A database copied without its key opens nothing.
//!
//! Rotation (`repopass rotate-key`) writes the new key beside the old one
//! (`secret.key.next`), re-seals every value in one transaction, then moves
//! the new key into place: a crash at any point leaves each value readable
//! by one of the two files, and the next rotation finishes the job.

use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
};

use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::{
    config::{Setting, StoredValues},
    Config, Db,
};

const KEY_FILE: &str = "secret.key";
const NEXT_KEY_FILE: &str = "secret.key.next";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("cannot read the secret key {path}: {source}")]
    ReadKey { path: String, source: std::io::Error },
    #[error("cannot write the secret key {path}: {source}")]
    WriteKey { path: String, source: std::io::Error },
    #[error(
        "the secret key {path} is not 64 hex characters: restore the file from your backup, or set REPOPASS_SECRET_KEY"
    )]
    BadKeyFile { path: String },
    #[error("the secret key {path} can be read by other users of this machine: run `chmod 600 {path}`")]
    KeyFileOpen { path: String },
    #[error("the saved {name} was sealed with key {key_id}, which this RepoPass does not have (it has {have}): set REPOPASS_SECRET_KEY to the key used when it was saved — every instance needs the same key")]
    UnknownKey { name: String, key_id: String, have: String },
    #[error("the saved {name} does not open with its key (altered, or the key file was replaced): save it again")]
    Corrupt { name: String },
    #[error(
        "{0} is set in the environment, which wins over a saved value: change it there, or unset it to manage it here"
    )]
    SetInEnvironment(&'static str),
    #[error("the key comes from REPOPASS_SECRET_KEY: pass the new one as REPOPASS_NEW_SECRET_KEY (openssl rand -hex 32), then set REPOPASS_SECRET_KEY to it")]
    NeedNewKey,
    #[error("REPOPASS_NEW_SECRET_KEY must be 64 hex characters (openssl rand -hex 32)")]
    BadNewKey,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// One 256-bit key and its id (the first 8 bytes of its SHA-256, in hex).
#[derive(Clone)]
struct Key {
    cipher: XChaCha20Poly1305,
    id: String,
}

impl Key {
    fn from_hex(hex_key: &str) -> Option<Key> {
        let bytes = hex::decode(hex_key.trim()).ok().filter(|b| b.len() == 32)?;
        let id = hex::encode(&Sha256::digest(&bytes)[..8]);
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).ok()?;
        Some(Key { cipher, id })
    }

    fn seal(&self, name: &str, value: &str) -> (String, String) {
        let nonce: [u8; 24] = rand::random();
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: value.as_bytes(), aad: name.as_bytes() })
            .expect("XChaCha20-Poly1305 seals any message that fits in memory");
        (hex::encode(nonce), hex::encode(sealed))
    }

    fn open(&self, name: &str, nonce: &str, sealed: &str) -> Option<String> {
        let nonce = hex::decode(nonce).ok().filter(|n| n.len() == 24)?;
        let sealed = hex::decode(sealed).ok()?;
        let plain =
            self.cipher.decrypt(XNonce::from_slice(&nonce), Payload { msg: &sealed, aad: name.as_bytes() }).ok()?;
        String::from_utf8(plain).ok()
    }
}

/// Where the key came from: decides how it is rotated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File(PathBuf),
}

/// The keys this process can open values with: the current one, and the
/// next one of a rotation that did not finish.
#[derive(Clone)]
pub struct Vault {
    current: Key,
    next: Option<Key>,
    source: KeySource,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("key_id", &self.current.id).field("source", &self.source).finish()
    }
}

impl Vault {
    /// The key from `REPOPASS_SECRET_KEY`, or from the key file — created
    /// (0600) when `create` and there is none yet. `None`: no key anywhere
    /// and none made, so nothing saved can be read (and nothing was saved).
    pub fn open(config: &Config, create: bool) -> Result<Option<Vault>, VaultError> {
        if let Some(key) = &config.secret_key {
            let current = Key::from_hex(key.expose_secret())
                .ok_or(VaultError::BadKeyFile { path: "REPOPASS_SECRET_KEY".into() })?;
            return Ok(Some(Vault { current, next: None, source: KeySource::Environment }));
        }
        let path = config.data_dir.join(KEY_FILE);
        let current = match read_key_file(&path)? {
            Some(key) => key,
            None if create => {
                let key = new_key_hex();
                write_key_file(&path, &key)?;
                tracing::info!(path = %path.display(), "created the secret key that seals saved settings: back it up with the database");
                Key::from_hex(&key).expect("a new key is valid")
            }
            None => return Ok(None),
        };
        let next = read_key_file(&config.data_dir.join(NEXT_KEY_FILE))?;
        Ok(Some(Vault { current, next, source: KeySource::File(path) }))
    }

    /// The key, made (as a key file) if there is none yet: for saving.
    pub fn open_or_create(config: &Config) -> Result<Vault, VaultError> {
        Self::open(config, true).map(|v| v.expect("`open` creates the key when asked to"))
    }

    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    /// Seals one value kept outside `stored_settings` (an outgoing webhook
    /// endpoint's signing secret) as `key_id:nonce:sealed`, `name` bound in.
    pub fn seal_text(&self, name: &str, value: &str) -> String {
        let (nonce, sealed) = self.current.seal(name, value);
        format!("{}:{nonce}:{sealed}", self.current.id)
    }

    /// A value `seal_text` sealed under `name`, by whichever of this
    /// process's keys sealed it.
    pub fn open_text(&self, name: &str, stored: &str) -> Result<String, VaultError> {
        let corrupt = || VaultError::Corrupt { name: name.to_owned() };
        let mut parts = stored.splitn(3, ':');
        let (Some(key_id), Some(nonce), Some(sealed)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(corrupt());
        };
        let key = self.key(key_id).ok_or_else(|| VaultError::UnknownKey {
            name: name.to_owned(),
            key_id: key_id.to_owned(),
            have: self.current.id.clone(),
        })?;
        key.open(name, nonce, sealed).ok_or_else(corrupt)
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    fn key(&self, id: &str) -> Option<&Key> {
        std::iter::once(&self.current).chain(self.next.as_ref()).find(|k| k.id == id)
    }
}

fn new_key_hex() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

fn read_key_file(path: &Path) -> Result<Option<Key>, VaultError> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(VaultError::ReadKey { path: shown, source }),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0o600);
        if mode & 0o077 != 0 {
            return Err(VaultError::KeyFileOpen { path: shown });
        }
    }
    Key::from_hex(&text).map(Some).ok_or(VaultError::BadKeyFile { path: shown })
}

/// Creates the file readable by its owner only, and on disk before it is used.
fn write_key_file(path: &Path, hex_key: &str) -> Result<(), VaultError> {
    let err = |source| VaultError::WriteKey { path: path.display().to_string(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(err)?;
    file.write_all(format!("{hex_key}\n").as_bytes()).map_err(err)?;
    file.sync_all().map_err(err)
}

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    key_id: String,
    nonce: String,
    sealed: String,
}

/// Every saved value, opened. Names this RepoPass does not know (saved by a
/// newer version) are skipped.
pub async fn load(db: &Db, vault: Option<&Vault>) -> Result<StoredValues, VaultError> {
    let rows: Vec<Row> =
        sqlx::query_as("SELECT name, key_id, nonce, sealed FROM stored_settings").fetch_all(db.pool()).await?;
    let mut values = HashMap::new();
    for row in rows {
        let Some(setting) = Setting::from_var(&row.name) else { continue };
        let unknown = || VaultError::UnknownKey {
            name: row.name.clone(),
            key_id: row.key_id.clone(),
            have: vault.map(|v| v.key_id().to_owned()).unwrap_or_else(|| "no key at all".into()),
        };
        let key = vault.and_then(|v| v.key(&row.key_id)).ok_or_else(unknown)?;
        let plain = key
            .open(&row.name, &row.nonce, &row.sealed)
            .ok_or_else(|| VaultError::Corrupt { name: row.name.clone() })?;
        values.insert(setting, SecretString::from(plain));
    }
    Ok(StoredValues(values))
}

/// Merges the saved settings into `config` (the environment's values win).
/// `create`: make the key file if there is none (the server does; the
/// other commands only read).
pub async fn complete(config: &mut Config, db: &Db, create: bool) -> Result<(), CompleteError> {
    let vault = Vault::open(config, create)?;
    let stored = load(db, vault.as_ref()).await?;
    config.merge_stored(&stored)?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum CompleteError {
    #[error("saved settings: {0}")]
    Vault(#[from] VaultError),
    #[error("saved settings: {0}")]
    Config(#[from] crate::config::ConfigError),
}

/// Saves values together (all or none). A setting the environment sets is
/// refused: it would be saved and never used.
pub async fn save(
    db: &Db,
    vault: &Vault,
    config: &Config,
    values: &[(Setting, &SecretString)],
) -> Result<(), VaultError> {
    if let Some((setting, _)) = values.iter().find(|(s, _)| config.env_has(*s)) {
        return Err(VaultError::SetInEnvironment(setting.var()));
    }
    seal_all(db, &vault.current, values.iter().map(|(s, v)| (*s, *v))).await
}

/// Seals and writes values in one transaction.
async fn seal_all<'a>(
    db: &Db,
    key: &Key,
    values: impl Iterator<Item = (Setting, &'a SecretString)>,
) -> Result<(), VaultError> {
    let mut tx = db.pool().begin().await?;
    for (setting, value) in values {
        let (nonce, sealed) = key.seal(setting.var(), value.expose_secret());
        sqlx::query(
            "INSERT INTO stored_settings (name, key_id, nonce, sealed, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, nonce = excluded.nonce,
             sealed = excluded.sealed, updated_at = excluded.updated_at",
        )
        .bind(setting.var())
        .bind(&key.id)
        .bind(nonce)
        .bind(sealed)
        .bind(crate::clock::now())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The name an outgoing webhook endpoint's signing secret is sealed under.
pub fn endpoint_secret_name(endpoint_id: i64) -> String {
    format!("webhook_endpoint:{endpoint_id}")
}

/// Re-seals the endpoints' signing secrets under `next` (a rotation).
async fn reseal_endpoint_secrets(db: &Db, vault: &Vault, next: &Key) -> Result<usize, VaultError> {
    let rows: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT id, secret, previous_secret FROM outgoing_endpoints").fetch_all(db.pool()).await?;
    let next = Vault { current: next.clone(), next: None, source: vault.source.clone() };
    let mut tx = db.pool().begin().await?;
    for (id, secret, previous) in &rows {
        let name = endpoint_secret_name(*id);
        let reseal = |sealed: &str| vault.open_text(&name, sealed).map(|plain| next.seal_text(&name, &plain));
        let previous = previous.as_deref().map(reseal).transpose()?;
        sqlx::query("UPDATE outgoing_endpoints SET secret = $2, previous_secret = $3 WHERE id = $1")
            .bind(id)
            .bind(reseal(secret)?)
            .bind(previous)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// What a rotation did.
#[derive(Debug)]
pub struct Rotated {
    pub values: usize,
    pub old_key_id: String,
    pub new_key_id: String,
}

/// Re-seals every saved value under a new key. With a key file, the new
/// key replaces it; with `REPOPASS_SECRET_KEY`, the new key is
/// `new_key` (from REPOPASS_NEW_SECRET_KEY) and the operator sets it.
pub async fn rotate(db: &Db, config: &Config, new_key: Option<&str>) -> Result<Rotated, VaultError> {
    let vault = Vault::open_or_create(config)?;
    let (next_key, next_path) = match vault.source() {
        KeySource::Environment => {
            let hex_key = new_key.ok_or(VaultError::NeedNewKey)?;
            (Key::from_hex(hex_key).ok_or(VaultError::BadNewKey)?, None)
        }
        KeySource::File(path) => {
            let next_path = path.with_file_name(NEXT_KEY_FILE);
            // A rotation that stopped half-way left its key: finish with it.
            let key = match read_key_file(&next_path)? {
                Some(key) => key,
                None => {
                    let hex_key = new_key.map(str::to_owned).unwrap_or_else(new_key_hex);
                    let key = Key::from_hex(&hex_key).ok_or(VaultError::BadNewKey)?;
                    write_key_file(&next_path, &hex_key)?;
                    key
                }
            };
            (key, Some((next_path, path.clone())))
        }
    };
    let values = load(db, Some(&vault)).await?;
    seal_all(db, &next_key, values.0.iter().map(|(s, v)| (*s, v))).await?;
    let endpoints = reseal_endpoint_secrets(db, &vault, &next_key).await?;
    if let Some((next_path, path)) = next_path {
        std::fs::rename(&next_path, &path)
            .map_err(|source| VaultError::WriteKey { path: path.display().to_string(), source })?;
    }
    Ok(Rotated { values: values.0.len() + endpoints, old_key_id: vault.current.id.clone(), new_key_id: next_key.id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_under_its_own_name_and_key() {
        let key = Key::from_hex(&new_key_hex()).unwrap();
        let (nonce, sealed) = key.seal("STRIPE_SECRET_KEY", "sk_test_abc");
        assert!(!sealed.contains(&hex::encode("sk_test_abc")));
        assert_eq!(key.open("STRIPE_SECRET_KEY", &nonce, &sealed).as_deref(), Some("sk_test_abc"));
        assert_eq!(key.open("GITHUB_CLIENT_SECRET", &nonce, &sealed), None, "moved to another name");
        let other = Key::from_hex(&new_key_hex()).unwrap();
        assert_eq!(other.open("STRIPE_SECRET_KEY", &nonce, &sealed), None);
        let mut tampered = hex::decode(&sealed).unwrap();
        tampered[0] ^= 1;
        assert_eq!(key.open("STRIPE_SECRET_KEY", &nonce, &hex::encode(tampered)), None);
        // Two seals of one value differ (fresh nonces).
        assert_ne!(key.seal("X", "v").1, key.seal("X", "v").1);
    }

    #[test]
    fn the_key_file_is_private_and_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write_key_file(&path, &new_key_hex()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(read_key_file(&path), Err(VaultError::KeyFileOpen { .. })));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert!(read_key_file(&path).unwrap().is_some());
        assert!(write_key_file(&path, &new_key_hex()).is_err(), "an existing key is never replaced by accident");
    }
}
