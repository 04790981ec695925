//! Ingest through esmond-rs against the raw limit: the same rows written straight into the same
//! Cassandra by the same driver, at the same concurrency, with nothing in between.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use esmond_storage::cassandra::CassandraSettings;
use futures::{StreamExt, TryStreamExt, stream};
use scylla::client::session::Session;
use scylla::statement::prepared::PreparedStatement;
use serde_json::Value;

use crate::Target;
use crate::load::{client, drive};
use crate::payloads::{
    LATENCY_ROWS, THROUGHPUT_ROWS, latency_metadata, latency_run, throughput_metadata,
    throughput_run,
};

/// Every fifth run is a throughput run, the rest latencybg runs (a perfSONAR mesh runs far more
/// latency than throughput tests).
fn is_throughput(n: u64) -> bool {
    n % 5 == 4
}

fn rows_of(n: u64) -> (usize, usize) {
    if is_throughput(n) {
        THROUGHPUT_ROWS
    } else {
        LATENCY_ROWS
    }
}

pub(crate) async fn compare(
    target: &Target,
    concurrency: usize,
    duration: Duration,
    nodes: &[String],
) -> anyhow::Result<()> {
    let http = client(target.keep_alive);
    let tag = format!("bench-ingest-{}", std::process::id());
    let mut latency_keys = Vec::new();
    let mut throughput_keys = Vec::new();
    for index in 0..concurrency.max(1) {
        for (keys, body) in [
            (&mut latency_keys, latency_metadata(&tag, index)),
            (&mut throughput_keys, throughput_metadata(&tag, index)),
        ] {
            let answer: Value = http
                .post(&target.url)
                .header("authorization", format!("Token {}", target.token))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await?
                .json()
                .await?;
            keys.push(
                answer["metadata-key"]
                    .as_str()
                    .context("metadata-key")?
                    .to_owned(),
            );
        }
    }

    let (url, token) = (target.url.clone(), target.token.clone());
    let keys = Arc::new((latency_keys, throughput_keys));
    let counted = Arc::new(AtomicU64::new(0));
    let (rows_in, http_in) = (counted.clone(), http.clone());
    let stats = drive(concurrency, duration, move |n| {
        let (http, url, token, keys, rows) = (
            http_in.clone(),
            url.clone(),
            token.clone(),
            keys.clone(),
            rows_in.clone(),
        );
        async move {
            let record = n as usize % keys.0.len();
            let ts = 1_780_000_000 + 60 * (n / keys.0.len() as u64) as i64;
            let (key, body) = if is_throughput(n) {
                (&keys.1[record], throughput_run(ts, n as i64))
            } else {
                (&keys.0[record], latency_run(ts, n as i64))
            };
            let answer = http
                .put(format!("{url}{key}/"))
                .header("authorization", format!("Token {token}"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await;
            let ok = matches!(answer, Ok(answer) if answer.status().is_success());
            if ok {
                let (points, bins) = rows_of(n);
                rows.fetch_add((points + bins) as u64, Ordering::Relaxed);
            }
            ok
        }
    })
    .await;
    let runs = stats.requests - stats.failures;
    let rows = counted.load(Ordering::Relaxed);
    let points: u64 = (0..runs).map(|n| rows_of(n).0 as u64).sum();
    let elapsed = stats.elapsed.as_secs_f64();
    println!(
        "ingest through esmond-rs, {concurrency} clients, {:.0} s:",
        elapsed
    );
    println!(
        "  {runs} runs ({} failed), {:.1} req/s, {:.0} points/s, {:.0} rows/s, p50 {:.1} ms, p99 {:.1} ms",
        stats.failures,
        runs as f64 / elapsed,
        points as f64 / elapsed,
        rows as f64 / elapsed,
        stats.percentile(50.0).as_secs_f64() * 1000.0,
        stats.percentile(99.0).as_secs_f64() * 1000.0
    );
    if nodes.is_empty() {
        return Ok(());
    }

    let raw_rate = raw_rows(nodes, concurrency, runs).await?;
    println!(
        "the same rows straight through the scylla driver, {concurrency} clients: {raw_rate:.0} rows/s"
    );
    println!(
        "esmond-rs ingest / raw driver: {:.0} %",
        100.0 * (rows as f64 / elapsed) / raw_rate
    );
    Ok(())
}

/// Writes the rows of `runs` runs (base points and bin states, as esmond-rs stores them) into a
/// scratch keyspace of the same schema, `concurrency` runs at a time; returns rows per second.
async fn raw_rows(nodes: &[String], concurrency: usize, runs: u64) -> anyhow::Result<f64> {
    let settings = CassandraSettings {
        nodes: nodes.to_vec(),
        keyspace: "esmond_bench_raw".to_owned(),
        ..CassandraSettings::default()
    };
    settings.init_schema().await?;
    let session = Arc::new(settings.session().await?);
    let mut point = session
        .prepare(
            "insert into esmond_bench_raw.base_points (metadata_key, event_type, bucket, ts, v_int, v_float, v_num, \
             v_den, v_json) values (?, ?, ?, ?, ?, ?, ?, ?, ?) using ttl ?",
        )
        .await?;
    point.set_is_idempotent(true);
    let mut bin = session
        .prepare(
            "insert into esmond_bench_raw.summary_bins (metadata_key, event_type, summary_window, bucket, bin_start, \
             point_count, int_sum, float_sum, numerator, denominator, histogram) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) using ttl ?",
        )
        .await?;
    bin.set_is_idempotent(true);
    let statements = Arc::new((point, bin));
    let histogram = latency_run(0, 0)["data"][0]["val"][0]["val"].to_string();

    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (session, statements, next, histogram) = (
            session.clone(),
            statements.clone(),
            next.clone(),
            histogram.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= runs {
                    return Ok::<u64, anyhow::Error>(n);
                }
                write_run(&session, &statements, n, &histogram).await?;
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let (points, bins): (u64, u64) = (0..runs)
        .map(rows_of)
        .fold((0, 0), |(p, b), (points, bins)| {
            (p + points as u64, b + bins as u64)
        });
    Ok((points + bins) as f64 / started.elapsed().as_secs_f64())
}

/// Writes one run's rows concurrently, as esmond-rs writes a request's rows.
async fn write_run(
    session: &Session,
    statements: &(PreparedStatement, PreparedStatement),
    n: u64,
    histogram: &str,
) -> anyhow::Result<()> {
    let key = format!("{:032x}", n % 64);
    let ts = 1_780_000_000 + 60 * (n / 64) as i64;
    let (points, bins) = rows_of(n);
    let mut writes = Vec::with_capacity(points + bins);
    for index in 0..points {
        let json = if index == 0 { Some(histogram) } else { None };
        let values = (
            &key,
            format!("event-{index}"),
            ts / 86_400,
            ts,
            Some(600_i64),
            None::<f64>,
            None::<i64>,
            None::<i64>,
            json,
            0_i32,
        );
        writes.push(session.execute_unpaged(&statements.0, values));
    }
    let mut bin_writes = Vec::with_capacity(bins);
    for index in 0..bins {
        let window = [300_i64, 3600, 86_400][index % 3];
        let start = ts - ts.rem_euclid(window);
        let json = if index < 3 { Some(histogram) } else { None };
        let values = (
            &key,
            format!("event-{}", index / 3),
            window,
            start / (30 * 86_400),
            start,
            5_i64,
            3000_i64,
            0.0_f64,
            2_i64,
            3000_i64,
            json,
            0_i32,
        );
        bin_writes.push(session.execute_unpaged(&statements.1, values));
    }
    let _: Vec<_> = stream::iter(writes)
        .buffer_unordered(32)
        .try_collect()
        .await?;
    let _: Vec<_> = stream::iter(bin_writes)
        .buffer_unordered(32)
        .try_collect()
        .await?;
    Ok(())
}
