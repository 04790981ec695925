//! The `esmond-rs` binary's library: configuration, the command line, wiring the stores into the
//! HTTP application, and the admin commands.
//!
//! Layout: [`settings`] loads the layered configuration; [`cli`] parses the command line and runs
//! the admin commands; [`Application`] binds the listener and serves until shutdown;
//! [`telemetry`] sets up logging.

pub mod cli;
pub mod settings;
pub mod telemetry;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use esmond_api::{ApiConfig, AppState, HostResolver};
use esmond_metadata::MetadataStore;
use esmond_metadata::sqlite::SqliteMetadataStore;
use tokio::net::TcpListener;

pub use settings::Settings;

/// Name of the SQLite file inside the data directory.
pub const DATABASE_FILE: &str = "esmond.sqlite3";

/// Opens the metadata store the settings describe, creating the data directory if needed.
pub async fn open_metadata(settings: &Settings) -> anyhow::Result<MetadataStore> {
    let data_dir = &settings.storage.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("failed to create the data directory {}", data_dir.display()))?;
    let path = data_dir.join(DATABASE_FILE);
    let store = SqliteMetadataStore::open(&path)
        .await
        .with_context(|| format!("failed to open the database {}", path.display()))?;
    Ok(Arc::new(store))
}

/// A bound, ready-to-serve esmond-rs.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Opens the stores and binds the listener (port 0 picks a free port).
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        let metadata = open_metadata(settings).await?;
        let config = ApiConfig {
            prefix: settings.http.prefix.trim_end_matches('/').to_owned(),
            trusted_proxies: settings.http.trusted_proxies.clone(),
        };
        let resolver = HostResolver::system(Duration::from_millis(settings.http.dns_timeout_ms));
        let state = AppState {
            metadata,
            resolver,
            config: Arc::new(config),
        };
        let listener = TcpListener::bind(settings.http.listen)
            .await
            .with_context(|| format!("failed to listen on {}", settings.http.listen))?;
        Ok(Application { listener, state })
    }

    /// Returns the address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Returns the port the server listens on.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves requests until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app =
            esmond_api::router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("server failed")
    }
}

/// Resolves when the process receives SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "failed to listen for ctrl-c");
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => tracing::error!(%error, "failed to listen for sigterm"),
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
