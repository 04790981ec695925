//! The metadata records the write path needs, cached per node so that a posted point costs no
//! SQL round trip.
//!
//! Safe across nodes because what a write needs of a record never changes once created (its
//! event types and summaries), with one exception handled by the caller: an event type another
//! node registered meanwhile. A write that finds an event type missing re-reads the record
//! through [`Registrations::refresh`]. Unknown keys are never cached, so a record created on
//! another node is found at once.

use std::sync::Arc;
use std::time::Duration;

use esmond_metadata::MetadataStore;
use esmond_model::Metadata;
use moka::future::Cache;

/// Records cached at most this long, as a bound on memory held by idle records.
const TIME_TO_IDLE: Duration = Duration::from_secs(600);

/// Records kept per node.
const CAPACITY: u64 = 100_000;

/// A per-node cache of metadata records for the write path; cheap to clone.
#[derive(Debug, Clone)]
pub struct Registrations {
    metadata: MetadataStore,
    cache: Cache<String, Arc<Metadata>>,
}

impl Registrations {
    /// Returns an empty cache over `metadata`.
    pub fn new(metadata: MetadataStore) -> Registrations {
        let cache = Cache::builder()
            .max_capacity(CAPACITY)
            .time_to_idle(TIME_TO_IDLE)
            .build();
        Registrations { metadata, cache }
    }

    /// Returns the record, from the cache when possible.
    pub(crate) async fn get(&self, key: &str) -> esmond_metadata::Result<Option<Arc<Metadata>>> {
        if let Some(record) = self.cache.get(key).await {
            return Ok(Some(record));
        }
        self.refresh(key).await
    }

    /// Reads the record from the store again and caches it.
    pub(crate) async fn refresh(
        &self,
        key: &str,
    ) -> esmond_metadata::Result<Option<Arc<Metadata>>> {
        let Some(record) = self.metadata.get_metadata(key).await? else {
            self.cache.invalidate(key).await;
            return Ok(None);
        };
        let record = Arc::new(record);
        self.cache.insert(key.to_owned(), record.clone()).await;
        Ok(Some(record))
    }
}
