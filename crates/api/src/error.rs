//! The API's error type, rendered as esmond renders errors: `{"detail": …}` with esmond's status
//! codes and messages.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::archive::Rejection;
use crate::wire::json_response;

/// Why a request failed, as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Invalid input; the message is esmond's.
    #[error("{0}")]
    BadRequest(String),
    /// A metadata POST whose body is JSON `null`, which esmond answers in another shape.
    #[error("No data provided")]
    NoDataProvided,
    /// Missing or bad credentials.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Nothing at this URL.
    #[error("Not found.")]
    NotFound,
    /// The route does not serve this method.
    #[error("Method \"{0}\" not allowed.")]
    MethodNotAllowed(String),
    /// A point is already stored (pScheduler reads this as "already archived").
    #[error("{0}")]
    Conflict(String),
    /// PATCH on a metadata record (esmond means to refuse it, and crashes instead).
    #[error("does not support PATCH verb")]
    PatchNotSupported,
    /// The `Accept` header asks for something other than JSON or HTML.
    #[error("Could not satisfy the request Accept header.")]
    NotAcceptable,
    /// A metadata POST with a body that is neither JSON nor a form.
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    /// A store is down or overloaded; retrying later may succeed. The cause is logged, never
    /// shown.
    #[error("{message}")]
    Unavailable {
        /// The client-visible detail.
        message: &'static str,
        /// What the store reported.
        #[source]
        cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A bug or corrupt data; the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The cause of a 500, carried to the logging middleware in the response extensions.
#[derive(Debug, Clone)]
pub(crate) struct InternalCause(pub(crate) Arc<String>);

impl ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::NoDataProvided => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) | ApiError::PatchNotSupported => {
                StatusCode::METHOD_NOT_ALLOWED
            }
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match &self {
            ApiError::NoDataProvided => json!({"non_field_errors": ["No data provided"]}),
            other => json!({"detail": other.to_string()}),
        };
        let mut response = json_response(self.status_code(), &body);
        match self {
            ApiError::Unauthorized(_) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
            }
            ApiError::Internal(cause)
            | ApiError::Unavailable {
                cause: Some(cause), ..
            } => {
                response
                    .extensions_mut()
                    .insert(InternalCause(Arc::new(format!("{cause:?}"))));
            }
            _ => {}
        }
        response
    }
}

impl From<esmond_metadata::Error> for ApiError {
    fn from(error: esmond_metadata::Error) -> Self {
        match error {
            esmond_metadata::Error::NotFound(_) => ApiError::NotFound,
            esmond_metadata::Error::Unavailable(cause) => ApiError::Unavailable {
                message: "metadata store unavailable",
                cause: Some(Box::new(cause)),
            },
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl From<esmond_storage::Error> for ApiError {
    fn from(error: esmond_storage::Error) -> Self {
        match error {
            esmond_storage::Error::Unavailable(cause) => ApiError::Unavailable {
                message: "time-series store unavailable",
                cause: Some(cause),
            },
            esmond_storage::Error::Contention => ApiError::Unavailable {
                message: "too many concurrent writes to one summary; retry",
                cause: None,
            },
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::Invalid(message) => ApiError::BadRequest(message),
            Rejection::NotFound => ApiError::NotFound,
            Rejection::Conflict(message) => ApiError::Conflict(message),
            Rejection::Metadata(error) => error.into(),
            Rejection::Series(error) => error.into(),
        }
    }
}

/// Result of a handler.
pub(crate) type Result<T, E = ApiError> = std::result::Result<T, E>;
