//! Storing and loading metadata records in SQLite.

use esmond_model::{EventTypeKey, Metadata, NewMetadata, Subject};
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnection;

use crate::rows::{MetadataRow, ParameterRow, RegistrationRow, SubjectColumns, assemble};
use crate::{Error, Result};

/// Inserts the metadata row unless the checksum exists; returns the new row's id.
async fn insert_record(
    connection: &mut SqliteConnection,
    key: &str,
    checksum: &str,
    subject: &Subject,
) -> Result<Option<i64>> {
    let columns = SubjectColumns::of(subject);
    let id = sqlx::query_scalar(
        "insert into metadata (metadata_key, checksum, subject_type, source, destination, measurement_agent, \
         tool_name, input_source, input_destination) values (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         on conflict (checksum) do nothing returning metadata_id",
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

async fn insert_rows<'a>(
    connection: &mut SqliteConnection,
    id: i64,
    rows: impl Iterator<Item = (&'a EventTypeKey, Option<i64>)>,
    parameters: &[(String, String)],
) -> Result<()> {
    for (row, time_updated) in rows {
        sqlx::query(
            "insert into event_type (metadata_id, event_type, summary_type, summary_window, time_updated) \
             values (?, ?, ?, ?, ?) on conflict do nothing",
        )
        .bind(id)
        .bind(&row.event_type)
        .bind(row.summary_type.json_name())
        .bind(row.window)
        .bind(time_updated)
        .execute(&mut *connection)
        .await?;
    }
    for (key, value) in parameters {
        sqlx::query(
            "insert into parameter (metadata_id, parameter_key, parameter_value) values (?, ?, ?)",
        )
        .bind(id)
        .bind(key)
        .bind(value)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// Creates the record in one transaction, or finds the one with the same checksum.
pub(super) async fn create(pool: &SqlitePool, new: &NewMetadata) -> Result<Metadata> {
    let key = uuid::Uuid::new_v4().simple().to_string();
    let mut tx = pool.begin().await?;
    if let Some(id) = insert_record(&mut tx, &key, &new.checksum, &new.subject).await? {
        insert_rows(
            &mut tx,
            id,
            new.event_types.iter().map(|row| (row, None)),
            &new.parameters,
        )
        .await?;
    }
    tx.commit().await?;

    let ids: Vec<i64> = sqlx::query_scalar("select metadata_id from metadata where checksum = ?")
        .bind(&new.checksum)
        .fetch_all(pool)
        .await?;
    load(pool, &ids)
        .await?
        .pop()
        .ok_or_else(|| Error::NotFound(format!("metadata {}", new.checksum)))
}

/// Stores a record with its own key and checksum, keeping `time-updated` values.
pub(super) async fn import(pool: &SqlitePool, metadata: &Metadata, checksum: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    let Some(id) = insert_record(&mut tx, &metadata.key, checksum, &metadata.subject).await? else {
        return Err(Error::AlreadyExists(format!(
            "metadata with checksum {checksum} already exists"
        )));
    };
    let rows = metadata
        .event_types
        .iter()
        .map(|row| (&row.key, row.time_updated));
    insert_rows(&mut tx, id, rows, &metadata.parameters).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn register_event_type(
    pool: &SqlitePool,
    key: &str,
    event_type: &str,
) -> Result<bool> {
    let id: Option<i64> =
        sqlx::query_scalar("select metadata_id from metadata where metadata_key = ?")
            .bind(key)
            .fetch_optional(pool)
            .await?;
    let Some(id) = id else {
        return Err(Error::NotFound(format!("metadata {key}")));
    };
    let inserted = sqlx::query(
        "insert into event_type (metadata_id, event_type, summary_type, summary_window) values (?, ?, 'base', 0) \
         on conflict do nothing",
    )
    .bind(id)
    .bind(event_type)
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() > 0)
}

pub(super) async fn mark_updated(
    pool: &SqlitePool,
    key: &str,
    event_type: &str,
    time: i64,
) -> Result<()> {
    sqlx::query(
        "update event_type set time_updated = ? \
         where metadata_id = (select metadata_id from metadata where metadata_key = ?) \
         and event_type = ? and (time_updated is null or time_updated < ?)",
    )
    .bind(time)
    .bind(key)
    .bind(event_type)
    .bind(time)
    .execute(pool)
    .await?;
    Ok(())
}

/// Loads the records with these ids, in the order of `ids`.
pub(super) async fn load(pool: &SqlitePool, ids: &[i64]) -> Result<Vec<Metadata>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // One bind parameter carries the whole id list, whatever the page size.
    let id_list = format!(
        "[{}]",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    );
    let rows: Vec<MetadataRow> = sqlx::query_as(
        "select metadata_id, metadata_key, subject_type, source, destination, measurement_agent, tool_name, \
         input_source, input_destination from metadata where metadata_id in (select value from json_each(?))",
    )
    .bind(&id_list)
    .fetch_all(pool)
    .await?;
    let registrations: Vec<RegistrationRow> = sqlx::query_as(
        "select metadata_id, event_type, summary_type, summary_window, time_updated from event_type \
         where metadata_id in (select value from json_each(?))",
    )
    .bind(&id_list)
    .fetch_all(pool)
    .await?;
    let parameters: Vec<ParameterRow> = sqlx::query_as(
        "select metadata_id, parameter_key, parameter_value from parameter \
         where metadata_id in (select value from json_each(?))",
    )
    .bind(&id_list)
    .fetch_all(pool)
    .await?;
    assemble(ids, rows, registrations, parameters)
}
