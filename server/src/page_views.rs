//! Product page views per product and UTC day. Counted in memory and
//! written in one batch every few seconds: no database write on the hot path
//! of a page view. A crash loses at most the last batch (views are a
//! statistic, not money).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crate::{clock, Db, Result};

#[derive(Clone, Default, Debug)]
pub struct PageViews {
    pending: Arc<Mutex<HashMap<(i64, i64), i64>>>,
}

impl PageViews {
    /// Counts a view (a lock held for one map update, never across an await).
    pub fn record(&self, product_id: crate::domain::ProductId) {
        let day = clock::now().div_euclid(86_400);
        *self.lock().entry((product_id.get(), day)).or_default() += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(i64, i64), i64>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes what was counted since the last flush.
    pub async fn flush(&self, db: &Db) -> Result<usize> {
        let batch = std::mem::take(&mut *self.lock());
        if batch.is_empty() {
            return Ok(0);
        }
        let mut tx = db.pool().begin().await?;
        for ((product_id, day), views) in &batch {
            sqlx::query(
                "INSERT INTO page_views (product_id, day, views) VALUES ($1, $2, $3)
                 ON CONFLICT (product_id, day) DO UPDATE SET views = page_views.views + excluded.views",
            )
            .bind(product_id)
            .bind(day)
            .bind(views)
            .execute(&mut *tx)
            .await?;
        }
        if let Err(e) = tx.commit().await {
            // Put the counts back for the next attempt.
            let mut pending = self.lock();
            for (key, views) in batch {
                *pending.entry(key).or_default() += views;
            }
            return Err(e.into());
        }
        Ok(batch.len())
    }

    /// Flushes every `every` until the process ends.
    /// Flushes every `every` until the server stops or reloads (its own
    /// last flush is the server's).
    pub fn spawn_flusher(&self, db: Db, every: std::time::Duration, control: crate::state::Control) {
        let views = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = control.ended() => return,
                }
                if let Err(e) = views.flush(&db).await {
                    tracing::warn!(error = %e, "page views not written; will retry");
                }
            }
        });
    }
}
