//! Cookie sessions stored in the database (the `sessions` table), through
//! tower-sessions and its sqlx store. The store needs a typed pool, so it
//! gets a small one of its own on the same database.

use secrecy::ExposeSecret;
use server::{db::Backend, Config, Db};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

pub const COOKIE: &str = "repopass_session";

/// As long as the main pool waits for a connection: a request fails rather
/// than waits without end.
const ACQUIRE: std::time::Duration = std::time::Duration::from_secs(5);

/// Either backend's store behind one type.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

#[async_trait::async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut tower_sessions::session::Record) -> tower_sessions::session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.create(record).await,
            Store::Postgres(s) => s.create(record).await,
        }
    }
    async fn save(&self, record: &tower_sessions::session::Record) -> tower_sessions::session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.save(record).await,
            Store::Postgres(s) => s.save(record).await,
        }
    }
    async fn load(
        &self,
        id: &tower_sessions::session::Id,
    ) -> tower_sessions::session_store::Result<Option<tower_sessions::session::Record>> {
        match self {
            Store::Sqlite(s) => s.load(id).await,
            Store::Postgres(s) => s.load(id).await,
        }
    }
    async fn delete(&self, id: &tower_sessions::session::Id) -> tower_sessions::session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.delete(id).await,
            Store::Postgres(s) => s.delete(id).await,
        }
    }
}

pub async fn store(config: &Config, db: &Db) -> Result<Store, sqlx::Error> {
    let url = config.database.url.expose_secret();
    let bad_name = |e: String| sqlx::Error::Configuration(e.into());
    Ok(match db.backend() {
        Backend::Sqlite => {
            let pool =
                sqlx::sqlite::SqlitePoolOptions::new().max_connections(4).acquire_timeout(ACQUIRE).connect(url).await?;
            Store::Sqlite(SqliteStore::new(pool).with_table_name("sessions").map_err(bad_name)?)
        }
        Backend::Postgres => {
            let pool =
                sqlx::postgres::PgPoolOptions::new().max_connections(4).acquire_timeout(ACQUIRE).connect(url).await?;
            let store = PostgresStore::new(pool)
                .with_schema_name("public")
                .and_then(|s| s.with_table_name("sessions"))
                .map_err(bad_name)?;
            Store::Postgres(store)
        }
    })
}

impl Store {
    /// Deletes the sessions whose time is up (the store's own query).
    pub async fn delete_expired(&self) -> tower_sessions::session_store::Result<()> {
        use tower_sessions::ExpiredDeletion;
        match self {
            Store::Sqlite(s) => s.delete_expired().await,
            Store::Postgres(s) => s.delete_expired().await,
        }
    }

    /// Deletes expired sessions now and then every `every`, until the process ends.
    pub fn spawn_janitor(&self, every: std::time::Duration) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(err) = store.delete_expired().await {
                    tracing::warn!(error = %err, "expired sessions not deleted; will retry");
                }
            }
        });
    }
}

/// HttpOnly, SameSite=Lax, Secure when served over https; a week of
/// inactivity signs you out (`server::session_user::SIGNED_IN`).
pub fn layer(store: Store, config: &Config) -> SessionManagerLayer<Store> {
    SessionManagerLayer::new(store)
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.public_url.scheme() == "https")
        .with_expiry(Expiry::OnInactivity(server::session_user::SIGNED_IN))
}
