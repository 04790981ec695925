//! R0 (the API root), R1 (metadata list, search and create) and R2 (one metadata record).

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde_json::{Value, json};

use super::event_types::{content_type, stores};
use super::{request_url, urls};
use crate::AppState;
use crate::archive::{create_metadata, decode_write_body, find_metadata};
use crate::error::{ApiError, Result};
use crate::links::PageLinks;
use crate::render::metadata_object;
use crate::search::{limit, offset};
use crate::series;
use crate::view::{Caller, RouteKind, route};
use crate::wire::{created_empty, json_response};

pub(super) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(route(
            state,
            RouteKind::Root,
            &["/perfsonar", "/perfsonar/"],
            get(get_root),
        ))
        .merge(route(
            state,
            RouteKind::List,
            &["/perfsonar/archive", "/perfsonar/archive/"],
            get(list_metadata).post(post_metadata),
        ))
        .merge(route(
            state,
            RouteKind::Detail,
            &["/perfsonar/archive/{key}", "/perfsonar/archive/{key}/"],
            get(get_metadata).put(put_data).merge(patch(patch_metadata)),
        ))
}

async fn get_root(
    State(state): State<AppState>,
    headers: HeaderMap,
    original: OriginalUri,
) -> Response {
    let url = request_url(&headers, &original);
    let archive = format!("{}{}", url.origin, urls(&state, &url).archive_path());
    json_response(StatusCode::OK, &json!({ "archive": archive }))
}

async fn list_metadata(
    State(state): State<AppState>,
    headers: HeaderMap,
    original: OriginalUri,
) -> Result<Response> {
    let url = request_url(&headers, &original);
    let page = find_metadata(&state.metadata, &state.resolver, &url.params, None).await?;
    let (limit, offset) = (limit(&url.params), offset(&url.params));
    let links = PageLinks::new(&url, limit, offset, page.total);

    let builder = urls(&state, &url);
    let mut objects: Vec<Value> = Vec::with_capacity(page.records.len());
    for (index, record) in page.records.iter().enumerate() {
        let mut object = metadata_object(&builder, record);
        if index == 0 {
            object.insert("metadata-count-total".into(), page.total.into());
            object.insert(
                "metadata-previous-page".into(),
                links.previous.clone().into(),
            );
            object.insert("metadata-next-page".into(), links.next.clone().into());
        }
        objects.push(object.into());
    }
    let mut response = json_response(StatusCode::OK, &objects);
    links.apply(&mut response);
    Ok(response)
}

/// Reads a metadata POST body the way Django REST framework's parsers would.
fn parse_metadata_body(headers: &HeaderMap, body: &Bytes) -> Result<Value> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()));
    let media_type = content_type
        .as_deref()
        .map(|value| value.split(';').next().unwrap_or_default().trim());
    match media_type {
        None if body.is_empty() => Ok(json!({})),
        Some("application/json") if body.is_empty() => Ok(json!({})),
        Some("application/json") => serde_json::from_slice(body)
            .map_err(|error| ApiError::BadRequest(format!("JSON parse error - {error}"))),
        // Form values are strings, so a form reaches validation and fails there as in esmond.
        Some("application/x-www-form-urlencoded") => {
            let fields = form_urlencoded::parse(body)
                .into_owned()
                .map(|(key, value)| (key, Value::String(value)));
            Ok(Value::Object(fields.collect()))
        }
        Some(multipart) if multipart.starts_with("multipart/form-data") => Ok(json!({})),
        _ => Err(ApiError::UnsupportedMediaType(
            content_type.unwrap_or_default().into_owned(),
        )),
    }
}

async fn post_metadata(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    original: OriginalUri,
    body: Bytes,
) -> Result<Response> {
    let document = parse_metadata_body(&headers, &body)?;
    if document.is_null() {
        return Err(ApiError::NoDataProvided);
    }
    let record = create_metadata(&state.metadata, &document, caller.user_name()).await?;
    let url = request_url(&headers, &original);
    let builder = urls(&state, &url);
    let mut response = json_response(StatusCode::CREATED, &metadata_object(&builder, &record));
    if let Ok(location) = HeaderValue::from_str(&builder.metadata_url(&record.key)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn get_metadata(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    original: OriginalUri,
) -> Result<Response> {
    let url = request_url(&headers, &original);
    // esmond applies the list filters here too, so `?event-type=other` gives 404.
    let page = find_metadata(&state.metadata, &state.resolver, &url.params, Some(&key)).await?;
    let Some(record) = page.records.first() else {
        return Err(ApiError::NotFound);
    };
    Ok(json_response(
        StatusCode::OK,
        &metadata_object(&urls(&state, &url), record),
    ))
}

/// PUT R2: one measurement run of several event types (esmond-api.md §9).
async fn put_data(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let document = decode_write_body(content_type(&headers), &body)?;
    let entries = series::parse_bulk(&document)?;
    series::write(stores(&state), &key, entries, caller.user_name()).await?;
    Ok(created_empty())
}

async fn patch_metadata() -> impl IntoResponse {
    ApiError::PatchNotSupported
}
