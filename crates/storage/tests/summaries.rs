//! The shared summary logic against the embedded backend (the same scenarios run against
//! Cassandra in `cassandra.rs`).

mod common;

use std::sync::Arc;

use esmond_metadata::sqlite::SqliteMetadataStore;
use esmond_model::summary::state_windows;
use esmond_storage::sqlite::SqliteSeriesStore;

/// Opens an embedded store in `dir`: its metadata store, for checks, and its series backend.
async fn embedded(dir: &tempfile::TempDir) -> (SqliteMetadataStore, Arc<SqliteSeriesStore>) {
    let metadata = SqliteMetadataStore::open(&dir.path().join("store.sqlite3"))
        .await
        .unwrap();
    let backend = Arc::new(SqliteSeriesStore::new(metadata.pool().clone()));
    (metadata, backend)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_writing_one_bin_converge() {
    let dir = tempfile::tempdir().unwrap();
    let (_metadata, backend) = embedded(&dir).await;
    common::nodes_writing_one_bin_converge(backend, state_windows([300, 86400])).await;
}

#[tokio::test]
async fn recent_points_settle() {
    let dir = tempfile::tempdir().unwrap();
    let (metadata, backend) = embedded(&dir).await;
    common::recent_points_settle(backend).await;
    // Settled hours leave the queue.
    let queued: i64 = sqlx::query_scalar("select count(*) from summary_queue")
        .fetch_one(metadata.pool())
        .await
        .unwrap();
    assert_eq!(queued, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settling_beside_late_writes_converges() {
    let dir = tempfile::tempdir().unwrap();
    let (_metadata, backend) = embedded(&dir).await;
    common::settling_beside_late_writes_converges(backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_checks_find_their_own_points() {
    let dir = tempfile::tempdir().unwrap();
    let (_metadata, backend) = embedded(&dir).await;
    common::concurrent_checks_find_their_own_points(backend).await;
}

#[tokio::test]
async fn known_points_answer_as_reads_do() {
    let dir = tempfile::tempdir().unwrap();
    let (_metadata, backend) = embedded(&dir).await;
    common::known_points_answer_as_reads_do(backend).await;
}
