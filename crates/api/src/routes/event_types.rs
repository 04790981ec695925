//! R3 (one event type of a record), R4 (a summary listing, or base data) and R5 (a summary's
//! time series), below a metadata key.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use esmond_model::{EventType, SummaryType};
use serde_json::Value;

use super::{request_url, urls};
use crate::AppState;
use crate::archive::decode_write_body;
use crate::error::{ApiError, Result};
use crate::render::{event_type_entry, summary_entry};
use crate::view::{RouteKind, route};
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
            get(get_summaries),
        ))
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
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
    if summary_type == SummaryType::Base {
        // Base time series are served once the time-series store exists (issue 3).
        return Err(ApiError::NotFound);
    }
    let url = request_url(&headers, &original);
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
