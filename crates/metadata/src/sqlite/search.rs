//! The metadata search (esmond-api.md §6) as one SQLite query with optional conditions.

use std::net::IpAddr;

use sqlx::{AssertSqlSafe, SqlitePool};

use super::records;
use crate::{MetadataFilter, MetadataPage, Result};

/// A value bound to a placeholder of the generated query.
enum Bind {
    Text(String),
    Integer(i64),
}

/// The `where` clause and its bound values, built condition by condition.
#[derive(Default)]
struct Conditions {
    sql: String,
    binds: Vec<Bind>,
}

impl Conditions {
    fn text(&mut self, column: &str, value: &Option<String>) {
        if let Some(value) = value {
            self.sql.push_str(&format!(" and {column} = ?"));
            self.binds.push(Bind::Text(value.clone()));
        }
    }

    fn addresses(&mut self, column: &str, addresses: &Option<Vec<IpAddr>>) {
        let Some(addresses) = addresses else { return };
        let placeholders = vec!["?"; addresses.len()].join(", ");
        self.sql
            .push_str(&format!(" and {column} in ({placeholders})"));
        self.binds.extend(
            addresses
                .iter()
                .map(|address| Bind::Text(address.to_string())),
        );
    }

    fn build(filter: &MetadataFilter) -> Conditions {
        let mut conditions = Conditions::default();
        conditions.text("m.metadata_key", &filter.metadata_key);
        conditions.text("m.subject_type", &filter.subject_type);
        conditions.addresses("m.source", &filter.source);
        conditions.addresses("m.destination", &filter.destination);
        conditions.addresses("m.measurement_agent", &filter.measurement_agent);
        conditions.text("m.tool_name", &filter.tool_name);
        conditions.text("m.input_source", &filter.input_source);
        conditions.text("m.input_destination", &filter.input_destination);

        let row = &filter.row;
        if row.is_active() {
            // Every row condition must hold for one and the same event-type row.
            conditions.sql.push_str(
                " and exists (select 1 from event_type e where e.metadata_id = m.metadata_id",
            );
            conditions.text("e.event_type", &row.event_type);
            conditions.text("e.summary_type", &row.summary_type);
            for (clause, value) in [
                ("e.summary_window = ?", row.summary_window),
                ("e.time_updated >= ?", row.updated_from),
                ("e.time_updated <= ?", row.updated_until),
            ] {
                if let Some(value) = value {
                    conditions.sql.push_str(&format!(" and {clause}"));
                    conditions.binds.push(Bind::Integer(value));
                }
            }
            conditions.sql.push(')');
        }
        for (key, value) in &filter.parameters {
            conditions.sql.push_str(
                " and exists (select 1 from parameter p where p.metadata_id = m.metadata_id \
                 and p.parameter_key = ? and p.parameter_value = ?)",
            );
            conditions.binds.push(Bind::Text(key.clone()));
            conditions.binds.push(Bind::Text(value.clone()));
        }
        conditions
    }
}

fn bind_all<'q, O>(
    mut query: sqlx::query::QueryScalar<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments>,
    binds: &'q [Bind],
) -> sqlx::query::QueryScalar<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments> {
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind(text.as_str()),
            Bind::Integer(value) => query.bind(*value),
        };
    }
    query
}

pub(super) async fn find(pool: &SqlitePool, filter: &MetadataFilter) -> Result<MetadataPage> {
    let conditions = Conditions::build(filter);
    let count_sql = format!(
        "select count(*) from metadata m where 1 = 1{}",
        conditions.sql
    );
    let total: i64 = bind_all(
        sqlx::query_scalar(AssertSqlSafe(count_sql)),
        &conditions.binds,
    )
    .fetch_one(pool)
    .await?;

    let page_sql = format!(
        "select m.metadata_id from metadata m where 1 = 1{} order by m.metadata_key limit ? offset ?",
        conditions.sql
    );
    let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
    let ids: Vec<i64> = bind_all(
        sqlx::query_scalar(AssertSqlSafe(page_sql)),
        &conditions.binds,
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;

    Ok(MetadataPage {
        total: u64::try_from(total).unwrap_or_default(),
        records: records::load(pool, &ids).await?,
    })
}
