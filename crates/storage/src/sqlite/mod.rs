//! The embedded backend: base points and bin states in the same SQLite file as the metadata
//! (the schema is in `migrations/sqlite/`, applied when the metadata store opens the file).

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::columns::{BinRow, ValueColumns, data_type, histogram_to_text};
use crate::{
    Bin, Error, NewestPoints, Page, Point, Result, SeriesKey, TimeRange, TimeSeriesRepository,
};

/// Rows per multi-row insert, well under SQLite's bound-parameter limit.
const INSERT_CHUNK: usize = 500;

/// Time series kept in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteSeriesStore {
    pool: SqlitePool,
    /// SQLite takes one writer at a time, and a writer that finds the file locked polls with
    /// sleeps of up to 100 ms. The series of a request are written side by side, so their write
    /// transactions queue here instead.
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl SqliteSeriesStore {
    /// Uses a pool on a file whose migrations are applied.
    pub fn new(pool: SqlitePool) -> SqliteSeriesStore {
        SqliteSeriesStore {
            pool,
            writer: Arc::default(),
        }
    }
}

/// Windows as stored in the settling queue: `300,3600,86400`.
fn join_windows(windows: &[i64]) -> String {
    windows
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn split_windows(text: &str) -> Vec<i64> {
    text.split(',')
        .filter_map(|window| window.parse().ok())
        .collect()
}

/// SQLite's `limit -1` means no limit.
fn limit_of(page: Page) -> i64 {
    page.limit
        .map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX))
}

fn offset_of(page: Page) -> i64 {
    i64::try_from(page.offset).unwrap_or(i64::MAX)
}

#[async_trait]
impl TimeSeriesRepository for SqliteSeriesStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn existing_points(
        &self,
        metadata_key: &str,
        event_types: &[String],
        timestamps: &[i64],
    ) -> Result<Vec<(String, i64)>> {
        if timestamps.is_empty() || event_types.is_empty() {
            return Ok(Vec::new());
        }
        let stamps = serde_json::to_string(timestamps).map_err(|e| Error::Internal(e.into()))?;
        let names = serde_json::to_string(event_types).map_err(|e| Error::Internal(e.into()))?;
        let existing = sqlx::query_as(
            "select event_type, ts from base_point where metadata_key = ? \
             and event_type in (select value from json_each(?)) \
             and ts in (select value from json_each(?)) order by event_type, ts",
        )
        .bind(metadata_key)
        .bind(names)
        .bind(stamps)
        .fetch_all(&self.pool)
        .await?;
        Ok(existing)
    }

    async fn newest_points(
        &self,
        metadata_key: &str,
        event_types: &[String],
        range: TimeRange,
        limit: usize,
    ) -> Result<NewestPoints> {
        // One indexed read per series; the list is complete after the latest of the times
        // where a series' read was cut.
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let mut newest = NewestPoints {
            points: Vec::new(),
            complete_after: range.begin - 1,
        };
        for event_type in event_types {
            let stamps: Vec<(i64,)> = sqlx::query_as(
                "select ts from base_point where metadata_key = ? and event_type = ? \
                 and ts >= ? and ts <= ? order by ts desc limit ?",
            )
            .bind(metadata_key)
            .bind(event_type)
            .bind(range.begin)
            .bind(range.end)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            if let Some(&(oldest,)) = stamps.last()
                && stamps.len() as i64 >= limit
            {
                newest.complete_after = newest.complete_after.max(oldest);
            }
            newest
                .points
                .extend(stamps.into_iter().map(|(ts,)| (event_type.clone(), ts)));
        }
        newest
            .points
            .sort_unstable_by_key(|&(_, ts)| std::cmp::Reverse(ts));
        Ok(newest)
    }

    async fn put_points(&self, series: &[(&SeriesKey, &[Point])]) -> Result<()> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        let rows: Vec<(&SeriesKey, ValueColumns)> = series
            .iter()
            .flat_map(|(key, points)| points.iter().map(|point| (*key, ValueColumns::of(point))))
            .collect();
        for chunk in rows.chunks(INSERT_CHUNK) {
            let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
                "insert into base_point (metadata_key, event_type, ts, v_int, v_float, v_num, v_den, v_json) ",
            );
            insert.push_values(chunk, |mut row, (key, columns)| {
                row.push_bind(&key.metadata_key)
                    .push_bind(&key.event_type)
                    .push_bind(columns.ts)
                    .push_bind(columns.v_int)
                    .push_bind(columns.v_float)
                    .push_bind(columns.v_num)
                    .push_bind(columns.v_den)
                    .push_bind(&columns.v_json);
            });
            insert.push(
                " on conflict (metadata_key, event_type, ts) do update set v_int = excluded.v_int, \
                 v_float = excluded.v_float, v_num = excluded.v_num, v_den = excluded.v_den, v_json = excluded.v_json",
            );
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_points(
        &self,
        series: &SeriesKey,
        range: TimeRange,
        page: Page,
    ) -> Result<Vec<Point>> {
        let data_type = data_type(series)?;
        let rows: Vec<ValueColumns> = sqlx::query_as(
            "select ts, v_int, v_float, v_num, v_den, v_json from base_point \
             where metadata_key = ? and event_type = ? and ts between ? and ? order by ts limit ? offset ?",
        )
        .bind(&series.metadata_key)
        .bind(&series.event_type)
        .bind(range.begin)
        .bind(range.end)
        .bind(limit_of(page))
        .bind(offset_of(page))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| row.into_point(data_type))
            .collect()
    }

    async fn put_bins(&self, series: &SeriesKey, window: i64, bins: &[Bin]) -> Result<()> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        for chunk in bins.chunks(INSERT_CHUNK) {
            let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
                "insert into summary_bin (metadata_key, event_type, summary_window, bin_start, point_count, \
                 int_sum, float_sum, numerator, denominator, histogram) ",
            );
            insert.push_values(chunk, |mut row, bin| {
                row.push_bind(&series.metadata_key)
                    .push_bind(&series.event_type)
                    .push_bind(window)
                    .push_bind(bin.start)
                    .push_bind(bin.state.count)
                    .push_bind(bin.state.int_sum)
                    .push_bind(bin.state.float_sum)
                    .push_bind(bin.state.numerator)
                    .push_bind(bin.state.denominator)
                    .push_bind(bin.state.histogram.as_ref().map(histogram_to_text));
            });
            insert.push(
                " on conflict (metadata_key, event_type, summary_window, bin_start) do update set \
                 point_count = excluded.point_count, int_sum = excluded.int_sum, float_sum = excluded.float_sum, \
                 numerator = excluded.numerator, denominator = excluded.denominator, histogram = excluded.histogram",
            );
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_bins(
        &self,
        series: &SeriesKey,
        window: i64,
        range: TimeRange,
        page: Page,
    ) -> Result<Vec<Bin>> {
        let rows: Vec<BinRow> = sqlx::query_as(
            "select bin_start, point_count, int_sum, float_sum, numerator, denominator, histogram from summary_bin \
             where metadata_key = ? and event_type = ? and summary_window = ? and bin_start between ? and ? \
             order by bin_start limit ? offset ?",
        )
        .bind(&series.metadata_key)
        .bind(&series.event_type)
        .bind(window)
        .bind(range.begin)
        .bind(range.end)
        .bind(limit_of(page))
        .bind(offset_of(page))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(BinRow::into_bin).collect()
    }

    async fn queue_settling(
        &self,
        series: &SeriesKey,
        windows: &[i64],
        slots: &[i64],
    ) -> Result<()> {
        let windows = join_windows(windows);
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        for slot in slots {
            sqlx::query(
                "insert into summary_queue (slot, metadata_key, event_type, windows) \
                 values (?, ?, ?, ?) on conflict do update set windows = excluded.windows",
            )
            .bind(slot)
            .bind(&series.metadata_key)
            .bind(&series.event_type)
            .bind(&windows)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn queued_for_settling(&self, slot: i64) -> Result<Vec<(SeriesKey, Vec<i64>)>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "select metadata_key, event_type, windows from summary_queue where slot = ? \
             order by metadata_key, event_type",
        )
        .bind(slot)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(metadata_key, event_type, windows)| {
                let series = SeriesKey {
                    metadata_key,
                    event_type,
                };
                (series, split_windows(&windows))
            })
            .collect())
    }

    async fn settled_through(&self) -> Result<Option<i64>> {
        let through = sqlx::query_scalar("select through from summary_settled where name = 'all'")
            .fetch_optional(&self.pool)
            .await?;
        Ok(through)
    }

    async fn advance_settled(&self, through: i64) -> Result<()> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into summary_settled (name, through) values ('all', ?) \
             on conflict do update set through = max(through, excluded.through)",
        )
        .bind(through)
        .execute(&mut *tx)
        .await?;
        // Hours before the settled time are never read again (Cassandra lets them expire).
        sqlx::query("delete from summary_queue where slot < ?")
            .bind(through.div_euclid(crate::settling::SLOT))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
