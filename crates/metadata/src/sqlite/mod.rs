//! The embedded backend: metadata, users, keys and networks in one local SQLite file.
//!
//! Queries are built at run time (the search has a dozen optional filters) and checked by the
//! shared black-box suite rather than by sqlx's compile-time macros; values always go in as
//! bind parameters.

mod auth;
mod records;
mod search;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use esmond_model::{Metadata, NewMetadata};
use ipnet::IpNet;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{
    ApiKeyInfo, Error, MetadataFilter, MetadataPage, MetadataRepository, Result, User, UserNetwork,
};

/// How long a connection waits for another writer before giving up with `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in the pool; SQLite serialises writers, readers run side by side under WAL.
const MAX_CONNECTIONS: u32 = 8;

/// Metadata kept in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteMetadataStore {
    pool: SqlitePool,
}

impl SqliteMetadataStore {
    /// Opens (creating if needed) the database file at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        migrate(&pool).await?;
        Ok(SqliteMetadataStore { pool })
    }

    /// Returns the connection pool, for other stores that share the file.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Applies pending migrations. SQLite has no migration lock, so when two processes open a new
/// file at once (`serve` and an admin command) one of them can fail half-way; it retries and
/// then finds the migrations applied.
async fn migrate(pool: &SqlitePool) -> Result<()> {
    let migrator = sqlx::migrate!("../../migrations/sqlite");
    let mut attempt = 0;
    loop {
        match migrator.run(pool).await {
            Ok(()) => return Ok(()),
            Err(error) if attempt < 5 => {
                tracing::debug!(%error, "migration raced with another process, retrying");
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            Err(error) => return Err(Error::Internal(Box::new(error))),
        }
    }
}

#[async_trait]
impl MetadataRepository for SqliteMetadataStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_metadata(&self, new: &NewMetadata) -> Result<Metadata> {
        records::create(&self.pool, new).await
    }

    async fn import_metadata(&self, metadata: &Metadata, checksum: &str) -> Result<()> {
        records::import(&self.pool, metadata, checksum).await
    }

    async fn find_metadata(&self, filter: &MetadataFilter) -> Result<MetadataPage> {
        search::find(&self.pool, filter).await
    }

    async fn get_metadata(&self, key: &str) -> Result<Option<Metadata>> {
        let filter = MetadataFilter {
            metadata_key: Some(key.to_owned()),
            limit: 1,
            ..MetadataFilter::default()
        };
        Ok(search::find(&self.pool, &filter).await?.records.pop())
    }

    async fn register_event_type(&self, key: &str, event_type: &str) -> Result<bool> {
        records::register_event_type(&self.pool, key, event_type).await
    }

    async fn mark_updated(&self, key: &str, event_type: &str, time: i64) -> Result<()> {
        records::mark_updated(&self.pool, key, event_type, time).await
    }

    async fn add_user(&self, name: &str) -> Result<User> {
        auth::add_user(&self.pool, name).await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        auth::list_users(&self.pool).await
    }

    async fn set_user_active(&self, name: &str, active: bool) -> Result<()> {
        auth::set_user_active(&self.pool, name, active).await
    }

    async fn remove_user(&self, name: &str) -> Result<()> {
        auth::remove_user(&self.pool, name).await
    }

    async fn add_api_key(&self, user: &str, key_hash: &str, hint: &str) -> Result<()> {
        auth::add_api_key(&self.pool, user, key_hash, hint).await
    }

    async fn user_for_api_key(&self, key_hash: &str) -> Result<Option<User>> {
        auth::user_for_api_key(&self.pool, key_hash).await
    }

    async fn revoke_api_key(&self, key_hash: &str) -> Result<bool> {
        auth::revoke_api_key(&self.pool, key_hash).await
    }

    async fn revoke_user_api_keys(&self, user: &str) -> Result<u64> {
        auth::revoke_user_api_keys(&self.pool, user).await
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>> {
        auth::list_api_keys(&self.pool).await
    }

    async fn allow_network(&self, user: &str, network: IpNet) -> Result<()> {
        auth::allow_network(&self.pool, user, network).await
    }

    async fn remove_network(&self, user: &str, network: IpNet) -> Result<bool> {
        auth::remove_network(&self.pool, user, network).await
    }

    async fn list_networks(&self) -> Result<Vec<UserNetwork>> {
        auth::list_networks(&self.pool).await
    }
}
