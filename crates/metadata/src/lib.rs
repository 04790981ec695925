//! Metadata records, event-type registrations and their `time-updated`, and the identities that
//! may write: users, API keys (stored hashed) and IP networks.
//!
//! Layout: [`MetadataRepository`] states the contract; [`sqlite`] implements it in the embedded
//! SQLite file, [`postgres`] in a PostgreSQL shared by every API node. [`filter`] describes a metadata search, [`auth`] generates and hashes API keys.
//! Callers hold a [`MetadataStore`], a cheap cloneable handle on whichever backend is configured.

pub mod auth;
mod error;
pub mod filter;
pub mod postgres;
mod rows;
pub mod sqlite;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use esmond_model::{Metadata, NewMetadata};
use ipnet::IpNet;

pub use error::{Error, Result};
pub use filter::{MetadataFilter, MetadataPage};

/// A shared handle on the configured metadata backend.
pub type MetadataStore = Arc<dyn MetadataRepository>;

/// A user: the identity behind API keys and IP networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Unique name.
    pub name: String,
    /// Whether the user's keys are accepted.
    pub active: bool,
}

/// An API key as listed to an operator: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    /// The user the key acts as.
    pub user: String,
    /// The first characters of the key.
    pub hint: String,
    /// Creation time, epoch seconds.
    pub created_at: i64,
}

/// An IP network that authenticates as a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserNetwork {
    /// The user requests from the network act as.
    pub user: String,
    /// The network.
    pub network: IpNet,
}

/// The metadata contract, implemented by each backend.
#[async_trait]
pub trait MetadataRepository: Send + Sync + Debug {
    /// Checks that the store answers.
    async fn ping(&self) -> Result<()>;

    /// Stores a new record, or returns the existing one with the same checksum.
    async fn create_metadata(&self, new: &NewMetadata) -> Result<Metadata>;

    /// Stores a record with a given key (an import from esmond, or a test fixture).
    async fn import_metadata(&self, metadata: &Metadata, checksum: &str) -> Result<()>;

    /// Returns the page of records matching `filter`, sorted by key, and the total count.
    async fn find_metadata(&self, filter: &MetadataFilter) -> Result<MetadataPage>;

    /// Returns the record with `key`, if any.
    async fn get_metadata(&self, key: &str) -> Result<Option<Metadata>>;

    /// Registers the base row of an event type on a record if it is missing (a writer sent data
    /// its metadata never declared); returns whether a row was added. `NotFound` if there is no
    /// such record.
    async fn register_event_type(&self, key: &str, event_type: &str) -> Result<bool>;

    /// Moves `time-updated` of every row of an event type forward to `time` (epoch seconds);
    /// never backwards.
    async fn mark_updated(&self, key: &str, event_type: &str, time: i64) -> Result<()>;

    /// Creates a user; `AlreadyExists` if the name is taken.
    async fn add_user(&self, name: &str) -> Result<User>;

    /// Returns every user, sorted by name.
    async fn list_users(&self) -> Result<Vec<User>>;

    /// Enables or disables a user: a disabled user's keys are refused; `NotFound` if there is no
    /// such user.
    async fn set_user_active(&self, name: &str, active: bool) -> Result<()>;

    /// Removes a user with its keys and networks; `NotFound` if there is no such user.
    async fn remove_user(&self, name: &str) -> Result<()>;

    /// Stores a key digest for a user (creating the user if missing).
    async fn add_api_key(&self, user: &str, key_hash: &str, hint: &str) -> Result<()>;

    /// Returns the user a key digest belongs to, if any.
    async fn user_for_api_key(&self, key_hash: &str) -> Result<Option<User>>;

    /// Removes the key with this digest; returns whether one existed.
    async fn revoke_api_key(&self, key_hash: &str) -> Result<bool>;

    /// Removes every key of a user; returns how many there were.
    async fn revoke_user_api_keys(&self, user: &str) -> Result<u64>;

    /// Returns every key (without the keys themselves), sorted by user.
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>>;

    /// Lets a network authenticate as a user (creating the user if missing); `AlreadyExists`
    /// names the user that already holds exactly this network.
    async fn allow_network(&self, user: &str, network: IpNet) -> Result<()>;

    /// Removes a user's network; returns whether it existed.
    async fn remove_network(&self, user: &str, network: IpNet) -> Result<bool>;

    /// Returns every network, sorted by user then network.
    async fn list_networks(&self) -> Result<Vec<UserNetwork>>;
}
