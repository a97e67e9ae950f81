//! Webhooks in, written in groups. A delivery must be on disk before its
//! sender hears 2xx. Written one transaction each, 64 senders at once queue
//! for SQLite's single write lock (its busy handler sleeps up to 100 ms a
//! turn) or for the pool's connections, and each pays its own disk flush.
//! Here one writer task takes every delivery that is waiting, stores them
//! and their jobs in one transaction (`webhooks::store_all`) and answers
//! each sender after the commit: one flush for the group, no lock queue
//! among webhooks. Nothing waits for a group to fill: a lone delivery is
//! written at once.

use std::sync::OnceLock;

use tokio::sync::{mpsc, oneshot};

use crate::{
    webhooks::{self, Delivery, MOST_AT_ONCE},
    Db, Error, Result,
};

/// Deliveries waiting for the writer before senders wait to hand theirs over.
const QUEUE: usize = 1024;

#[derive(Debug)]
struct Pending {
    delivery: Delivery,
    ignored: Option<String>,
    reply: oneshot::Sender<Result<bool>>,
}

/// This process's webhook writer, started with the first delivery (inside
/// the runtime that serves requests).
#[derive(Debug)]
pub struct Intake {
    db: Db,
    queue: OnceLock<mpsc::Sender<Pending>>,
}

impl Intake {
    pub fn new(db: Db) -> Self {
        Intake { db, queue: OnceLock::new() }
    }

    /// Stores the delivery and its job, durably, before returning: true when
    /// new, false when seen before (see `webhooks::store`).
    pub async fn store(&self, delivery: Delivery, ignored: Option<String>) -> Result<bool> {
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            tokio::spawn(write_groups(self.db.clone(), receiver));
            sender
        });
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError(pending)) = queue.send(Pending { delivery, ignored, reply }).await {
            // The writer is gone (its runtime is shutting down): write alone.
            return webhooks::store(&self.db, &pending.delivery, pending.ignored).await;
        }
        answer.await.map_err(|_| Error::Unavailable("the webhook writer stopped before answering".into()))?
    }
}

/// Until every sender is gone: takes what is waiting (up to
/// `MOST_AT_ONCE`), writes it as one group, answers each.
async fn write_groups(db: Db, mut queue: mpsc::Receiver<Pending>) {
    let mut group = Vec::with_capacity(MOST_AT_ONCE);
    while queue.recv_many(&mut group, MOST_AT_ONCE).await > 0 {
        let written = {
            let all: Vec<(&Delivery, Option<&str>)> =
                group.iter().map(|p| (&p.delivery, p.ignored.as_deref())).collect();
            webhooks::store_all(&db, &all).await
        };
        match written {
            Ok(stored) => {
                for (pending, new) in group.drain(..).zip(stored) {
                    // A sender that hung up meanwhile will deliver again: a duplicate then.
                    let _ = pending.reply.send(Ok(new));
                }
            }
            Err(e) if group.len() == 1 => {
                let _ = group.remove(0).reply.send(Err(e));
            }
            Err(e) => {
                // One bad delivery (or a busy moment) must not refuse the
                // others: each is written on its own, with its own answer.
                tracing::warn!(error = %e, deliveries = group.len(), "a group of webhooks was not stored; storing them one by one");
                for pending in group.drain(..) {
                    let stored = webhooks::store(&db, &pending.delivery, pending.ignored).await;
                    let _ = pending.reply.send(stored);
                }
            }
        }
    }
}
