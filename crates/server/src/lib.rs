//! The `esmond-rs` binary's library: configuration, the command line, wiring the stores into the
//! HTTP application, and the admin commands.
//!
//! Layout: [`settings`] loads the layered configuration; [`cli`] parses the command line and runs
//! the admin commands; [`Application`] binds the listener and serves until shutdown;
//! [`telemetry`] sets up logging.

pub mod cli;
pub mod esmond_conf;
pub mod settings;
pub mod telemetry;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use esmond_api::{
    ApiConfig, AppState, HostResolver, KeyCache, Lifecycle, Registrations, UpdateTracker,
};
use esmond_metadata::MetadataStore;
use esmond_metadata::postgres::PgMetadataStore;
use esmond_metadata::sqlite::SqliteMetadataStore;
use esmond_storage::SeriesStore;
use esmond_storage::cassandra::CassandraSeriesStore;
use esmond_storage::sqlite::SqliteSeriesStore;
use tokio::net::TcpListener;
use tokio::sync::watch;

use settings::DuplicateCheck;
pub use settings::Settings;

/// Name of the SQLite file inside the data directory.
pub const DATABASE_FILE: &str = "esmond.sqlite3";

/// The stores the settings describe.
#[derive(Debug, Clone)]
pub struct Stores {
    /// Metadata, users, keys and networks.
    pub metadata: MetadataStore,
    /// Base points and summaries.
    pub series: SeriesStore,
}

/// Opens the stores the settings describe, creating the data directory if needed: metadata in
/// PostgreSQL when configured, otherwise everything in the embedded SQLite file.
pub async fn open_stores(settings: &Settings) -> anyhow::Result<Stores> {
    let data_dir = &settings.storage.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("failed to create the data directory {}", data_dir.display()))?;
    let path = data_dir.join(DATABASE_FILE);
    let embedded = SqliteMetadataStore::open(&path)
        .await
        .with_context(|| format!("failed to open the database {}", path.display()))?;
    let series = if settings.cassandra.is_configured() {
        let cassandra = CassandraSeriesStore::connect(&settings.cassandra)
            .await
            .with_context(|| {
                format!(
                    "failed to connect to cassandra at {}",
                    settings.cassandra.nodes.join(", ")
                )
            })?;
        SeriesStore::new(Arc::new(cassandra))
    } else {
        SeriesStore::new(Arc::new(SqliteSeriesStore::new(embedded.pool().clone())))
    };
    let series = match settings.storage.settle_after_secs {
        0 => series,
        delay => series.with_settling(Duration::from_secs(delay)),
    };
    let series = match settings.storage.duplicate_check {
        DuplicateCheck::Known => series.with_known_points(),
        DuplicateCheck::Read => series,
    };
    if !settings.postgres.is_configured() {
        return Ok(Stores {
            metadata: Arc::new(embedded),
            series,
        });
    }
    let postgres = PgMetadataStore::connect(&settings.postgres.pg_settings()?)
        .await
        .context("failed to prepare the postgresql metadata store")?;
    Ok(Stores {
        metadata: Arc::new(postgres),
        series,
    })
}

/// Opens the metadata store the settings describe (for the admin commands).
pub async fn open_metadata(settings: &Settings) -> anyhow::Result<MetadataStore> {
    Ok(open_stores(settings).await?.metadata)
}

/// A bound, ready-to-serve esmond-rs.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// How long the node stays up, not ready, before it stops listening.
    drain: Duration,
}

impl Application {
    /// Opens the stores and binds the listener (port 0 picks a free port).
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        let Stores { metadata, series } = open_stores(settings).await?;
        let interval = Duration::from_secs(settings.storage.time_updated_interval_secs);
        let updates = UpdateTracker::new(metadata.clone(), interval);
        let config = ApiConfig {
            prefix: settings.http.prefix.trim_end_matches('/').to_owned(),
            trusted_proxies: settings.http.trusted_proxies.clone(),
        };
        let resolver = HostResolver::system(Duration::from_millis(settings.http.dns_timeout_ms));
        let registrations = Registrations::new(metadata.clone());
        let state = AppState {
            metadata,
            series,
            updates,
            registrations,
            keys: KeyCache::new(Duration::from_secs(settings.http.api_key_cache_secs)),
            lifecycle: Lifecycle::default(),
            resolver,
            config: Arc::new(config),
        };
        let listener = TcpListener::bind(settings.http.listen)
            .await
            .with_context(|| format!("failed to listen on {}", settings.http.listen))?;
        let drain = Duration::from_secs(settings.http.shutdown_grace_secs);
        Ok(Application {
            listener,
            state,
            drain,
        })
    }

    /// Returns the address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Returns the server's `time-updated` tracker (for metrics and tests).
    pub fn updates(&self) -> UpdateTracker {
        self.state.updates.clone()
    }

    /// Returns the port the server listens on.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves requests until `shutdown` completes. Then the node fails `/readyz` for the drain
    /// period (so a balancer stops sending to it), stops listening, finishes in-flight requests,
    /// and flushes pending `time-updated` marks.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let (lifecycle, drain) = (self.state.lifecycle.clone(), self.drain);
        tokio::spawn(async move {
            shutdown.await;
            lifecycle.start_draining();
            if !drain.is_zero() {
                tracing::info!(
                    seconds = drain.as_secs(),
                    "not ready any more; draining before stopping"
                );
                tokio::time::sleep(drain).await;
            }
            let _ = stop.send(true);
        });
        let wait = |mut receiver: watch::Receiver<bool>| async move {
            let _ = receiver.wait_for(|stopped| *stopped).await;
        };
        let flusher = tokio::spawn(self.state.updates.clone().run(wait(stopped.clone())));
        let settler = tokio::spawn(settle(self.state.series.clone(), wait(stopped.clone())));
        let app =
            esmond_api::router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        // Answers are small and written whole: send them at once rather than wait for an ACK.
        let listener = self.listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "could not set TCP_NODELAY");
            }
        });
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(wait(stopped))
            .await;
        // The flusher stops on the same signal; its last flush covers the last requests.
        let _ = flusher.await;
        let _ = settler.await;
        served.context("server failed")
    }
}

/// Seconds between two settling passes.
const SETTLE_EVERY: Duration = Duration::from_secs(30);

/// Runs the settling pass now and then every [`SETTLE_EVERY`] until `stop` completes. Every node
/// runs it; a pass that finds the hours settled by another node has nothing to do.
async fn settle(series: SeriesStore, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        let now = esmond_storage::now();
        // A pass cut short by the stop loses nothing: its hour is redone by the next one.
        tokio::select! {
            () = &mut stop => return,
            settled = series.settle_due(now) => match settled {
                Ok(0) => {}
                Ok(hours) => tracing::info!(hours, "settled the summaries of past hours"),
                Err(error) => tracing::warn!(%error, "settling summaries failed; retrying later"),
            },
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(SETTLE_EVERY) => {}
        }
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
