//! Layered configuration: built-in defaults, then a TOML file, then `ESMOND_RS_*` environment
//! variables (`ESMOND_RS_HTTP__LISTEN=127.0.0.1:9000`), then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "ESMOND_RS_";

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The HTTP interface.
    pub http: HttpSettings,
    /// Where the embedded store keeps its file.
    pub storage: StorageSettings,
    /// Logging.
    pub log: LogSettings,
}

/// HTTP settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            prefix: "/esmond".to_owned(),
            trusted_proxies: Vec::new(),
            dns_timeout_ms: 2000,
        }
    }
}

/// Storage settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageSettings {
    /// Directory of the SQLite file, created if missing.
    pub data_dir: PathBuf,
    /// Longest delay, in seconds, before a write shows in `time-updated`; within it, writes to
    /// an event type cost the metadata store one update, not one per point.
    pub time_updated_interval_secs: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            data_dir: PathBuf::from("esmond-data"),
            time_updated_interval_secs: 10,
        }
    }
}

/// Logging settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Loads defaults, then `file` if given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(Box::new(figment::Error::from(format!(
                    "configuration file {} not found",
                    file.display()
                ))));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__"));
        figment.extract().map_err(Box::new)
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
            Ok(())
        });
    }

    #[allow(clippy::result_large_err)]
    #[test]
    fn the_example_file_parses_and_the_environment_wins() {
        figment::Jail::expect_with(|jail| {
            let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/esmond-rs.toml");
            jail.set_env("ESMOND_RS_HTTP__LISTEN", "127.0.0.1:9999");
            let settings =
                Settings::load(Some(Path::new(example))).expect("example configuration loads");
            assert_eq!(settings.http.listen.to_string(), "127.0.0.1:9999");
            assert_eq!(settings.http.prefix, "/esmond");
            Ok(())
        });
    }
}
