//! What a time-series request means for the archive, free of HTTP types: validate a whole write,
//! register event types its metadata never declared, store points and summaries, mark
//! `time-updated`; and answer a series read (esmond-api.md §9, §11–§14).

use std::collections::{BTreeMap, BTreeSet};

use esmond_metadata::MetadataStore;
use esmond_model::pyfmt::parse_int;
use esmond_model::summary::state_windows;
use esmond_model::value::parse_timestamp;
use esmond_model::{BinState, DataType, EventType, Metadata, SummaryType, Value};
use esmond_storage::{Page, Point, SeriesKey, SeriesStore, SeriesWrite, TimeRange};
use serde_json::{Value as Json, json};

use crate::archive::{Rejection, now};
use crate::freshness::UpdateTracker;
use crate::registrations::Registrations;
use crate::search::{QueryParams, time_window};

/// Default number of points of a series read, as esmond's.
pub(crate) const DEFAULT_SERIES_LIMIT: u64 = 1500;

/// The stores a write touches.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stores<'a> {
    pub(crate) metadata: &'a MetadataStore,
    pub(crate) registrations: &'a Registrations,
    pub(crate) series: &'a SeriesStore,
    pub(crate) updates: &'a UpdateTracker,
}

/// One validated entry of a write.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) event_type: EventType,
    pub(crate) ts: i64,
    pub(crate) value: Value,
}

fn invalid<T>(message: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection::Invalid(message.into()))
}

fn catalog_type(name: &Json) -> Result<EventType, Rejection> {
    match name.as_str().and_then(EventType::lookup) {
        Some(event_type) => Ok(event_type),
        None => invalid(format!(
            "Invalid event type {}",
            esmond_model::pyfmt::py_str(name)
        )),
    }
}

fn parse_value(event_type: EventType, value: &Json) -> Result<Value, Rejection> {
    Value::parse(event_type.data_type(), value).map_err(|error| Rejection::Invalid(error.0))
}

/// Validates a bulk body (`{"data": [{"ts": …, "val": [{"event-type": …, "val": …}]}]}`) whole,
/// in esmond's order and with its messages; nothing is stored yet.
pub(crate) fn parse_bulk(body: &Json) -> Result<Vec<Entry>, Rejection> {
    let Some(data) = body.as_object().and_then(|object| object.get("data")) else {
        return invalid("Request must contain 'data' element");
    };
    let Some(items) = data.as_array() else {
        return invalid("The 'data' element must be an array");
    };
    let mut entries = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let position = index + 1;
        let Some(ts) = item.get("ts") else {
            return invalid(format!(
                "Missing ts field in provided data list at position {position}"
            ));
        };
        let Some(values) = item.get("val") else {
            return invalid(format!(
                "Missing val field in provided data list at position {position}"
            ));
        };
        let Some(values) = values.as_array() else {
            return invalid(format!(
                "'val' field must be an array in provided data list at position {position}"
            ));
        };
        let Some(ts) = parse_timestamp(ts) else {
            return invalid("Time must be a unix timestamp");
        };
        for (index, value) in values.iter().enumerate() {
            let place = format!("at data item {position} in value {}", index + 1);
            // esmond's two messages end with a space.
            let Some(name) = value.get("event-type") else {
                return invalid(format!("Missing event-type field {place} "));
            };
            let Some(value) = value.get("val") else {
                return invalid(format!("Missing val field {place} "));
            };
            let event_type = catalog_type(name)?;
            entries.push(Entry {
                event_type,
                ts,
                value: parse_value(event_type, value)?,
            });
        }
    }
    Ok(entries)
}

/// Validates a single-point body for `…/{et}/{st}[/{w}]`, in esmond's order.
pub(crate) fn parse_single(
    body: &Json,
    event_type: &str,
    summary: &str,
) -> Result<Entry, Rejection> {
    let Some(ts) = body.get("ts") else {
        return invalid("Required field ts not provided in request");
    };
    let Some(ts) = parse_timestamp(ts) else {
        return invalid("Time must be a unix timestamp");
    };
    let Some(value) = body.get("val") else {
        return invalid("Required field val not provided in request");
    };
    let Some(event_type) = EventType::lookup(event_type) else {
        return invalid(format!("Invalid event type {event_type}"));
    };
    match SummaryType::from_url_name(summary) {
        None => return invalid(format!("Invalid summary type {summary}")),
        Some(SummaryType::Base) => {}
        Some(_) => {
            return invalid(format!(
                "Only base summary-type allowed for writing. Cannot use {summary}"
            ));
        }
    }
    Ok(Entry {
        event_type,
        ts,
        value: parse_value(event_type, value)?,
    })
}

/// Returns the summary windows kept for an event type of a record.
fn kept_windows(metadata: &Metadata, event_type: EventType) -> Vec<i64> {
    let registered = metadata
        .rows_of(event_type.name())
        .filter(|row| {
            row.key.summary_type != SummaryType::Base && event_type.allows(row.key.summary_type)
        })
        .map(|row| row.key.window);
    state_windows(registered)
}

fn has_statistics(metadata: &Metadata, event_type: EventType) -> bool {
    metadata
        .rows_of(event_type.name())
        .any(|row| row.key.summary_type == SummaryType::Statistics)
}

/// Stores validated entries on record `key`: registers event types the record lacks, writes
/// every series, and answers 409 afterwards if some numeric points were already there.
pub(crate) async fn write(
    stores: Stores<'_>,
    key: &str,
    entries: Vec<Entry>,
    writer: &str,
) -> Result<(), Rejection> {
    let Some(mut metadata) = stores.registrations.get(key).await? else {
        return Err(Rejection::NotFound);
    };
    // Statistics of an empty histogram divide by zero; refuse the request before storing any of it.
    for entry in &entries {
        if let Value::Histogram(histogram) = &entry.value
            && histogram.total() <= 0
            && has_statistics(&metadata, entry.event_type)
        {
            return invalid(format!(
                "Histogram of event type {} at time {} has no samples; its statistics cannot be computed",
                entry.event_type, entry.ts
            ));
        }
    }
    let names: BTreeSet<EventType> = entries.iter().map(|entry| entry.event_type).collect();
    let mut missing = false;
    for event_type in &names {
        if metadata.rows_of(event_type.name()).next().is_some() {
            continue;
        }
        missing = true;
        // Another node may have registered it meanwhile: then nothing is inserted here.
        if stores
            .metadata
            .register_event_type(key, event_type.name())
            .await?
        {
            tracing::warn!(metadata_key = key, event_type = %event_type, user = writer,
                "registered an event type the metadata did not declare, to keep its data");
        }
    }
    if missing {
        metadata = stores
            .registrations
            .refresh(key)
            .await?
            .ok_or(Rejection::NotFound)?;
    }

    let mut by_series: BTreeMap<EventType, Vec<Point>> = BTreeMap::new();
    for entry in &entries {
        by_series.entry(entry.event_type).or_default().push(Point {
            ts: entry.ts,
            value: entry.value.clone(),
        });
    }
    // The series of a request are written side by side, after one duplicate check for all.
    let (offered, writes): (Vec<(EventType, usize)>, Vec<SeriesWrite>) = by_series
        .into_iter()
        .map(|(event_type, points)| {
            let write = SeriesWrite {
                series: SeriesKey {
                    metadata_key: key.to_owned(),
                    event_type: event_type.name().to_owned(),
                },
                data_type: event_type.data_type(),
                windows: kept_windows(&metadata, event_type),
                points,
            };
            ((event_type, write.points.len()), write)
        })
        .unzip();
    let outcomes = stores.series.write_all(writes).await?;
    let mut duplicates: BTreeSet<(EventType, i64)> = BTreeSet::new();
    for ((event_type, offered), outcome) in offered.into_iter().zip(outcomes) {
        if outcome.duplicates.len() < offered {
            stores.updates.touch(key, event_type.name(), now()).await;
        }
        duplicates.extend(outcome.duplicates.into_iter().map(|ts| (event_type, ts)));
    }
    if let Some(entry) = entries
        .iter()
        .find(|entry| duplicates.contains(&(entry.event_type, entry.ts)))
    {
        return Err(Rejection::Conflict(format!(
            "Time series value already exists with event type {} at time {}",
            entry.event_type, entry.ts
        )));
    }
    Ok(())
}

/// A page of a series read, ready to render.
#[derive(Debug, Clone)]
pub(crate) struct SeriesPage {
    /// `{"ts": …, "val": …}` objects, ascending.
    pub(crate) points: Vec<Json>,
    /// Whether points follow this page.
    pub(crate) more: bool,
    /// The page size used.
    pub(crate) limit: u64,
    /// The points skipped.
    pub(crate) offset: u64,
}

/// Returns the time range of a series read (esmond-api.md §11.2).
fn series_range(params: &QueryParams, now: i64) -> Result<TimeRange, Rejection> {
    let (begin, end) = time_window(params, now).map_err(Rejection::Invalid)?;
    let range = match (begin, end) {
        (None, None) => TimeRange { begin: 0, end: now },
        (Some(begin), None) => TimeRange {
            begin,
            end: now.saturating_add(3600),
        },
        (Some(begin), Some(end)) => TimeRange { begin, end },
        (None, Some(end)) => TimeRange { begin: 0, end },
    };
    Ok(range)
}

fn series_page(params: &QueryParams) -> Result<(u64, u64), Rejection> {
    let limit = match params.get("limit") {
        None => DEFAULT_SERIES_LIMIT,
        Some(text) => match parse_int(text) {
            None => return invalid("Limit parameter must be an integer"),
            Some(limit) if limit < 0 => return invalid("Limit parameter must not be negative"),
            Some(limit) => limit.unsigned_abs(),
        },
    };
    let offset = params
        .get("offset")
        .and_then(parse_int)
        .and_then(|offset| u64::try_from(offset).ok())
        .unwrap_or(0);
    Ok((limit, offset))
}

/// Reads `…/{et}/{st}[/{w}]` (esmond-api.md §11).
pub(crate) async fn read(
    metadata: &MetadataStore,
    series: &SeriesStore,
    key: &str,
    event_type: &str,
    summary: &str,
    window: Option<&str>,
    params: &QueryParams,
) -> Result<SeriesPage, Rejection> {
    let Some(event_type) = EventType::lookup(event_type) else {
        return invalid(format!("Unsupported event type '{event_type}' provided"));
    };
    let Some(summary_type) = SummaryType::from_url_name(summary) else {
        return invalid(format!("Invalid summary type '{summary}'"));
    };
    let window = match window {
        None => 0,
        Some(text) => match parse_int(text) {
            Some(window) => window,
            None => return invalid("Summary window parameter must be an integer"),
        },
    };
    let range = series_range(params, now())?;
    let (limit, offset) = series_page(params)?;
    let mut page = SeriesPage {
        points: Vec::new(),
        more: false,
        limit,
        offset,
    };
    if limit == 0 {
        return Ok(page);
    }

    // Only what the record registered exists (hidden hourly and daily states stay hidden).
    let Some(record) = metadata.get_metadata(key).await? else {
        return Ok(page);
    };
    let registered = record
        .rows_of(event_type.name())
        .any(|row| row.key.summary_type == summary_type && row.key.window == window);
    if !registered {
        return Ok(page);
    }
    let name = SeriesKey {
        metadata_key: key.to_owned(),
        event_type: event_type.name().to_owned(),
    };
    // One row more than asked tells whether a next page exists.
    let fetch = Page {
        offset,
        limit: Some(limit.saturating_add(1)),
    };
    let data_type: DataType = event_type.data_type();
    let mut points: Vec<Json> = if summary_type == SummaryType::Base {
        series
            .points(&name, range, fetch)
            .await?
            .into_iter()
            .map(|point| json!({"ts": point.ts, "val": point.value.to_json()}))
            .collect()
    } else if window <= 0 {
        // Window 0 keeps one summary point per base point.
        let base = series.points(&name, range, fetch).await?;
        base.into_iter()
            .filter_map(|point| {
                BinState::of(&point.value)
                    .render(data_type, summary_type)
                    .map(|val| json!({"ts": point.ts, "val": val}))
            })
            .collect()
    } else {
        let windows = kept_windows(&record, event_type);
        let bins = series.bins(&name, window, &windows, range, fetch).await?;
        bins.into_iter()
            .filter_map(|bin| {
                bin.state
                    .render(data_type, summary_type)
                    .map(|val| json!({"ts": bin.start, "val": val}))
            })
            .collect()
    };
    page.more = points.len() as u64 > limit;
    points.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    page.points = points;
    Ok(page)
}
