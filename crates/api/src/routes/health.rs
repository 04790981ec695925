//! `GET /healthz` (the process answers) and `GET /readyz` (the stores answer, and the node is not
//! shutting down), for a balancer's health checks (HAProxy `option httpchk GET /readyz`).
//! Outside the archive prefix and its checks: no authentication, no content negotiation.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

use crate::AppState;
use crate::wire::json_response;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(get_health))
        .route("/readyz", get(get_readiness))
}

async fn get_health() -> Response {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

fn unavailable(reason: &str) -> Response {
    json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({"status": "unavailable", "reason": reason}),
    )
}

async fn get_readiness(State(state): State<AppState>) -> Response {
    if state.lifecycle.is_draining() {
        return unavailable("shutting down");
    }
    if let Err(error) = state.metadata.ping().await {
        tracing::warn!(%error, "not ready: metadata store");
        return unavailable("metadata store unreachable");
    }
    if let Err(error) = state.series.ping().await {
        tracing::warn!(%error, "not ready: time-series store");
        return unavailable("time-series store unreachable");
    }
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}
