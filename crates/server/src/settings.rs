//! Layered configuration: built-in defaults, then a TOML file, then `ESMOND_RS_*` environment
//! variables (`ESMOND_RS_HTTP__LISTEN=127.0.0.1:9000`), then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::time::Duration;

use anyhow::Context;
use esmond_metadata::postgres::PgSettings;
use esmond_storage::cassandra::CassandraSettings;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sqlx::postgres::PgConnectOptions;

use crate::esmond_conf::EsmondConf;

/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "ESMOND_RS_";

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The HTTP interface.
    pub http: HttpSettings,
    /// Where the embedded store keeps its file.
    pub storage: StorageSettings,
    /// PostgreSQL for metadata, users and keys; unset keeps them in the embedded store.
    pub postgres: PostgresSettings,
    /// Cassandra for time series; unset keeps them in the embedded store.
    pub cassandra: CassandraSettings,
    /// An existing esmond.conf to take database settings from.
    pub esmond_conf: Option<PathBuf>,
    /// Logging.
    pub log: LogSettings,
}

/// PostgreSQL settings: a URL, or its parts.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PostgresSettings {
    /// `postgres://user:password@host:port/database`.
    pub url: Option<SecretString>,
    /// Host name, address, or socket directory (`/var/run/postgresql`).
    pub host: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// User.
    pub user: Option<String>,
    /// Password.
    pub password: Option<SecretString>,
    /// Database.
    pub database: Option<String>,
    /// A read-only replica for the metadata listing queries.
    pub read_replica_url: Option<SecretString>,
    /// Connections per pool (per API node).
    pub pool_size: u32,
    /// Seconds a request waits for a connection before answering 503.
    pub acquire_timeout_secs: u64,
    /// Apply pending migrations when `serve` starts.
    pub migrate: bool,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        PostgresSettings {
            url: None,
            host: None,
            port: None,
            user: None,
            password: None,
            database: None,
            read_replica_url: None,
            pool_size: 16,
            acquire_timeout_secs: 3,
            migrate: true,
        }
    }
}

impl PostgresSettings {
    /// Returns whether PostgreSQL is configured at all.
    pub fn is_configured(&self) -> bool {
        self.url.is_some() || self.host.is_some() || self.database.is_some()
    }

    /// Returns the driver options: the URL first, then the parts override it.
    pub fn connect_options(&self) -> anyhow::Result<PgConnectOptions> {
        let mut options = match &self.url {
            Some(url) => url
                .expose_secret()
                .parse::<PgConnectOptions>()
                .context("invalid postgres.url")?,
            None => PgConnectOptions::new_without_pgpass(),
        };
        if let Some(host) = &self.host {
            options = options.host(host);
        }
        if let Some(port) = self.port {
            options = options.port(port);
        }
        if let Some(user) = &self.user {
            options = options.username(user);
        }
        if let Some(password) = &self.password {
            options = options.password(password.expose_secret());
        }
        if let Some(database) = &self.database {
            options = options.database(database);
        }
        Ok(options.application_name("esmond-rs"))
    }

    /// Returns the settings the metadata store connects with.
    pub fn pg_settings(&self) -> anyhow::Result<PgSettings> {
        let replica = match &self.read_replica_url {
            Some(url) => Some(
                url.expose_secret()
                    .parse::<PgConnectOptions>()
                    .context("invalid postgres.read_replica_url")?,
            ),
            None => None,
        };
        Ok(PgSettings {
            primary: self.connect_options()?,
            replica,
            pool_size: self.pool_size.max(1),
            acquire_timeout: Duration::from_secs(self.acquire_timeout_secs.max(1)),
            migrate: self.migrate,
        })
    }

    /// Fills unset parts from an esmond.conf's `sql_db_*` keys.
    fn adopt(&mut self, conf: &EsmondConf) {
        if self.url.is_some() {
            return;
        }
        self.host = self
            .host
            .take()
            .or_else(|| conf.get("sql_db_host").map(str::to_owned));
        // esmond parses sql_db_port but never uses it; it is honoured here.
        self.port = self
            .port
            .or_else(|| conf.get("sql_db_port").and_then(|port| port.parse().ok()));
        self.user = self
            .user
            .take()
            .or_else(|| conf.get("sql_db_user").map(str::to_owned));
        self.password = self.password.take().or_else(|| {
            conf.get("sql_db_password")
                .map(|p| SecretString::from(p.to_owned()))
        });
        self.database = self
            .database
            .take()
            .or_else(|| conf.get("sql_db_name").map(str::to_owned));
        if self.database.is_some() && self.host.is_none() {
            // esmond connects through the local socket when sql_db_host is empty.
            self.host = Some("/var/run/postgresql".to_owned());
        }
    }
}

/// Fills unset Cassandra settings from an esmond.conf's `cassandra_*` keys (esmond ignored
/// `cassandra_keyspace` and `cassandra_replicas`; they are honoured here).
fn adopt_cassandra(settings: &mut CassandraSettings, conf: &EsmondConf) {
    if settings.nodes.is_empty()
        && let Some(servers) = conf.get("cassandra_servers")
    {
        settings.nodes = cql_nodes(servers);
    }
    let defaults = CassandraSettings::default();
    if settings.keyspace == defaults.keyspace
        && let Some(keyspace) = conf.get("cassandra_keyspace")
    {
        settings.keyspace = keyspace.to_owned();
    }
    if settings.replicas == defaults.replicas
        && let Some(replicas) = conf
            .get("cassandra_replicas")
            .and_then(|replicas| replicas.parse().ok())
    {
        settings.replicas = replicas;
    }
    if settings.user.is_none() && settings.password.is_none() {
        // esmond uses the credentials only when both are set.
        if let (Some(user), Some(password)) =
            (conf.get("cassandra_user"), conf.get("cassandra_pass"))
        {
            settings.user = Some(user.to_owned());
            settings.password = Some(SecretString::from(password.to_owned()));
        }
    }
}

/// Reads esmond's `cassandra_servers` (`host:port` separated by commas or spaces); the Thrift port
/// 9160 of old installations becomes CQL's 9042.
fn cql_nodes(servers: &str) -> Vec<String> {
    let mut nodes = Vec::new();
    for server in servers
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|server| !server.is_empty())
    {
        match server.rsplit_once(':') {
            Some((host, "9160")) => {
                tracing::warn!(
                    server,
                    "esmond.conf names the thrift port 9160; using cql port 9042"
                );
                nodes.push(format!("{host}:9042"));
            }
            _ => nodes.push(server.to_owned()),
        }
    }
    nodes
}

/// HTTP settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Path in front of `/perfsonar/archive/`; `/esmond` as packaged esmond, or empty.
    pub prefix: String,
    /// Proxies (e.g. HAProxy) whose `X-Forwarded-For` names the client for IP authentication.
    pub trusted_proxies: Vec<IpNet>,
    /// How long a host name lookup of a search filter may take, in milliseconds.
    pub dns_timeout_ms: u64,
    /// Seconds between SIGTERM and closing the listener, during which `/readyz` fails so that a
    /// balancer moves traffic away; in-flight requests then finish.
    pub shutdown_grace_secs: u64,
    /// Seconds a node trusts an API key it has found valid. A revoked key, or a disabled or
    /// removed user, stops working on every node within this time; 0 asks the store on every
    /// request, as esmond does.
    pub api_key_cache_secs: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            prefix: "/esmond".to_owned(),
            trusted_proxies: Vec::new(),
            dns_timeout_ms: 2000,
            shutdown_grace_secs: 5,
            api_key_cache_secs: 10,
        }
    }
}

/// Storage settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StorageSettings {
    /// Directory of the SQLite file, created if missing.
    pub data_dir: PathBuf,
    /// Longest delay, in seconds, before a write shows in `time-updated`; within it, writes to
    /// an event type cost the metadata store one update, not one per point.
    pub time_updated_interval_secs: u64,
    /// Points that arrive within this many seconds of their time leave their summary bins to
    /// a background pass, which stores them once the hour is over by this delay (plus five
    /// minutes for clock differences); reads fold them meanwhile. Later points update their bins
    /// at write time. 0 updates every bin at write time.
    pub settle_after_secs: u64,
    /// How esmond's duplicate check (409 for a numeric point already stored) finds the stored
    /// points.
    pub duplicate_check: DuplicateCheck,
}

/// How the duplicate check finds stored points.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DuplicateCheck {
    /// A node reads a record's day once, then answers from what it read and has stored since;
    /// earlier seconds are read. A run posted again through another API node may be stored
    /// again (same values) and answered 201.
    #[default]
    Known,
    /// Every write reads first, so that any node answers 409 for a point any node stored.
    Read,
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            data_dir: PathBuf::from("esmond-data"),
            time_updated_interval_secs: 10,
            settle_after_secs: 900,
            duplicate_check: DuplicateCheck::Known,
        }
    }
}

/// Logging settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// A `tracing` filter; `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            filter: "esmond_api=info,esmond_server=info,esmond_metadata=info,tower_http=warn"
                .to_owned(),
        }
    }
}

impl Settings {
    /// Loads defaults, then `file` if given, then the environment, then the esmond.conf named
    /// by `esmond_conf` for whatever database settings are still unset.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            anyhow::ensure!(
                file.exists(),
                "configuration file {} not found",
                file.display()
            );
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__"));
        let mut settings: Settings = figment.extract().map_err(Box::new)?;
        if let Some(path) = settings.esmond_conf.clone() {
            let conf = EsmondConf::read(&path)?;
            settings.postgres.adopt(&conf);
            adopt_cassandra(&mut settings.cassandra, &conf);
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // figment's Jail closures return figment::Error by value; its size is figment's choice. The
    // jail also serialises the tests that read the process environment.
    #[allow(clippy::result_large_err)]
    #[test]
    fn defaults_need_no_file() {
        figment::Jail::expect_with(|_| {
            let settings = Settings::load(None).expect("defaults load");
            assert_eq!(settings.http.listen.to_string(), "127.0.0.1:8080");
            assert_eq!(settings.http.prefix, "/esmond");
            assert_eq!(settings.storage.data_dir, PathBuf::from("esmond-data"));
            assert!(!settings.cassandra.write_coalescing);
            assert_eq!(settings.storage.duplicate_check, DuplicateCheck::Known);
            Ok(())
        });
    }

    #[allow(clippy::result_large_err)]
    #[test]
    fn the_example_file_parses_and_the_environment_wins() {
        figment::Jail::expect_with(|jail| {
            let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/esmond-rs.toml");
            jail.set_env("ESMOND_RS_HTTP__LISTEN", "127.0.0.1:9999");
            jail.set_env("ESMOND_RS_CASSANDRA__WRITE_COALESCING", "true");
            jail.set_env("ESMOND_RS_STORAGE__DUPLICATE_CHECK", "read");
            let settings =
                Settings::load(Some(Path::new(example))).expect("example configuration loads");
            assert_eq!(settings.http.listen.to_string(), "127.0.0.1:9999");
            assert!(settings.cassandra.write_coalescing);
            assert_eq!(settings.storage.duplicate_check, DuplicateCheck::Read);
            assert_eq!(settings.http.prefix, "/esmond");
            Ok(())
        });
    }

    #[allow(clippy::result_large_err)]
    #[test]
    fn an_esmond_conf_supplies_the_database() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "esmond.conf",
                "[main]\nsql_db_name = esmond\nsql_db_user = esmond\nsql_db_password = pw\nsql_db_host = db.example.net\n",
            )?;
            jail.set_env("ESMOND_RS_ESMOND_CONF", "esmond.conf");
            let settings = Settings::load(None).expect("settings load");
            assert!(settings.postgres.is_configured());
            let options = settings.postgres.connect_options().expect("options");
            assert_eq!(options.get_host(), "db.example.net");
            assert_eq!(options.get_username(), "esmond");
            assert_eq!(options.get_database(), Some("esmond"));

            // Explicit settings win over the file.
            jail.set_env("ESMOND_RS_POSTGRES__DATABASE", "archive");
            let settings = Settings::load(None).expect("settings load");
            assert_eq!(
                settings.postgres.connect_options().unwrap().get_database(),
                Some("archive")
            );
            Ok(())
        });
    }

    #[allow(clippy::result_large_err)]
    #[test]
    fn without_postgres_settings_the_embedded_store_is_used() {
        figment::Jail::expect_with(|_| {
            assert!(
                !Settings::load(None)
                    .expect("settings load")
                    .postgres
                    .is_configured()
            );
            Ok(())
        });
    }

    #[allow(clippy::result_large_err)]
    #[test]
    fn the_example_esmond_conf_means_the_local_socket() {
        figment::Jail::expect_with(|jail| {
            let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/esmond.conf");
            jail.set_env("ESMOND_RS_ESMOND_CONF", example);
            let options = Settings::load(None)
                .expect("settings load")
                .postgres
                .connect_options()
                .unwrap();
            assert_eq!(options.get_host(), "/var/run/postgresql");
            assert_eq!(options.get_database(), Some("esmond"));
            Ok(())
        });
    }
}
