//! Concurrent clients for a fixed time, with per-request latencies.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What a run of requests measured.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) requests: u64,
    pub(crate) failures: u64,
    pub(crate) latencies: Vec<Duration>,
    pub(crate) elapsed: Duration,
}

impl Stats {
    /// Returns the latency below which `percent` of the requests finished.
    pub(crate) fn percentile(&self, percent: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    /// Returns requests per second.
    pub(crate) fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// Returns one line of the report.
    pub(crate) fn row(&self, name: &str, concurrency: usize) -> String {
        format!(
            "| {name} | {concurrency} | {} | {:.1} | {:.1} | {:.1} | {} |",
            self.requests,
            self.rate(),
            self.percentile(50.0).as_secs_f64() * 1000.0,
            self.percentile(99.0).as_secs_f64() * 1000.0,
            self.failures
        )
    }
}

/// Returns an HTTP/1.1 client: one connection per request, as pScheduler makes, or keep-alive.
pub(crate) fn client(keep_alive: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .http1_only()
        .timeout(Duration::from_secs(30));
    let builder = if keep_alive {
        builder
    } else {
        builder.pool_max_idle_per_host(0)
    };
    builder.build().expect("http client")
}

/// Runs `job(n)` from `concurrency` clients for `duration`, `n` counting requests across all
/// clients; a job returns whether its request succeeded.
pub(crate) async fn drive<F, Fut>(concurrency: usize, duration: Duration, job: F) -> Stats
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let job = Arc::new(job);
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (job, counter) = (job.clone(), counter.clone());
        workers.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                let ok = job(n).await;
                stats.latencies.push(sent.elapsed());
                stats.requests += 1;
                stats.failures += u64::from(!ok);
            }
            stats
        }));
    }
    let mut total = Stats::default();
    for worker in workers {
        let stats = worker.await.expect("client finished");
        total.requests += stats.requests;
        total.failures += stats.failures;
        total.latencies.extend(stats.latencies);
    }
    total.elapsed = started.elapsed();
    total
}

/// Runs `count` jobs from `concurrency` clients, without measuring (set-up).
pub(crate) async fn run_all<F, Fut>(concurrency: usize, count: u64, job: F) -> u64
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let job = Arc::new(job);
    let counter = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (job, counter) = (job.clone(), counter.clone());
        workers.push(tokio::spawn(async move {
            let mut failures = 0;
            loop {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return failures;
                }
                failures += u64::from(!job(n).await);
            }
        }));
    }
    let mut failures = 0;
    for worker in workers {
        failures += worker.await.expect("client finished");
    }
    failures
}
