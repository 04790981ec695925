//! esmond's bytes on the wire: exact `Content-Type: application/json`, compact JSON with Python
//! float rendering, the empty-string body of successful writes, Django's HTML 404.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

/// esmond-client compares the whole header, so no `charset` parameter may follow.
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Returns a JSON response rendered as esmond renders it.
pub(crate) fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let mut response = Response::new(Body::from(esmond_model::json::to_vec(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, JSON);
    response
}

/// Returns the `201 ""` that answers every successful write.
pub(crate) fn created_empty() -> Response {
    json_response(StatusCode::CREATED, "")
}

/// Returns Django's HTML 404 for a URL that matches no route.
pub(crate) fn html_not_found() -> Response {
    let body = "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>";
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

/// Returns Django's permanent redirect to the slash-terminated URL, with an empty body.
pub(crate) fn redirect_with_slash(location: &str) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(location) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, location);
    }
    response
}
