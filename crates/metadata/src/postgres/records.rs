//! Storing and loading metadata records in PostgreSQL.

use esmond_model::{EventTypeKey, Metadata, NewMetadata, Subject};
use sqlx::{PgConnection, PgPool};

use crate::rows::{MetadataRow, ParameterRow, RegistrationRow, SubjectColumns, assemble};
use crate::{Error, Result};

/// Inserts the metadata row unless the checksum exists; returns the new row's id.
async fn insert_record(
    connection: &mut PgConnection,
    key: &str,
    checksum: &str,
    subject: &Subject,
) -> Result<Option<i64>> {
    let columns = SubjectColumns::of(subject);
    // language=PostgreSQL
    let id = sqlx::query_scalar(
        r#"
        insert into metadata (metadata_key, checksum, subject_type, source, destination, measurement_agent,
                              tool_name, input_source, input_destination)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        on conflict (checksum) do nothing
        returning metadata_id
        "#,
    )
    .bind(key)
    .bind(checksum)
    .bind(subject.subject_type())
    .bind(columns.source)
    .bind(columns.destination)
    .bind(columns.measurement_agent)
    .bind(columns.tool_name)
    .bind(columns.input_source)
    .bind(columns.input_destination)
    .fetch_optional(connection)
    .await?;
    Ok(id)
}

/// Inserts a record's registrations and parameters, one statement each.
async fn insert_rows(
    connection: &mut PgConnection,
    id: i64,
    rows: &[(&EventTypeKey, Option<i64>)],
    parameters: &[(String, String)],
) -> Result<()> {
    let event_types: Vec<&str> = rows
        .iter()
        .map(|(row, _)| row.event_type.as_str())
        .collect();
    let summary_types: Vec<&str> = rows
        .iter()
        .map(|(row, _)| row.summary_type.json_name())
        .collect();
    let windows: Vec<i64> = rows.iter().map(|(row, _)| row.window).collect();
    let times: Vec<Option<i64>> = rows.iter().map(|(_, time)| *time).collect();
    // language=PostgreSQL
    sqlx::query(
        r#"
        insert into event_type (metadata_id, event_type, summary_type, summary_window, time_updated)
        select $1, * from unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[])
        on conflict do nothing
        "#,
    )
    .bind(id)
    .bind(&event_types)
    .bind(&summary_types)
    .bind(&windows)
    .bind(&times)
    .execute(&mut *connection)
    .await?;
    let keys: Vec<&str> = parameters.iter().map(|(key, _)| key.as_str()).collect();
    let values: Vec<&str> = parameters.iter().map(|(_, value)| value.as_str()).collect();
    // language=PostgreSQL
    sqlx::query(
        r#"
        insert into parameter (metadata_id, parameter_key, parameter_value)
        select $1, * from unnest($2::text[], $3::text[])
        "#,
    )
    .bind(id)
    .bind(&keys)
    .bind(&values)
    .execute(connection)
    .await?;
    Ok(())
}

/// Creates the record in one transaction, or finds the one with the same checksum (also when a
/// concurrent identical POST won the race).
pub(super) async fn create(pool: &PgPool, new: &NewMetadata) -> Result<Metadata> {
    let key = uuid::Uuid::new_v4().simple().to_string();
    let mut tx = pool.begin().await?;
    if let Some(id) = insert_record(&mut tx, &key, &new.checksum, &new.subject).await? {
        let rows: Vec<(&EventTypeKey, Option<i64>)> =
            new.event_types.iter().map(|row| (row, None)).collect();
        insert_rows(&mut tx, id, &rows, &new.parameters).await?;
    }
    tx.commit().await?;
    // language=PostgreSQL
    let ids: Vec<i64> =
        sqlx::query_scalar(r#"select metadata_id from metadata where checksum = $1"#)
            .bind(&new.checksum)
            .fetch_all(pool)
            .await?;
    load(pool, &ids)
        .await?
        .pop()
        .ok_or_else(|| Error::NotFound(format!("metadata {}", new.checksum)))
}

/// Stores a record with its own key and checksum, keeping `time-updated` values.
pub(super) async fn import(pool: &PgPool, metadata: &Metadata, checksum: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    let Some(id) = insert_record(&mut tx, &metadata.key, checksum, &metadata.subject).await? else {
        return Err(Error::AlreadyExists(format!(
            "metadata with checksum {checksum} already exists"
        )));
    };
    let rows: Vec<(&EventTypeKey, Option<i64>)> = metadata
        .event_types
        .iter()
        .map(|row| (&row.key, row.time_updated))
        .collect();
    insert_rows(&mut tx, id, &rows, &metadata.parameters).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn register_event_type(
    pool: &PgPool,
    key: &str,
    event_type: &str,
) -> Result<bool> {
    // language=PostgreSQL
    let id: Option<i64> =
        sqlx::query_scalar(r#"select metadata_id from metadata where metadata_key = $1"#)
            .bind(key)
            .fetch_optional(pool)
            .await?;
    let Some(id) = id else {
        return Err(Error::NotFound(format!("metadata {key}")));
    };
    // language=PostgreSQL
    let inserted = sqlx::query(
        r#"
        insert into event_type (metadata_id, event_type, summary_type, summary_window)
        values ($1, $2, 'base', 0)
        on conflict do nothing
        "#,
    )
    .bind(id)
    .bind(event_type)
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() > 0)
}

pub(super) async fn mark_updated(
    pool: &PgPool,
    key: &str,
    event_type: &str,
    time: i64,
) -> Result<()> {
    // Monotonic: a late flush never moves time-updated backwards.
    // language=PostgreSQL
    sqlx::query(
        r#"
        update event_type set time_updated = $3
        where metadata_id = (select metadata_id from metadata where metadata_key = $1)
          and event_type = $2
          and (time_updated is null or time_updated < $3)
        "#,
    )
    .bind(key)
    .bind(event_type)
    .bind(time)
    .execute(pool)
    .await?;
    Ok(())
}

/// Loads the records with these ids, in the order of `ids`.
pub(super) async fn load(pool: &PgPool, ids: &[i64]) -> Result<Vec<Metadata>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // language=PostgreSQL
    let rows: Vec<MetadataRow> = sqlx::query_as(
        r#"
        select metadata_id, metadata_key, subject_type, source, destination, measurement_agent,
               tool_name, input_source, input_destination
        from metadata where metadata_id = any($1)
        "#,
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    // language=PostgreSQL
    let registrations: Vec<RegistrationRow> = sqlx::query_as(
        r#"
        select metadata_id, event_type, summary_type, summary_window, time_updated
        from event_type where metadata_id = any($1)
        "#,
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    // language=PostgreSQL
    let parameters: Vec<ParameterRow> = sqlx::query_as(
        r#"select metadata_id, parameter_key, parameter_value from parameter where metadata_id = any($1)"#,
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    assemble(ids, rows, registrations, parameters)
}
