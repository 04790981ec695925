//! Summary bins of recent points, settled by a background pass instead of at every write.
//!
//! Keeping a bin equal to the fold of its points at every write costs reads: the bin's source
//! before the upsert, and again after it, so that writers on different nodes converge (see
//! [`crate::summaries`]). Nearly every point reaches the archive within seconds of its
//! measurement, so for such points a write stores the points and notes the series in a queue, by
//! the hour in which each of its touched bins closes; nothing is read. Once an hour has been over
//! for the settling delay plus [`CLOCK_MARGIN`], a pass ([`SeriesStore::settle_due`], run by every
//! API node) refreshes the queued series' bins that close in that hour, with the same converging
//! refresh as a write, and moves the settled time past the hour. It settles a record's series
//! together: their windows of an hour or less are folded from one read of their points (in
//! Cassandra a record's numbers share a partition), confirmed by one more read.
//!
//! Reads are exact at every moment: a bin that ends at or before the settled time is read as
//! stored, a later one is folded at read time from its source (settled bins of a smaller window,
//! then base points), so a client sees its points in the summaries as soon as its write is
//! acknowledged.
//!
//! A point older than the delay when its write completes is late: its hour may be settled
//! already, or being settled, so its write refreshes the bins itself, as every write did before.
//! Because that test is made after the point is stored, the one assumption is that the API
//! nodes' clocks agree within [`CLOCK_MARGIN`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use esmond_model::BinState;
use esmond_model::summary::{bin_start, fold_source};
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt, stream};

use crate::recent::{RecentSet, SeriesAt};
use crate::summaries::{converge, fold_bins, fold_points};
use crate::{Bin, Page, Result, SeriesKey, SeriesStore, TimeRange};

/// The queue's unit: series are queued by the hour in which their bins close.
pub(crate) const SLOT: i64 = 3600;

/// How far apart the API nodes' clocks may be, in seconds: the pass waits this much longer than
/// the delay before it settles an hour.
pub(crate) const CLOCK_MARGIN: i64 = 300;

/// Records settled side by side within one hour.
const RECORDS_IN_FLIGHT: usize = 16;

/// How long a node reuses the settled time it read; an older value only makes reads fold more.
const SETTLED_REUSE: Duration = Duration::from_secs(1);

/// Queue entries a node remembers having written, to skip rewriting them.
const QUEUED_CAPACITY: usize = 200_000;

/// The settling state of one node.
#[derive(Debug)]
pub(crate) struct Settling {
    /// Seconds after which a point is late.
    delay: i64,
    /// Queue entries (series, slot) this node wrote recently.
    queued: RecentSet<(SeriesKey, i64)>,
    /// The settled time last read, and when.
    settled: Mutex<Option<(Instant, i64)>>,
}

impl Settling {
    pub(crate) fn new(delay: Duration) -> Settling {
        Settling {
            delay: i64::try_from(delay.as_secs()).unwrap_or(i64::MAX),
            queued: RecentSet::new(QUEUED_CAPACITY, Duration::from_secs(2 * SLOT as u64), false),
            settled: Mutex::new(None),
        }
    }

    /// Returns whether a point at `ts` is late at `now`.
    pub(crate) fn is_late(&self, ts: i64, now: i64) -> bool {
        ts <= now.saturating_sub(self.delay)
    }
}

/// Returns the hour slot holding `ts`.
fn slot_of(ts: i64) -> i64 {
    ts.div_euclid(SLOT)
}

/// Returns the slots in which the bins holding the points `touched` close, for each window.
fn closing_slots(touched: &BTreeSet<i64>, windows: &[i64]) -> BTreeSet<i64> {
    touched
        .iter()
        .flat_map(|&ts| {
            windows
                .iter()
                .map(move |&window| slot_of(bin_start(ts, window) + window - 1))
        })
        .collect()
}

/// Returns the starts of the bins of `window` that close within `slot`.
fn closing_in(slot: i64, window: i64) -> BTreeSet<i64> {
    let (begin, end) = (slot * SLOT, (slot + 1) * SLOT);
    let mut starts = BTreeSet::new();
    let mut start = bin_start(end - window, window);
    while start + window > begin {
        starts.insert(start);
        start -= window;
    }
    starts
}

/// A bin of a record's series: its position among the record's queued series, window, start.
type HourlyBin = (usize, i64, i64);

/// The bins of windows of an hour or less that close within one slot, for each of a record's
/// queued series, and the points they fold.
struct HourlyBins {
    /// The bins.
    bins: BTreeSet<HourlyBin>,
    /// The series that have such bins.
    event_types: Vec<String>,
    /// The time range of those bins' points.
    range: TimeRange,
}

/// Returns the windows of an hour or less among `windows`, ascending: those the pass folds
/// together from the points.
fn hourly_windows(windows: &[i64]) -> BTreeSet<i64> {
    windows
        .iter()
        .copied()
        .filter(|window| (1..=SLOT).contains(window))
        .collect()
}

impl HourlyBins {
    fn new(series: &[(SeriesKey, Vec<i64>)], slot: i64) -> HourlyBins {
        let mut bins = BTreeSet::new();
        let mut event_types = Vec::new();
        let (mut begin, mut end) = (i64::MAX, i64::MIN);
        for (index, (key, windows)) in series.iter().enumerate() {
            let before = bins.len();
            for window in hourly_windows(windows) {
                for start in closing_in(slot, window) {
                    begin = begin.min(start);
                    end = end.max(start + window - 1);
                    bins.insert((index, window, start));
                }
            }
            if bins.len() > before {
                event_types.push(key.event_type.clone());
            }
        }
        HourlyBins {
            bins,
            event_types,
            range: TimeRange { begin, end },
        }
    }
}

/// Returns the states of `wanted` that hold data, each window folded from the points or
/// from the states of the smaller window it folds, as a refresh folds them.
fn fold_hourly(
    series: &[(SeriesKey, Vec<i64>)],
    points: &BTreeMap<String, Vec<crate::Point>>,
    wanted: &BTreeSet<HourlyBin>,
) -> BTreeMap<HourlyBin, BinState> {
    let mut states = BTreeMap::new();
    for (index, (key, windows)) in series.iter().enumerate() {
        let Some(points) = points.get(&key.event_type) else {
            continue;
        };
        let mut by_window: BTreeMap<i64, BTreeMap<i64, BinState>> = BTreeMap::new();
        for window in hourly_windows(windows) {
            let mut folded = BTreeMap::new();
            match fold_source(window, windows).and_then(|smaller| by_window.get(&smaller)) {
                Some(smaller) => fold_bins(
                    &mut folded,
                    window,
                    smaller.iter().map(|(start, state)| (*start, state)),
                ),
                None => fold_points(&mut folded, window, points),
            }
            by_window.insert(window, folded);
        }
        for (window, folded) in by_window {
            for (start, state) in folded {
                let key = (index, window, start);
                if state.count > 0 && wanted.contains(&key) {
                    states.insert(key, state);
                }
            }
        }
    }
    states
}

impl SeriesStore {
    /// Queues `series` for the hours in which the bins of its points that are not late yet
    /// close; entries this node wrote recently are skipped.
    pub(crate) async fn queue_recent(
        &self,
        settling: &Settling,
        series: &SeriesKey,
        windows: &[i64],
        touched: &BTreeSet<i64>,
    ) -> Result<()> {
        let now = crate::now();
        let recent: BTreeSet<i64> = touched
            .iter()
            .copied()
            .filter(|&ts| !settling.is_late(ts, now))
            .collect();
        let slots: Vec<i64> = closing_slots(&recent, windows)
            .into_iter()
            .filter(|&slot| !settling.queued.contains(&SeriesAt(series, slot)))
            .collect();
        if slots.is_empty() {
            return Ok(());
        }
        self.repository
            .queue_settling(series, windows, &slots)
            .await?;
        for slot in slots {
            settling.queued.insert((series.clone(), slot));
        }
        Ok(())
    }

    /// Settles every hour that is due at `now`, in order, and returns how many it settled.
    ///
    /// The first call on a store with no settled time sets it to the hour that is due, which
    /// is right for an empty store and for one whose bins were all kept at write time.
    pub async fn settle_due(&self, now: i64) -> Result<u64> {
        let Some(settling) = &self.settling else {
            return Ok(0);
        };
        let due = now
            .saturating_sub(settling.delay)
            .saturating_sub(CLOCK_MARGIN);
        let mut through = match self.repository.settled_through().await? {
            Some(through) => through,
            None => {
                let through = slot_of(due) * SLOT;
                self.repository.advance_settled(through).await?;
                through
            }
        };
        let mut settled = 0;
        while through + SLOT <= due {
            let slot = slot_of(through);
            let queued = self.repository.queued_for_settling(slot).await?;
            let count = queued.len();
            let mut records: BTreeMap<String, Vec<(SeriesKey, Vec<i64>)>> = BTreeMap::new();
            for (series, windows) in queued {
                records
                    .entry(series.metadata_key.clone())
                    .or_default()
                    .push((series, windows));
            }
            stream::iter(records.into_values())
                .map(|series| self.settle_record(series, slot))
                .buffer_unordered(RECORDS_IN_FLIGHT)
                .try_collect::<Vec<()>>()
                .await?;
            through = (slot + 1) * SLOT;
            self.repository.advance_settled(through).await?;
            tracing::debug!(slot_start = slot * SLOT, series = count, "settled an hour");
            settled += 1;
        }
        Ok(settled)
    }

    /// Refreshes the bins of a record's queued `series` that close within `slot`. The windows of
    /// an hour or less are folded together, from one read of the series' points (whose numbers
    /// may share a partition); the longer ones then, smallest first, each from the bins of the
    /// window it folds.
    async fn settle_record(&self, series: Vec<(SeriesKey, Vec<i64>)>, slot: i64) -> Result<()> {
        let keys: Vec<SeriesKey> = series.iter().map(|(key, _)| key.clone()).collect();
        let _turns = self.refresh_turns(&keys).await;
        let hourly = HourlyBins::new(&series, slot);
        if let Some(metadata_key) = keys.first().map(|key| key.metadata_key.as_str())
            && !hourly.bins.is_empty()
        {
            let (hourly, series) = (&hourly, &series);
            converge(
                hourly.bins.clone(),
                |bins| {
                    Box::pin(async move {
                        let points = self
                            .repository
                            .get_record_points(metadata_key, &hourly.event_types, hourly.range)
                            .await?;
                        Ok(fold_hourly(series, &points, &bins))
                    })
                },
                |pending| {
                    Box::pin(async move {
                        let mut by_series: BTreeMap<(usize, i64), Vec<Bin>> = BTreeMap::new();
                        for ((index, window, start), state) in pending {
                            by_series
                                .entry((index, window))
                                .or_default()
                                .push(Bin { start, state });
                        }
                        let puts = by_series.iter().map(|((index, window), bins)| {
                            self.repository.put_bins(&series[*index].0, *window, bins)
                        });
                        futures::future::try_join_all(puts).await.map(|_| ())
                    })
                },
            )
            .await?;
        }
        for (key, windows) in &series {
            let longer: BTreeSet<i64> = windows.iter().copied().filter(|w| *w > SLOT).collect();
            for window in longer {
                self.refresh(key, window, windows, closing_in(slot, window))
                    .await?;
            }
        }
        Ok(())
    }

    /// Returns the settled time, from a recent read when there is one; before the first pass,
    /// nothing is settled.
    async fn settled(&self, settling: &Settling) -> Result<i64> {
        if let Ok(last) = settling.settled.lock()
            && let Some((read, through)) = *last
            && read.elapsed() < SETTLED_REUSE
        {
            return Ok(through);
        }
        let through = self.repository.settled_through().await?.unwrap_or(i64::MIN);
        if let Ok(mut last) = settling.settled.lock() {
            *last = Some((Instant::now(), through));
        }
        Ok(through)
    }

    /// Returns the bin states of `window` whose start lies within `range`, for a series keeping
    /// `windows`: stored ones where settled, folded from their source after that.
    pub async fn bins(
        &self,
        series: &SeriesKey,
        window: i64,
        windows: &[i64],
        range: TimeRange,
        page: Page,
    ) -> Result<Vec<Bin>> {
        let Some(settling) = &self.settling else {
            return self.repository.get_bins(series, window, range, page).await;
        };
        let settled = self.settled(settling).await?;
        // The last bin start whose bin ends by the settled time.
        let last_settled = settled.saturating_sub(window);
        if range.end <= last_settled {
            return self.repository.get_bins(series, window, range, page).await;
        }
        // Stored bins first, as many as the page can use, then the folded ones.
        let wanted = page.limit.map(|limit| limit.saturating_add(page.offset));
        let mut bins = if range.begin <= last_settled {
            let stored = TimeRange {
                begin: range.begin,
                end: last_settled,
            };
            let first = Page {
                offset: 0,
                limit: wanted,
            };
            self.repository
                .get_bins(series, window, stored, first)
                .await?
        } else {
            Vec::new()
        };
        if wanted.is_none_or(|wanted| (bins.len() as u64) < wanted) {
            let live = TimeRange {
                begin: range.begin.max(last_settled.saturating_add(1)),
                end: range.end,
            };
            bins.extend(self.fold_live(series, window, windows, live).await?);
        }
        let skip = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let take = page.limit.map_or(usize::MAX, |limit| {
            usize::try_from(limit).unwrap_or(usize::MAX)
        });
        Ok(bins.into_iter().skip(skip).take(take).collect())
    }

    /// Folds the bins of `window` starting within `range` from their source, at read time.
    fn fold_live<'a>(
        &'a self,
        series: &'a SeriesKey,
        window: i64,
        windows: &'a [i64],
        range: TimeRange,
    ) -> BoxFuture<'a, Result<Vec<Bin>>> {
        Box::pin(async move {
            let first = bin_start(range.begin.saturating_add(window - 1), window);
            let last = bin_start(range.end, window);
            if first > last {
                return Ok(Vec::new());
            }
            let source = TimeRange {
                begin: first,
                end: last + window - 1,
            };
            let mut states: std::collections::BTreeMap<i64, BinState> = Default::default();
            match fold_source(window, windows) {
                Some(smaller) => {
                    let parts = self
                        .bins(series, smaller, windows, source, Page::default())
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
                        .get_points(series, source, Page::default())
                        .await?;
                    fold_points(&mut states, window, &points);
                }
            }
            Ok(states
                .into_iter()
                .filter(|(_, state)| state.count > 0)
                .map(|(start, state)| Bin { start, state })
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_is_folded_for_each_series_and_window() {
        let slot = 500_000;
        let key = |event_type: &str| SeriesKey {
            metadata_key: "r".to_owned(),
            event_type: event_type.to_owned(),
        };
        let series = vec![(key("a"), vec![300, 3600, 86_400]), (key("b"), vec![600])];
        let hourly = HourlyBins::new(&series, slot);
        // 12 + 1 bins of a, 6 of b; a's daily bin is left to the longer windows.
        assert_eq!(hourly.bins.len(), 19);
        assert_eq!(hourly.event_types, ["a", "b"]);
        let begin = slot * SLOT;
        assert_eq!(
            (hourly.range.begin, hourly.range.end),
            (begin, begin + 3599)
        );
        let points = |value: i64| -> Vec<crate::Point> {
            (0..60)
                .map(|minute| crate::Point {
                    ts: begin + 60 * minute,
                    value: esmond_model::Value::Integer(value),
                })
                .collect()
        };
        let read = BTreeMap::from([("a".to_owned(), points(1)), ("b".to_owned(), points(10))]);
        let states = fold_hourly(&series, &read, &hourly.bins);
        assert_eq!(states.len(), 19);
        let sum = |key: HourlyBin| (states[&key].count, states[&key].int_sum);
        assert_eq!(sum((0, 300, begin + 300)), (5, 5));
        assert_eq!(sum((0, 3600, begin)), (60, 60));
        assert_eq!(sum((1, 600, begin + 600)), (10, 100));
        // Only the bins asked for.
        let one = BTreeSet::from([(1, 600, begin)]);
        assert_eq!(fold_hourly(&series, &read, &one).len(), 1);
    }

    #[test]
    fn bins_close_in_the_hour_of_their_last_second() {
        let day = 86_400 * 20_000;
        let touched: BTreeSet<i64> = [day + 3600 + 59].into_iter().collect();
        let slots = closing_slots(&touched, &[300, 3600, 86_400]);
        let hour = slot_of(day + 3600);
        assert_eq!(
            slots,
            [hour, slot_of(day + 86_400 - 1)].into_iter().collect()
        );
    }

    #[test]
    fn each_bin_closes_in_exactly_one_hour() {
        for window in [300, 600, 3600, 7200, 86_400, 420] {
            let mut seen = BTreeSet::new();
            for slot in 1000..1000 + 48 {
                for start in closing_in(slot, window) {
                    assert_eq!(slot_of(start + window - 1), slot, "window {window}");
                    assert!(seen.insert(start), "window {window} start {start} twice");
                }
            }
            let all: BTreeSet<i64> = (1000 * SLOT..1048 * SLOT)
                .step_by(60)
                .map(|ts| bin_start(ts, window))
                .filter(|start| slot_of(start + window - 1) < 1048 && *start + window > 1000 * SLOT)
                .collect();
            assert_eq!(seen, all, "window {window}");
        }
    }
}
