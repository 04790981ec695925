//! esmond's per-request checks around every API route, in esmond's order (esmond-api.md §3.4):
//! path syntax, the trailing-slash redirect, content negotiation, authentication, permission;
//! then the handler (or the 405 fallback); then `Allow` and `Vary` on the answer.

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{ConnectInfo, OriginalUri, RawPathParams, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use serde_json::json;

use crate::AppState;
use crate::auth::{Identity, authenticate_address, authenticate_token, client_address};
use crate::error::ApiError;
use crate::negotiate::negotiate;
use crate::search::QueryParams;
use crate::wire::{html_not_found, json_response, redirect_with_slash};

/// The routes of esmond-api.md §2, each with its `Allow` header and path syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteKind {
    /// R0 `/perfsonar/`.
    Root,
    /// R1 `/perfsonar/archive/`.
    List,
    /// R2 `/perfsonar/archive/{key}/`.
    Detail,
    /// R3–R5 below a metadata key.
    EventType,
}

impl RouteKind {
    fn allow(self) -> &'static str {
        match self {
            RouteKind::Root => "GET, HEAD, OPTIONS",
            RouteKind::List | RouteKind::EventType => "GET, POST, HEAD, OPTIONS",
            RouteKind::Detail => "GET, PUT, PATCH, HEAD, OPTIONS",
        }
    }

    fn name(self) -> &'static str {
        match self {
            RouteKind::Root => "Perfsonar Root",
            RouteKind::List => "Archive Viewset List",
            RouteKind::Detail => "Archive Viewset Instance",
            RouteKind::EventType => "Event Type Detail",
        }
    }

    /// Routes whose URL must end with a slash (Django's `APPEND_SLASH`).
    fn needs_slash(self) -> bool {
        self != RouteKind::EventType
    }

    /// Returns whether a path parameter's value has the syntax esmond's URL patterns accept.
    fn accepts(self, name: &str, value: &str) -> bool {
        let word = |c: char| c.is_alphanumeric() || c == '_';
        match (self, name) {
            (RouteKind::Detail, _) => !value.is_empty() && !value.contains(['/', '.']),
            (_, "key" | "event_type") => {
                !value.is_empty() && value.chars().all(|c| word(c) || c == '.' || c == '-')
            }
            _ => {
                !value.is_empty()
                    && value
                        .chars()
                        .all(|c| word(c) || matches!(c, '.' | '-' | '@'))
            }
        }
    }
}

/// The caller as authenticated by the view, for handlers that want it.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub(crate) Option<Identity>);

impl Caller {
    /// Returns the user name for logs, `-` when anonymous.
    pub(crate) fn user_name(&self) -> &str {
        self.0
            .as_ref()
            .map_or("-", |identity| identity.user.as_str())
    }
}

#[derive(Debug, Clone)]
struct ViewState {
    app: AppState,
    kind: RouteKind,
}

/// Returns a router serving `methods` at `paths`, wrapped in esmond's view checks.
pub(crate) fn route(
    app: &AppState,
    kind: RouteKind,
    paths: &[&str],
    methods: MethodRouter<AppState>,
) -> Router<AppState> {
    let methods = methods
        .options(move || async move { describe(kind) })
        .fallback(method_not_allowed);
    let mut router = Router::new();
    for path in paths {
        router = router.route(path, methods.clone());
    }
    let state = ViewState {
        app: app.clone(),
        kind,
    };
    router.route_layer(middleware::from_fn_with_state(state, api_view))
}

fn describe(kind: RouteKind) -> Response {
    let body = json!({
        "name": kind.name(),
        "description": "",
        "renders": ["application/json", "text/html"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    });
    let mut response = json_response(axum::http::StatusCode::OK, &body);
    // A browser's CORS preflight is an OPTIONS request too: this answer grants it.
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(kind.allow()),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type, accept"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    response
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn api_view(
    State(view): State<ViewState>,
    params: Result<RawPathParams, RawPathParamsRejection>,
    OriginalUri(original): OriginalUri,
    mut request: Request,
    next: Next,
) -> Response {
    let syntax_ok = match &params {
        Ok(params) => params
            .iter()
            .all(|(name, value)| view.kind.accepts(name, value)),
        // Routes without parameters carry none; anything else is a segment that is not UTF-8.
        Err(RawPathParamsRejection::MissingPathParams(_)) => true,
        Err(_) => false,
    };
    if !syntax_ok {
        return html_not_found();
    }
    // A write without its slash is answered in place: a redirect would lose its body.
    let write = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH
    );
    if view.kind.needs_slash() && !original.path().ends_with('/') && !write {
        let query = original
            .query()
            .map(|query| format!("?{query}"))
            .unwrap_or_default();
        return redirect_with_slash(&format!("{}/{query}", original.path()));
    }
    let mut response = match check(&view, &mut request).await {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(header::ALLOW, HeaderValue::from_static(view.kind.allow()));
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

/// Negotiation, authentication and permission; on success the caller is in the extensions.
async fn check(view: &ViewState, request: &mut Request) -> Result<(), ApiError> {
    let params = QueryParams::parse(request.uri().query());
    let headers = request.headers();
    negotiate(
        params.get("format"),
        headers.get(header::ACCEPT).map(HeaderValue::as_bytes),
    )?;

    let metadata = &view.app.metadata;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let mut identity = authenticate_token(metadata, &view.app.keys, authorization).await?;
    if identity.is_none() && !is_read(request.method()) {
        let peer: Option<IpAddr> = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let forwarded_for = headers.get("x-forwarded-for").map(HeaderValue::as_bytes);
        if let Some(address) = client_address(peer, forwarded_for, &view.app.config.trusted_proxies)
        {
            identity = authenticate_address(metadata, address).await?;
        }
        if identity.is_none() {
            return Err(ApiError::Unauthorized(
                "Authentication credentials were not provided.",
            ));
        }
    }
    request.extensions_mut().insert(Caller(identity));
    Ok(())
}
