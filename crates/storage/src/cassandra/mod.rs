//! The clustered backend: time series in Cassandra (or ScyllaDB) over CQL with the `scylla`
//! driver.
//!
//! Every configured node is a contact point, so the driver connects and serves while any one of
//! them is down. Statements are prepared once, marked idempotent (all writes are upserts, so the
//! driver may retry them on another node), and run at the configured consistency. Partitions are
//! bounded in time ([`crate::buckets`]); a small index of the partitions each series uses keeps
//! open-ended reads from walking empty ones. Retention is a per-write TTL ([`retention`]).

mod retention;
mod retry;
mod schema;
mod settings;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use esmond_model::{DataType, SummaryType};
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt, stream};
use scylla::client::session::Session;
use scylla::errors::ExecutionError;
use scylla::serialize::row::SerializeRow;
use scylla::statement::batch::{Batch, BatchStatement, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::value::MaybeUnset;
use std::future::Future;

pub use retention::{Expiry, MAX_TTL, RetentionPolicy, RetentionRule};
pub use schema::ClusterStatus;
pub use settings::{CassandraSettings, Replication};

use crate::buckets::{POINT_SPAN, bin_span, bucket_bounds, bucket_of, is_numeric};
use crate::columns::{BinRow, ValueColumns, data_type, histogram_to_text};
use crate::recent::{RecentSet, SeriesAt};
use crate::{
    Bin, Error, NewestPoints, Page, Point, Result, SeriesKey, TimeRange, TimeSeriesRepository,
};

/// Writes of one request sent to Cassandra at once.
const MAX_IN_FLIGHT_WRITES: usize = 32;

/// The window under which base points are indexed in `series_buckets`.
const BASE_WINDOW: i64 = 0;

/// Ranges over fewer partitions than this are read directly, without asking the index which of
/// them hold data: reading an empty partition costs about what the index read does.
const DIRECT_BUCKETS: i64 = 2;

/// Partitions remembered as indexed, per node.
const INDEXED_CAPACITY: usize = 1_000_000;

/// How long an idle partition is remembered.
const INDEXED_IDLE: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

fn driver_error(error: impl std::error::Error + Send + Sync + 'static) -> Error {
    // Timeouts, unavailable replicas and broken connections all reach here; the request may be
    // retried once the cluster recovers, so they are "unavailable", not internal.
    Error::Unavailable(Box::new(error))
}

/// The prepared statements, bound to the configured keyspace.
#[derive(Debug)]
struct Statements {
    insert_point: PreparedStatement,
    select_points: PreparedStatement,
    select_record_points: PreparedStatement,
    select_existing: PreparedStatement,
    select_newest: PreparedStatement,
    insert_bin: PreparedStatement,
    select_bins: PreparedStatement,
    insert_bucket: PreparedStatement,
    select_buckets: PreparedStatement,
    ping: PreparedStatement,
    insert_queued: PreparedStatement,
    select_queued: PreparedStatement,
    select_settled: PreparedStatement,
    update_settled: PreparedStatement,
}

impl Statements {
    async fn prepare(session: &Session, keyspace: &str) -> Result<Statements> {
        let prepare = |cql: String| async move {
            let mut statement = session.prepare(cql).await.map_err(driver_error)?;
            statement.set_is_idempotent(true);
            Ok::<_, Error>(statement)
        };
        Ok(Statements {
            insert_point: prepare(insert_point_cql(keyspace)).await?,
            // In a shared partition, the rows of the record's other numeric series are skipped.
            select_points: prepare(format!(
                "select ts, v_int, v_float, v_num, v_den, v_json from {keyspace}.points \
                 where metadata_key = ? and part = ? and bucket = ? and ts >= ? and ts <= ? and event_type = ? \
                 limit ? allow filtering"
            ))
            .await?,
            select_record_points: prepare(format!(
                "select event_type, ts, v_int, v_float, v_num, v_den, v_json from {keyspace}.points \
                 where metadata_key = ? and part = ? and bucket = ? and ts >= ? and ts <= ? and event_type in ? \
                 allow filtering"
            ))
            .await?,
            select_existing: prepare(select_existing_cql(keyspace)).await?,
            select_newest: prepare(format!(
                "select event_type, ts from {keyspace}.points \
                 where metadata_key = ? and part = '' and bucket = ? and ts >= ? and ts <= ? \
                 order by ts desc limit ?"
            ))
            .await?,
            insert_bin: prepare(insert_bin_cql(keyspace)).await?,
            select_bins: prepare(format!(
                "select bin_start, point_count, int_sum, float_sum, numerator, denominator, histogram \
                 from {keyspace}.summary_bins where metadata_key = ? and event_type = ? and summary_window = ? \
                 and bucket = ? and bin_start >= ? and bin_start <= ? limit ?"
            ))
            .await?,
            insert_bucket: prepare(format!(
                "insert into {keyspace}.series_buckets (metadata_key, event_type, summary_window, bucket) \
                 values (?, ?, ?, ?) using ttl ?"
            ))
            .await?,
            // A read of the keyspace at the configured consistency: answers only when enough
            // replicas do.
            ping: prepare(format!("select bucket from {keyspace}.series_buckets limit 1")).await?,
            select_buckets: prepare(format!(
                "select bucket from {keyspace}.series_buckets where metadata_key = ? and event_type = ? \
                 and summary_window = ? and bucket >= ? and bucket <= ?"
            ))
            .await?,
            insert_queued: prepare(format!(
                "insert into {keyspace}.summary_queue (slot, metadata_key, event_type, windows) \
                 values (?, ?, ?, ?)"
            ))
            .await?,
            select_queued: prepare(format!(
                "select metadata_key, event_type, windows from {keyspace}.summary_queue where slot = ?"
            ))
            .await?,
            select_settled: prepare(format!(
                "select through from {keyspace}.summary_settled where name = 'all'"
            ))
            .await?,
            update_settled: prepare(format!(
                "update {keyspace}.summary_settled using timestamp ? set through = ? where name = 'all'"
            ))
            .await?,
        })
    }
}

/// The insert of a base point into `keyspace`: (metadata key, part, bucket, ts, event type, the
/// five value columns, TTL).
pub fn insert_point_cql(keyspace: &str) -> String {
    format!(
        "insert into {keyspace}.points (metadata_key, part, bucket, ts, event_type, v_int, v_float, \
         v_num, v_den, v_json) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) using ttl ?"
    )
}

/// The duplicate check's read in `keyspace`: which of some seconds hold a point in a record's
/// shared numeric partition of one day, by (metadata key, bucket, list of ts).
pub fn select_existing_cql(keyspace: &str) -> String {
    format!(
        "select event_type, ts from {keyspace}.points \
         where metadata_key = ? and part = '' and bucket = ? and ts in ?"
    )
}

/// The insert of a summary bin's state into `keyspace`: (metadata key, event type, window,
/// bucket, start, count, int sum, float sum, numerator, denominator, histogram, TTL).
pub fn insert_bin_cql(keyspace: &str) -> String {
    format!(
        "insert into {keyspace}.summary_bins (metadata_key, event_type, summary_window, bucket, bin_start, \
         point_count, int_sum, float_sum, numerator, denominator, histogram) \
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) using ttl ?"
    )
}

/// A partition known to be in `series_buckets`: (series, (window, bucket)).
type IndexedBucket = (SeriesKey, (i64, i64));

/// Time series kept in Cassandra.
#[derive(Debug, Clone)]
pub struct CassandraSeriesStore {
    session: Arc<Session>,
    statements: Arc<Statements>,
    retention: Arc<RetentionPolicy>,
    /// Partitions this node already put in the index. One index write per partition is enough:
    /// the entry's TTL (the first point's plus a span) outlives every later point of the
    /// partition, so later writes skip it.
    indexed: Arc<RecentSet<IndexedBucket>>,
}

/// Runs writes, at most [`MAX_IN_FLIGHT_WRITES`] at a time, and returns the first error.
async fn run_bounded<F, T, E>(writes: Vec<F>) -> Result<()>
where
    F: Future<Output = std::result::Result<T, E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    let results: Vec<T> = stream::iter(writes)
        .buffer_unordered(MAX_IN_FLIGHT_WRITES)
        .try_collect()
        .await
        .map_err(driver_error)?;
    drop(results);
    Ok(())
}

/// Most rows one batch takes.
const BATCH_ROWS: usize = 32;

/// About the most bytes one batch takes: under Cassandra's default warning size (5 KiB).
const BATCH_BYTES: usize = 4096;

/// The size of a row besides its text column, roughly.
const ROW_BYTES: usize = 100;

/// Rows for one statement: each with its partition (or the part of its key that varies), an
/// estimate of its size in bytes, and its values.
type Rows<P, V> = Vec<(P, usize, V)>;

/// Splits `rows` into the groups written together: rows of one partition, in order, at most
/// [`BATCH_ROWS`] and about [`BATCH_BYTES`] a group.
fn batches<P: Ord, V>(rows: Rows<P, V>) -> Vec<Vec<V>> {
    let mut by_partition: BTreeMap<P, Vec<(usize, V)>> = BTreeMap::new();
    for (partition, size, values) in rows {
        by_partition
            .entry(partition)
            .or_default()
            .push((size, values));
    }
    let mut groups = Vec::new();
    for partition in by_partition.into_values() {
        let mut group = Vec::new();
        let mut bytes = 0;
        for (size, values) in partition {
            if !group.is_empty() && (group.len() == BATCH_ROWS || bytes + size > BATCH_BYTES) {
                groups.push(std::mem::take(&mut group));
                bytes = 0;
            }
            bytes += size;
            group.push(values);
        }
        if !group.is_empty() {
            groups.push(group);
        }
    }
    groups
}

/// Records that a row with `ttl` lands in `bucket`: the bucket's index entry must live as long as
/// its longest-lived row, and a row without TTL (0) keeps it forever.
fn note_bucket(used: &mut BTreeMap<i64, i32>, bucket: i64, ttl: i32) {
    let longest = used.entry(bucket).or_insert(ttl);
    *longest = if ttl == 0 || *longest == 0 {
        0
    } else {
        (*longest).max(ttl)
    };
}

/// Returns the `part` of the point partitions of an event type: empty for numbers, which a
/// record's numeric series share, the event type itself for histograms and documents.
pub fn point_part(event_type: &str, data_type: DataType) -> &str {
    if is_numeric(data_type) {
        ""
    } else {
        event_type
    }
}

/// Returns a CQL `limit` for a page: the rows to skip plus the rows wanted.
fn cql_limit(wanted: Option<u64>) -> i32 {
    wanted.map_or(i32::MAX, |wanted| {
        i32::try_from(wanted).unwrap_or(i32::MAX).max(1)
    })
}

impl CassandraSeriesStore {
    /// Connects to every configured node, creates the keyspace and tables first when
    /// `settings.init` is set, and prepares the statements.
    pub async fn connect(settings: &CassandraSettings) -> Result<CassandraSeriesStore> {
        let session = settings.session().await?;
        if settings.init {
            schema::init(&session, settings).await?;
        }
        let statements = Statements::prepare(&session, &settings.keyspace).await?;
        Ok(CassandraSeriesStore {
            session: Arc::new(session),
            statements: Arc::new(statements),
            retention: Arc::new(
                settings
                    .retention_policy()
                    .map_err(|message| Error::Internal(message.into()))?,
            ),
            indexed: Arc::new(RecentSet::new(INDEXED_CAPACITY, INDEXED_IDLE, true)),
        })
    }

    /// Returns the session the store's statements go through, for a tool that sends its own
    /// beside them.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// Writes `rows` with `statement`: the rows of one partition as unlogged batches, which
    /// Cassandra applies as one mutation each, and a lone row as a plain statement.
    async fn write_rows<P: Ord, V: SerializeRow + Send + Sync>(
        &self,
        statement: &PreparedStatement,
        rows: Rows<P, V>,
    ) -> Result<()> {
        let writes: Vec<BoxFuture<'_, std::result::Result<(), ExecutionError>>> = batches(rows)
            .into_iter()
            .map(|mut group| {
                if group.len() == 1
                    && let Some(values) = group.pop()
                {
                    let write = self.session.execute_unpaged(statement, values);
                    return Box::pin(async move { write.await.map(drop) }) as BoxFuture<'_, _>;
                }
                let mut batch = Batch::new_with_statements(
                    BatchType::Unlogged,
                    vec![BatchStatement::PreparedStatement(statement.clone()); group.len()],
                );
                batch.set_is_idempotent(true);
                Box::pin(async move { self.session.batch(&batch, group).await.map(drop) })
            })
            .collect();
        run_bounded(writes).await
    }

    /// Returns the partitions of a series (base points under window 0) within `range` that
    /// may hold data: all of them for a range of a few partitions, else those in the index the
    /// writes maintain.
    async fn used_buckets(
        &self,
        series: &SeriesKey,
        window: i64,
        span: i64,
        range: TimeRange,
    ) -> Result<Vec<i64>> {
        let first = bucket_of(range.begin, span);
        let last = bucket_of(range.end.max(range.begin), span);
        if last.saturating_sub(first) < DIRECT_BUCKETS {
            return Ok((first..=last).collect());
        }
        let values = (
            &series.metadata_key,
            &series.event_type,
            window,
            first,
            last,
        );
        let result = self
            .session
            .execute_unpaged(&self.statements.select_buckets, values)
            .await
            .map_err(driver_error)?;
        let rows = result.into_rows_result().map_err(driver_error)?;
        let mut used: Vec<i64> = rows
            .rows::<(i64,)>()
            .map_err(driver_error)?
            .map(|row| row.map(|(bucket,)| bucket))
            .collect::<Result<_, _>>()
            .map_err(driver_error)?;
        used.sort_unstable();
        Ok(used)
    }

    /// Records that a series uses these partitions, for as long as their data lives.
    async fn index_buckets(
        &self,
        series: &SeriesKey,
        window: i64,
        span: i64,
        used: &[(i64, i32)],
    ) -> Result<()> {
        let mut writes = Vec::with_capacity(used.len());
        let mut added = Vec::new();
        for &(bucket, ttl) in used {
            if self.indexed.contains(&SeriesAt(series, (window, bucket))) {
                continue;
            }
            added.push((series.clone(), (window, bucket)));
            // The index entry outlives the partition's data by one span (within Cassandra's limit).
            let span = i32::try_from(span).unwrap_or(i32::MAX);
            let ttl = if ttl == 0 {
                0
            } else {
                ttl.saturating_add(span).min(MAX_TTL)
            };
            let values = (
                &series.metadata_key,
                &series.event_type,
                window,
                bucket,
                ttl,
            );
            writes.push(
                self.session
                    .execute_unpaged(&self.statements.insert_bucket, values),
            );
        }
        run_bounded(writes).await?;
        // Only entries known to be written are skipped from now on.
        for entry in added {
            self.indexed.insert(entry);
        }
        Ok(())
    }
}

#[async_trait]
impl TimeSeriesRepository for CassandraSeriesStore {
    async fn ping(&self) -> Result<()> {
        self.session
            .execute_unpaged(&self.statements.ping, &[])
            .await
            .map_err(driver_error)?;
        Ok(())
    }

    async fn existing_points(
        &self,
        metadata_key: &str,
        event_types: &[String],
        timestamps: &[i64],
    ) -> Result<Vec<(String, i64)>> {
        // The numeric series of a record share their partitions: one read per day finds all of
        // them at the given seconds, the series not asked about included.
        let mut reads: std::collections::BTreeMap<i64, Vec<i64>> =
            std::collections::BTreeMap::new();
        for &ts in timestamps {
            reads.entry(bucket_of(ts, POINT_SPAN)).or_default().push(ts);
        }
        let mut existing = Vec::new();
        for (bucket, stamps) in reads {
            let values = (metadata_key, bucket, stamps);
            let result = self
                .session
                .execute_unpaged(&self.statements.select_existing, values)
                .await
                .map_err(driver_error)?;
            let rows = result.into_rows_result().map_err(driver_error)?;
            for row in rows.rows::<(String, i64)>().map_err(driver_error)? {
                let (event_type, ts) = row.map_err(driver_error)?;
                if event_types.contains(&event_type) {
                    existing.push((event_type, ts));
                }
            }
        }
        existing.sort_unstable();
        Ok(existing)
    }

    async fn newest_points(
        &self,
        metadata_key: &str,
        event_types: &[String],
        range: TimeRange,
        limit: usize,
    ) -> Result<NewestPoints> {
        // The record's numeric series share the partition: the newest rows of all of them are
        // read, and a limit that cuts the list counts them all.
        let bucket = bucket_of(range.begin, POINT_SPAN);
        let end = range.end.min(bucket_bounds(bucket, POINT_SPAN).1);
        let limit = i32::try_from(limit.max(1)).unwrap_or(i32::MAX);
        let values = (metadata_key, bucket, range.begin, end, limit);
        let result = self
            .session
            .execute_unpaged(&self.statements.select_newest, values)
            .await
            .map_err(driver_error)?;
        let rows = result.into_rows_result().map_err(driver_error)?;
        let rows = rows
            .rows::<(String, i64)>()
            .map_err(driver_error)?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(driver_error)?;
        // Rows come by time, newest first: with the list cut, only its oldest second may be
        // partial.
        let complete_after = match rows.last() {
            Some(&(_, oldest)) if rows.len() >= limit as usize => oldest,
            _ => range.begin - 1,
        };
        let points = rows
            .into_iter()
            .filter(|(event_type, _)| event_types.contains(event_type))
            .collect();
        Ok(NewestPoints {
            points,
            complete_after,
        })
    }

    async fn put_points(&self, series: &[(&SeriesKey, &[Point])]) -> Result<()> {
        let span = POINT_SPAN;
        let now = crate::now();
        let mut writes = Vec::new();
        let mut used_by_series = Vec::with_capacity(series.len());
        for &(key, points) in series {
            let part = point_part(&key.event_type, data_type(key)?);
            let expiry = self
                .retention
                .expiry(&key.event_type, SummaryType::Base.json_name(), 0);
            let mut used: BTreeMap<i64, i32> = BTreeMap::new();
            for point in points {
                let ttl = RetentionPolicy::ttl(expiry, point.ts, now);
                let bucket = bucket_of(point.ts, span);
                note_bucket(&mut used, bucket, ttl);
                writes.push((key, part, bucket, ValueColumns::of(point), ttl));
            }
            used_by_series.push((key, used.into_iter().collect::<Vec<_>>()));
        }
        let mut rows = Vec::with_capacity(writes.len());
        for (key, part, bucket, columns, ttl) in &writes {
            let values = (
                &key.metadata_key,
                *part,
                *bucket,
                columns.ts,
                &key.event_type,
                // Unset, not null: a null would write a tombstone for every absent column.
                MaybeUnset::from_option(columns.v_int),
                MaybeUnset::from_option(columns.v_float),
                MaybeUnset::from_option(columns.v_num),
                MaybeUnset::from_option(columns.v_den),
                MaybeUnset::from_option(columns.v_json.as_deref()),
                *ttl,
            );
            let size = ROW_BYTES + columns.v_json.as_ref().map_or(0, String::len);
            let partition = (key.metadata_key.as_str(), *part, *bucket);
            rows.push((partition, size, values));
        }
        self.write_rows(&self.statements.insert_point, rows).await?;
        let indexed = used_by_series
            .iter()
            .map(|(key, used)| self.index_buckets(key, BASE_WINDOW, span, used));
        futures::future::try_join_all(indexed).await?;
        Ok(())
    }

    async fn get_points(
        &self,
        series: &SeriesKey,
        range: TimeRange,
        page: Page,
    ) -> Result<Vec<Point>> {
        let data_type = data_type(series)?;
        let span = POINT_SPAN;
        let part = point_part(&series.event_type, data_type);
        let wanted = page.limit.map(|limit| limit.saturating_add(page.offset));
        let mut points = Vec::new();
        for bucket in self.used_buckets(series, BASE_WINDOW, span, range).await? {
            let remaining = wanted.map(|wanted| wanted.saturating_sub(points.len() as u64));
            if remaining == Some(0) {
                break;
            }
            let values = (
                &series.metadata_key,
                part,
                bucket,
                range.begin,
                range.end,
                &series.event_type,
                cql_limit(remaining),
            );
            let result = self
                .session
                .execute_unpaged(&self.statements.select_points, values)
                .await
                .map_err(driver_error)?;
            let rows = result.into_rows_result().map_err(driver_error)?;
            type PointRow = (
                i64,
                Option<i64>,
                Option<f64>,
                Option<i64>,
                Option<i64>,
                Option<String>,
            );
            for row in rows.rows::<PointRow>().map_err(driver_error)? {
                let (ts, v_int, v_float, v_num, v_den, v_json) = row.map_err(driver_error)?;
                let columns = ValueColumns {
                    ts,
                    v_int,
                    v_float,
                    v_num,
                    v_den,
                    v_json,
                };
                points.push(columns.into_point(data_type)?);
            }
        }
        let skip = usize::try_from(page.offset).unwrap_or(usize::MAX);
        Ok(points.into_iter().skip(skip).collect())
    }

    async fn get_record_points(
        &self,
        metadata_key: &str,
        event_types: &[String],
        range: TimeRange,
    ) -> Result<BTreeMap<String, Vec<Point>>> {
        let first = bucket_of(range.begin, POINT_SPAN);
        let last = bucket_of(range.end.max(range.begin), POINT_SPAN);
        if last.saturating_sub(first) >= DIRECT_BUCKETS {
            return crate::points_one_by_one(self, metadata_key, event_types, range).await;
        }
        // One read per partition and day: the record's numbers share theirs.
        let mut types: BTreeMap<&str, DataType> = BTreeMap::new();
        let mut parts: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
        for event_type in event_types {
            let series = SeriesKey {
                metadata_key: metadata_key.to_owned(),
                event_type: event_type.clone(),
            };
            let data_type = data_type(&series)?;
            types.insert(event_type, data_type);
            parts
                .entry(point_part(event_type, data_type))
                .or_default()
                .push(event_type);
        }
        let reads = parts.iter().flat_map(|(part, members)| {
            (first..=last).map(move |bucket| {
                let values = (
                    metadata_key,
                    *part,
                    bucket,
                    range.begin,
                    range.end,
                    members.as_slice(),
                );
                self.session
                    .execute_unpaged(&self.statements.select_record_points, values)
            })
        });
        let results = futures::future::try_join_all(reads)
            .await
            .map_err(driver_error)?;
        let mut points: BTreeMap<String, Vec<Point>> = event_types
            .iter()
            .map(|event_type| (event_type.clone(), Vec::new()))
            .collect();
        // Partitions come back in day order, and rows by time within each.
        for result in results {
            let rows = result.into_rows_result().map_err(driver_error)?;
            type RecordPointRow = (
                String,
                i64,
                Option<i64>,
                Option<f64>,
                Option<i64>,
                Option<i64>,
                Option<String>,
            );
            for row in rows.rows::<RecordPointRow>().map_err(driver_error)? {
                let (event_type, ts, v_int, v_float, v_num, v_den, v_json) =
                    row.map_err(driver_error)?;
                let (Some(data_type), Some(series)) =
                    (types.get(event_type.as_str()), points.get_mut(&event_type))
                else {
                    continue;
                };
                let columns = ValueColumns {
                    ts,
                    v_int,
                    v_float,
                    v_num,
                    v_den,
                    v_json,
                };
                series.push(columns.into_point(*data_type)?);
            }
        }
        Ok(points)
    }

    async fn put_bins(&self, series: &SeriesKey, window: i64, bins: &[Bin]) -> Result<()> {
        let span = bin_span(window);
        let expiry = self.retention.bin_expiry(&series.event_type, window);
        let now = crate::now();
        let mut used: BTreeMap<i64, i32> = BTreeMap::new();
        let mut writes = Vec::with_capacity(bins.len());
        for bin in bins {
            let ttl = RetentionPolicy::ttl(expiry, bin.start.saturating_add(window), now);
            let bucket = bucket_of(bin.start, span);
            note_bucket(&mut used, bucket, ttl);
            writes.push((bucket, bin, ttl));
        }
        let mut rows = Vec::with_capacity(writes.len());
        for (bucket, bin, ttl) in &writes {
            let state = &bin.state;
            let histogram = state.histogram.as_ref().map(histogram_to_text);
            let size = ROW_BYTES + histogram.as_ref().map_or(0, String::len);
            let values = (
                &series.metadata_key,
                &series.event_type,
                window,
                *bucket,
                bin.start,
                state.count,
                state.int_sum,
                state.float_sum,
                state.numerator,
                state.denominator,
                MaybeUnset::from_option(histogram),
                *ttl,
            );
            rows.push((*bucket, size, values));
        }
        self.write_rows(&self.statements.insert_bin, rows).await?;
        let used: Vec<(i64, i32)> = used.into_iter().collect();
        self.index_buckets(series, window, span, &used).await
    }

    async fn get_bins(
        &self,
        series: &SeriesKey,
        window: i64,
        range: TimeRange,
        page: Page,
    ) -> Result<Vec<Bin>> {
        let span = bin_span(window);
        let wanted = page.limit.map(|limit| limit.saturating_add(page.offset));
        let mut bins = Vec::new();
        for bucket in self.used_buckets(series, window, span, range).await? {
            let remaining = wanted.map(|wanted| wanted.saturating_sub(bins.len() as u64));
            if remaining == Some(0) {
                break;
            }
            let values = (
                &series.metadata_key,
                &series.event_type,
                window,
                bucket,
                range.begin,
                range.end,
                cql_limit(remaining),
            );
            let result = self
                .session
                .execute_unpaged(&self.statements.select_bins, values)
                .await
                .map_err(driver_error)?;
            let rows = result.into_rows_result().map_err(driver_error)?;
            type StateRow = (i64, i64, i64, f64, i64, i64, Option<String>);
            for row in rows.rows::<StateRow>().map_err(driver_error)? {
                let (bin_start, point_count, int_sum, float_sum, numerator, denominator, histogram) =
                    row.map_err(driver_error)?;
                bins.push(
                    BinRow {
                        bin_start,
                        point_count,
                        int_sum,
                        float_sum,
                        numerator,
                        denominator,
                        histogram,
                    }
                    .into_bin()?,
                );
            }
        }
        let skip = usize::try_from(page.offset).unwrap_or(usize::MAX);
        Ok(bins.into_iter().skip(skip).collect())
    }

    async fn queue_settling(
        &self,
        series: &SeriesKey,
        windows: &[i64],
        slots: &[i64],
    ) -> Result<()> {
        let writes = slots
            .iter()
            .map(|slot| {
                let values = (slot, &series.metadata_key, &series.event_type, windows);
                self.session
                    .execute_unpaged(&self.statements.insert_queued, values)
            })
            .collect();
        run_bounded(writes).await
    }

    async fn queued_for_settling(&self, slot: i64) -> Result<Vec<(SeriesKey, Vec<i64>)>> {
        let mut queued = Vec::new();
        let mut pages = self
            .session
            .execute_iter(self.statements.select_queued.clone(), (slot,))
            .await
            .map_err(driver_error)?
            .rows_stream::<(String, String, Option<Vec<i64>>)>()
            .map_err(driver_error)?;
        while let Some(row) = pages.next().await {
            let (metadata_key, event_type, windows) = row.map_err(driver_error)?;
            let series = SeriesKey {
                metadata_key,
                event_type,
            };
            queued.push((series, windows.unwrap_or_default()));
        }
        Ok(queued)
    }

    async fn settled_through(&self) -> Result<Option<i64>> {
        let result = self
            .session
            .execute_unpaged(&self.statements.select_settled, &[])
            .await
            .map_err(driver_error)?;
        let rows = result.into_rows_result().map_err(driver_error)?;
        let through = rows
            .maybe_first_row::<(Option<i64>,)>()
            .map_err(driver_error)?
            .and_then(|(through,)| through);
        Ok(through)
    }

    async fn advance_settled(&self, through: i64) -> Result<()> {
        // The write time is the value in microseconds: a later time always wins, whatever the
        // order in which nodes write.
        let timestamp = through.saturating_mul(1_000_000);
        self.session
            .execute_unpaged(&self.statements.update_settled, (timestamp, through))
            .await
            .map_err(driver_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_go_together_by_partition_within_limits() {
        let mut rows: Rows<i64, u32> = Vec::new();
        // 41 small rows in day 1 interleaved with 2 in day 2, then 3 large rows in day 3.
        for n in 0..43 {
            let bucket = if n % 15 == 14 { 2 } else { 1 };
            rows.push((bucket, 50, n));
        }
        for n in 100..103 {
            rows.push((3, 3000, n));
        }
        let groups = batches(rows);
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        assert_eq!(sizes, [32, 9, 2, 1, 1, 1]);
        assert_eq!(groups[2], [14, 29]);
        assert_eq!(groups[0][..3], [0, 1, 2]);
    }
}
