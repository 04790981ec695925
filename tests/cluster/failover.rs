//! Failover on a 3-node loopback Cassandra cluster (127.0.0.1–3, replicas 3, LOCAL_QUORUM):
//! while a writer posts and a reader reads continuously, one node is killed with SIGKILL and
//! later restarted. Every write acknowledged with 2xx must be readable afterwards, and the
//! requests that failed meanwhile are counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use esmond_tests::{TestApp, receive, spawn_app_with};
use reqwest::Method;
use serde_json::json;
use tokio::sync::Mutex;

use crate::{CLUSTER, cassandra, cluster_nodes};

#[derive(Debug, Default)]
struct Tally {
    sent: u64,
    failed: u64,
    failed_while_down: u64,
    sent_while_down: u64,
    acknowledged: Vec<i64>,
    errors: Vec<String>,
}

async fn run_traffic(
    app: Arc<TestApp>,
    key: String,
    running: Arc<AtomicBool>,
    node_down: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    worker: i64,
) {
    let mut index = 0_i64;
    while running.load(Ordering::Relaxed) {
        let ts = 1_700_000_000 + index * 8 + worker;
        let write = receive(
            app.archive(Method::POST, &format!("{key}/throughput/base"))
                .header("authorization", app.token())
                .header("content-type", "application/json")
                .body(json!({"ts": ts, "val": ts}).to_string()),
        )
        .await;
        let read = receive(app.archive(
            Method::GET,
            &format!("{key}/throughput/aggregations/3600?time-start=0&time-end=2000000000"),
        ))
        .await;
        let down = node_down.load(Ordering::Relaxed);
        let mut tally = tally.lock().await;
        for answer in [&write, &read] {
            tally.sent += 1;
            if down {
                tally.sent_while_down += 1;
            }
            if !answer.status.is_success() {
                tally.failed += 1;
                if down {
                    tally.failed_while_down += 1;
                }
                tally
                    .errors
                    .push(format!("{} {}", answer.status, answer.text));
            }
        }
        if write.status.is_success() {
            tally.acknowledged.push(ts);
        }
        drop(tally);
        index += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the 3-node cluster of tests/scripts/cassandra.sh; tests/run.sh starts it and runs this"]
async fn a_killed_node_loses_nothing() {
    let _cluster = CLUSTER.lock().await;
    // The server's warnings (the causes of any 503) go to the test output.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("esmond_api=warn,esmond_storage=warn")
        .with_test_writer()
        .try_init();
    let nodes = cluster_nodes();
    let app = spawn_app_with(|settings| {
        settings.cassandra.nodes = nodes.clone();
        settings.cassandra.keyspace = format!("esmond_failover_{}", std::process::id());
        settings.cassandra.replicas = 3;
        settings.cassandra.consistency = "LOCAL_QUORUM".to_owned();
    })
    .await;
    let key = app
        .create_metadata(&json!({
            "subject-type": "point-to-point", "source": "10.8.0.1", "destination": "10.8.0.2",
            "measurement-agent": "10.8.0.1",
            "event-types": [{"event-type": "throughput", "summaries": [
                {"summary-type": "aggregation", "summary-window": 3600}]}]
        }))
        .await;
    let app = Arc::new(app);
    let (running, node_down) = (
        Arc::new(AtomicBool::new(true)),
        Arc::new(AtomicBool::new(false)),
    );
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut workers = Vec::new();
    for worker in 0..4 {
        workers.push(tokio::spawn(run_traffic(
            app.clone(),
            key.clone(),
            running.clone(),
            node_down.clone(),
            tally.clone(),
            worker,
        )));
    }

    tokio::time::sleep(Duration::from_secs(5)).await;
    let killed = Instant::now();
    node_down.store(true, Ordering::Relaxed);
    tokio::task::spawn_blocking(|| cassandra(&["kill", "2"]))
        .await
        .unwrap();
    // Long enough for the cluster to convict the node (10–20 s after a SIGKILL).
    tokio::time::sleep(Duration::from_secs(25)).await;
    tokio::task::spawn_blocking(|| {
        cassandra(&["start", "2"]);
        cassandra(&["wait", "2", "180"]);
    })
    .await
    .unwrap();
    node_down.store(false, Ordering::Relaxed);
    let outage = killed.elapsed();
    tokio::time::sleep(Duration::from_secs(5)).await;
    running.store(false, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }

    let tally = tally.lock().await;
    let rate = tally.failed_while_down as f64 / tally.sent_while_down.max(1) as f64;
    println!(
        "cassandra failover: {} requests ({} while node 2 was down for {:.1} s), {} failed ({} while down, {:.3} %), {} writes acknowledged",
        tally.sent,
        tally.sent_while_down,
        outage.as_secs_f64(),
        tally.failed,
        tally.failed_while_down,
        rate * 100.0,
        tally.acknowledged.len()
    );
    for error in tally.errors.iter().take(5) {
        println!("  failure: {error}");
    }

    let stored = receive(app.archive(
        Method::GET,
        &format!("{key}/throughput/base?time-start=0&time-end=2000000000&limit=1000000"),
    ))
    .await;
    assert_eq!(stored.status, 200, "{}", stored.text);
    let stored: std::collections::BTreeSet<i64> = stored
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|point| point["ts"].as_i64().unwrap())
        .collect();
    let missing: Vec<&i64> = tally
        .acknowledged
        .iter()
        .filter(|ts| !stored.contains(ts))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged writes missing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        tally.sent_while_down > 100,
        "traffic flowed during the outage"
    );
    assert!(
        rate <= 0.01,
        "{:.3} % of requests failed while a node was down",
        rate * 100.0
    );
}
