//! Users, API key digests and IP networks in PostgreSQL.

use ipnet::IpNet;
use sqlx::{PgConnection, PgPool};

use crate::auth::digests_match;
use crate::{ApiKeyInfo, Error, Result, User, UserNetwork};

pub(super) async fn add_user(pool: &PgPool, name: &str) -> Result<User> {
    // language=PostgreSQL
    let inserted =
        sqlx::query(r#"insert into api_user (name) values ($1) on conflict (name) do nothing"#)
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

pub(super) async fn list_users(pool: &PgPool) -> Result<Vec<User>> {
    // language=PostgreSQL
    let rows: Vec<(String, bool)> =
        sqlx::query_as(r#"select name, active from api_user order by name"#)
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(name, active)| User { name, active })
        .collect())
}

pub(super) async fn set_user_active(pool: &PgPool, name: &str, active: bool) -> Result<()> {
    // language=PostgreSQL
    let updated = sqlx::query(r#"update api_user set active = $2 where name = $1"#)
        .bind(name)
        .bind(active)
        .execute(pool)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::NotFound(format!("user {name}")));
    }
    Ok(())
}

pub(super) async fn remove_user(pool: &PgPool, name: &str) -> Result<()> {
    // language=PostgreSQL
    let removed = sqlx::query(r#"delete from api_user where name = $1"#)
        .bind(name)
        .execute(pool)
        .await?;
    if removed.rows_affected() == 0 {
        return Err(Error::NotFound(format!("user {name}")));
    }
    Ok(())
}

/// Returns the user's id, creating the user if missing, as esmond's admin commands do.
async fn ensure_user(connection: &mut PgConnection, name: &str) -> Result<i64> {
    // language=PostgreSQL
    let id = sqlx::query_scalar(
        r#"
        with inserted as (
            insert into api_user (name) values ($1) on conflict (name) do nothing returning user_id
        )
        select user_id from inserted union all select user_id from api_user where name = $1
        "#,
    )
    .bind(name)
    .fetch_one(connection)
    .await?;
    Ok(id)
}

pub(super) async fn add_api_key(
    pool: &PgPool,
    user: &str,
    key_hash: &str,
    hint: &str,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let user_id = ensure_user(&mut tx, user).await?;
    // language=PostgreSQL
    sqlx::query(r#"insert into api_key (user_id, key_hash, key_hint) values ($1, $2, $3)"#)
        .bind(user_id)
        .bind(key_hash)
        .bind(hint)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn user_for_api_key(pool: &PgPool, key_hash: &str) -> Result<Option<User>> {
    // language=PostgreSQL
    let row: Option<(String, bool, String)> = sqlx::query_as(
        r#"select u.name, u.active, k.key_hash from api_key k join api_user u using (user_id) where k.key_hash = $1"#,
    )
    .bind(key_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row
        .filter(|(_, _, stored)| digests_match(stored, key_hash))
        .map(|(name, active, _)| User { name, active }))
}

pub(super) async fn revoke_api_key(pool: &PgPool, key_hash: &str) -> Result<bool> {
    // language=PostgreSQL
    let removed = sqlx::query(r#"delete from api_key where key_hash = $1"#)
        .bind(key_hash)
        .execute(pool)
        .await?;
    Ok(removed.rows_affected() > 0)
}

pub(super) async fn revoke_user_api_keys(pool: &PgPool, user: &str) -> Result<u64> {
    // language=PostgreSQL
    let exists: Option<i64> = sqlx::query_scalar(r#"select user_id from api_user where name = $1"#)
        .bind(user)
        .fetch_optional(pool)
        .await?;
    let Some(user_id) = exists else {
        return Err(Error::NotFound(format!("user {user}")));
    };
    // language=PostgreSQL
    let removed = sqlx::query(r#"delete from api_key where user_id = $1"#)
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(removed.rows_affected())
}

pub(super) async fn list_api_keys(pool: &PgPool) -> Result<Vec<ApiKeyInfo>> {
    // language=PostgreSQL
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        r#"
        select u.name, k.key_hint, extract(epoch from k.created_at)::bigint
        from api_key k join api_user u using (user_id) order by u.name, k.created_at
        "#,
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

pub(super) async fn allow_network(pool: &PgPool, user: &str, network: IpNet) -> Result<()> {
    let network = network.trunc();
    let mut tx = pool.begin().await?;
    // language=PostgreSQL
    let owner: Option<String> = sqlx::query_scalar(
        r#"select u.name from user_network n join api_user u using (user_id) where n.network = $1"#,
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
    // language=PostgreSQL
    sqlx::query(r#"insert into user_network (network, user_id) values ($1, $2)"#)
        .bind(network.to_string())
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn remove_network(pool: &PgPool, user: &str, network: IpNet) -> Result<bool> {
    // language=PostgreSQL
    let removed = sqlx::query(
        r#"delete from user_network where network = $1 and user_id = (select user_id from api_user where name = $2)"#,
    )
    .bind(network.trunc().to_string())
    .bind(user)
    .execute(pool)
    .await?;
    Ok(removed.rows_affected() > 0)
}

pub(super) async fn list_networks(pool: &PgPool) -> Result<Vec<UserNetwork>> {
    // language=PostgreSQL
    let rows: Vec<(String, String)> = sqlx::query_as(
        r#"select u.name, n.network from user_network n join api_user u using (user_id) order by u.name, n.network"#,
    )
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
