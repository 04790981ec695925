//! `time-updated` bookkeeping without a SQL write per point (esmond-storage.md §2.7, §6.4).
//!
//! The first write to an event type in an interval is recorded at once, so the metadata shows it
//! immediately; later writes in the same interval only raise an in-memory mark, which a
//! background task flushes once per interval as a monotonic maximum. A burst of N points costs
//! the metadata store about one write per interval and node, not N.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use esmond_metadata::MetadataStore;

/// (metadata key, event type).
type SeriesName = (String, String);

#[derive(Debug, Clone, Copy)]
struct Mark {
    /// The last time stored.
    stored: i64,
    /// A later time not stored yet.
    pending: Option<i64>,
}

/// Coalesces `time-updated` writes; cheap to clone.
#[derive(Debug, Clone)]
pub struct UpdateTracker {
    metadata: MetadataStore,
    interval: i64,
    marks: Arc<Mutex<HashMap<SeriesName, Mark>>>,
    stored: Arc<AtomicU64>,
}

impl UpdateTracker {
    /// Returns a tracker storing at most one time per event type and `interval`.
    pub fn new(metadata: MetadataStore, interval: Duration) -> UpdateTracker {
        let interval = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX).max(1);
        UpdateTracker {
            metadata,
            interval,
            marks: Arc::default(),
            stored: Arc::default(),
        }
    }

    /// Returns how many times were written to the metadata store since start.
    pub fn stored_marks(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }

    /// Writes one mark to the metadata store.
    async fn store(&self, key: &str, event_type: &str, time: i64) -> esmond_metadata::Result<()> {
        self.metadata.mark_updated(key, event_type, time).await?;
        self.stored.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SeriesName, Mark>> {
        // A panic while holding the lock cannot leave a mark half-written; keep going.
        self.marks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records that `event_type` of `key` was written at `now` (epoch seconds).
    ///
    /// Never fails the write it follows: if the metadata store cannot take the mark now, it stays
    /// pending and the next flush stores it.
    pub async fn touch(&self, key: &str, event_type: &str, now: i64) {
        let name = (key.to_owned(), event_type.to_owned());
        let store_now = {
            let mut marks = self.lock();
            let mark = marks.entry(name.clone()).or_insert(Mark {
                stored: i64::MIN,
                pending: None,
            });
            if now.saturating_sub(mark.stored) < self.interval {
                mark.pending = Some(mark.pending.map_or(now, |pending| pending.max(now)));
                false
            } else {
                true
            }
        };
        if !store_now {
            return;
        }
        let stored = self.store(key, event_type, now).await;
        let mut marks = self.lock();
        let Some(mark) = marks.get_mut(&name) else {
            return;
        };
        match stored {
            Ok(()) => mark.stored = mark.stored.max(now),
            Err(error) => {
                tracing::warn!(%error, metadata_key = key, event_type, "time-updated deferred to the next flush");
                mark.pending = Some(mark.pending.map_or(now, |pending| pending.max(now)));
            }
        }
    }

    /// Stores every pending mark.
    pub async fn flush(&self) -> esmond_metadata::Result<()> {
        let due: Vec<(SeriesName, i64)> = {
            let mut marks = self.lock();
            marks
                .iter_mut()
                .filter_map(|(name, mark)| mark.pending.take().map(|time| (name.clone(), time)))
                .collect()
        };
        for ((key, event_type), time) in due {
            if let Err(error) = self.store(&key, &event_type, time).await {
                // Put it back: the next flush retries, nothing is lost.
                let mut marks = self.lock();
                if let Some(mark) = marks.get_mut(&(key.clone(), event_type.clone())) {
                    mark.pending = Some(mark.pending.map_or(time, |pending| pending.max(time)));
                }
                return Err(error);
            }
            let mut marks = self.lock();
            if let Some(mark) = marks.get_mut(&(key, event_type)) {
                mark.stored = mark.stored.max(time);
            }
        }
        Ok(())
    }

    /// Flushes once per interval until `shutdown` resolves, then flushes a last time.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let period = Duration::from_secs(u64::try_from(self.interval).unwrap_or(1));
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    if let Err(error) = self.flush().await {
                        tracing::warn!(%error, "time-updated flush failed, retrying next interval");
                    }
                }
                () = &mut shutdown => break,
            }
        }
        if let Err(error) = self.flush().await {
            tracing::error!(%error, "final time-updated flush failed");
        }
    }
}
