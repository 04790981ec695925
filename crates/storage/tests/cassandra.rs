//! Connects to the Cassandra that the test command starts (`tests/scripts/cassandra.sh`) and
//! runs one CQL statement through the `scylla` driver.

use std::time::Duration;

use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;

/// Returns the node to contact: `CASSANDRA_URI`, or the single loopback node.
fn cassandra_uri() -> String {
    std::env::var("CASSANDRA_URI").unwrap_or_else(|_| "127.0.0.1:9042".to_owned())
}

#[tokio::test]
#[ignore = "needs a running Cassandra; tests/run.sh starts one and runs this"]
async fn cassandra_answers_cql() {
    let session: Session = SessionBuilder::new()
        .known_node(cassandra_uri())
        .connection_timeout(Duration::from_secs(10))
        .build()
        .await
        .expect("connects to cassandra");
    let rows = session
        .query_unpaged("select release_version from system.local", &[])
        .await
        .expect("query runs")
        .into_rows_result()
        .expect("query returns rows");
    let (version,): (String,) = rows.single_row().expect("one row");
    assert!(
        version.starts_with("5.0."),
        "unexpected cassandra version {version}"
    );
}
