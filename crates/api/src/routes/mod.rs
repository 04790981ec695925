//! The route table: one module per resource, merged here under the configured prefix, with the
//! layers that apply to every response (CORS, tracing, error logging).

mod archive;
mod event_types;
mod health;

use axum::Router;
use axum::extract::OriginalUri;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::{HeaderMap, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::error::InternalCause;
use crate::links::RequestUrl;
use crate::render::Urls;
use crate::wire::html_not_found;

pub(crate) fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(archive::router(&state))
        .merge(event_types::router(&state));
    let prefix = state.config.prefix.trim_end_matches('/');
    let routed = if prefix.is_empty() {
        api
    } else {
        Router::new().nest(prefix, api)
    };
    // perfSONAR's web pages read the archive from other origins, as esmond's Apache allowed.
    // tower-http's CorsLayer would answer every OPTIONS itself and hide esmond's OPTIONS answer,
    // so the origin header is set here and each route's OPTIONS answer doubles as the preflight
    // (see `view::describe`).
    let cors = SetResponseHeaderLayer::if_not_present(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    routed
        .merge(health::router())
        .fallback(|| async { html_not_found() })
        .layer(middleware::from_fn(log_internal_errors))
        .layer(TraceLayer::new_for_http())
        .layer(cors)
        .with_state(state)
}

/// Logs the cause of a 500 or 503 once, inside the request's span.
async fn log_internal_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(InternalCause(cause)) = response.extensions().get::<InternalCause>() {
        if response.status() == axum::http::StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(error = %cause, "store unavailable");
        } else {
            tracing::error!(error = %cause, "request failed");
        }
    }
    response
}

/// The request URL and the deployment's URL builder, as handlers need them.
fn request_url(headers: &HeaderMap, original: &OriginalUri) -> RequestUrl {
    RequestUrl::new(headers, &original.0)
}

fn urls<'a>(state: &'a AppState, url: &'a RequestUrl) -> Urls<'a> {
    Urls {
        origin: &url.origin,
        prefix: state.config.prefix.trim_end_matches('/'),
    }
}
