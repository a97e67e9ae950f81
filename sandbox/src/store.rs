//! The sandbox's persistence: JSON objects by kind and id, a few settings,
//! and the sandbox clock (real time plus an offset a test can advance).

use serde::{de::DeserializeOwned, Serialize};
use server::{clock, Db};

use crate::Error;

#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
}

impl Store {
    pub fn new(db: Db) -> Self {
        Store { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Sandbox time: unix seconds, moved forward by `advance_clock`.
    pub async fn now(&self) -> Result<i64, Error> {
        Ok(clock::now() + self.setting_i64("clock_offset").await?.unwrap_or(0))
    }

    pub async fn advance_clock(&self, seconds: i64) -> Result<i64, Error> {
        let offset = self.setting_i64("clock_offset").await?.unwrap_or(0) + seconds;
        self.set_setting("clock_offset", &offset.to_string()).await?;
        // Each move with the system time it was made at ("at:offset",
        // space-separated), so that a time recorded on the system clock can
        // be read as sandbox time then (`server::dated_clock::at`).
        let mut moves = self.setting("clock_moves").await?.unwrap_or_default();
        moves.push_str(&format!(" {}:{offset}", clock::now()));
        self.set_setting("clock_moves", moves.trim()).await?;
        self.now().await
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(sqlx::query_scalar("SELECT value FROM sandbox_state WHERE key = $1")
            .bind(key)
            .fetch_optional(self.db.pool())
            .await?)
    }

    async fn setting_i64(&self, key: &str) -> Result<Option<i64>, Error> {
        Ok(self.setting(key).await?.and_then(|v| v.parse().ok()))
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), Error> {
        sqlx::query("INSERT INTO sandbox_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// The next number of a sequence (GitHub ids are numbers). Atomic on both
    /// databases: one upsert, read back with RETURNING.
    pub async fn next_id(&self, sequence: &str, start: i64) -> Result<i64, Error> {
        let value: String = sqlx::query_scalar(
            "INSERT INTO sandbox_state (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(sandbox_state.value AS BIGINT) + 1 AS TEXT)
             RETURNING value",
        )
        .bind(format!("seq:{sequence}"))
        .bind(start.to_string())
        .fetch_one(self.db.pool())
        .await?;
        value.parse().map_err(|_| Error::Internal(format!("sequence {sequence} is not a number")))
    }

    pub async fn get<T: DeserializeOwned>(&self, kind: &str, id: &str) -> Result<Option<T>, Error> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM sandbox_objects WHERE kind = $1 AND id = $2")
            .bind(kind)
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| Error::Internal(format!("stored {kind} {id}: {e}"))))
            .transpose()
    }

    /// Several objects of a kind by id, in one query (those that exist).
    pub async fn get_many<T: DeserializeOwned>(&self, kind: &str, ids: &[String]) -> Result<Vec<T>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!("SELECT body FROM sandbox_objects WHERE kind = $1 AND id IN ({})", marks.join(", "));
        let mut query = sqlx::query_scalar::<_, String>(&sql).bind(kind);
        for id in ids {
            query = query.bind(id);
        }
        query
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(|b| serde_json::from_str(b).map_err(|e| Error::Internal(format!("stored {kind}: {e}"))))
            .collect()
    }

    /// Inserts or replaces one object.
    pub async fn put<T: Serialize>(&self, kind: &str, id: &str, parent: Option<&str>, value: &T) -> Result<(), Error> {
        self.insert(
            kind,
            id,
            parent,
            value,
            "DO UPDATE SET parent = excluded.parent, body = excluded.body, updated_at = excluded.updated_at",
        )
        .await?;
        Ok(())
    }

    /// Inserts only if absent; true when this call created it.
    pub async fn insert_new<T: Serialize>(
        &self,
        kind: &str,
        id: &str,
        parent: Option<&str>,
        value: &T,
    ) -> Result<bool, Error> {
        Ok(self.insert(kind, id, parent, value, "DO NOTHING").await? == 1)
    }

    async fn insert<T: Serialize>(
        &self,
        kind: &str,
        id: &str,
        parent: Option<&str>,
        value: &T,
        on_conflict: &str,
    ) -> Result<u64, Error> {
        let body = serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))?;
        let sql = format!(
            "INSERT INTO sandbox_objects (kind, id, parent, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (kind, id) {on_conflict}"
        );
        let done = sqlx::query(&sql)
            .bind(kind)
            .bind(id)
            .bind(parent)
            .bind(body)
            .bind(clock::now())
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn delete(&self, kind: &str, id: &str) -> Result<bool, Error> {
        let done = sqlx::query("DELETE FROM sandbox_objects WHERE kind = $1 AND id = $2")
            .bind(kind)
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// All objects of a kind (optionally under one parent), oldest first.
    pub async fn list<T: DeserializeOwned>(&self, kind: &str, parent: Option<&str>) -> Result<Vec<T>, Error> {
        let bodies: Vec<String> = match parent {
            Some(parent) => {
                sqlx::query_scalar(
                    "SELECT body FROM sandbox_objects WHERE kind = $1 AND parent = $2 ORDER BY created_at, id",
                )
                .bind(kind)
                .bind(parent)
                .fetch_all(self.db.pool())
                .await?
            }
            None => {
                sqlx::query_scalar("SELECT body FROM sandbox_objects WHERE kind = $1 ORDER BY created_at, id")
                    .bind(kind)
                    .fetch_all(self.db.pool())
                    .await?
            }
        };
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(|e| Error::Internal(format!("stored {kind}: {e}"))))
            .collect()
    }
}
