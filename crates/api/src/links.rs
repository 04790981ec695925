//! URLs as esmond builds them: absolute ones from the request's scheme and `Host` header, and the
//! pagination links of the metadata list (esmond-api.md §6.5).

use axum::http::{HeaderMap, Uri, header};

use crate::search::QueryParams;

/// Where the request arrived: enough to build absolute URLs the way esmond does.
#[derive(Debug, Clone)]
pub(crate) struct RequestUrl {
    /// `http://<Host header>`.
    pub(crate) origin: String,
    /// The request path as received, prefix included.
    pub(crate) path: String,
    /// The decoded query string.
    pub(crate) params: QueryParams,
}

impl RequestUrl {
    /// Reads the origin from the `Host` header (esmond never uses forwarded-host headers) and the
    /// path and query from the original URI.
    pub(crate) fn new(headers: &HeaderMap, uri: &Uri) -> RequestUrl {
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .or_else(|| uri.authority().map(|authority| authority.as_str()))
            .unwrap_or("localhost");
        RequestUrl {
            origin: format!("http://{host}"),
            path: uri.path().to_owned(),
            params: QueryParams::parse(uri.query()),
        }
    }
}

/// Percent-encodes like Python's `quote_plus`: letters, digits and `_.-~` stay, a space becomes
/// `+`, every other byte is `%XX` in uppercase hex.
fn quote_plus(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Returns the query with `changes` applied (`None` removes a name), re-encoded with names in
/// sorted order, as Django REST framework's `replace_query_param` does.
fn rewrite_query(params: &QueryParams, changes: &[(&str, Option<String>)]) -> String {
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in params.pairs() {
        match grouped.iter_mut().find(|(existing, _)| existing == name) {
            Some((_, values)) => values.push(value.clone()),
            None => grouped.push((name.clone(), vec![value.clone()])),
        }
    }
    for (name, change) in changes {
        grouped.retain(|(existing, _)| existing != name);
        if let Some(value) = change {
            grouped.push(((*name).to_owned(), vec![value.clone()]));
        }
    }
    grouped.sort_by(|a, b| a.0.cmp(&b.0));
    let mut parts = Vec::new();
    for (name, values) in &grouped {
        for value in values {
            parts.push(format!("{}={}", quote_plus(name), quote_plus(value)));
        }
    }
    parts.join("&")
}

/// The previous and next page links of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PageLinks {
    pub(crate) previous: Option<String>,
    pub(crate) next: Option<String>,
}

impl PageLinks {
    /// Returns the links for a page of `limit` records at `offset` out of `total`.
    pub(crate) fn new(url: &RequestUrl, limit: u64, offset: u64, total: u64) -> PageLinks {
        let base = format!("{}{}", url.origin, url.path);
        let next = (offset.saturating_add(limit) < total).then(|| {
            let changes = [
                ("limit", Some(limit.to_string())),
                ("offset", Some((offset + limit).to_string())),
            ];
            format!("{base}?{}", rewrite_query(&url.params, &changes))
        });
        let previous = (offset > 0).then(|| {
            let previous_offset = (offset > limit).then(|| (offset - limit).to_string());
            let changes = [
                ("limit", Some(limit.to_string())),
                ("offset", previous_offset),
            ];
            format!("{base}?{}", rewrite_query(&url.params, &changes))
        });
        PageLinks { previous, next }
    }

    /// Adds the `Link` header to a response, when there is any link.
    pub(crate) fn apply(&self, response: &mut axum::response::Response) {
        if let Some(link) = self
            .header()
            .and_then(|link| axum::http::HeaderValue::from_str(&link).ok())
        {
            response.headers_mut().insert(header::LINK, link);
        }
    }

    /// Returns the `Link` header value, if there is any link.
    pub(crate) fn header(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(next) = &self.next {
            parts.push(format!("<{next}>; rel=\"next\""));
        }
        if let Some(previous) = &self.previous {
            parts.push(format!("<{previous}>; rel=\"prev\""));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(query: &str) -> RequestUrl {
        RequestUrl {
            origin: "http://testserver".to_owned(),
            path: "/perfsonar/archive/".to_owned(),
            params: QueryParams::parse(Some(query)),
        }
    }

    #[test]
    fn links_match_esmond_examples() {
        let links = PageLinks::new(&url("limit=2&offset=1"), 2, 1, 16);
        assert_eq!(
            links.next.as_deref(),
            Some("http://testserver/perfsonar/archive/?limit=2&offset=3")
        );
        assert_eq!(
            links.previous.as_deref(),
            Some("http://testserver/perfsonar/archive/?limit=2")
        );
        assert_eq!(
            links.header().unwrap(),
            "<http://testserver/perfsonar/archive/?limit=2&offset=3>; rel=\"next\", \
             <http://testserver/perfsonar/archive/?limit=2>; rel=\"prev\""
        );
        let beyond = PageLinks::new(&url("offset=100"), 1500, 100, 16);
        assert_eq!(
            beyond.header().unwrap(),
            "<http://testserver/perfsonar/archive/?limit=1500>; rel=\"prev\""
        );
        assert_eq!(PageLinks::new(&url(""), 1500, 0, 16).header(), None);
    }

    #[test]
    fn other_parameters_are_kept_sorted_and_quoted() {
        let links = PageLinks::new(&url("tool-name=a b&event-type=x&z=1&z=2&limit=5"), 5, 0, 20);
        assert_eq!(
            links.next.as_deref(),
            Some(
                "http://testserver/perfsonar/archive/?event-type=x&limit=5&offset=5&tool-name=a+b&z=1&z=2"
            )
        );
        assert_eq!(quote_plus("a/b:c~d*"), "a%2Fb%3Ac~d%2A");
    }
}
