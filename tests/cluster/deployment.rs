//! The clustered deployment as an operator runs it: PostgreSQL, the 3-node Cassandra cluster
//! (replicas 3), two esmond-rs processes, and HAProxy in front with `config/haproxy.cfg`. A client
//! posts pScheduler-shaped runs (a new connection per request, as pScheduler does) and reads them
//! back through HAProxy while the test (a) kills one esmond-rs node with SIGKILL, (b) stops one
//! Cassandra node, (c) restarts both. It reports requests sent and failed per phase, and checks
//! that no acknowledged write is missing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use esmond_tests::{fresh_database, postgres_server};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::{CLUSTER, cassandra, cluster_nodes};

const WORKERS: usize = 4;
const PHASES: [&str; 5] = [
    "steady",
    "api node killed",
    "cassandra node stopped",
    "both restarting",
    "recovered",
];

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn binary() -> PathBuf {
    std::env::var("ESMOND_RS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("target/debug/esmond-rs"))
}

/// The environment every esmond-rs process of the deployment shares.
fn node_env(postgres: &str, keyspace: &str) -> Vec<(&'static str, String)> {
    let nodes: Vec<String> = cluster_nodes()
        .iter()
        .map(|node| format!("\"{node}\""))
        .collect();
    vec![
        ("ESMOND_RS_POSTGRES__URL", postgres.to_owned()),
        (
            "ESMOND_RS_CASSANDRA__NODES",
            format!("[{}]", nodes.join(",")),
        ),
        ("ESMOND_RS_CASSANDRA__KEYSPACE", keyspace.to_owned()),
        ("ESMOND_RS_CASSANDRA__REPLICAS", "3".to_owned()),
        (
            "ESMOND_RS_HTTP__TRUSTED_PROXIES",
            "[\"127.0.0.1/32\"]".to_owned(),
        ),
        ("ESMOND_RS_HTTP__SHUTDOWN_GRACE_SECS", "0".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
}

fn spawn_node(data_dir: &Path, port: u16, env: &[(&'static str, String)], log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(binary())
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("esmond-rs starts")
}

async fn wait_until_ready(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if let Ok(answer) = reqwest::get(url).await
            && answer.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{url} never became ready");
}

#[derive(Debug, Default)]
struct Tally {
    sent: [u64; PHASES.len()],
    failed: [u64; PHASES.len()],
    acknowledged: Vec<(String, i64)>,
    errors: Vec<String>,
}

/// A pScheduler latencybg record: the event types and default summaries its archiver registers.
fn latency_metadata(worker: usize) -> Value {
    let aggregations = |windows: &[i64]| -> Vec<Value> {
        windows
            .iter()
            .map(|w| json!({"summary-type": "aggregation", "summary-window": w}))
            .collect()
    };
    let mut owdelay = aggregations(&[300, 3600, 86400]);
    owdelay.extend(
        [0, 300, 3600, 86400]
            .iter()
            .map(|w| json!({"summary-type": "statistics", "summary-window": w})),
    );
    json!({
        "subject-type": "point-to-point", "source": format!("10.50.0.{}", worker + 1), "destination": "10.50.1.1",
        "measurement-agent": format!("10.50.0.{}", worker + 1), "tool-name": "pscheduler/powstream",
        "input-source": "a.example.net", "input-destination": "b.example.net",
        "time-duration": 60, "pscheduler-test-type": "latencybg",
        "event-types": [
            {"event-type": "histogram-owdelay", "summaries": owdelay},
            {"event-type": "histogram-ttl", "summaries": []},
            {"event-type": "packet-count-sent", "summaries": aggregations(&[300, 3600, 86400])},
            {"event-type": "packet-count-lost", "summaries": aggregations(&[300, 3600, 86400])},
            {"event-type": "packet-loss-rate", "summaries": aggregations(&[300, 3600, 86400])},
            {"event-type": "packet-duplicates", "summaries": []},
            {"event-type": "packet-reorders", "summaries": []},
            {"event-type": "time-error-estimates", "summaries": []},
            {"event-type": "pscheduler-run-href", "summaries": []}
        ]
    })
}

fn latency_run(ts: i64, index: i64) -> Value {
    let histogram: serde_json::Map<String, Value> = (0..20)
        .map(|bucket| (format!("{}", 30 + bucket), json!((index + bucket) % 40 + 1)))
        .collect();
    json!({"data": [{"ts": ts, "val": [
        {"event-type": "histogram-owdelay", "val": histogram},
        {"event-type": "histogram-ttl", "val": {"62": 600}},
        {"event-type": "packet-count-sent", "val": 600},
        {"event-type": "packet-count-lost", "val": index % 3},
        {"event-type": "packet-loss-rate", "val": {"numerator": index % 3, "denominator": 600}},
        {"event-type": "packet-duplicates", "val": 0},
        {"event-type": "packet-reorders", "val": 0},
        {"event-type": "time-error-estimates", "val": 0.000_12},
        {"event-type": "pscheduler-run-href", "val": {"href": format!("https://ps.example.net/pscheduler/runs/{index}")}}
    ]}]})
}

async fn traffic(
    base: String,
    token: String,
    key: String,
    worker: usize,
    running: Arc<AtomicBool>,
    phase: Arc<AtomicUsize>,
    tally: Arc<Mutex<Tally>>,
) {
    // A new connection per request, as pScheduler's archiver makes.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut index = 0_i64;
    while running.load(Ordering::Relaxed) {
        let ts = 1_750_000_000 + index * 60 + worker as i64;
        let put = client
            .put(format!("{base}{key}/"))
            .header("authorization", format!("Token {token}"))
            .header("content-type", "application/json")
            .body(latency_run(ts, index).to_string())
            .send()
            .await;
        let read = client
            .get(format!(
                "{base}{key}/packet-loss-rate/aggregations/3600?time-start=0&time-end=2000000000"
            ))
            .send()
            .await;
        let current = phase.load(Ordering::Relaxed);
        let mut tally = tally.lock().await;
        // pScheduler counts 409 as stored.
        let put_ok =
            matches!(&put, Ok(answer) if answer.status().is_success() || answer.status() == 409);
        let read_ok = matches!(&read, Ok(answer) if answer.status().is_success());
        for (ok, what) in [(put_ok, &put), (read_ok, &read)] {
            tally.sent[current] += 1;
            if !ok {
                tally.failed[current] += 1;
                let detail = match what {
                    Ok(answer) => format!("{}", answer.status()),
                    Err(error) => error.to_string(),
                };
                tally.errors.push(format!("{}: {detail}", PHASES[current]));
            }
        }
        if put_ok {
            tally.acknowledged.push((key.clone(), ts));
        }
        drop(tally);
        index += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL, the 3-node Cassandra cluster and HAProxy; tests/run.sh provides them"]
async fn api_and_cassandra_node_failures_behind_haproxy() {
    let _cluster = CLUSTER.lock().await;
    let server = postgres_server().expect("ESMOND_TEST_POSTGRES_URL names the test postgresql");
    let postgres = fresh_database(&server).await;
    let keyspace = format!("esmond_deployment_{}", std::process::id());
    let env = node_env(&postgres, &keyspace);
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("nodes.log");

    // The first node applies the migrations and the CQL schema; the second finds them in place.
    let ports = [free_port(), free_port()];
    let dirs = [work.path().join("node1"), work.path().join("node2")];
    let mut nodes = vec![spawn_node(&dirs[0], ports[0], &env, &log)];
    wait_until_ready(&format!("http://127.0.0.1:{}/readyz", ports[0])).await;
    nodes.push(spawn_node(&dirs[1], ports[1], &env, &log));
    wait_until_ready(&format!("http://127.0.0.1:{}/readyz", ports[1])).await;

    let proxy_port = free_port();
    let mut haproxy = Command::new("haproxy")
        .args(["-db", "-f"])
        .arg(repo().join("config/haproxy.cfg"))
        .env("ESMOND_HAPROXY_BIND", format!("127.0.0.1:{proxy_port}"))
        .env("ESMOND_API1", format!("127.0.0.1:{}", ports[0]))
        .env("ESMOND_API2", format!("127.0.0.1:{}", ports[1]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("haproxy starts (apt-get install haproxy)");
    let base = format!("http://127.0.0.1:{proxy_port}/esmond/perfsonar/archive/");
    wait_until_ready(&base).await;

    let token = Command::new(binary())
        .arg("--data-dir")
        .arg(&dirs[0])
        .args(["token", "create", "pscheduler"])
        .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
        .output()
        .expect("token created");
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    assert_eq!(token.len(), 40, "token create printed the key alone");

    let client = reqwest::Client::new();
    let mut keys = Vec::new();
    for worker in 0..WORKERS {
        let answer = client
            .post(&base)
            .header("authorization", format!("Token {token}"))
            .header("content-type", "application/json")
            .body(latency_metadata(worker).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
        keys.push(
            answer.json::<Value>().await.unwrap()["metadata-key"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    let (running, phase) = (
        Arc::new(AtomicBool::new(true)),
        Arc::new(AtomicUsize::new(0)),
    );
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut workers = Vec::new();
    for (worker, key) in keys.iter().enumerate() {
        let task = traffic(
            base.clone(),
            token.clone(),
            key.clone(),
            worker,
            running.clone(),
            phase.clone(),
            tally.clone(),
        );
        workers.push(tokio::spawn(task));
    }

    tokio::time::sleep(Duration::from_secs(5)).await;
    // (a) One esmond-rs node dies without warning.
    phase.store(1, Ordering::Relaxed);
    nodes[0].kill().unwrap();
    nodes[0].wait().unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    // (b) One Cassandra node is stopped.
    phase.store(2, Ordering::Relaxed);
    tokio::task::spawn_blocking(|| cassandra(&["stop", "3"]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(8)).await;
    // (c) Both come back.
    phase.store(3, Ordering::Relaxed);
    nodes[0] = spawn_node(&dirs[0], ports[0], &env, &log);
    tokio::task::spawn_blocking(|| {
        cassandra(&["start", "3"]);
        cassandra(&["wait", "3", "180"]);
    })
    .await
    .unwrap();
    wait_until_ready(&format!("http://127.0.0.1:{}/readyz", ports[0])).await;
    phase.store(4, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(5)).await;
    running.store(false, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }

    // Every acknowledged run is readable through the balancer.
    let tally = tally.lock().await;
    let mut missing = Vec::new();
    for key in &keys {
        let url = format!(
            "{base}{key}/packet-count-sent/base?time-start=0&time-end=2000000000&limit=100000"
        );
        let stored: Value = client.get(url).send().await.unwrap().json().await.unwrap();
        let stored: std::collections::BTreeSet<i64> = stored
            .as_array()
            .unwrap()
            .iter()
            .map(|point| point["ts"].as_i64().unwrap())
            .collect();
        missing.extend(
            tally
                .acknowledged
                .iter()
                .filter(|(k, ts)| k == key && !stored.contains(ts)),
        );
    }
    println!("clustered deployment behind haproxy, {} workers:", WORKERS);
    for (index, name) in PHASES.iter().enumerate() {
        println!(
            "  {name:<24} sent {:>5}  failed {:>3}",
            tally.sent[index], tally.failed[index]
        );
    }
    println!(
        "  total sent {}, failed {}, acknowledged runs {}, acknowledged runs missing {}",
        tally.sent.iter().sum::<u64>(),
        tally.failed.iter().sum::<u64>(),
        tally.acknowledged.len(),
        missing.len()
    );
    for error in tally.errors.iter().take(10) {
        println!("  failure: {error}");
    }

    for process in std::iter::once(&mut haproxy).chain(nodes.iter_mut()) {
        process.kill().unwrap();
        process.wait().unwrap();
    }
    assert!(
        missing.is_empty(),
        "acknowledged runs missing: {:?}",
        &missing[..missing.len().min(5)]
    );
    // At most the requests in flight on the killed node when it died (one per worker); HAProxy
    // sends everything else to the surviving node, retrying refused connections.
    assert!(
        tally.failed[1] <= WORKERS as u64,
        "{} requests failed while an api node was down",
        tally.failed[1]
    );
    // With replicas 3 at LOCAL_QUORUM, one stopped Cassandra node fails nothing.
    assert_eq!(
        tally.failed[2], 0,
        "requests failed while a cassandra node was stopped"
    );
    assert!(tally.sent[1] > 0 && tally.sent[2] > 0);
}
