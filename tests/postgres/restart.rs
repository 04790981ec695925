//! PostgreSQL stopped and started while requests flow: 503 with a JSON error during the outage,
//! full service after it, and every acknowledged write readable.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::sync::Mutex;

use esmond_tests::receive;
use reqwest::Method;

use crate::{CLUSTER, postgres_app, throughput_record};

fn cluster(command: &str) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres.sh");
    let status = std::process::Command::new(script)
        .arg(command)
        .status()
        .expect("postgres.sh runs");
    assert!(status.success(), "postgres.sh {command} failed");
}

#[derive(Debug, Default)]
struct Tally {
    sent: u64,
    ok: u64,
    unavailable: u64,
    acknowledged: Vec<i64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "stops and starts the test cluster of tests/scripts/postgres.sh; tests/run.sh runs it alone"]
async fn restart_under_load() {
    let _cluster = CLUSTER.lock().await;
    let app = Arc::new(postgres_app().await);
    let key = throughput_record(&app, "restart").await;
    let running = Arc::new(AtomicBool::new(true));
    let tally = Arc::new(Mutex::new(Tally::default()));

    let mut workers = Vec::new();
    for worker in 0..4_i64 {
        let (app, key, running, tally) = (app.clone(), key.clone(), running.clone(), tally.clone());
        workers.push(tokio::spawn(async move {
            let mut index = 0_i64;
            while running.load(Ordering::Relaxed) {
                let ts = 1_600_000_000 + index * 4 + worker;
                let write = receive(
                    app.archive(Method::POST, &format!("{key}/throughput/base"))
                        .header("authorization", app.token())
                        .header("content-type", "application/json")
                        .body(json!({"ts": ts, "val": ts}).to_string()),
                )
                .await;
                let read = receive(app.archive(Method::GET, "?event-type=throughput")).await;
                let mut tally = tally.lock().await;
                for answer in [&write, &read] {
                    tally.sent += 1;
                    match answer.status.as_u16() {
                        200 | 201 => tally.ok += 1,
                        503 => {
                            assert_eq!(answer.header("content-type"), Some("application/json"));
                            assert!(answer.json()["detail"].is_string(), "{}", answer.text);
                            tally.unavailable += 1;
                        }
                        other => panic!("unexpected {other}: {}", answer.text),
                    }
                }
                if write.status == 201 {
                    tally.acknowledged.push(ts);
                }
                index += 1;
                drop(tally);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = tally.lock().await.ok;
    tokio::task::spawn_blocking(|| cluster("stop"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    // A balancer's readiness check sees the outage.
    let readiness = receive(app.request(Method::GET, &format!("{}/readyz", app.origin))).await;
    assert_eq!(readiness.status, 503);
    assert_eq!(readiness.json()["reason"], "metadata store unreachable");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let during = tally.lock().await.unavailable;
    tokio::task::spawn_blocking(|| cluster("start"))
        .await
        .unwrap();
    let restarted = tally.lock().await.ok;
    tokio::time::sleep(Duration::from_secs(4)).await;
    running.store(false, Ordering::Relaxed);
    for worker in workers {
        worker
            .await
            .expect("worker finished without an unexpected status");
    }

    let readiness = receive(app.request(Method::GET, &format!("{}/readyz", app.origin))).await;
    assert_eq!(readiness.status, 200, "ready again: {}", readiness.text);
    let tally = tally.lock().await;
    println!(
        "restart under load: {} requests, {} answered, {} got 503 (ok before the stop: {before}, after the restart: {})",
        tally.sent,
        tally.ok,
        tally.unavailable,
        tally.ok - restarted
    );
    assert!(before > 0, "requests succeeded before the stop");
    assert!(during > 0, "the outage answered 503");
    assert!(tally.ok - restarted > 0, "service came back by itself");

    // Every acknowledged write is readable once PostgreSQL is back.
    let stored = app
        .get(&format!("{key}/throughput/base?time-start=0&limit=100000"))
        .await;
    assert_eq!(stored.status, 200);
    let stored: Vec<i64> = stored
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ts"].as_i64().unwrap())
        .collect();
    for ts in &tally.acknowledged {
        assert!(stored.contains(ts), "acknowledged point {ts} is missing");
    }
}
