//! Users, API key digests and IP networks in SQLite.

use ipnet::IpNet;
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnection;

use crate::auth::digests_match;
use crate::{ApiKeyInfo, Error, Result, User, UserNetwork};

pub(super) async fn add_user(pool: &SqlitePool, name: &str) -> Result<User> {
    let inserted = sqlx::query("insert into user (name) values (?) on conflict (name) do nothing")
        .bind(name)
        .execute(pool)
        .await?;
    if inserted.rows_affected() == 0 {
        return Err(Error::AlreadyExists(format!("user {name} already exists")));
    }
    Ok(User {
        name: name.to_owned(),
        active: true,
    })
}

pub(super) async fn list_users(pool: &SqlitePool) -> Result<Vec<User>> {
    let rows: Vec<(String, bool)> = sqlx::query_as("select name, active from user order by name")
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(name, active)| User { name, active })
        .collect())
}

pub(super) async fn set_user_active(pool: &SqlitePool, name: &str, active: bool) -> Result<()> {
    let updated = sqlx::query("update user set active = ? where name = ?")
        .bind(active)
        .bind(name)
        .execute(pool)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::NotFound(format!("user {name}")));
    }
    Ok(())
}

pub(super) async fn remove_user(pool: &SqlitePool, name: &str) -> Result<()> {
    let removed = sqlx::query("delete from user where name = ?")
        .bind(name)
        .execute(pool)
        .await?;
    if removed.rows_affected() == 0 {
        return Err(Error::NotFound(format!("user {name}")));
    }
    Ok(())
}

/// Returns the user's id, creating the user if missing, as esmond's admin commands do.
async fn ensure_user(connection: &mut SqliteConnection, name: &str) -> Result<i64> {
    sqlx::query("insert into user (name) values (?) on conflict (name) do nothing")
        .bind(name)
        .execute(&mut *connection)
        .await?;
    let id = sqlx::query_scalar("select user_id from user where name = ?")
        .bind(name)
        .fetch_one(connection)
        .await?;
    Ok(id)
}

pub(super) async fn add_api_key(
    pool: &SqlitePool,
    user: &str,
    key_hash: &str,
    hint: &str,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let user_id = ensure_user(&mut tx, user).await?;
    sqlx::query("insert into api_key (user_id, key_hash, key_hint) values (?, ?, ?)")
        .bind(user_id)
        .bind(key_hash)
        .bind(hint)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn user_for_api_key(pool: &SqlitePool, key_hash: &str) -> Result<Option<User>> {
    let row: Option<(String, bool, String)> = sqlx::query_as(
        "select u.name, u.active, k.key_hash from api_key k join user u using (user_id) where k.key_hash = ?",
    )
    .bind(key_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row
        .filter(|(_, _, stored)| digests_match(stored, key_hash))
        .map(|(name, active, _)| User { name, active }))
}

pub(super) async fn revoke_api_key(pool: &SqlitePool, key_hash: &str) -> Result<bool> {
    let removed = sqlx::query("delete from api_key where key_hash = ?")
        .bind(key_hash)
        .execute(pool)
        .await?;
    Ok(removed.rows_affected() > 0)
}

pub(super) async fn revoke_user_api_keys(pool: &SqlitePool, user: &str) -> Result<u64> {
    let exists: Option<i64> = sqlx::query_scalar("select user_id from user where name = ?")
        .bind(user)
        .fetch_optional(pool)
        .await?;
    let Some(user_id) = exists else {
        return Err(Error::NotFound(format!("user {user}")));
    };
    let removed = sqlx::query("delete from api_key where user_id = ?")
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(removed.rows_affected())
}

pub(super) async fn list_api_keys(pool: &SqlitePool) -> Result<Vec<ApiKeyInfo>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "select u.name, k.key_hint, k.created_at from api_key k join user u using (user_id) order by u.name, k.created_at",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user, hint, created_at)| ApiKeyInfo {
            user,
            hint,
            created_at,
        })
        .collect())
}

pub(super) async fn allow_network(pool: &SqlitePool, user: &str, network: IpNet) -> Result<()> {
    let network = network.trunc();
    let mut tx = pool.begin().await?;
    let owner: Option<String> = sqlx::query_scalar(
        "select u.name from user_network n join user u using (user_id) where n.network = ?",
    )
    .bind(network.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(owner) = owner {
        return Err(Error::AlreadyExists(format!(
            "network {network} already belongs to user {owner}"
        )));
    }
    let user_id = ensure_user(&mut tx, user).await?;
    sqlx::query("insert into user_network (network, user_id) values (?, ?)")
        .bind(network.to_string())
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn remove_network(pool: &SqlitePool, user: &str, network: IpNet) -> Result<bool> {
    let removed = sqlx::query(
        "delete from user_network where network = ? and user_id = (select user_id from user where name = ?)",
    )
    .bind(network.trunc().to_string())
    .bind(user)
    .execute(pool)
    .await?;
    Ok(removed.rows_affected() > 0)
}

pub(super) async fn list_networks(pool: &SqlitePool) -> Result<Vec<UserNetwork>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("select u.name, n.network from user_network n join user u using (user_id) order by u.name, n.network")
            .fetch_all(pool)
            .await?;
    let mut networks = Vec::with_capacity(rows.len());
    for (user, network) in rows {
        let network = network
            .parse()
            .map_err(|error| Error::Internal(Box::new(error)))?;
        networks.push(UserNetwork { user, network });
    }
    Ok(networks)
}
