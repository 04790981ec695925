//! Failure tests on real processes over loopback, run by `tests/run.sh` once it has started a
//! 3-node Cassandra cluster (127.0.0.1–3) and PostgreSQL: Cassandra failover under the driver,
//! and the whole clustered deployment (two esmond-rs nodes behind HAProxy) through node failures.

mod deployment;
mod failover;

use std::path::PathBuf;

/// Held by each test: both stop and start nodes of the one cluster.
pub(crate) static CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Returns the Cassandra nodes, `ESMOND_TEST_CASSANDRA_CLUSTER` (set by `tests/run.sh`).
pub(crate) fn cluster_nodes() -> Vec<String> {
    let nodes = std::env::var("ESMOND_TEST_CASSANDRA_CLUSTER")
        .expect("ESMOND_TEST_CASSANDRA_CLUSTER names the 3 nodes (tests/run.sh sets it)");
    nodes.split(',').map(str::to_owned).collect()
}

/// Runs `tests/scripts/cassandra.sh` with `args`.
pub(crate) fn cassandra(args: &[&str]) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/cassandra.sh");
    let status = std::process::Command::new(script)
        .args(args)
        .status()
        .expect("cassandra.sh runs");
    assert!(status.success(), "cassandra.sh {args:?} failed");
}
