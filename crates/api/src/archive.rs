//! What a request means for the archive, free of HTTP types: validate and store metadata, run a
//! search, check a write body. Handlers translate HTTP to these calls and back.

use esmond_metadata::{MetadataPage, MetadataStore};
use esmond_model::pyfmt::bytes_repr;
use esmond_model::{Metadata, NewMetadata};
use serde_json::Value;

use crate::dns::HostResolver;
use crate::search::{QueryParams, build_filter};

/// Why the archive refused a request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Rejection {
    /// Invalid input, with esmond's message.
    #[error("{0}")]
    Invalid(String),
    /// The metadata record does not exist.
    #[error("not found")]
    NotFound,
    /// A point was already stored, with esmond's message.
    #[error("{0}")]
    Conflict(String),
    /// The time-series store failed.
    #[error(transparent)]
    Series(#[from] esmond_storage::Error),
    /// The metadata store failed.
    #[error(transparent)]
    Metadata(#[from] esmond_metadata::Error),
}

/// Validates a posted metadata document and stores it, or finds the identical record.
pub(crate) async fn create_metadata(
    metadata: &MetadataStore,
    body: &Value,
    writer: &str,
) -> Result<Metadata, Rejection> {
    let new =
        NewMetadata::from_json(body).map_err(|error| Rejection::Invalid(error.to_string()))?;
    let record = metadata.create_metadata(&new).await?;
    tracing::debug!(metadata_key = %record.key, user = writer, "metadata stored");
    Ok(record)
}

/// Runs the search a query string describes, optionally within one record.
pub(crate) async fn find_metadata(
    metadata: &MetadataStore,
    resolver: &HostResolver,
    params: &QueryParams,
    key: Option<&str>,
) -> Result<MetadataPage, Rejection> {
    let mut filter = build_filter(params, resolver, now())
        .await
        .map_err(Rejection::Invalid)?;
    if let Some(key) = key {
        filter.metadata_key = Some(key.to_owned());
        filter.offset = 0;
    }
    Ok(metadata.find_metadata(&filter).await?)
}

/// Checks the body of a data write as esmond does before anything else (esmond-api.md §9.1
/// steps 1–3), and returns it decoded.
pub(crate) fn decode_write_body(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Value, Rejection> {
    if !content_type.is_some_and(|content_type| content_type.starts_with("application/json")) {
        return Err(Rejection::Invalid(
            "Must post content-type: application/json header and json-formatted payload."
                .to_owned(),
        ));
    }
    if body.is_empty() {
        return Err(Rejection::Invalid("No data payload POSTed.".to_owned()));
    }
    serde_json::from_slice(body).map_err(|_| {
        Rejection::Invalid(format!(
            "POST data payload could not be decoded to a JSON object - given: {}",
            bytes_repr(body)
        ))
    })
}

pub(crate) use esmond_storage::now;
