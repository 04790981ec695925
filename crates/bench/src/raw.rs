//! Ingest through esmond-rs against the raw limit: the rows the archive keeps for the runs it
//! acknowledged (base points, and each summary bin once, with the archive's TTLs) written
//! straight into the same Cassandra by the same driver, at the same concurrency, with nothing in
//! between; and once more with the read each run needs for esmond's 409, which separates the
//! cost of that rule from the cost of the HTTP tier. The ingest goes in slices, and after each
//! every raw writer writes that slice's rows, so that a Cassandra that speeds up or slows down
//! within the run weighs on all of them alike.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use esmond_model::EventType;
use esmond_storage::buckets::{POINT_SPAN, bin_span, bucket_of};
use esmond_storage::cassandra::{
    CassandraSeriesStore, CassandraSettings, RetentionPolicy, insert_bin_cql, insert_point_cql,
    point_part,
};
use esmond_storage::{SeriesStore, TimeSeriesRepository};
use futures::{StreamExt, TryStreamExt, stream};
use scylla::client::session::Session;
use scylla::statement::batch::{Batch, BatchStatement, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::value::MaybeUnset;
use serde_json::Value;

use crate::Target;
use crate::load::{Stats, client, drive};
use crate::payloads::{
    LATENCY_SUMMARIES, THROUGHPUT_SUMMARIES, latency_metadata, latency_run, throughput_metadata,
    throughput_run,
};

/// What the ingest measurement needs besides the archive.
pub(crate) struct Ingest {
    /// Concurrent clients.
    pub(crate) concurrency: usize,
    /// Time of the HTTP phase in all, split over the rounds.
    pub(crate) duration: Duration,
    /// Rounds: each an ingest slice, then every raw writer writing the rows of that slice.
    pub(crate) rounds: usize,
    /// Latencybg records written to (a quarter as many throughput records).
    pub(crate) records: usize,
    /// The archive's Cassandra nodes, for the raw comparison.
    pub(crate) nodes: Vec<String>,
    /// The archive's keyspace, when it was made for the benchmark and may be settled at once.
    pub(crate) settle_keyspace: Option<String>,
}

/// Names a driver option's state in the report.
fn on_off(enabled: bool) -> &'static str {
    if enabled { "on" } else { "off" }
}

/// The two kinds of pScheduler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Latency,
    Throughput,
}

impl Kind {
    /// Every fifth run is a throughput run, the rest latencybg runs (a perfSONAR mesh runs far
    /// more latency than throughput tests). Returns the kind and the run's number within it.
    fn of(n: u64) -> (Kind, u64) {
        if n % 5 == 4 {
            (Kind::Throughput, n / 5)
        } else {
            (Kind::Latency, n / 5 * 4 + n % 5)
        }
    }

    fn body(self, ts: i64, seed: i64) -> Value {
        match self {
            Kind::Latency => latency_run(ts, seed),
            Kind::Throughput => throughput_run(ts, seed),
        }
    }

    /// The summarised series of a run, by their position in the run, with their kept windows.
    fn summaries(self) -> &'static [(usize, &'static [i64])] {
        match self {
            Kind::Latency => LATENCY_SUMMARIES,
            Kind::Throughput => THROUGHPUT_SUMMARIES,
        }
    }
}

/// An acknowledged run.
#[derive(Debug, Clone, Copy)]
struct Run {
    kind: Kind,
    record: usize,
    ts: i64,
    seed: i64,
}

/// A summary bin: kind, record, series position, window, start.
type BinId = (Kind, usize, usize, i64, i64);

/// The rows the archive keeps for `runs`: per run, its base points and the bins it is the
/// first to touch (`seen` holds the bins touched before).
fn rows_of(runs: &[Run], seen: &mut BTreeSet<BinId>) -> Vec<(Run, Vec<BinId>)> {
    runs.iter()
        .map(|run| {
            let mut bins = Vec::new();
            for &(series, windows) in run.kind.summaries() {
                for &window in windows {
                    let bin = (
                        run.kind,
                        run.record,
                        series,
                        window,
                        run.ts - run.ts.rem_euclid(window),
                    );
                    if seen.insert(bin) {
                        bins.push(bin);
                    }
                }
            }
            (*run, bins)
        })
        .collect()
}

fn count_rows(rows: &[(Run, Vec<BinId>)]) -> (u64, u64) {
    rows.iter().fold((0, 0), |(points, bins), (run, new)| {
        let base = run.kind.body(0, 0)["data"][0]["val"]
            .as_array()
            .map_or(0, Vec::len);
        (points + base as u64, bins + new.len() as u64)
    })
}

async fn create_records(
    http: &reqwest::Client,
    target: &Target,
    tag: &str,
    count: usize,
    metadata: fn(&str, usize) -> Value,
) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::with_capacity(count);
    for index in 0..count {
        let answer: Value = http
            .post(&target.url)
            .header("authorization", format!("Token {}", target.token))
            .header("content-type", "application/json")
            .body(metadata(tag, index).to_string())
            .send()
            .await?
            .json()
            .await?;
        let key = answer["metadata-key"].as_str().context("metadata-key")?;
        keys.push(key.to_owned());
    }
    Ok(keys)
}

/// Sends one ingest slice: runs `issued..` from `concurrency` clients for `duration`. Returns
/// what the clients measured and the runs the archive acknowledged.
async fn ingest_slice(
    http: &reqwest::Client,
    target: &Target,
    keys: &Arc<(Vec<String>, Vec<String>)>,
    start: i64,
    issued: u64,
    concurrency: usize,
    duration: Duration,
) -> (Stats, Vec<Run>) {
    let (url, token) = (target.url.clone(), target.token.clone());
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let (done, http, keys) = (acknowledged.clone(), http.clone(), keys.clone());
    let stats = drive(concurrency, duration, move |n| {
        let (http, url, token, keys, done) = (
            http.clone(),
            url.clone(),
            token.clone(),
            keys.clone(),
            done.clone(),
        );
        async move {
            let n = issued + n;
            let (kind, number) = Kind::of(n);
            let records = match kind {
                Kind::Latency => &keys.0,
                Kind::Throughput => &keys.1,
            };
            let record = (number % records.len() as u64) as usize;
            let ts = start + 60 * (number / records.len() as u64) as i64;
            let run = Run {
                kind,
                record,
                ts,
                seed: n as i64,
            };
            let answer = http
                .put(format!("{url}{}/", records[record]))
                .header("authorization", format!("Token {token}"))
                .header("content-type", "application/json")
                .body(kind.body(ts, run.seed).to_string())
                .send()
                .await;
            let ok = matches!(answer, Ok(answer) if answer.status().is_success());
            if ok && let Ok(mut done) = done.lock() {
                done.push(run);
            }
            ok
        }
    })
    .await;
    let mut runs = acknowledged
        .lock()
        .map(|runs| runs.clone())
        .unwrap_or_default();
    runs.sort_by_key(|run| (run.ts, run.kind, run.record));
    (stats, runs)
}

/// Rows per second.
fn rate(rows: u64, time: Duration) -> f64 {
    rows as f64 / time.as_secs_f64().max(f64::EPSILON)
}

pub(crate) async fn compare(target: &Target, ingest: &Ingest) -> anyhow::Result<()> {
    let http = client(target.keep_alive);
    let tag = format!("bench-ingest-{}", std::process::id());
    let records = ingest.records.max(4);
    let latency = create_records(&http, target, &tag, records, latency_metadata).await?;
    let throughput = create_records(&http, target, &tag, records / 4, throughput_metadata).await?;
    let keys = Arc::new((latency, throughput));

    // The raw writers' scratch keyspaces are made before anything is measured. The driver's
    // write coalescing helps a writer that keeps many statements in flight and can slow one
    // that does not, so the plain writer runs both ways and the faster is the raw limit. The
    // writer with the duplicate check runs as esmond-rs does by default, without coalescing.
    let mut writers = Vec::new();
    if !ingest.nodes.is_empty() {
        for (name, check, coalescing) in [
            ("plain, write coalescing on", false, true),
            ("plain, write coalescing off", false, false),
            (
                "with the duplicate check, write coalescing off",
                true,
                false,
            ),
        ] {
            writers.push(RawWriter::open(&ingest.nodes, name, check, coalescing).await?);
        }
    }

    // Runs that just finished, as pScheduler posts them: ten minutes ago onwards, 60 s apart
    // on each record. Each round sends a slice of them through esmond-rs, then has every raw
    // writer write the rows of the runs acknowledged in it, so that all of them meet the same
    // Cassandra, whatever it is doing that minute.
    let start = esmond_storage::now() - 600;
    let rounds = ingest.rounds.max(1);
    let slice = ingest.duration / rounds as u32;
    let mut seen = BTreeSet::new();
    let mut total = Stats::default();
    let (mut points, mut bins, mut runs, mut last) = (0, 0, 0, start);
    for round in 0..rounds {
        let (stats, acknowledged) = ingest_slice(
            &http,
            target,
            &keys,
            start,
            total.requests,
            ingest.concurrency,
            slice,
        )
        .await;
        let rows = rows_of(&acknowledged, &mut seen);
        let (slice_points, slice_bins) = count_rows(&rows);
        let slice_rate = rate(slice_points + slice_bins, stats.elapsed);
        let mut line = format!(
            "round {}: esmond-rs {} runs, {slice_rate:.0} rows/s",
            round + 1,
            acknowledged.len()
        );
        (points, bins, runs) = (
            points + slice_points,
            bins + slice_bins,
            runs + acknowledged.len(),
        );
        last = acknowledged.iter().map(|run| run.ts).fold(last, i64::max);
        total.requests += stats.requests;
        total.failures += stats.failures;
        total.elapsed += stats.elapsed;
        total.latencies.extend(stats.latencies);
        // The writers take their turns in another order each round.
        let rows = Arc::new(rows);
        let turns = writers.len();
        for turn in 0..turns {
            let writer = &mut writers[(round + turn) % turns];
            let took = writer.write(ingest.concurrency, &rows).await?;
            let written = rate(slice_points + slice_bins, took);
            line += &format!("; {} {written:.0}", writer.name);
        }
        println!("{line}");
    }

    let elapsed = total.elapsed.as_secs_f64();
    let ingest_rate = rate(points + bins, total.elapsed);
    println!(
        "ingest through esmond-rs, {} clients, {rounds} slices, {elapsed:.0} s in all, {} latencybg and {} throughput records:",
        ingest.concurrency,
        keys.0.len(),
        keys.1.len()
    );
    println!(
        "  {runs} runs ({} failed), {:.1} req/s, {:.0} points/s, {ingest_rate:.0} rows/s (base points and each bin once), p50 {:.1} ms, p99 {:.1} ms",
        total.failures,
        runs as f64 / elapsed,
        points as f64 / elapsed,
        total.percentile(50.0).as_secs_f64() * 1000.0,
        total.percentile(99.0).as_secs_f64() * 1000.0
    );
    println!("  rows kept: {points} base points, {bins} summary bins");
    if writers.is_empty() {
        return Ok(());
    }
    let mut raw_rate: f64 = 0.0;
    for writer in &writers {
        let written = rate(points + bins, writer.time);
        println!(
            "the same rows straight through the scylla driver, {} clients, {}: {written:.0} rows/s",
            ingest.concurrency, writer.name
        );
        if !writer.checks() {
            raw_rate = raw_rate.max(written);
        }
    }
    println!(
        "esmond-rs ingest / raw driver: {:.0} %",
        100.0 * ingest_rate / raw_rate
    );
    // What is left between the writer with the check and esmond-rs is the HTTP tier's own cost.
    if let Some(checked) = writers.iter().find(|writer| writer.checks()) {
        println!(
            "esmond-rs ingest / raw driver with the duplicate check: {:.0} %",
            100.0 * ingest_rate / rate(points + bins, checked.time)
        );
    }
    for writer in writers {
        writer.close().await?;
    }

    // The bins of recent points are stored by the settling pass later; on a keyspace made for
    // the benchmark, settle them now and count that time too, then drop the keyspace.
    if let Some(keyspace) = &ingest.settle_keyspace {
        let settings = CassandraSettings {
            nodes: ingest.nodes.clone(),
            keyspace: keyspace.clone(),
            init: false,
            ..CassandraSettings::default()
        };
        let store = CassandraSeriesStore::connect(&settings).await?;
        let session = store.session().clone();
        let store = SeriesStore::new(Arc::new(store)).with_settling(Duration::from_secs(900));
        let settling = Instant::now();
        let hours = store.settle_due(last + 2 * 86_400).await?;
        let settle = settling.elapsed().as_secs_f64();
        println!("  settling the {hours} hours of these runs in {keyspace}: {settle:.1} s");
        let with_settling = (points + bins) as f64 / (elapsed + settle);
        println!(
            "with the settling time included: {with_settling:.0} rows/s, {:.0} % of the raw driver",
            100.0 * with_settling / raw_rate
        );
        session
            .query_unpaged(format!("drop keyspace if exists {keyspace}"), &[])
            .await?;
    }
    Ok(())
}

/// The raw writer's statements.
struct Statements {
    point: PreparedStatement,
    bin: PreparedStatement,
    /// The archive's own duplicate check (`existing_points`), when the writer makes it.
    checker: Option<CassandraSeriesStore>,
    /// The archive's default retention, for the same TTLs.
    retention: RetentionPolicy,
}

/// A writer straight through the driver, into a scratch keyspace of the archive's schema, and
/// how much it has written so far.
struct RawWriter {
    name: &'static str,
    keyspace: String,
    session: Arc<Session>,
    statements: Arc<Statements>,
    time: Duration,
}

impl RawWriter {
    /// Makes the scratch keyspace and opens the writer. With `check`, each run first reads
    /// which of its numbers are stored, as esmond-rs does for esmond's 409.
    async fn open(
        nodes: &[String],
        name: &'static str,
        check: bool,
        write_coalescing: bool,
    ) -> anyhow::Result<RawWriter> {
        let keyspace = format!(
            "esmond_bench_raw_{}_{}{}",
            std::process::id(),
            on_off(write_coalescing),
            if check { "_checked" } else { "" }
        );
        let settings = CassandraSettings {
            nodes: nodes.to_vec(),
            keyspace: keyspace.clone(),
            write_coalescing,
            ..CassandraSettings::default()
        };
        // The archive's store makes the schema and opens the one session that the writes and
        // the check share, as in esmond-rs.
        let store = CassandraSeriesStore::connect(&settings).await?;
        let session = store.session().clone();
        // The archive's own statements, in the scratch keyspace.
        let mut point = session.prepare(insert_point_cql(&keyspace)).await?;
        point.set_is_idempotent(true);
        let mut bin = session.prepare(insert_bin_cql(&keyspace)).await?;
        bin.set_is_idempotent(true);
        let statements = Arc::new(Statements {
            point,
            bin,
            checker: check.then_some(store),
            retention: RetentionPolicy::default(),
        });
        Ok(RawWriter {
            name,
            keyspace,
            session,
            statements,
            time: Duration::ZERO,
        })
    }

    fn checks(&self) -> bool {
        self.statements.checker.is_some()
    }

    /// Writes `rows`, `concurrency` runs at a time; returns the time it took.
    async fn write(
        &mut self,
        concurrency: usize,
        rows: &Arc<Vec<(Run, Vec<BinId>)>>,
    ) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let next = Arc::new(AtomicU64::new(0));
        let mut workers = Vec::new();
        for _ in 0..concurrency {
            let (session, statements, next, rows) = (
                self.session.clone(),
                self.statements.clone(),
                next.clone(),
                rows.clone(),
            );
            workers.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some((run, bins)) = rows.get(n) else {
                        return Ok::<(), anyhow::Error>(());
                    };
                    write_run(&session, &statements, run, bins).await?;
                }
            }));
        }
        for worker in workers {
            worker.await??;
        }
        let elapsed = started.elapsed();
        self.time += elapsed;
        Ok(elapsed)
    }

    /// Drops the scratch keyspace.
    async fn close(self) -> anyhow::Result<()> {
        self.session
            .query_unpaged(format!("drop keyspace {}", self.keyspace), &[])
            .await?;
        Ok(())
    }
}

/// The value columns of a posted value, as esmond-rs stores them: the columns a value does not
/// use are unset, which writes no cell (a null would write a tombstone).
type Columns = (
    MaybeUnset<i64>,
    MaybeUnset<f64>,
    MaybeUnset<i64>,
    MaybeUnset<i64>,
    MaybeUnset<String>,
);

fn columns(value: &Value) -> Columns {
    use MaybeUnset::{Set, Unset};
    if let Some(number) = value.as_i64() {
        return (Set(number), Unset, Unset, Unset, Unset);
    }
    if let Some(number) = value.as_f64() {
        return (Unset, Set(number), Unset, Unset, Unset);
    }
    if let (Some(numerator), Some(denominator)) =
        (value["numerator"].as_i64(), value["denominator"].as_i64())
    {
        return (Unset, Unset, Set(numerator), Set(denominator), Unset);
    }
    (Unset, Unset, Unset, Unset, Set(value.to_string()))
}

/// Writes one run's base points and new bins, all at once.
async fn write_run(
    session: &Session,
    statements: &Statements,
    run: &Run,
    bins: &[BinId],
) -> anyhow::Result<()> {
    let key = format!("{:?}{:027}", run.kind, run.record);
    let body = run.kind.body(run.ts, run.seed);
    let retention = &statements.retention;
    let now = esmond_storage::now();
    let values = body["data"][0]["val"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // A run's numbers share a partition: the archive stores them as one batch, and so does
    // this writer. Histograms and documents each have their own.
    let mut numbers = Vec::new();
    let mut writes = Vec::with_capacity(values.len() + bins.len());
    for value in &values {
        let event_type = value["event-type"].as_str().unwrap_or_default().to_owned();
        // The archive's partitioning: a record's numbers share a partition.
        let data_type = EventType::lookup(&event_type)
            .context("an event type of the catalog")?
            .data_type();
        let part = point_part(&event_type, data_type).to_owned();
        let shared = part.is_empty();
        let (v_int, v_float, v_num, v_den, v_json) = columns(&value["val"]);
        let expiry = retention.expiry(&event_type, "base", 0);
        let row = (
            &key,
            part,
            bucket_of(run.ts, POINT_SPAN),
            run.ts,
            event_type,
            v_int,
            v_float,
            v_num,
            v_den,
            v_json,
            RetentionPolicy::ttl(expiry, run.ts, now),
        );
        if shared {
            numbers.push(row);
        } else {
            writes.push(session.execute_unpaged(&statements.point, row));
        }
    }
    let mut batch = Batch::new_with_statements(
        BatchType::Unlogged,
        vec![BatchStatement::PreparedStatement(statements.point.clone()); numbers.len()],
    );
    batch.set_is_idempotent(true);
    // The numbers wait for the check; the rest go meanwhile, as in esmond-rs.
    let numbers = async {
        if let Some(checker) = &statements.checker {
            let event_types: Vec<String> = numbers.iter().map(|row| row.4.clone()).collect();
            checker
                .existing_points(&key, &event_types, &[run.ts])
                .await?;
        }
        if !numbers.is_empty() {
            session.batch(&batch, numbers).await?;
        }
        Ok::<(), anyhow::Error>(())
    };
    let mut bin_writes = Vec::with_capacity(bins.len());
    for &(_, _, series, window, start) in bins {
        let event_type = values[series]["event-type"].as_str().unwrap_or_default();
        let value = &values[series]["val"];
        let histogram = MaybeUnset::from_option(
            event_type
                .starts_with("histogram")
                .then(|| value.to_string()),
        );
        let ttl = RetentionPolicy::ttl(
            retention.bin_expiry(event_type, window),
            start + window,
            now,
        );
        let row = (
            &key,
            event_type.to_owned(),
            window,
            bucket_of(start, bin_span(window)),
            start,
            5_i64,
            3000_i64,
            0.0_f64,
            2_i64,
            3000_i64,
            histogram,
            ttl,
        );
        bin_writes.push(session.execute_unpaged(&statements.bin, row));
    }
    // Every row of the run at once: the fastest the driver takes them.
    let points = stream::iter(writes)
        .buffer_unordered(32)
        .try_collect::<Vec<_>>();
    let bins = stream::iter(bin_writes)
        .buffer_unordered(32)
        .try_collect::<Vec<_>>();
    let writes = async { futures::try_join!(points, bins).map_err(anyhow::Error::from) };
    futures::try_join!(numbers, writes)?;
    Ok(())
}
