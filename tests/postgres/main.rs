//! PostgreSQL-specific behaviour, against the throw-away cluster of `tests/scripts/postgres.sh`:
//! how few `time-updated` writes reach PostgreSQL, and a restart under load. `tests/run.sh`
//! runs these after the shared suite; they stop and start the cluster, so they run alone.

mod restart;
mod time_updated;

use esmond_tests::{TestApp, postgres_server, spawn_app_with};
use serde_json::json;

/// Held by each test: the restart test stops the cluster, which the others must not see.
pub(crate) static CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Starts an app on a fresh database of the suite's PostgreSQL.
pub(crate) async fn postgres_app() -> TestApp {
    assert!(
        postgres_server().is_some(),
        "ESMOND_TEST_POSTGRES_URL must name the test cluster (tests/run.sh sets it)"
    );
    spawn_app_with(|settings| settings.postgres.acquire_timeout_secs = 1).await
}

/// A throughput record with its usual summaries.
pub(crate) async fn throughput_record(app: &TestApp, tag: &str) -> String {
    app.create_metadata(&json!({
        "subject-type": "point-to-point", "source": "10.7.0.1", "destination": "10.7.0.2",
        "measurement-agent": "10.7.0.1", "tag": tag,
        "event-types": [{"event-type": "throughput", "summaries": [
            {"summary-type": "aggregation", "summary-window": 3600},
            {"summary-type": "average", "summary-window": 86400}]}]
    }))
    .await
}
