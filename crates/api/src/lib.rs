//! esmond's perfSONAR archive REST interface on axum.
//!
//! Layout: [`routes`] declares the routes, one module per resource, and [`view`] wraps each of
//! them in esmond's per-request checks (path syntax, trailing slash, content negotiation,
//! authentication, permission, `Allow`/`Vary`). [`archive`] and [`series`] hold what a request
//! means for the archive, free of HTTP types, with [`freshness`] coalescing `time-updated`; [`search`] turns query strings into metadata searches with
//! [`dns`] resolving host names; [`render`] and [`links`] build esmond's JSON and URLs;
//! [`wire`] and [`error`] write esmond's bytes and error bodies.

mod archive;
mod auth;
mod dns;
mod error;
mod freshness;
mod lifecycle;
mod links;
mod negotiate;
mod registrations;
mod render;
mod routes;
mod search;
mod series;
mod view;
mod wire;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use esmond_metadata::MetadataStore;
use esmond_storage::SeriesStore;
use ipnet::IpNet;

pub use auth::KeyCache;
pub use dns::HostResolver;
pub use error::ApiError;
pub use freshness::UpdateTracker;
pub use lifecycle::Lifecycle;
pub use registrations::Registrations;

/// Settings of the HTTP interface.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Path prefix in front of `/perfsonar/`, e.g. `/esmond`, or empty.
    pub prefix: String,
    /// Peers whose `X-Forwarded-For` header names the client for IP authentication.
    pub trusted_proxies: Vec<IpNet>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            prefix: "/esmond".to_owned(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Everything a request handler may need; cheap to clone.
#[derive(Debug, Clone, FromRef)]
pub struct AppState {
    /// Metadata, users, keys and networks.
    pub metadata: MetadataStore,
    /// Base points and summaries.
    pub series: SeriesStore,
    /// Coalesced `time-updated` writes.
    pub updates: UpdateTracker,
    /// Records the write path needs, cached.
    pub registrations: Registrations,
    /// API keys found valid recently.
    pub keys: KeyCache,
    /// Whether the node is shutting down.
    pub lifecycle: Lifecycle,
    /// Host name resolution for the subject filters.
    pub resolver: HostResolver,
    /// HTTP settings.
    pub config: Arc<ApiConfig>,
}

/// Returns the application's router, ready to serve (with connect info for IP authentication).
pub fn router(state: AppState) -> Router {
    routes::router(state)
}
