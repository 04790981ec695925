//! The HTTP scenarios, against any esmond-compatible archive.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, ensure};
use serde_json::Value;

use crate::Target;
use crate::load::{Stats, client, drive, run_all};
use crate::payloads::{latency_metadata, latency_run};

/// A day in the past, UTC midnight, where the read scenarios' data lives.
const DAY: i64 = 1_767_225_600; // 2026-01-01
/// Where the bulk PUT scenario writes (it advances 60 s per run of each record).
const PUT_START: i64 = 1_770_000_000;
/// Records the bulk PUT and search scenarios cycle through.
const HOT_RECORDS: usize = 100;

#[derive(Debug)]
struct Archive {
    url: String,
    token: String,
    client: reqwest::Client,
}

impl Archive {
    async fn post_metadata(&self, body: &Value) -> anyhow::Result<String> {
        let answer = self
            .client
            .post(&self.url)
            .header("authorization", format!("Token {}", self.token))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?;
        ensure!(
            answer.status().is_success(),
            "metadata post answered {}",
            answer.status()
        );
        let record: Value = answer.json().await?;
        record["metadata-key"]
            .as_str()
            .map(str::to_owned)
            .context("no metadata-key")
    }

    async fn put(&self, key: &str, body: &Value) -> bool {
        let answer = self
            .client
            .put(format!("{}{key}/", self.url))
            .header("authorization", format!("Token {}", self.token))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await;
        matches!(answer, Ok(answer) if answer.status().is_success() || answer.status() == 409)
    }

    /// GETs `path` below the archive and returns how many elements the list answer has.
    async fn count(&self, path: &str) -> Option<usize> {
        let answer = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .ok()?;
        if !answer.status().is_success() {
            return None;
        }
        let list: Value = answer.json().await.ok()?;
        list.as_array().map(Vec::len)
    }
}

/// Creates `count` latencybg records tagged `tag` (the archive returns the existing ones if they
/// are already there) and returns their keys.
async fn records(
    archive: &Arc<Archive>,
    tag: &'static str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::with_capacity(count);
    let chunk = 500;
    for start in (0..count).step_by(chunk) {
        let mut posts = Vec::new();
        for index in start..(start + chunk).min(count) {
            let archive = archive.clone();
            posts.push(tokio::spawn(async move {
                archive.post_metadata(&latency_metadata(tag, index)).await
            }));
        }
        for post in posts {
            keys.push(post.await??);
        }
    }
    Ok(keys)
}

/// Fills one record with `runs` latencybg runs `step` seconds apart from `start`.
async fn fill(
    archive: &Arc<Archive>,
    key: &str,
    start: i64,
    step: i64,
    runs: u64,
) -> anyhow::Result<()> {
    let (filler, record) = (archive.clone(), key.to_owned());
    let failures = run_all(16, runs, move |n| {
        let (archive, key) = (filler.clone(), record.clone());
        async move {
            archive
                .put(&key, &latency_run(start + step * n as i64, n as i64))
                .await
        }
    })
    .await;
    ensure!(
        failures == 0,
        "{failures} runs were refused while filling {key}"
    );
    Ok(())
}

pub(crate) async fn run(
    target: &Target,
    concurrency: &[usize],
    duration: Duration,
    record_count: usize,
) -> anyhow::Result<()> {
    let archive = Arc::new(Archive {
        url: target.url.clone(),
        token: target.token.clone(),
        client: client(target.keep_alive),
    });
    let mode = if target.keep_alive {
        "keep-alive"
    } else {
        "a new connection per request"
    };
    eprintln!("setting up: {record_count} records, one day of minute runs, 30 days of hourly runs");
    let searchable = records(&archive, "bench-search", record_count).await?;
    let hot: Vec<String> = searchable[..HOT_RECORDS.min(searchable.len())].to_vec();
    let day_key = records(&archive, "bench-day", 1).await?.remove(0);
    fill(&archive, &day_key, DAY, 60, 1440).await?;
    let month_key = records(&archive, "bench-month", 1).await?.remove(0);
    fill(&archive, &month_key, DAY - 30 * 86_400, 3600, 720).await?;
    // The hot records need a recent time-updated for the time-range=86400 search to match.
    for key in &hot {
        ensure!(
            archive.put(key, &latency_run(PUT_START - 600, 0)).await,
            "warm-up run refused"
        );
    }

    println!(
        "HTTP/1.1, {mode}, {} s per scenario and concurrency\n",
        duration.as_secs()
    );
    println!("| scenario | concurrency | requests | req/s | p50 ms | p99 ms | failed |");
    println!("|---|---|---|---|---|---|---|");
    let hot = Arc::new(hot);
    for &clients in concurrency {
        let (a, offset) = (archive.clone(), 1_000_000 * clients);
        let stats = drive(clients, duration, move |n| {
            let archive = a.clone();
            async move {
                archive
                    .post_metadata(&latency_metadata("bench-new", offset + n as usize))
                    .await
                    .is_ok()
            }
        })
        .await;
        println!("{}", stats.row("POST latencybg metadata", clients));

        let (a, keys) = (archive.clone(), hot.clone());
        let stats = drive(clients, duration, move |n| {
            let (archive, keys) = (a.clone(), keys.clone());
            async move {
                let key = &keys[n as usize % keys.len()];
                let ts = PUT_START
                    + 60 * (n / keys.len() as u64) as i64
                    + 1000 * clients as i64 * 86_400;
                archive.put(key, &latency_run(ts, n as i64)).await
            }
        })
        .await;
        println!(
            "{}",
            stats.row(
                &format!("PUT latencybg run ({} records)", hot.len()),
                clients
            )
        );

        let a = archive.clone();
        let stats = drive(clients, duration, move |n| {
            let archive = a.clone();
            async move {
                let index = n as usize % HOT_RECORDS;
                let query = format!(
                    "?source=10.{}.{}.1&destination=10.200.{}.2&event-type=histogram-owdelay&time-range=86400",
                    index / 250 % 250,
                    index % 250,
                    index % 250
                );
                archive.count(&query).await == Some(1)
            }
        })
        .await;
        println!(
            "{}",
            stats.row(
                &format!(
                    "search source+destination+event-type, time-range ({record_count} records)"
                ),
                clients
            )
        );

        for (name, path, expected) in [
            (
                "one day of base packet-loss-rate",
                format!("{day_key}/packet-loss-rate/base"),
                1440,
            ),
            (
                "one day of histogram-owdelay statistics/0",
                format!("{day_key}/histogram-owdelay/statistics/0"),
                1440,
            ),
        ] {
            let (a, path) = (
                archive.clone(),
                Arc::new(format!("{path}?time-start={DAY}&time-end={}", DAY + 86_399)),
            );
            let stats: Stats = drive(clients, duration, move |_| {
                let (archive, path) = (a.clone(), path.clone());
                async move { archive.count(&path).await == Some(expected) }
            })
            .await;
            println!("{}", stats.row(name, clients));
        }
        let a = archive.clone();
        let path = Arc::new(format!(
            "{month_key}/histogram-owdelay/statistics/3600?time-start={}&time-end={DAY}",
            DAY - 30 * 86_400
        ));
        let stats = drive(clients, duration, move |_| {
            let (archive, path) = (a.clone(), path.clone());
            async move { archive.count(&path).await == Some(720) }
        })
        .await;
        println!(
            "{}",
            stats.row("30 days of histogram-owdelay statistics/3600", clients)
        );
    }
    Ok(())
}
