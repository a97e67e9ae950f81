//! API keys for the REST API. A key is shown once, at creation; only its
//! SHA-256 is stored, so a database leak does not leak working keys.

use rand::{distr::Alphanumeric, Rng};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::{clock, Db, Error, Result};

const KEY_PREFIX: &str = "rp_";
const RANDOM_LEN: usize = 40; // ~238 bits of entropy
const SHOWN_PREFIX_LEN: usize = 11; // "rp_" + 8 random characters

/// A freshly made key: `secret` is the only copy of the whole key.
#[derive(Debug)]
pub struct NewApiKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub secret: SecretString,
}

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub async fn create(db: &Db, name: &str, created_by: Option<i64>) -> Result<NewApiKey> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "give the key a name of 1 to 100 characters, e.g. --name zapier"));
    }
    let random: String = rand::rng().sample_iter(&Alphanumeric).take(RANDOM_LEN).map(char::from).collect();
    let key = format!("{KEY_PREFIX}{random}");
    let prefix = key[..SHOWN_PREFIX_LEN].to_owned();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_keys (name, prefix, key_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(name)
    .bind(&prefix)
    .bind(hash_key(&key))
    .bind(created_by)
    .bind(clock::now())
    .fetch_one(db.pool())
    .await?;
    tracing::info!(api_key_id = id, %prefix, "API key created");
    Ok(NewApiKey { id, name: name.to_owned(), prefix, secret: SecretString::from(key) })
}

/// The id of the live key matching `presented`, if any.
pub async fn authenticate(db: &Db, presented: &SecretString) -> Result<Option<i64>> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
        .bind(hash_key(presented.expose_secret()))
        .fetch_optional(db.pool())
        .await?;
    if let Some(id) = id {
        // "Last used" to the minute: no write on every request of a busy key.
        let now = crate::clock::now();
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(id)
        .bind(now)
        .bind(now - 60)
        .execute(db.pool())
        .await?;
    }
    Ok(id)
}

/// A key as the admin panel lists it: never the key itself.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyInfo {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn list(db: &Db) -> Result<Vec<ApiKeyInfo>> {
    Ok(sqlx::query_as::<_, ApiKeyInfo>(
        "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys ORDER BY id DESC",
    )
    .fetch_all(db.pool())
    .await?)
}

/// Revokes a key for good; false when there was no such live key.
pub async fn revoke(db: &Db, id: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(clock::now())
        .execute(db.pool())
        .await?;
    if done.rows_affected() == 1 {
        tracing::info!(api_key_id = id, "API key revoked");
    }
    Ok(done.rows_affected() == 1)
}
