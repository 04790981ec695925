//! Ingest through esmond-rs against the raw limit: the rows the archive keeps for the runs it
//! acknowledged (base points, and each summary bin once) written straight into the same
//! Cassandra by the same driver, at the same concurrency, with nothing in between; then once more
//! with the read each run needs for esmond's 409, which separates the cost of that rule from the
//! cost of the HTTP tier.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use esmond_model::EventType;
use esmond_storage::buckets::{POINT_SPAN, bucket_of};
use esmond_storage::cassandra::{
    CassandraSeriesStore, CassandraSettings, insert_bin_cql, insert_point_cql, point_part,
};
use esmond_storage::{SeriesStore, TimeSeriesRepository};
use futures::{StreamExt, TryStreamExt, stream};
use scylla::client::session::Session;
use scylla::statement::batch::{Batch, BatchStatement, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::value::MaybeUnset;
use serde_json::Value;

use crate::Target;
use crate::load::{client, drive};
use crate::payloads::{
    LATENCY_SUMMARIES, THROUGHPUT_SUMMARIES, latency_metadata, latency_run, throughput_metadata,
    throughput_run,
};

/// Pause before each raw phase.
const RAW_PAUSE: Duration = Duration::from_secs(10);

/// Longest wait for Cassandra's compactions before a raw phase.
const QUIET_WAIT: Duration = Duration::from_secs(120);

/// What the ingest measurement needs besides the archive.
pub(crate) struct Ingest {
    /// Concurrent clients.
    pub(crate) concurrency: usize,
    /// Length of the HTTP phase.
    pub(crate) duration: Duration,
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
/// first to touch.
fn rows_of(runs: &[Run]) -> Vec<(Run, Vec<BinId>)> {
    let mut seen: BTreeSet<BinId> = BTreeSet::new();
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

pub(crate) async fn compare(target: &Target, ingest: &Ingest) -> anyhow::Result<()> {
    let http = client(target.keep_alive);
    let tag = format!("bench-ingest-{}", std::process::id());
    let records = ingest.records.max(4);
    let latency = create_records(&http, target, &tag, records, latency_metadata).await?;
    let throughput = create_records(&http, target, &tag, records / 4, throughput_metadata).await?;

    // Runs that just finished, as pScheduler posts them: ten minutes ago onwards, 60 s apart
    // on each record.
    let start = esmond_storage::now() - 600;
    let (url, token) = (target.url.clone(), target.token.clone());
    let keys = Arc::new((latency, throughput));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let (done, http_in, keys_in) = (acknowledged.clone(), http.clone(), keys.clone());
    let stats = drive(ingest.concurrency, ingest.duration, move |n| {
        let (http, url, token, keys, done) = (
            http_in.clone(),
            url.clone(),
            token.clone(),
            keys_in.clone(),
            done.clone(),
        );
        async move {
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
    let rows = rows_of(&runs);
    let (points, bins) = count_rows(&rows);
    let elapsed = stats.elapsed.as_secs_f64();
    let ingest_rate = (points + bins) as f64 / elapsed;
    println!(
        "ingest through esmond-rs, {} clients, {:.0} s, {} latencybg and {} throughput records:",
        ingest.concurrency,
        elapsed,
        keys.0.len(),
        keys.1.len()
    );
    println!(
        "  {} runs ({} failed), {:.1} req/s, {:.0} points/s, {:.0} rows/s (base points and each bin once), p50 {:.1} ms, p99 {:.1} ms",
        runs.len(),
        stats.failures,
        runs.len() as f64 / elapsed,
        points as f64 / elapsed,
        ingest_rate,
        stats.percentile(50.0).as_secs_f64() * 1000.0,
        stats.percentile(99.0).as_secs_f64() * 1000.0
    );
    println!("  rows kept: {points} base points, {bins} summary bins");
    if ingest.nodes.is_empty() {
        return Ok(());
    }

    // The bins of recent points are stored by the settling pass later; on a keyspace made for
    // the benchmark, settle them now and count that time too.
    let mut settle_secs = None;
    if let Some(keyspace) = &ingest.settle_keyspace {
        let last = runs.iter().map(|run| run.ts).max().unwrap_or(start);
        let settings = CassandraSettings {
            nodes: ingest.nodes.clone(),
            keyspace: keyspace.clone(),
            init: false,
            ..CassandraSettings::default()
        };
        let store = SeriesStore::new(Arc::new(CassandraSeriesStore::connect(&settings).await?))
            .with_settling(Duration::from_secs(900));
        let settling = Instant::now();
        let hours = store.settle_due(last + 2 * 86_400).await?;
        let took = settling.elapsed().as_secs_f64();
        println!("  settling the {hours} hours of these runs in {keyspace}: {took:.1} s");
        settle_secs = Some(took);
    }

    // The raw phases start from a Cassandra as quiet as the ingest found it: the benchmark's
    // keyspace is dropped once settled, and running compactions are waited for.
    let admin = CassandraSettings {
        nodes: ingest.nodes.clone(),
        keyspace: "system".to_owned(),
        ..CassandraSettings::default()
    }
    .session()
    .await?;
    if let Some(keyspace) = &ingest.settle_keyspace {
        admin
            .query_unpaged(format!("drop keyspace if exists {keyspace}"), &[])
            .await?;
    }
    // The driver's write coalescing helps a writer that keeps many statements in flight and
    // can slow one that does not: the raw limit is the faster of the two.
    let mut raw_rate = 0.0;
    let mut coalescing = false;
    for mode in [true, false] {
        quiet(&admin).await;
        let rate = raw_rows(&ingest.nodes, ingest.concurrency, &rows, false, mode).await?;
        println!(
            "the same rows straight through the scylla driver, {} clients, write coalescing {}: {rate:.0} rows/s",
            ingest.concurrency,
            on_off(mode)
        );
        if rate > raw_rate {
            (raw_rate, coalescing) = (rate, mode);
        }
    }
    println!(
        "esmond-rs ingest / raw driver: {:.0} %",
        100.0 * ingest_rate / raw_rate
    );
    // The same again with the read esmond's 409 needs before a run's numbers are written: what
    // is left between this and esmond-rs is the HTTP tier's own cost.
    quiet(&admin).await;
    let checked_rate = raw_rows(&ingest.nodes, ingest.concurrency, &rows, true, coalescing).await?;
    println!(
        "the same rows, each run's numbers after the duplicate check's read, {} clients, write coalescing {}: {checked_rate:.0} rows/s",
        ingest.concurrency,
        on_off(coalescing)
    );
    println!(
        "esmond-rs ingest / raw driver with the duplicate check: {:.0} %",
        100.0 * ingest_rate / checked_rate
    );
    if let Some(settle) = settle_secs {
        println!(
            "with the settling time included: {:.0} rows/s, {:.0} % of the raw driver",
            (points + bins) as f64 / (elapsed + settle),
            100.0 * (points + bins) as f64 / (elapsed + settle) / raw_rate
        );
    }
    Ok(())
}

/// Waits [`RAW_PAUSE`], then until Cassandra runs no compaction (`system_views.sstable_tasks`,
/// Cassandra 4 and later; elsewhere the pause alone), for at most [`QUIET_WAIT`].
async fn quiet(session: &Session) {
    tokio::time::sleep(RAW_PAUSE).await;
    let started = Instant::now();
    while started.elapsed() < QUIET_WAIT {
        let tasks = session
            .query_unpaged("select keyspace_name from system_views.sstable_tasks", &[])
            .await
            .ok()
            .and_then(|result| result.into_rows_result().ok())
            .map_or(0, |rows| rows.rows_num());
        if tasks == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The raw writer's statements.
struct Statements {
    point: PreparedStatement,
    bin: PreparedStatement,
    /// The archive's own duplicate check (`existing_points`), when the run asks for it.
    checker: Option<CassandraSeriesStore>,
}

/// Writes `rows` into a new scratch keyspace of the same schema, `concurrency` runs at a time,
/// then drops it; returns rows per second. With `check`, each run first reads which of its
/// numbers are stored, as esmond-rs does for esmond's 409.
async fn raw_rows(
    nodes: &[String],
    concurrency: usize,
    rows: &[(Run, Vec<BinId>)],
    check: bool,
    write_coalescing: bool,
) -> anyhow::Result<f64> {
    let keyspace = format!("esmond_bench_raw_{}", std::process::id());
    let settings = CassandraSettings {
        nodes: nodes.to_vec(),
        keyspace: keyspace.clone(),
        write_coalescing,
        ..CassandraSettings::default()
    };
    // The archive's store makes the schema and opens the one session that the writes and the
    // check share, as in esmond-rs.
    let store = CassandraSeriesStore::connect(&settings).await?;
    let session = store.session().clone();
    // The archive's own statements, in the scratch keyspace.
    let mut point = session.prepare(insert_point_cql(&keyspace)).await?;
    point.set_is_idempotent(true);
    let mut bin = session.prepare(insert_bin_cql(&keyspace)).await?;
    bin.set_is_idempotent(true);
    let checker = check.then_some(store);
    let statements = Arc::new(Statements {
        point,
        bin,
        checker,
    });
    let rows = Arc::new(rows.to_vec());

    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (session, statements, next, rows) = (
            session.clone(),
            statements.clone(),
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
    let elapsed = started.elapsed().as_secs_f64();
    session
        .query_unpaged(format!("drop keyspace {keyspace}"), &[])
        .await?;
    let (points, bins) = count_rows(&rows);
    Ok((points + bins) as f64 / elapsed)
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
            0_i32,
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
        let row = (
            &key,
            event_type.to_owned(),
            window,
            start / (30 * 86_400),
            start,
            5_i64,
            3000_i64,
            0.0_f64,
            2_i64,
            3000_i64,
            histogram,
            0_i32,
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
