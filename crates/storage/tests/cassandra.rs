//! The Cassandra backend against the node that the test command starts (`tests/scripts/cassandra.sh`):
//! a CQL round trip, replication from the settings, retention TTLs on written rows, and the shared
//! summary logic with many writers.

mod common;

use std::sync::Arc;
use std::time::Duration;

use esmond_model::summary::state_windows;
use esmond_model::{DataType, Value};
use esmond_storage::cassandra::{CassandraSeriesStore, CassandraSettings, RetentionRule};
use esmond_storage::{Point, SeriesKey, SeriesStore};
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::response::query_result::QueryRowsResult;

/// Returns the node to contact: `CASSANDRA_URI`, or the single loopback node.
fn cassandra_uri() -> String {
    std::env::var("CASSANDRA_URI").unwrap_or_else(|_| "127.0.0.1:9042".to_owned())
}

async fn session() -> Session {
    SessionBuilder::new()
        .known_node(cassandra_uri())
        .connection_timeout(Duration::from_secs(10))
        .build()
        .await
        .expect("connects to cassandra")
}

/// Settings on a keyspace of its own.
fn settings(name: &str) -> CassandraSettings {
    CassandraSettings {
        nodes: vec![cassandra_uri()],
        keyspace: format!("esmond_{name}_{}", std::process::id()),
        ..CassandraSettings::default()
    }
}

/// The backend over the keyspace of `settings`.
async fn backend(settings: &CassandraSettings) -> Arc<CassandraSeriesStore> {
    Arc::new(
        CassandraSeriesStore::connect(settings)
            .await
            .expect("connects"),
    )
}

/// A store over the keyspace of `settings`, as one API node sees it.
async fn connect(settings: &CassandraSettings) -> SeriesStore {
    SeriesStore::new(backend(settings).await)
}

async fn drop_keyspace(settings: &CassandraSettings) {
    let statement = format!("drop keyspace if exists {}", settings.keyspace);
    session()
        .await
        .query_unpaged(statement, &[])
        .await
        .expect("keyspace dropped");
}

#[tokio::test]
#[ignore = "needs a running Cassandra; tests/run.sh starts one and runs this"]
async fn cassandra_answers_cql() {
    let session = session().await;
    let rows = select(
        &session,
        "select release_version from system.local".to_owned(),
    )
    .await;
    let (version,): (String,) = rows.single_row().expect("one row");
    assert!(
        version.starts_with("5.0."),
        "unexpected cassandra version {version}"
    );
}

#[tokio::test]
#[ignore = "needs a running Cassandra; tests/run.sh starts one and runs this"]
async fn replicas_setting_is_the_keyspace_replication() {
    let mut settings = settings("replicas");
    settings.replicas = 1;
    settings.init_schema().await.expect("schema created");
    let factor = |status: esmond_storage::cassandra::ClusterStatus| {
        status.replication.expect("keyspace exists")["replication_factor"].clone()
    };
    assert_eq!(factor(settings.status().await.unwrap()), "1");
    let status = settings.status().await.unwrap();
    assert!(
        status.nodes.iter().any(|(_, _, up)| *up),
        "the driver sees a node up: {:?}",
        status.nodes
    );

    // A single node accepts a higher factor (with a warning); QUORUM would then need 2 replicas.
    settings.set_replicas(2).await.expect("replication changed");
    assert_eq!(factor(settings.status().await.unwrap()), "2");
    drop_keyspace(&settings).await;
}

#[tokio::test]
#[ignore = "needs a running Cassandra; tests/run.sh starts one and runs this"]
async fn retention_policy_is_the_row_ttl() {
    let mut settings = settings("ttl");
    settings.retention = vec![
        RetentionRule {
            event_type: "*".into(),
            summary_type: "*".into(),
            summary_window: "*".into(),
            expire: "30".into(),
        },
        RetentionRule {
            event_type: "throughput".into(),
            summary_type: "base".into(),
            summary_window: "0".into(),
            expire: "2".into(),
        },
    ];
    let store = connect(&settings).await;
    let series = SeriesKey {
        metadata_key: "a".repeat(32),
        event_type: "throughput".to_owned(),
    };
    let now = esmond_storage::now();
    let point = Point {
        ts: now,
        value: Value::Integer(7),
    };
    store
        .write(&series, DataType::Integer, &[3600], vec![point])
        .await
        .expect("written");

    let session = session().await;
    let ttl = |cql: String| {
        let session = &session;
        async move {
            let rows = select(session, cql).await;
            let (ttl,): (Option<i32>,) = rows.single_row().unwrap();
            ttl.expect("the row has a ttl")
        }
    };
    let keyspace = &settings.keyspace;
    let base = ttl(format!("select ttl(v_int) from {keyspace}.points where metadata_key = '{}' and part = '' and bucket = {} and ts = {now} and event_type = 'throughput'", series.metadata_key, now.div_euclid(86_400))).await;
    assert!(
        (2 * 86_400 - 120..=2 * 86_400).contains(&base),
        "base ttl {base}"
    );
    let hour = now - now.rem_euclid(3600);
    let bin = ttl(format!("select ttl(point_count) from {keyspace}.summary_bins where metadata_key = '{}' and event_type = 'throughput' and summary_window = 3600 and bucket = {} and bin_start = {hour}", series.metadata_key, hour.div_euclid(30 * 86_400))).await;
    // 30 days, counted from the end of the bin.
    assert!(
        (30 * 86_400 - 120..=30 * 86_400 + 3600).contains(&bin),
        "bin ttl {bin}"
    );
    drop_keyspace(&settings).await;
}

/// Runs a select and returns its rows.
async fn select(session: &Session, cql: String) -> QueryRowsResult {
    session
        .query_unpaged(cql, &[])
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
}

/// Counts the series index entries of a series' base points.
async fn index_entries(session: &Session, keyspace: &str, series: &SeriesKey) -> usize {
    let cql = format!(
        "select bucket from {keyspace}.series_buckets where metadata_key = '{}' and event_type = '{}' and summary_window = 0",
        series.metadata_key, series.event_type
    );
    select(session, cql).await.rows_num()
}

#[tokio::test]
#[ignore = "needs a running Cassandra; tests/run.sh starts one and runs this"]
async fn a_node_indexes_each_partition_once() {
    let settings = settings("indexed");
    let series = SeriesKey {
        metadata_key: "b".repeat(32),
        event_type: "packet-count-sent".to_owned(),
    };
    let write = |store: SeriesStore, ts: i64| {
        let series = series.clone();
        async move {
            let point = Point {
                ts,
                value: Value::Integer(600),
            };
            store
                .write(&series, DataType::Integer, &[], vec![point])
                .await
                .expect("written");
        }
    };
    // The points below all land in one partition.
    let span = esmond_storage::buckets::POINT_SPAN;
    let start = 1_780_000_000 - 1_780_000_000_i64.rem_euclid(span);
    let store = connect(&settings).await;
    write(store.clone(), start + 60).await;
    let session = session().await;
    let keyspace = &settings.keyspace;
    assert_eq!(index_entries(&session, keyspace, &series).await, 1);

    // Remove the entry behind the node's back: a node that remembers indexing the partition
    // does not write it again.
    let delete = format!(
        "delete from {keyspace}.series_buckets where metadata_key = '{}' and event_type = '{}' and summary_window = 0",
        series.metadata_key, series.event_type
    );
    session.query_unpaged(delete, &[]).await.unwrap();
    write(store, start + 120).await;
    assert_eq!(index_entries(&session, keyspace, &series).await, 0);

    // A node that has not seen the partition (a restarted one) writes it.
    write(connect(&settings).await, start + 180).await;
    assert_eq!(index_entries(&session, keyspace, &series).await, 1);
    drop_keyspace(&settings).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a running Cassandra; tests/run.sh starts one and runs this"]
async fn nodes_writing_one_bin_converge_on_cassandra() {
    let settings = settings("converge");
    let backend = backend(&settings).await;
    common::nodes_writing_one_bin_converge(backend, state_windows([300, 86400])).await;
    drop_keyspace(&settings).await;
}

#[tokio::test]
#[ignore = "needs a running Cassandra; tests/run.sh starts one and runs this"]
async fn recent_points_settle_on_cassandra() {
    let settings = settings("settle");
    let backend = backend(&settings).await;
    common::recent_points_settle(backend).await;
    drop_keyspace(&settings).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a running Cassandra; tests/run.sh starts one and runs this"]
async fn concurrent_checks_find_their_own_points_on_cassandra() {
    let settings = settings("checks");
    let backend = backend(&settings).await;
    common::concurrent_checks_find_their_own_points(backend).await;
    drop_keyspace(&settings).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a running Cassandra; tests/run.sh starts one and runs this"]
async fn settling_beside_late_writes_converges_on_cassandra() {
    let settings = settings("settle_late");
    let backend = backend(&settings).await;
    common::settling_beside_late_writes_converges(backend).await;
    drop_keyspace(&settings).await;
}

#[tokio::test]
#[ignore = "needs a running Cassandra; tests/run.sh starts one and runs this"]
async fn known_points_answer_as_reads_do_on_cassandra() {
    let settings = settings("known");
    let backend = backend(&settings).await;
    common::known_points_answer_as_reads_do(backend).await;
    drop_keyspace(&settings).await;
}
