//! Scenarios both backends must pass:
//! - many "nodes" (store handles that do not share their in-process locks) write interleaved
//!   points into the same bins at once, and every bin must end up equal to the fold of all points;
//! - recent points' bins are folded at read time, then stored by the settling pass, and a late
//!   point updates settled bins at once;
//! - late points that land on another node while the pass settles their hour, between its read
//!   and its (held back) write, still end up in the settled bins;
//! - concurrent duplicate checks of records that share seconds each find their own points;
//! - duplicate checks answered from a node's knowledge give the answers of reads.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use esmond_model::summary::state_windows;
use esmond_model::{DataType, Value};
use esmond_storage::{
    Bin, NewestPoints, Page, Point, Result, SeriesKey, SeriesStore, SeriesWrite, TimeRange,
    TimeSeriesRepository, WriteOutcome,
};

const NODES: i64 = 16;
const POINTS: i64 = 40;

/// Runs the scenario against `backend` with these kept windows.
pub(crate) async fn nodes_writing_one_bin_converge(
    backend: Arc<dyn TimeSeriesRepository>,
    windows: Vec<i64>,
) {
    let series = SeriesKey {
        metadata_key: "k".repeat(32),
        event_type: "throughput".to_owned(),
    };
    let mut tasks = Vec::new();
    for node in 0..NODES {
        // Each node has its own handle, hence its own locks: only the re-read loop protects them.
        let store = SeriesStore::new(backend.clone());
        let (series, windows) = (series.clone(), windows.clone());
        tasks.push(tokio::spawn(async move {
            for index in 0..POINTS {
                let ts = 1_000_000 + (index * NODES + node) * 3;
                let point = Point {
                    ts,
                    value: Value::Integer(node * 1000 + index),
                };
                store
                    .write(&series, DataType::Integer, &windows, vec![point])
                    .await
                    .expect("write succeeds");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let store = SeriesStore::new(backend);
    let everything = TimeRange {
        begin: 0,
        end: 4_000_000,
    };
    for &window in &windows {
        let mut expected: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for node in 0..NODES {
            for index in 0..POINTS {
                let ts = 1_000_000 + (index * NODES + node) * 3;
                let entry = expected.entry(ts - ts % window).or_default();
                entry.0 += node * 1000 + index;
                entry.1 += 1;
            }
        }
        let bins = store
            .bins(&series, window, &windows, everything, Page::default())
            .await
            .unwrap();
        let shown: BTreeMap<i64, (i64, i64)> = bins
            .iter()
            .map(|bin| (bin.start, (bin.state.int_sum, bin.state.count)))
            .collect();
        assert_eq!(shown, expected, "window {window}");
    }
}

/// The fold of `points` by bin of `window`: (start, (sum, count)).
fn folded(points: &[(i64, i64)], window: i64) -> BTreeMap<i64, (i64, i64)> {
    let mut bins: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for &(ts, value) in points {
        let entry = bins.entry(ts - ts.rem_euclid(window)).or_default();
        entry.0 += value;
        entry.1 += 1;
    }
    bins
}

fn shown(bins: &[esmond_storage::Bin]) -> BTreeMap<i64, (i64, i64)> {
    bins.iter()
        .map(|bin| (bin.start, (bin.state.int_sum, bin.state.count)))
        .collect()
}

/// Runs the settling scenario against `backend`, which must hold no other settling state. Two
/// numeric series of one record take points at the same seconds (in Cassandra they share a
/// partition), so the pass must tell them apart.
pub(crate) async fn recent_points_settle(backend: Arc<dyn TimeSeriesRepository>) {
    let windows = state_windows([300]);
    let record = "s".repeat(32);
    let series = ["packet-count-sent", "packet-count-lost"].map(|event_type| SeriesKey {
        metadata_key: record.clone(),
        event_type: event_type.to_owned(),
    });
    let delay = Duration::from_secs(900);
    let nodes = [
        SeriesStore::new(backend.clone()).with_settling(delay),
        SeriesStore::new(backend.clone()).with_settling(delay),
    ];
    let now = esmond_storage::now();
    // The first pass sets the settled time, before the hour of the points below.
    nodes[0].settle_due(now).await.unwrap();

    // The last ten minutes, one point a minute in each series, alternating between the nodes.
    let mut points: [Vec<(i64, i64)>; 2] = [
        (0..10).map(|i| (now - 600 + 60 * i, 100 + i)).collect(),
        (0..10).map(|i| (now - 600 + 60 * i, i % 3)).collect(),
    ];
    for (key, points) in series.iter().zip(&points) {
        for (index, &(ts, value)) in points.iter().enumerate() {
            let point = Point {
                ts,
                value: Value::Integer(value),
            };
            nodes[index % 2]
                .write(key, DataType::Integer, &windows, vec![point])
                .await
                .unwrap();
        }
    }
    let everything = TimeRange {
        begin: now - 3 * 86_400,
        end: now + 3 * 86_400,
    };
    let stored = |key: &SeriesKey, window| {
        let (backend, key) = (backend.clone(), key.clone());
        async move {
            shown(
                &backend
                    .get_bins(&key, window, everything, Page::default())
                    .await
                    .unwrap(),
            )
        }
    };
    let read = |key: &SeriesKey, window| {
        let (node, key, windows) = (&nodes[1], key.clone(), &windows);
        async move {
            shown(
                &node
                    .bins(&key, window, windows, everything, Page::default())
                    .await
                    .unwrap(),
            )
        }
    };
    // Every window of each series is stored settled, and read the same, as the fold of its
    // points.
    let stored_and_read = |points: &[Vec<(i64, i64)>; 2]| {
        let (series, windows, stored, read) = (&series, &windows, &stored, &read);
        let points = points.clone();
        async move {
            for (key, points) in series.iter().zip(&points) {
                for &window in windows {
                    let expected = folded(points, window);
                    let name = &key.event_type;
                    assert_eq!(stored(key, window).await, expected, "{name} {window}");
                    assert_eq!(read(key, window).await, expected, "{name} {window}");
                }
            }
        }
    };
    for (key, points) in series.iter().zip(&points) {
        for &window in &windows {
            let name = &key.event_type;
            assert_eq!(
                read(key, window).await,
                folded(points, window),
                "{name} {window}"
            );
            assert!(
                stored(key, window).await.is_empty(),
                "{name} {window} stored early"
            );
        }
    }
    // A page of a folded read.
    let page = nodes[0]
        .bins(
            &series[0],
            300,
            &windows,
            everything,
            Page {
                offset: 1,
                limit: Some(1),
            },
        )
        .await
        .unwrap();
    let second = folded(&points[0], 300).into_iter().nth(1).unwrap();
    assert_eq!(shown(&page), BTreeMap::from([second]));

    // Two days on, every hour of the points is settled: the bins are stored and read the same.
    assert!(nodes[0].settle_due(now + 2 * 86_400).await.unwrap() >= 24);
    stored_and_read(&points).await;

    // A late point (an hour old) lands in settled bins: its write updates them.
    points[1].push((now - 3600, 7));
    let late = Point {
        ts: now - 3600,
        value: Value::Integer(7),
    };
    nodes[1]
        .write(&series[1], DataType::Integer, &windows, vec![late])
        .await
        .unwrap();
    stored_and_read(&points).await;
}

/// Runs the scenario of a settling pass on one node while another node writes late points into
/// the hour being settled, against `backend`, which must hold no other settling state. Every
/// settled bin must end up equal to the fold of all its points.
pub(crate) async fn settling_beside_late_writes_converges(backend: Arc<dyn TimeSeriesRepository>) {
    const RECORDS: usize = 40;
    let windows = state_windows([300, 3600]);
    let kinds = ["packet-count-sent", "packet-count-lost"];
    let delay = Duration::from_secs(900);
    // The settler's bin writes land late, so that late points arrive between its reads and
    // its writes; only the confirming read then keeps its bins right.
    let slow = Arc::new(Observed::new(backend.clone(), BIN_WRITE_DELAY));
    let settler = SeriesStore::new(slow).with_settling(delay);
    let writer = SeriesStore::new(backend.clone()).with_settling(delay);
    let now = esmond_storage::now();
    settler.settle_due(now).await.unwrap();

    // The hour that holds both sides of the settling delay: recent points there are queued,
    // late ones refresh their bins at their write.
    let hour = (now - 900).div_euclid(3600) * 3600;
    let recent: Vec<i64> = (now - 899..=now.min(hour + 3599)).step_by(60).collect();
    let late = hour;
    let key = |record: usize, kind: usize| SeriesKey {
        metadata_key: format!("{record:032}"),
        event_type: kinds[kind].to_owned(),
    };
    let value =
        |record: usize, kind: usize, ts: i64| (record as i64 + 1) * (kind as i64 + 1) + ts % 7;
    let write = |store: &SeriesStore, record: usize, kind: usize, ts: i64| {
        let (store, series, windows) = (store.clone(), key(record, kind), windows.clone());
        async move {
            let point = Point {
                ts,
                value: Value::Integer(value(record, kind, ts)),
            };
            store
                .write(&series, DataType::Integer, &windows, vec![point])
                .await
                .unwrap();
        }
    };
    for record in 0..RECORDS {
        for kind in 0..kinds.len() {
            for &ts in &recent {
                write(&settler, record, kind, ts).await;
            }
        }
    }

    // The pass settles the hour while a late point of each series arrives on the other node,
    // for the first records between the pass's read and its (delayed) write.
    let settle = tokio::spawn({
        let settler = settler.clone();
        async move { settler.settle_due(now + 2 * 86_400).await.unwrap() }
    });
    tokio::time::sleep(BIN_WRITE_DELAY / 4).await;
    let mut writes = Vec::new();
    for record in 0..RECORDS {
        for kind in 0..kinds.len() {
            writes.push(tokio::spawn(write(&writer, record, kind, late)));
        }
    }
    for task in writes {
        task.await.unwrap();
    }
    assert!(settle.await.unwrap() >= 1);

    let everything = TimeRange {
        begin: hour - 86_400,
        end: hour + 86_400,
    };
    for record in 0..RECORDS {
        for (kind, name) in kinds.iter().enumerate() {
            let points: Vec<(i64, i64)> = recent
                .iter()
                .chain([&late])
                .map(|&ts| (ts, value(record, kind, ts)))
                .collect();
            for &window in &windows {
                let stored = backend
                    .get_bins(&key(record, kind), window, everything, Page::default())
                    .await
                    .unwrap();
                assert_eq!(
                    shown(&stored),
                    folded(&points, window),
                    "record {record} {name} window {window}"
                );
            }
        }
    }
}

/// A real backend, observed: its bin writes can be held back (as on a node whose upserts land
/// late), and its duplicate-check reads are counted. Everything goes to the real backend.
#[derive(Debug)]
struct Observed {
    inner: Arc<dyn TimeSeriesRepository>,
    bin_write_delay: Duration,
    existing_reads: AtomicUsize,
    newest_reads: AtomicUsize,
}

impl Observed {
    fn new(inner: Arc<dyn TimeSeriesRepository>, bin_write_delay: Duration) -> Observed {
        Observed {
            inner,
            bin_write_delay,
            existing_reads: AtomicUsize::new(0),
            newest_reads: AtomicUsize::new(0),
        }
    }

    /// Returns the reads of stored seconds and of newest points so far.
    fn reads(&self) -> (usize, usize) {
        (
            self.existing_reads.load(Ordering::SeqCst),
            self.newest_reads.load(Ordering::SeqCst),
        )
    }
}

/// How long the settling scenario holds a bin write back.
const BIN_WRITE_DELAY: Duration = Duration::from_millis(40);

#[async_trait::async_trait]
impl TimeSeriesRepository for Observed {
    async fn ping(&self) -> Result<()> {
        self.inner.ping().await
    }

    async fn existing_points(
        &self,
        metadata_key: &str,
        event_types: &[String],
        timestamps: &[i64],
    ) -> Result<Vec<(String, i64)>> {
        self.existing_reads.fetch_add(1, Ordering::SeqCst);
        self.inner
            .existing_points(metadata_key, event_types, timestamps)
            .await
    }

    async fn newest_points(
        &self,
        metadata_key: &str,
        event_types: &[String],
        range: TimeRange,
        limit: usize,
    ) -> Result<NewestPoints> {
        self.newest_reads.fetch_add(1, Ordering::SeqCst);
        self.inner
            .newest_points(metadata_key, event_types, range, limit)
            .await
    }

    async fn put_points(&self, series: &[(&SeriesKey, &[Point])]) -> Result<()> {
        self.inner.put_points(series).await
    }

    async fn get_points(
        &self,
        series: &SeriesKey,
        range: TimeRange,
        page: Page,
    ) -> Result<Vec<Point>> {
        self.inner.get_points(series, range, page).await
    }

    async fn get_record_points(
        &self,
        metadata_key: &str,
        event_types: &[String],
        range: TimeRange,
    ) -> Result<BTreeMap<String, Vec<Point>>> {
        self.inner
            .get_record_points(metadata_key, event_types, range)
            .await
    }

    async fn put_bins(&self, series: &SeriesKey, window: i64, bins: &[Bin]) -> Result<()> {
        tokio::time::sleep(self.bin_write_delay).await;
        self.inner.put_bins(series, window, bins).await
    }

    async fn get_bins(
        &self,
        series: &SeriesKey,
        window: i64,
        range: TimeRange,
        page: Page,
    ) -> Result<Vec<Bin>> {
        self.inner.get_bins(series, window, range, page).await
    }

    async fn queue_settling(
        &self,
        series: &SeriesKey,
        windows: &[i64],
        slots: &[i64],
    ) -> Result<()> {
        self.inner.queue_settling(series, windows, slots).await
    }

    async fn queued_for_settling(&self, slot: i64) -> Result<Vec<(SeriesKey, Vec<i64>)>> {
        self.inner.queued_for_settling(slot).await
    }

    async fn settled_through(&self) -> Result<Option<i64>> {
        self.inner.settled_through().await
    }

    async fn advance_settled(&self, through: i64) -> Result<()> {
        self.inner.advance_settled(through).await
    }
}

/// Runs the scenario of many concurrent duplicate checks against `backend`: records whose
/// numbers share seconds, some stored and some not, checked all at once. Each check must find
/// exactly its own record's points at its seconds, of the kinds it asks about.
pub(crate) async fn concurrent_checks_find_their_own_points(
    backend: Arc<dyn TimeSeriesRepository>,
) {
    const RECORDS: i64 = 48;
    // Seconds of one day; every record may hold points at any of them.
    let base = 1_700_000_000_i64.div_euclid(86_400) * 86_400 + 3_600;
    let seconds: Vec<i64> = (0..12).map(|index| base + index * 60).collect();
    let stored_kinds = ["packet-count-sent", "packet-loss-rate"];
    let key = |record: i64| format!("check-{record:028}");
    // Which (record, kind, second) hold a point: a pattern that differs between neighbours.
    let holds = |record: i64, kind: usize, index: usize| {
        (record + index as i64 * (kind as i64 + 1)) % 3 == 0
    };
    for record in 0..RECORDS {
        let mut writes = Vec::new();
        for (kind, event_type) in stored_kinds.iter().enumerate() {
            let points: Vec<Point> = seconds
                .iter()
                .enumerate()
                .filter(|&(index, _)| holds(record, kind, index))
                .map(|(_, &ts)| Point {
                    ts,
                    value: Value::Integer(record),
                })
                .collect();
            let series = SeriesKey {
                metadata_key: key(record),
                event_type: (*event_type).to_owned(),
            };
            writes.push((series, points));
        }
        let writes: Vec<(&SeriesKey, &[Point])> = writes
            .iter()
            .map(|(series, points)| (series, points.as_slice()))
            .collect();
        backend.put_points(&writes).await.unwrap();
    }

    // Each record is checked three times at once: at one second, at three, and at all twelve
    // (a backfill, which may read on its own). One kind asked about is never stored.
    let asked: Vec<String> = ["packet-count-sent", "packet-loss-rate", "packet-count-lost"]
        .iter()
        .map(|kind| (*kind).to_owned())
        .collect();
    let mut checks = Vec::new();
    for record in 0..RECORDS {
        let first = (record as usize) % seconds.len();
        let shapes = [
            vec![first],
            vec![
                first,
                (first + 5) % seconds.len(),
                (first + 7) % seconds.len(),
            ],
            (0..seconds.len()).collect::<Vec<usize>>(),
        ];
        for indexes in shapes {
            let (backend, asked) = (backend.clone(), asked.clone());
            let stamps: Vec<i64> = indexes.iter().map(|&index| seconds[index]).collect();
            let mut expected: Vec<(String, i64)> = Vec::new();
            for &index in &indexes {
                for (kind, event_type) in stored_kinds.iter().enumerate() {
                    if holds(record, kind, index) {
                        expected.push(((*event_type).to_owned(), seconds[index]));
                    }
                }
            }
            expected.sort_unstable();
            expected.dedup();
            checks.push(tokio::spawn(async move {
                let found = backend
                    .existing_points(&key(record), &asked, &stamps)
                    .await
                    .unwrap();
                assert_eq!(found, expected, "record {record} at {stamps:?}");
            }));
        }
    }
    for check in checks {
        check.await.unwrap();
    }
}

/// Runs the scenario of duplicate checks answered from a node's knowledge against `backend`:
/// one read learns a record's day, the node's own writes keep it current, earlier or forgotten
/// seconds are read, and the answers are those a read would give. A node that did not see a
/// write (another API node) learns the day for itself.
pub(crate) async fn known_points_answer_as_reads_do(backend: Arc<dyn TimeSeriesRepository>) {
    let observed = Arc::new(Observed::new(backend.clone(), Duration::ZERO));
    let node = SeriesStore::new(observed.clone()).with_known_points();
    let other = SeriesStore::new(backend.clone()).with_known_points();
    let day = 1_700_000_000_i64.div_euclid(86_400) * 86_400;
    let record = "known-".repeat(5);
    let series = |event_type: &str| SeriesKey {
        metadata_key: record.clone(),
        event_type: event_type.to_owned(),
    };
    let run = |ts: i64, kinds: &[&str]| -> Vec<SeriesWrite> {
        kinds
            .iter()
            .map(|kind| SeriesWrite {
                series: series(kind),
                data_type: DataType::Integer,
                windows: Vec::new(),
                points: vec![Point {
                    ts,
                    value: Value::Integer(ts % 1000),
                }],
            })
            .collect()
    };
    let both = ["packet-count-sent", "packet-count-lost"];
    // What each write found already stored, series by series.
    let duplicates = |outcomes: Vec<WriteOutcome>| -> Vec<bool> {
        outcomes
            .into_iter()
            .map(|outcome| !outcome.duplicates.is_empty())
            .collect()
    };

    // A point stored before the node knew the day, by someone else.
    let early = day + 60;
    let sent = series("packet-count-sent");
    let stored_early = [Point {
        ts: early,
        value: Value::Integer(1),
    }];
    backend
        .put_points(&[(&sent, &stored_early[..])])
        .await
        .unwrap();

    // The first run reads the day's newest points once; the next ones read nothing.
    let first = day + 3_600;
    for index in 0..6 {
        let outcomes = node
            .write_all(run(first + 60 * index, &both))
            .await
            .unwrap();
        assert_eq!(duplicates(outcomes), [false, false], "run {index}");
    }
    assert_eq!(observed.reads(), (0, 1));
    // A run posted again, and the point found by the first read: answered without a read.
    let again = node.write_all(run(first + 120, &both)).await.unwrap();
    assert_eq!(duplicates(again), [true, true]);
    let found = node.write_all(run(early, &both)).await.unwrap();
    assert_eq!(duplicates(found), [true, false]);
    assert_eq!(observed.reads(), (0, 1));

    // The first read found the whole day: an earlier second is known too.
    let before = node.write_all(run(day + 30, &both)).await.unwrap();
    assert_eq!(duplicates(before), [false, false]);
    assert_eq!(observed.reads(), (0, 1));

    // Another node learns the day for itself and finds what this one stored.
    let elsewhere = other.write_all(run(first + 180, &both)).await.unwrap();
    assert_eq!(duplicates(elsewhere), [true, true]);

    // Seconds the node no longer remembers are read again, and found.
    for index in 6..40 {
        node.write_all(run(first + 60 * index, &both))
            .await
            .unwrap();
    }
    let reads = observed.reads();
    let old = node.write_all(run(first + 60, &both)).await.unwrap();
    assert_eq!(duplicates(old), [true, true]);
    assert_eq!(observed.reads(), (reads.0 + 1, reads.1));

    // As documented: a run the other node stored after this node learned the day is not known
    // here. Stored again with the same values, it is answered as new; nothing is doubled.
    let late = first + 60 * 41;
    other.write_all(run(late, &both)).await.unwrap();
    let unseen = node.write_all(run(late, &both)).await.unwrap();
    assert_eq!(duplicates(unseen), [false, false]);
    let range = TimeRange {
        begin: late,
        end: late,
    };
    let points = backend
        .get_points(&sent, range, Page::default())
        .await
        .unwrap();
    assert_eq!(points.len(), 1);

    // A series the day was not learned for is learned anew, with the others.
    let rate = node
        .write_all(run(
            first + 60 * 42,
            &["packet-count-sent", "packet-duplicates"],
        ))
        .await
        .unwrap();
    assert_eq!(duplicates(rate), [false, false]);
    assert_eq!(observed.reads(), (reads.0 + 1, reads.1 + 1));

    // A node that learns a day fuller than one read knows only its newest points, and reads
    // the seconds before them.
    let counted = Arc::new(Observed::new(backend.clone(), Duration::ZERO));
    let third = SeriesStore::new(counted.clone()).with_known_points();
    let newest = third.write_all(run(late, &both)).await.unwrap();
    assert_eq!(duplicates(newest), [true, true]);
    let older = third.write_all(run(first + 60, &both)).await.unwrap();
    assert_eq!(duplicates(older), [true, true]);
    assert_eq!(counted.reads(), (1, 1));
}
