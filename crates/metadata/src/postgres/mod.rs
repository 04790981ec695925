//! The clustered backend: metadata, users, keys and networks in PostgreSQL, shared by every API
//! node. Listing queries can go to a read-only replica.
//!
//! Queries are built at run time (the search has a dozen optional filters) and checked by the
//! shared black-box suite, which runs against this backend; values always go in as bind
//! parameters.

mod auth;
mod records;
mod search;

use std::time::Duration;

use async_trait::async_trait;
use esmond_model::{Metadata, NewMetadata};
use ipnet::IpNet;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::{
    ApiKeyInfo, Error, MetadataFilter, MetadataPage, MetadataRepository, Result, User, UserNetwork,
};

/// How to reach PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgSettings {
    /// The primary, for every write and for reads on the write path.
    pub primary: PgConnectOptions,
    /// A read-only replica for metadata listings, if any.
    pub replica: Option<PgConnectOptions>,
    /// Connections per pool.
    pub pool_size: u32,
    /// How long a request waits for a connection before it fails with `Unavailable`.
    pub acquire_timeout: Duration,
    /// Whether to apply pending migrations on connect.
    pub migrate: bool,
}

/// Metadata kept in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgMetadataStore {
    primary: PgPool,
    replica: PgPool,
}

fn pool(options: &PgConnectOptions, settings: &PgSettings) -> PgPool {
    // Lazy: a node starts (and answers 503) while PostgreSQL is down, and reconnects by itself.
    PgPoolOptions::new()
        .max_connections(settings.pool_size)
        .acquire_timeout(settings.acquire_timeout)
        .connect_lazy_with(options.clone())
}

impl PgMetadataStore {
    /// Connects (lazily) and, if asked, applies pending migrations.
    pub async fn connect(settings: &PgSettings) -> Result<Self> {
        let primary = pool(&settings.primary, settings);
        let replica = settings
            .replica
            .as_ref()
            .map_or_else(|| primary.clone(), |replica| pool(replica, settings));
        let store = PgMetadataStore { primary, replica };
        if settings.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Applies pending migrations (`migrations/postgres`); concurrent nodes wait on sqlx's
    /// advisory lock.
    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("../../migrations/postgres")
            .run(&self.primary)
            .await
            .map_err(|error| match error {
                sqlx::migrate::MigrateError::Execute(inner) => Error::from(inner),
                other => Error::Internal(Box::new(other)),
            })
    }

    /// Returns the primary pool.
    pub fn pool(&self) -> &PgPool {
        &self.primary
    }
}

#[async_trait]
impl MetadataRepository for PgMetadataStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.primary).await?;
        Ok(())
    }

    async fn create_metadata(&self, new: &NewMetadata) -> Result<Metadata> {
        records::create(&self.primary, new).await
    }

    async fn import_metadata(&self, metadata: &Metadata, checksum: &str) -> Result<()> {
        records::import(&self.primary, metadata, checksum).await
    }

    async fn find_metadata(&self, filter: &MetadataFilter) -> Result<MetadataPage> {
        search::find(&self.replica, filter).await
    }

    async fn get_metadata(&self, key: &str) -> Result<Option<Metadata>> {
        let filter = MetadataFilter {
            metadata_key: Some(key.to_owned()),
            limit: 1,
            ..MetadataFilter::default()
        };
        Ok(search::find(&self.primary, &filter).await?.records.pop())
    }

    async fn register_event_type(&self, key: &str, event_type: &str) -> Result<bool> {
        records::register_event_type(&self.primary, key, event_type).await
    }

    async fn mark_updated(&self, key: &str, event_type: &str, time: i64) -> Result<()> {
        records::mark_updated(&self.primary, key, event_type, time).await
    }

    async fn add_user(&self, name: &str) -> Result<User> {
        auth::add_user(&self.primary, name).await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        auth::list_users(&self.primary).await
    }

    async fn set_user_active(&self, name: &str, active: bool) -> Result<()> {
        auth::set_user_active(&self.primary, name, active).await
    }

    async fn remove_user(&self, name: &str) -> Result<()> {
        auth::remove_user(&self.primary, name).await
    }

    async fn add_api_key(&self, user: &str, key_hash: &str, hint: &str) -> Result<()> {
        auth::add_api_key(&self.primary, user, key_hash, hint).await
    }

    async fn user_for_api_key(&self, key_hash: &str) -> Result<Option<User>> {
        auth::user_for_api_key(&self.primary, key_hash).await
    }

    async fn revoke_api_key(&self, key_hash: &str) -> Result<bool> {
        auth::revoke_api_key(&self.primary, key_hash).await
    }

    async fn revoke_user_api_keys(&self, user: &str) -> Result<u64> {
        auth::revoke_user_api_keys(&self.primary, user).await
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>> {
        auth::list_api_keys(&self.primary).await
    }

    async fn allow_network(&self, user: &str, network: IpNet) -> Result<()> {
        auth::allow_network(&self.primary, user, network).await
    }

    async fn remove_network(&self, user: &str, network: IpNet) -> Result<bool> {
        auth::remove_network(&self.primary, user, network).await
    }

    async fn list_networks(&self) -> Result<Vec<UserNetwork>> {
        auth::list_networks(&self.primary).await
    }
}
