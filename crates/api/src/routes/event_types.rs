//! R3 (one event type of a record), R4 (a summary listing, or base data) and R5 (a summary's
//! time series), below a metadata key.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use esmond_model::{EventType, SummaryType};
use serde_json::Value;

use super::{request_url, urls};
use crate::AppState;
use crate::archive::decode_write_body;
use crate::error::{ApiError, Result};
use crate::links::{PageLinks, RequestUrl};
use crate::render::{event_type_entry, summary_entry};
use crate::series;
use crate::view::{Caller, RouteKind, route};
use crate::wire::{created_empty, json_response};

pub(super) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(route(
            state,
            RouteKind::EventType,
            &[
                "/perfsonar/archive/{key}/{event_type}",
                "/perfsonar/archive/{key}/{event_type}/",
            ],
            get(get_event_type).post(post_event_type),
        ))
        .merge(route(
            state,
            RouteKind::EventType,
            &[
                "/perfsonar/archive/{key}/{event_type}/{summary}",
                "/perfsonar/archive/{key}/{event_type}/{summary}/",
            ],
            get(get_summaries).post(post_point),
        ))
        .merge(route(
            state,
            RouteKind::EventType,
            &[
                "/perfsonar/archive/{key}/{event_type}/{summary}/{window}",
                "/perfsonar/archive/{key}/{event_type}/{summary}/{window}/",
            ],
            get(get_window_series).post(post_window_point),
        ))
}

pub(super) fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
}

async fn get_event_type(
    State(state): State<AppState>,
    Path((key, event_type)): Path<(String, String)>,
    headers: HeaderMap,
    original: OriginalUri,
) -> Result<Response> {
    let url = request_url(&headers, &original);
    let metadata = state.metadata.get_metadata(&key).await?;
    // Unknown keys and event types give an empty list, never a 404 (esmond-api.md §10.1).
    let entries: Vec<Value> = metadata
        .filter(|metadata| metadata.rows_of(&event_type).next().is_some())
        .map(|metadata| {
            vec![event_type_entry(
                &urls(&state, &url),
                &metadata,
                &event_type,
            )]
        })
        .unwrap_or_default();
    Ok(json_response(StatusCode::OK, &entries))
}

/// esmond accepts this write and does nothing with it; the body is still checked as esmond does.
async fn post_event_type(headers: HeaderMap, body: Bytes) -> Result<Response> {
    decode_write_body(content_type(&headers), &body)?;
    Ok(created_empty())
}

async fn get_summaries(
    State(state): State<AppState>,
    Path((key, event_type, summary)): Path<(String, String, String)>,
    headers: HeaderMap,
    original: OriginalUri,
) -> Result<Response> {
    if EventType::lookup(&event_type).is_none() {
        return Err(ApiError::BadRequest(format!(
            "Unsupported event type '{event_type}' provided"
        )));
    }
    let Some(summary_type) = SummaryType::from_url_name(&summary) else {
        return Err(ApiError::BadRequest(format!(
            "Invalid summary type '{summary}'"
        )));
    };
    let url = request_url(&headers, &original);
    if summary_type == SummaryType::Base {
        return series_response(&state, &url, &key, &event_type, &summary, None).await;
    }
    let Some(metadata) = state.metadata.get_metadata(&key).await? else {
        return Err(ApiError::NotFound);
    };
    let builder = urls(&state, &url);
    let entries: Vec<Value> = metadata
        .rows_of(&event_type)
        .filter(|row| row.key.summary_type == summary_type)
        .map(|row| summary_entry(&builder, &metadata.key, row))
        .collect();
    if entries.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(json_response(StatusCode::OK, &entries))
}

async fn get_window_series(
    State(state): State<AppState>,
    Path((key, event_type, summary, window)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    original: OriginalUri,
) -> Result<Response> {
    let url = request_url(&headers, &original);
    series_response(&state, &url, &key, &event_type, &summary, Some(&window)).await
}

/// Answers a series read: the points, and a `Link` header when pages precede or follow.
async fn series_response(
    state: &AppState,
    url: &RequestUrl,
    key: &str,
    event_type: &str,
    summary: &str,
    window: Option<&str>,
) -> Result<Response> {
    let page = series::read(
        &state.metadata,
        &state.series,
        key,
        event_type,
        summary,
        window,
        &url.params,
    )
    .await?;
    // A series read does not count its points; it only knows whether more follow. A total just
    // past this page makes `next` appear exactly then.
    let total = if page.more {
        page.offset + page.limit + 1
    } else {
        0
    };
    let mut response = json_response(StatusCode::OK, &page.points);
    PageLinks::new(url, page.limit, page.offset, total).apply(&mut response);
    Ok(response)
}

async fn post_point(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, event_type, summary)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    write_point(
        &state,
        &caller,
        &key,
        &event_type,
        &summary,
        &headers,
        &body,
    )
    .await
}

async fn post_window_point(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, event_type, summary, _window)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    // esmond accepts and ignores a window after `base` on writes.
    write_point(
        &state,
        &caller,
        &key,
        &event_type,
        &summary,
        &headers,
        &body,
    )
    .await
}

async fn write_point(
    state: &AppState,
    caller: &Caller,
    key: &str,
    event_type: &str,
    summary: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response> {
    let document = decode_write_body(content_type(headers), body)?;
    let entry = series::parse_single(&document, event_type, summary)?;
    series::write(stores(state), key, vec![entry], caller.user_name()).await?;
    Ok(created_empty())
}

/// Returns the stores a write touches.
pub(super) fn stores(state: &AppState) -> series::Stores<'_> {
    series::Stores {
        metadata: &state.metadata,
        registrations: &state.registrations,
        series: &state.series,
        updates: &state.updates,
    }
}
