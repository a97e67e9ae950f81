//! Which generation of the published pages' data this instance knows of.
//! Pages every anonymous visitor sees alike are rendered once and kept
//! under the generation they were rendered at; any change that shows on
//! them moves the generation on, and the pages kept under an older one are
//! rendered again on their next view.
//!
//! The database says when such a change is committed, whichever code or
//! instance made it (triggers of migration 0019 on products, prices, their
//! repositories and the sandbox's clock): PostgreSQL notifies
//! `repopass_pages` at commit, which every instance listens to; SQLite
//! bumps `page_version`, which is read twice a second (one writer and one
//! file: other instances are rare, and a read is cheap). Besides, a
//! request that may have changed something moves the generation at once
//! on the instance that served it, so a creator who saves and reloads sees
//! the change without waiting for either.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use secrecy::{ExposeSecret, SecretString};

use crate::{db::Backend, state::Control, Db};

/// How often SQLite's `page_version` is read.
const POLL: Duration = Duration::from_millis(500);
/// PostgreSQL's channel, notified by `page_version_bump()`.
pub const CHANNEL: &str = "repopass_pages";

#[derive(Clone, Debug, Default)]
pub struct PageVersion(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    generation: AtomicU64,
    /// Whether changes made elsewhere are being heard: kept pages are
    /// served only then.
    watched: AtomicBool,
}

impl PageVersion {
    /// The generation pages are kept under; None while changes made
    /// elsewhere could go unheard (nothing kept may be served then).
    pub fn current(&self) -> Option<u64> {
        self.0.watched.load(Ordering::Acquire).then(|| self.0.generation.load(Ordering::Acquire))
    }

    /// Something published pages show may have changed.
    pub fn changed(&self) {
        self.0.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn watched(&self, yes: bool) {
        self.0.watched.store(yes, Ordering::Release);
    }

    /// Follows the database's changes until the server stops or reloads.
    pub fn spawn_watch(&self, db: Db, url: SecretString, control: Control) {
        let version = self.clone();
        tokio::spawn(async move {
            match db.backend() {
                Backend::Sqlite => version.poll(&db, control).await,
                Backend::Postgres => version.listen(&url, control).await,
            }
        });
    }

    async fn poll(&self, db: &Db, control: Control) {
        let mut seen: Option<i64> = None;
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = control.ended() => return,
            }
            match sqlx::query_scalar::<_, i64>("SELECT version FROM page_version WHERE id = 1")
                .fetch_one(db.pool())
                .await
            {
                Ok(now) => {
                    if seen != Some(now) {
                        self.changed();
                    }
                    seen = Some(now);
                    self.watched(true);
                }
                Err(e) => {
                    self.watched(false);
                    tracing::debug!(error = %e, "page version not read; will retry");
                }
            }
        }
    }

    async fn listen(&self, url: &SecretString, control: Control) {
        loop {
            let connected = async {
                let mut listener = sqlx::postgres::PgListener::connect(url.expose_secret()).await?;
                listener.listen(CHANNEL).await?;
                Ok::<_, sqlx::Error>(listener)
            };
            let mut listener = tokio::select! {
                l = connected => l,
                _ = control.ended() => return,
            };
            match &mut listener {
                Ok(listener) => {
                    // Whatever happened while not listening is unknown.
                    self.changed();
                    self.watched(true);
                    loop {
                        let heard = tokio::select! {
                            h = listener.try_recv() => h,
                            _ = control.ended() => return,
                        };
                        // A notification, or the connection lost and made
                        // again (notifications in between are lost).
                        self.changed();
                        if let Err(e) = heard {
                            self.watched(false);
                            tracing::warn!(error = %e, "page version listener lost; pages are rendered on every view until it is back");
                            break;
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not listen for page changes; will retry"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = control.ended() => return,
            }
        }
    }
}
