//! How to reach Cassandra and how to lay out the keyspace.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::statement::Consistency;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::retention::{RetentionPolicy, RetentionRule};
use super::retry::SchemaLagRetryPolicy;
use crate::{Error, Result};

/// Cassandra settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CassandraSettings {
    /// Every node, `host` or `host:port` (9042 by default). All are contact points, so the
    /// archive starts and serves while any one of them is down. Empty: Cassandra is not used.
    pub nodes: Vec<String>,
    /// Keyspace of the time series.
    pub keyspace: String,
    /// Replication factor with SimpleStrategy (when `datacenters` is empty).
    pub replicas: u32,
    /// Replication factor per data centre, for NetworkTopologyStrategy.
    pub datacenters: BTreeMap<String, u32>,
    /// Consistency of reads and writes: `ONE`, `QUORUM`, `LOCAL_QUORUM`, `ALL`, ...
    pub consistency: String,
    /// Seconds before a query times out (pScheduler gives up on a request after 5).
    pub request_timeout_secs: u64,
    /// Seconds to wait for a node's connection.
    pub connect_timeout_secs: u64,
    /// Let the driver hold a statement back briefly to send it with others in one write.
    ///
    /// Off by default: an API node's requests arrive one HTTP request at a time, sharing the
    /// runtime with every open connection, and the hold-back then only delays them. A bulk
    /// writer that keeps many statements in flight gains from it.
    pub write_coalescing: bool,
    /// User, with `password`, when the cluster requires authentication.
    pub user: Option<String>,
    /// Password of `user`.
    pub password: Option<SecretString>,
    /// Create the keyspace and tables when `serve` starts (`esmond-rs cassandra init` does it on
    /// demand).
    pub init: bool,
    /// Retention rules in the form of esmond's `ps_remove_data.conf`; empty: the shipped policy.
    pub retention: Vec<RetentionRule>,
    /// A `ps_remove_data.conf` file to read the rules from instead.
    pub retention_file: Option<PathBuf>,
}

impl Default for CassandraSettings {
    fn default() -> Self {
        CassandraSettings {
            nodes: Vec::new(),
            keyspace: "esmond".to_owned(),
            replicas: 1,
            datacenters: BTreeMap::new(),
            consistency: "LOCAL_QUORUM".to_owned(),
            request_timeout_secs: 4,
            connect_timeout_secs: 5,
            write_coalescing: false,
            user: None,
            password: None,
            init: true,
            retention: Vec::new(),
            retention_file: None,
        }
    }
}

/// The keyspace's replication strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replication {
    /// SimpleStrategy with this factor.
    Simple(u32),
    /// NetworkTopologyStrategy with a factor per data centre.
    NetworkTopology(BTreeMap<String, u32>),
}

impl Replication {
    /// Returns the CQL replication map.
    pub fn to_cql(&self) -> String {
        match self {
            Replication::Simple(factor) => {
                format!("{{'class': 'SimpleStrategy', 'replication_factor': {factor}}}")
            }
            Replication::NetworkTopology(datacenters) => {
                let factors: Vec<String> = datacenters
                    .iter()
                    .map(|(datacenter, factor)| {
                        format!("'{}': {factor}", datacenter.replace('\'', "''"))
                    })
                    .collect();
                format!(
                    "{{'class': 'NetworkTopologyStrategy', {}}}",
                    factors.join(", ")
                )
            }
        }
    }
}

fn parse_consistency(text: &str) -> Option<Consistency> {
    Some(
        match text.trim().to_ascii_uppercase().replace('-', "_").as_str() {
            "ANY" => Consistency::Any,
            "ONE" => Consistency::One,
            "TWO" => Consistency::Two,
            "THREE" => Consistency::Three,
            "QUORUM" => Consistency::Quorum,
            "ALL" => Consistency::All,
            "LOCAL_QUORUM" => Consistency::LocalQuorum,
            "EACH_QUORUM" => Consistency::EachQuorum,
            "LOCAL_ONE" => Consistency::LocalOne,
            _ => return None,
        },
    )
}

impl CassandraSettings {
    /// Returns whether Cassandra is configured.
    pub fn is_configured(&self) -> bool {
        !self.nodes.is_empty()
    }

    /// Returns the replication the settings ask for.
    pub fn replication(&self) -> Replication {
        if self.datacenters.is_empty() {
            Replication::Simple(self.replicas.max(1))
        } else {
            Replication::NetworkTopology(self.datacenters.clone())
        }
    }

    /// Returns the configured consistency.
    pub fn consistency(&self) -> Result<Consistency> {
        parse_consistency(&self.consistency).ok_or_else(|| {
            Error::Internal(format!("unknown cassandra consistency {:?}", self.consistency).into())
        })
    }

    /// Returns the retention policy: the file, the inline rules, or the shipped default.
    pub fn retention_policy(&self) -> std::result::Result<RetentionPolicy, String> {
        if let Some(path) = &self.retention_file {
            return RetentionPolicy::from_file(path);
        }
        if self.retention.is_empty() {
            return Ok(RetentionPolicy::default());
        }
        RetentionPolicy::from_rules(&self.retention)
    }

    /// Returns the keyspace name, checked: it is the one thing interpolated into CQL.
    pub fn checked_keyspace(&self) -> Result<&str> {
        let valid = !self.keyspace.is_empty()
            && self.keyspace.len() <= 48
            && self
                .keyspace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && self
                .keyspace
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic());
        if valid {
            Ok(&self.keyspace)
        } else {
            Err(Error::Internal(
                format!("invalid cassandra keyspace name {:?}", self.keyspace).into(),
            ))
        }
    }

    /// Opens a session with every node as a contact point, at the configured consistency and
    /// timeout.
    pub async fn session(&self) -> Result<Session> {
        self.checked_keyspace()?;
        let profile = ExecutionProfile::builder()
            .retry_policy(std::sync::Arc::new(SchemaLagRetryPolicy))
            .consistency(self.consistency()?)
            .request_timeout(Some(Duration::from_secs(self.request_timeout_secs.max(1))))
            .build();
        let mut builder = SessionBuilder::new()
            .known_nodes(&self.nodes)
            .connection_timeout(Duration::from_secs(self.connect_timeout_secs.max(1)))
            .write_coalescing(self.write_coalescing)
            .default_execution_profile_handle(profile.into_handle());
        if let (Some(user), Some(password)) = (&self.user, &self.password) {
            builder = builder.user(user, password.expose_secret());
        }
        builder
            .build()
            .await
            .map_err(|error| Error::Unavailable(Box::new(error)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_maps() {
        assert_eq!(
            Replication::Simple(3).to_cql(),
            "{'class': 'SimpleStrategy', 'replication_factor': 3}"
        );
        let datacenters = BTreeMap::from([("dc1".to_owned(), 3), ("dc2".to_owned(), 2)]);
        assert_eq!(
            Replication::NetworkTopology(datacenters).to_cql(),
            "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}"
        );
    }

    #[test]
    fn settings_are_checked() {
        let mut settings = CassandraSettings::default();
        assert_eq!(settings.consistency().unwrap(), Consistency::LocalQuorum);
        settings.consistency = "one".to_owned();
        assert_eq!(settings.consistency().unwrap(), Consistency::One);
        settings.consistency = "most".to_owned();
        assert!(settings.consistency().is_err());
        settings.keyspace = "esmond; drop".to_owned();
        assert!(settings.checked_keyspace().is_err());
        assert_eq!(settings.replication(), Replication::Simple(1));
    }
}
