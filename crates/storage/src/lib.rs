//! Time series of esmond-rs: base points and the summary state of each bin, behind one storage
//! contract.
//!
//! Layout: [`TimeSeriesRepository`] is the contract a backend implements, with primitives only
//! (upsert and range-read points and bins). [`SeriesStore`] holds the logic written once above
//! every backend: duplicate rules, and keeping each summary bin equal to the fold of its points
//! ([`summaries`]). [`sqlite`] is the embedded backend and [`cassandra`] the clustered one;
//! [`buckets`] fixes the time partitions Cassandra splits series into.

pub mod buckets;
pub mod cassandra;
mod columns;
mod error;
mod known;
mod recent;
mod settling;
pub mod sqlite;
mod summaries;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use esmond_model::{BinState, Value};

pub use error::{Error, Result};
pub use summaries::{SeriesWrite, WriteOutcome};

/// Returns the current time in epoch seconds.
pub fn now() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
}

/// One series: an event type of a metadata record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    /// The metadata key.
    pub metadata_key: String,
    /// The event type name.
    pub event_type: String,
}

/// A base point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Epoch seconds.
    pub ts: i64,
    /// The validated value.
    pub value: Value,
}

/// The state of one summary bin.
#[derive(Debug, Clone, PartialEq)]
pub struct Bin {
    /// Epoch-aligned start of the bin.
    pub start: i64,
    /// The fold of the bin's points.
    pub state: BinState,
}

/// An inclusive time range, epoch seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// First second included.
    pub begin: i64,
    /// Last second included.
    pub end: i64,
}

/// The newest points of some numeric series: [`TimeSeriesRepository::newest_points`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewestPoints {
    /// (event type, time stamp), newest first.
    pub points: Vec<(String, i64)>,
    /// Every point of the series stamped after this time (and within the range asked for) is
    /// in `points`.
    pub complete_after: i64,
}

/// Which part of a range's rows to return, counted in ascending time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Page {
    /// Rows to skip.
    pub offset: u64,
    /// Most rows to return; `None` for all.
    pub limit: Option<u64>,
}

/// The time-series contract, implemented by each backend.
#[async_trait]
pub trait TimeSeriesRepository: Send + Sync + Debug {
    /// Checks that the store answers (at the consistency writes need, where that applies).
    async fn ping(&self) -> Result<()>;

    /// Returns which of `timestamps` already hold a base point, in each of the numeric series
    /// `event_types` of a record.
    async fn existing_points(
        &self,
        metadata_key: &str,
        event_types: &[String],
        timestamps: &[i64],
    ) -> Result<Vec<(String, i64)>>;

    /// Returns the newest base points of a record's numeric series `event_types` stamped within
    /// `range`, which lies within one day partition ([`buckets::POINT_SPAN`]): newest first,
    /// about `limit` of them, and a time after which the list is complete.
    async fn newest_points(
        &self,
        metadata_key: &str,
        event_types: &[String],
        range: TimeRange,
        limit: usize,
    ) -> Result<NewestPoints>;

    /// Stores the base points of several series, replacing any at the same time stamps. A
    /// backend that keeps some of these series together stores them together.
    async fn put_points(&self, series: &[(&SeriesKey, &[Point])]) -> Result<()>;

    /// Returns base points within `range`, ascending.
    async fn get_points(
        &self,
        series: &SeriesKey,
        range: TimeRange,
        page: Page,
    ) -> Result<Vec<Point>>;

    /// Returns the base points within `range` of several series of one record, ascending within
    /// each series. Meant for short ranges (the settling pass reads an hour or two): not paged.
    /// A backend that keeps some of these series together reads them together.
    async fn get_record_points(
        &self,
        metadata_key: &str,
        event_types: &[String],
        range: TimeRange,
    ) -> Result<BTreeMap<String, Vec<Point>>> {
        points_one_by_one(self, metadata_key, event_types, range).await
    }

    /// Stores bin states of one window, replacing any with the same start.
    async fn put_bins(&self, series: &SeriesKey, window: i64, bins: &[Bin]) -> Result<()>;

    /// Returns bin states of one window whose start lies within `range`, ascending.
    async fn get_bins(
        &self,
        series: &SeriesKey,
        window: i64,
        range: TimeRange,
        page: Page,
    ) -> Result<Vec<Bin>>;

    /// Notes that `series`, which keeps `windows`, took recent points with bins closing in each
    /// of the hour `slots`, so that the settling pass stores those bins.
    async fn queue_settling(
        &self,
        series: &SeriesKey,
        windows: &[i64],
        slots: &[i64],
    ) -> Result<()>;

    /// Returns the series queued for an hour slot, each with the windows it keeps.
    async fn queued_for_settling(&self, slot: i64) -> Result<Vec<(SeriesKey, Vec<i64>)>>;

    /// Returns the time up to which every bin is settled, once set.
    async fn settled_through(&self) -> Result<Option<i64>>;

    /// Moves the settled time to `through` if that is later than the stored one.
    async fn advance_settled(&self, through: i64) -> Result<()>;
}

/// Reads the points of each of `event_types` of a record with its own range read.
pub(crate) async fn points_one_by_one<R: TimeSeriesRepository + ?Sized>(
    repository: &R,
    metadata_key: &str,
    event_types: &[String],
    range: TimeRange,
) -> Result<BTreeMap<String, Vec<Point>>> {
    let mut points = BTreeMap::new();
    for event_type in event_types {
        let series = SeriesKey {
            metadata_key: metadata_key.to_owned(),
            event_type: event_type.clone(),
        };
        let read = repository
            .get_points(&series, range, Page::default())
            .await?;
        points.insert(event_type.clone(), read);
    }
    Ok(points)
}

/// The time-series store the API uses: a backend plus the logic shared by all backends.
#[derive(Debug, Clone)]
pub struct SeriesStore {
    repository: Arc<dyn TimeSeriesRepository>,
    /// Refreshes of one series' bins on this node take turns (see [`summaries`]).
    refresh_locks: Arc<[tokio::sync::Mutex<()>]>,
    /// Whether recent points' bins are settled later rather than at each write (see
    /// [`settling`]).
    settling: Option<Arc<settling::Settling>>,
    /// What this node knows of the numeric points stored, when the duplicate check may answer
    /// from it (see [`known`]).
    known: Option<Arc<known::KnownPoints>>,
}

impl SeriesStore {
    /// Wraps a backend.
    pub fn new(repository: Arc<dyn TimeSeriesRepository>) -> SeriesStore {
        let refresh_locks = (0..summaries::REFRESH_STRIPES)
            .map(|_| tokio::sync::Mutex::new(()))
            .collect();
        SeriesStore {
            repository,
            refresh_locks,
            settling: None,
            known: None,
        }
    }

    /// Lets the duplicate check answer from what this node read and stored, reading a record's
    /// day once instead of before every write (see [`known`]).
    pub fn with_known_points(mut self) -> SeriesStore {
        self.known = Some(Arc::new(known::KnownPoints::new()));
        self
    }

    /// Settles the bins of points that arrive within `delay` of their time in a background pass
    /// ([`SeriesStore::settle_due`]) instead of at their write.
    pub fn with_settling(mut self, delay: std::time::Duration) -> SeriesStore {
        self.settling = Some(Arc::new(settling::Settling::new(delay)));
        self
    }

    /// Returns the stripe of the lock that refreshes of `series` on this node share.
    fn refresh_stripe(&self, series: &SeriesKey) -> usize {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        // A fixed hasher: the stripe of a series only has to be stable within the process.
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(series);
        (hash % self.refresh_locks.len() as u64) as usize
    }

    /// Returns the lock that refreshes of `series` on this node share.
    fn refresh_lock(&self, series: &SeriesKey) -> &tokio::sync::Mutex<()> {
        &self.refresh_locks[self.refresh_stripe(series)]
    }

    /// Takes the turns of all of `series` at once, in stripe order, so that holders of several
    /// never wait on each other in a circle (a write holds one at a time).
    async fn refresh_turns(&self, series: &[SeriesKey]) -> Vec<tokio::sync::MutexGuard<'_, ()>> {
        let stripes: std::collections::BTreeSet<usize> =
            series.iter().map(|key| self.refresh_stripe(key)).collect();
        let mut turns = Vec::with_capacity(stripes.len());
        for stripe in stripes {
            turns.push(self.refresh_locks[stripe].lock().await);
        }
        turns
    }

    /// Checks that the backend answers.
    pub async fn ping(&self) -> Result<()> {
        self.repository.ping().await
    }

    /// Returns base points within `range`.
    pub async fn points(
        &self,
        series: &SeriesKey,
        range: TimeRange,
        page: Page,
    ) -> Result<Vec<Point>> {
        self.repository.get_points(series, range, page).await
    }
}
