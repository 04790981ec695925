//! Writing points and keeping summary bins equal to the fold of their points, whatever the
//! backend and however many writers (esmond-storage.md §6.3).
//!
//! After storing its points, a writer recomputes every bin they touched from the bin's source
//! (base points, or the bins of a smaller window that divides it), upserts the result, and reads
//! the source again. If the source changed meanwhile (another writer), it recomputes and writes
//! again. The last upsert of a bin is therefore always followed by a check that found it current,
//! so concurrent writers converge on the fold of all points, with no counters and no locks
//! shared between nodes. Within one node, refreshes of a series take turns (striped locks), so the
//! re-reads only ever race with other nodes and settle in a round or two.

use std::collections::{BTreeMap, BTreeSet};

use esmond_model::summary::{bin_start, fold_source};
use esmond_model::{BinState, DataType};
use futures::future::BoxFuture;

use crate::buckets::{POINT_SPAN, bucket_bounds, is_numeric};
use crate::known::{self, KnownPoints, Lookup, day_of};
use crate::{Bin, Error, Page, Point, Result, SeriesKey, SeriesStore, TimeRange};

/// Number of locks that refreshes of different series share.
pub(crate) const REFRESH_STRIPES: usize = 64;

/// Recomputations of one bin before giving up under pathological contention (with the backoff
/// below, about two seconds of other nodes rewriting the same bins without pause).
const MAX_REFRESHES: u32 = 64;

/// Bins further apart than this many windows are read with separate range reads.
const RUN_GAP: i64 = 4;

/// What a write stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Time stamps not written because a point was already there (numeric types only, where
    /// esmond answers 409), ascending.
    pub duplicates: Vec<i64>,
}

/// One series' share of a write.
#[derive(Debug, Clone)]
pub struct SeriesWrite {
    /// The series.
    pub series: SeriesKey,
    /// Its data type.
    pub data_type: DataType,
    /// The summary windows kept for it.
    pub windows: Vec<i64>,
    /// The points posted.
    pub points: Vec<Point>,
}

/// One series' share of a write, ready to store.
#[derive(Debug)]
struct Staged {
    series: SeriesKey,
    windows: Vec<i64>,
    /// The points to store, one per second.
    fresh: Vec<Point>,
    /// Every second posted, duplicates included: their bins are refreshed.
    touched: BTreeSet<i64>,
    outcome: WriteOutcome,
}

impl Staged {
    /// Applies the duplicate rules to `write`, given the seconds already occupied.
    fn new(write: SeriesWrite, occupied: &BTreeSet<i64>) -> Staged {
        let SeriesWrite {
            series,
            data_type,
            windows,
            points,
        } = write;
        let touched: BTreeSet<i64> = points.iter().map(|point| point.ts).collect();
        let mut outcome = WriteOutcome::default();
        let mut unique: BTreeMap<i64, Point> = BTreeMap::new();
        if is_numeric(data_type) {
            let mut duplicates = BTreeSet::new();
            for point in points {
                if occupied.contains(&point.ts) || unique.contains_key(&point.ts) {
                    duplicates.insert(point.ts);
                } else {
                    unique.insert(point.ts, point);
                }
            }
            outcome.duplicates = duplicates.into_iter().collect();
        } else {
            unique.extend(points.into_iter().map(|point| (point.ts, point)));
        }
        Staged {
            series,
            windows,
            fresh: unique.into_values().collect(),
            touched,
            outcome,
        }
    }
}

impl SeriesStore {
    /// Stores `points` of one series; see [`SeriesStore::write_all`].
    pub async fn write(
        &self,
        series: &SeriesKey,
        data_type: DataType,
        windows: &[i64],
        points: Vec<Point>,
    ) -> Result<WriteOutcome> {
        let write = SeriesWrite {
            series: series.clone(),
            data_type,
            windows: windows.to_vec(),
            points,
        };
        let mut outcomes = self.write_all(vec![write]).await?;
        Ok(outcomes.pop().unwrap_or_default())
    }

    /// Stores the points of several series, side by side, and brings the bins of every kept
    /// window up to date: at once for late points, through the settling pass for recent ones
    /// when settling is on (reads fold those meanwhile, see [`crate::settling`]). Returns one
    /// outcome per write, in order.
    ///
    /// For numeric data a point at an occupied second is skipped and reported as a duplicate,
    /// the first of several in one request wins; other data replaces the stored point, the last
    /// of several wins. The occupied seconds of all numeric series of a record are found with
    /// one read, and their points stored with one call (in Cassandra, one batch per day). Bins
    /// are refreshed for every point given, duplicates included, so that a
    /// retried request also repairs summaries its first attempt could not finish.
    pub async fn write_all(&self, writes: Vec<SeriesWrite>) -> Result<Vec<WriteOutcome>> {
        // Only numbers wait for the duplicate check; the other series are stored meanwhile.
        let count = writes.len();
        let (numbers, others): (Vec<_>, Vec<_>) = writes
            .into_iter()
            .enumerate()
            .partition(|(_, write)| is_numeric(write.data_type));
        let checked = async {
            let mut occupied = self
                .occupied(numbers.iter().map(|(_, write)| write))
                .await?;
            let staged = numbers.into_iter().map(|(index, write)| {
                let taken = occupied.remove(&write.series).unwrap_or_default();
                (index, Staged::new(write, &taken))
            });
            self.store(staged.collect()).await
        };
        let unchecked = async {
            let staged = others
                .into_iter()
                .map(|(index, write)| (index, Staged::new(write, &BTreeSet::new())));
            self.store(staged.collect()).await
        };
        let (checked, unchecked) = futures::try_join!(checked, unchecked)?;
        let mut outcomes = vec![WriteOutcome::default(); count];
        for (index, outcome) in checked.into_iter().chain(unchecked) {
            outcomes[index] = outcome;
        }
        Ok(outcomes)
    }

    /// Returns the occupied seconds of each of the numeric series `writes`, with one read per
    /// record.
    async fn occupied<'a>(
        &self,
        writes: impl Iterator<Item = &'a SeriesWrite>,
    ) -> Result<BTreeMap<SeriesKey, BTreeSet<i64>>> {
        let mut by_record: BTreeMap<&str, (Vec<String>, BTreeSet<i64>)> = BTreeMap::new();
        for write in writes {
            if write.points.is_empty() {
                continue;
            }
            let entry = by_record
                .entry(write.series.metadata_key.as_str())
                .or_default();
            entry.0.push(write.series.event_type.clone());
            entry.1.extend(write.points.iter().map(|point| point.ts));
        }
        let mut occupied: BTreeMap<SeriesKey, BTreeSet<i64>> = BTreeMap::new();
        for (metadata_key, (event_types, timestamps)) in by_record {
            let timestamps: Vec<i64> = timestamps.into_iter().collect();
            let found = match self.known.as_deref() {
                Some(known) => {
                    self.existing_known(known, metadata_key, &event_types, &timestamps)
                        .await?
                }
                None => {
                    self.repository
                        .existing_points(metadata_key, &event_types, &timestamps)
                        .await?
                }
            };
            for (event_type, ts) in found {
                let series = SeriesKey {
                    metadata_key: metadata_key.to_owned(),
                    event_type,
                };
                occupied.entry(series).or_default().insert(ts);
            }
        }
        Ok(occupied)
    }

    /// Returns which of `timestamps` hold points of the numeric series `event_types` of a
    /// record, from what this node knows where it can, reading the rest.
    async fn existing_known(
        &self,
        known: &KnownPoints,
        metadata_key: &str,
        event_types: &[String],
        timestamps: &[i64],
    ) -> Result<Vec<(String, i64)>> {
        let Some(asked) = known::bits(event_types) else {
            return self
                .repository
                .existing_points(metadata_key, event_types, timestamps)
                .await;
        };
        let mut days: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for &ts in timestamps {
            days.entry(day_of(ts)).or_default().push(ts);
        }
        let mut found = Vec::new();
        let mut unknown = Vec::new();
        for (day, stamps) in days {
            let mut lookup = known.lookup(metadata_key, day, asked, &stamps);
            if lookup == Lookup::Unknown {
                // One read of the day's newest points; this node's own writes keep it current.
                let (begin, end) = bucket_bounds(day, POINT_SPAN);
                let range = TimeRange { begin, end };
                let newest = self
                    .repository
                    .newest_points(metadata_key, event_types, range, known::LEARN_ROWS)
                    .await?;
                known.learn(metadata_key, day, asked, &newest);
                lookup = known.lookup(metadata_key, day, asked, &stamps);
            }
            match lookup {
                Lookup::Known(taken) => {
                    for (ts, series) in taken {
                        found.extend(
                            event_types
                                .iter()
                                .filter(|event_type| {
                                    known::bit(event_type).is_some_and(|bit| series & bit != 0)
                                })
                                .map(|event_type| (event_type.clone(), ts)),
                        );
                    }
                }
                Lookup::TooOld | Lookup::Unknown => unknown.extend(stamps),
            }
        }
        if !unknown.is_empty() {
            let read = self
                .repository
                .existing_points(metadata_key, event_types, &unknown)
                .await?;
            found.extend(read);
        }
        Ok(found)
    }

    /// Stores staged series writes, their points with one call, and their summaries; returns
    /// each write's outcome with its index.
    async fn store(&self, staged: Vec<(usize, Staged)>) -> Result<Vec<(usize, WriteOutcome)>> {
        // (The duplicate check before is not atomic with the write, on one node as across
        // nodes, as in esmond.)
        if let Some(settling) = self.settling.as_deref() {
            // Queued before the points are stored: a point is never in the store unnoticed by
            // the settling pass.
            let queued = staged
                .iter()
                .filter(|(_, write)| !write.windows.is_empty())
                .map(|(_, write)| {
                    self.queue_recent(settling, &write.series, &write.windows, &write.touched)
                });
            futures::future::try_join_all(queued).await?;
        }
        let points: Vec<(&SeriesKey, &[Point])> = staged
            .iter()
            .filter(|(_, write)| !write.fresh.is_empty())
            .map(|(_, write)| (&write.series, write.fresh.as_slice()))
            .collect();
        if !points.is_empty() {
            self.repository.put_points(&points).await?;
            if let Some(known) = self.known.as_deref() {
                for (series, stored) in &points {
                    // Only numbers are checked; other series have no bit to note.
                    let Some(bit) = known::bit(&series.event_type) else {
                        continue;
                    };
                    for point in stored.iter() {
                        known.stored(&series.metadata_key, point.ts, bit);
                    }
                }
            }
        }
        let refreshed = staged.iter().map(|(_, write)| self.refresh_late(write));
        futures::future::try_join_all(refreshed).await?;
        Ok(staged
            .into_iter()
            .map(|(index, write)| (index, write.outcome))
            .collect())
    }

    /// Refreshes the bins of a stored write's points that are late now: their hours may be
    /// settled already. The others are folded at read time until the pass settles them.
    async fn refresh_late(&self, write: &Staged) -> Result<()> {
        let now = crate::now();
        let late: BTreeSet<i64> = match self.settling.as_deref() {
            Some(settling) => write
                .touched
                .iter()
                .copied()
                .filter(|&ts| settling.is_late(ts, now))
                .collect(),
            None => write.touched.clone(),
        };
        if late.is_empty() || write.windows.is_empty() {
            return Ok(());
        }
        // Refreshes of one series on this node take turns: other nodes are then the only source
        // of change a refresh has to chase. Storing points needs no turn: every writer
        // refreshes after its own points are stored.
        let _turn = self.refresh_lock(&write.series).lock().await;
        for &window in &write.windows {
            let bins: BTreeSet<i64> = late.iter().map(|ts| bin_start(*ts, window)).collect();
            self.refresh(&write.series, window, &write.windows, bins)
                .await?;
        }
        Ok(())
    }

    /// Recomputes and stores `bins` of `window` until a re-read of their source confirms them.
    pub(crate) async fn refresh(
        &self,
        series: &SeriesKey,
        window: i64,
        windows: &[i64],
        bins: BTreeSet<i64>,
    ) -> Result<()> {
        converge(
            bins,
            |bins| Box::pin(async move { self.compute(series, window, windows, &bins).await }),
            |pending| {
                Box::pin(async move {
                    let stored: Vec<Bin> = pending
                        .into_iter()
                        .map(|(start, state)| Bin { start, state })
                        .collect();
                    self.repository.put_bins(series, window, &stored).await
                })
            },
        )
        .await
    }

    /// Returns the fold of each of `bins` of `window`, from its source; empty bins are left out.
    async fn compute(
        &self,
        series: &SeriesKey,
        window: i64,
        windows: &[i64],
        bins: &BTreeSet<i64>,
    ) -> Result<BTreeMap<i64, BinState>> {
        let source = fold_source(window, windows);
        let mut states: BTreeMap<i64, BinState> = BTreeMap::new();
        for run in runs(bins, window) {
            let range = TimeRange {
                begin: run.0,
                end: run.1 + window - 1,
            };
            match source {
                Some(smaller) => {
                    let parts = self
                        .repository
                        .get_bins(series, smaller, range, Page::default())
                        .await?;
                    fold_bins(
                        &mut states,
                        window,
                        parts.iter().map(|part| (part.start, &part.state)),
                    );
                }
                None => {
                    let points = self
                        .repository
                        .get_points(series, range, Page::default())
                        .await?;
                    fold_points(&mut states, window, &points);
                }
            }
        }
        states.retain(|start, state| bins.contains(start) && state.count > 0);
        Ok(states)
    }
}

/// Stores the states `compute` returns for `keys` with `put`, then computes them again from a
/// fresh read of their source, and stores again those that changed meanwhile, until a
/// recomputation confirms every stored state (the refresh of the module docs). `compute` returns
/// the states of the keys asked for that hold data.
pub(crate) async fn converge<'a, K: Ord + Clone>(
    keys: BTreeSet<K>,
    compute: impl Fn(BTreeSet<K>) -> BoxFuture<'a, Result<BTreeMap<K, BinState>>>,
    put: impl Fn(BTreeMap<K, BinState>) -> BoxFuture<'a, Result<()>>,
) -> Result<()> {
    let mut pending = compute(keys).await?;
    for round in 0..MAX_REFRESHES {
        if round > 0 {
            // Another node is writing the same bins: let it finish before looking again.
            tokio::time::sleep(backoff(round)).await;
        }
        put(pending.clone()).await?;
        let stored: BTreeSet<K> = pending.keys().cloned().collect();
        let check = compute(stored).await?;
        pending = check
            .into_iter()
            .filter(|(key, state)| pending.get(key) != Some(state))
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        tracing::debug!(
            bins = pending.len(),
            "summary bins changed under a concurrent write, refreshing"
        );
    }
    Err(Error::Contention)
}

/// Adds the state of each of `parts` (bins of a smaller window) to the `window` bin holding it.
pub(crate) fn fold_bins<'a>(
    states: &mut BTreeMap<i64, BinState>,
    window: i64,
    parts: impl IntoIterator<Item = (i64, &'a BinState)>,
) {
    for (start, state) in parts {
        states
            .entry(bin_start(start, window))
            .or_default()
            .merge(state);
    }
}

/// Adds each of `points` to the `window` bin holding it.
pub(crate) fn fold_points(states: &mut BTreeMap<i64, BinState>, window: i64, points: &[Point]) {
    for point in points {
        states
            .entry(bin_start(point.ts, window))
            .or_default()
            .add(&point.value);
    }
}

/// Returns a jittered pause between refresh rounds, doubling from 0.25 ms up to 32 ms, so that
/// nodes chasing each other's writes fall out of step.
fn backoff(round: u32) -> std::time::Duration {
    let base = 250u64 << round.min(7);
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| u64::from(elapsed.subsec_nanos()) % base)
        .unwrap_or_default();
    std::time::Duration::from_micros(base + jitter)
}

/// Splits sorted bin starts into runs of nearby bins, each read with one range read.
fn runs(bins: &BTreeSet<i64>, window: i64) -> Vec<(i64, i64)> {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &start in bins {
        match runs.last_mut() {
            Some(run) if start - run.1 <= RUN_GAP * window => run.1 = start,
            _ => runs.push((start, start)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearby_bins_share_a_read() {
        let bins: BTreeSet<i64> = [0, 300, 600, 6000, 6300].into_iter().collect();
        assert_eq!(runs(&bins, 300), vec![(0, 600), (6000, 6300)]);
        assert!(runs(&BTreeSet::new(), 300).is_empty());
    }
}
