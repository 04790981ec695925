//! The metadata search (esmond-api.md §6) as one PostgreSQL query with optional conditions.

use std::net::IpAddr;

use sqlx::{PgPool, Postgres, QueryBuilder};

use super::records;
use crate::{MetadataFilter, MetadataPage, Result};

fn text(query: &mut QueryBuilder<Postgres>, column: &str, value: &Option<String>) {
    if let Some(value) = value {
        query
            .push(format!(" and {column} = "))
            .push_bind(value.clone());
    }
}

fn addresses(query: &mut QueryBuilder<Postgres>, column: &str, addresses: &Option<Vec<IpAddr>>) {
    if let Some(addresses) = addresses {
        let texts: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
        query
            .push(format!(" and {column} = any("))
            .push_bind(texts)
            .push(")");
    }
}

/// Appends the conditions of `filter` to a query over `metadata m`.
fn conditions(query: &mut QueryBuilder<Postgres>, filter: &MetadataFilter) {
    query.push(" from metadata m where true");
    text(query, "m.metadata_key", &filter.metadata_key);
    text(query, "m.subject_type", &filter.subject_type);
    addresses(query, "m.source", &filter.source);
    addresses(query, "m.destination", &filter.destination);
    addresses(query, "m.measurement_agent", &filter.measurement_agent);
    text(query, "m.tool_name", &filter.tool_name);
    text(query, "m.input_source", &filter.input_source);
    text(query, "m.input_destination", &filter.input_destination);

    let row = &filter.row;
    if row.is_active() {
        // Every row condition must hold for one and the same event-type row.
        query.push(" and exists (select 1 from event_type e where e.metadata_id = m.metadata_id");
        text(query, "e.event_type", &row.event_type);
        text(query, "e.summary_type", &row.summary_type);
        for (clause, value) in [
            (" and e.summary_window = ", row.summary_window),
            (" and e.time_updated >= ", row.updated_from),
            (" and e.time_updated <= ", row.updated_until),
        ] {
            if let Some(value) = value {
                query.push(clause).push_bind(value);
            }
        }
        query.push(")");
    }
    for (key, value) in &filter.parameters {
        query
            .push(" and exists (select 1 from parameter p where p.metadata_id = m.metadata_id and p.parameter_key = ")
            .push_bind(key.clone())
            .push(" and p.parameter_value = ")
            .push_bind(value.clone())
            .push(")");
    }
}

pub(super) async fn find(pool: &PgPool, filter: &MetadataFilter) -> Result<MetadataPage> {
    let mut count = QueryBuilder::<Postgres>::new("select count(*)");
    conditions(&mut count, filter);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await?;

    let mut page = QueryBuilder::<Postgres>::new("select m.metadata_id");
    conditions(&mut page, filter);
    page.push(" order by m.metadata_key limit ")
        .push_bind(i64::try_from(filter.limit).unwrap_or(i64::MAX))
        .push(" offset ")
        .push_bind(i64::try_from(filter.offset).unwrap_or(i64::MAX));
    let ids: Vec<i64> = page.build_query_scalar().fetch_all(pool).await?;

    Ok(MetadataPage {
        total: u64::try_from(total).unwrap_or_default(),
        records: records::load(pool, &ids).await?,
    })
}
