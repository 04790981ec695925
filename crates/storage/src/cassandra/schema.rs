//! The CQL schema, applied idempotently, and the keyspace administration: replication changes
//! and cluster status.

use std::collections::HashMap;

use scylla::client::session::Session;

use super::settings::{CassandraSettings, Replication};
use crate::buckets::{POINT_SPAN, bin_span};
use crate::{Error, Result};

fn ddl_error(error: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Unavailable(Box::new(error))
}

/// Returns the statements that create the keyspace and tables if missing. Values are never
/// interpolated into CQL; the keyspace name (checked) and the replication map are the only
/// parts that are, and only here.
fn statements(keyspace: &str, replication: &Replication) -> Vec<String> {
    // Time-window compaction with windows about one partition wide: whole SSTables expire
    // together with their TTL, so retention needs no cleanup job.
    let point_window_days = POINT_SPAN / 86_400;
    let bin_window_days = bin_span(3600) / 86_400;
    vec![
        format!("create keyspace if not exists {keyspace} with replication = {}", replication.to_cql()),
        // Histograms and documents have a partition per series and day; the numeric series of a
        // record share one per day (`part` is empty). Time stamps lead the clustering key, so
        // that one slice of one partition finds a run's numbers already stored, and reads of a
        // recent time skip the SSTables written before it.
        format!(
            "create table if not exists {keyspace}.points (
                metadata_key text, part text, bucket bigint, ts bigint, event_type text,
                v_int bigint, v_float double, v_num bigint, v_den bigint, v_json text,
                primary key ((metadata_key, part, bucket), ts, event_type)
            ) with clustering order by (ts asc, event_type asc)
              and compaction = {{'class': 'TimeWindowCompactionStrategy',
                                 'compaction_window_unit': 'DAYS', 'compaction_window_size': {point_window_days}}}"
        ),
        format!(
            "create table if not exists {keyspace}.summary_bins (
                metadata_key text, event_type text, summary_window bigint, bucket bigint, bin_start bigint,
                point_count bigint, int_sum bigint, float_sum double, numerator bigint, denominator bigint,
                histogram text,
                primary key ((metadata_key, event_type, summary_window, bucket), bin_start)
            ) with clustering order by (bin_start asc)
              and compaction = {{'class': 'TimeWindowCompactionStrategy',
                                 'compaction_window_unit': 'DAYS', 'compaction_window_size': {bin_window_days}}}"
        ),
        // Which partitions each series uses, so that reads skip empty time ranges.
        format!(
            "create table if not exists {keyspace}.series_buckets (
                metadata_key text, event_type text, summary_window bigint, bucket bigint,
                primary key ((metadata_key, event_type, summary_window), bucket)
            )"
        ),
        // Series that took recent points, by the hour in which some of their bins close, for the
        // settling pass (crate::settling). Entries are read within hours; they expire after 30 days.
        format!(
            "create table if not exists {keyspace}.summary_queue (
                slot bigint, metadata_key text, event_type text, windows list<bigint>,
                primary key (slot, metadata_key, event_type)
            ) with default_time_to_live = 2592000"
        ),
        // Every bin ending at or before `through` is stored settled. Written with the value
        // itself as the write time, so that the latest time always wins.
        format!(
            "create table if not exists {keyspace}.summary_settled (
                name text primary key, through bigint
            )"
        ),
    ]
}

/// Creates the keyspace (with the configured replication) and the tables if missing, and waits
/// for schema agreement.
pub(super) async fn init(session: &Session, settings: &CassandraSettings) -> Result<()> {
    let keyspace = settings.checked_keyspace()?;
    for statement in statements(keyspace, &settings.replication()) {
        session
            .query_unpaged(statement, &[])
            .await
            .map_err(ddl_error)?;
    }
    session.await_schema_agreement().await.map_err(ddl_error)?;
    Ok(())
}

/// What the driver sees of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterStatus {
    /// Each node: address, data centre, and whether the driver holds a connection to it.
    pub nodes: Vec<(String, Option<String>, bool)>,
    /// The keyspace's replication options, or `None` if it does not exist.
    pub replication: Option<HashMap<String, String>>,
}

impl CassandraSettings {
    /// Creates the keyspace and tables if missing.
    pub async fn init_schema(&self) -> Result<()> {
        init(&self.session().await?, self).await
    }

    /// Sets the keyspace's replication to `replicas` (every configured data centre, or
    /// SimpleStrategy) and returns the new replication.
    pub async fn set_replicas(&self, replicas: u32) -> Result<Replication> {
        let keyspace = self.checked_keyspace()?;
        let replication = match self.replication() {
            Replication::Simple(_) => Replication::Simple(replicas),
            Replication::NetworkTopology(datacenters) => Replication::NetworkTopology(
                datacenters
                    .into_keys()
                    .map(|datacenter| (datacenter, replicas))
                    .collect(),
            ),
        };
        let session = self.session().await?;
        let statement = format!(
            "alter keyspace {keyspace} with replication = {}",
            replication.to_cql()
        );
        session
            .query_unpaged(statement, &[])
            .await
            .map_err(ddl_error)?;
        session.await_schema_agreement().await.map_err(ddl_error)?;
        Ok(replication)
    }

    /// Returns the nodes the driver sees and the keyspace's replication.
    pub async fn status(&self) -> Result<ClusterStatus> {
        let session = self.session().await?;
        // Give the pools a moment to connect, so that "up" means reachable now.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let state = session.get_cluster_state();
        let nodes = state
            .get_nodes_info()
            .iter()
            .map(|node| {
                (
                    node.address.to_string(),
                    node.datacenter.clone(),
                    node.is_connected(),
                )
            })
            .collect();
        let result = session
            .query_unpaged(
                "select replication from system_schema.keyspaces where keyspace_name = ?",
                (self.checked_keyspace()?,),
            )
            .await
            .map_err(ddl_error)?;
        let rows = result.into_rows_result().map_err(ddl_error)?;
        let replication = rows
            .maybe_first_row::<(HashMap<String, String>,)>()
            .map_err(ddl_error)?
            .map(|(replication,)| replication);
        Ok(ClusterStatus { nodes, replication })
    }
}
