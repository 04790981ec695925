//! Content negotiation as Django REST framework does it for esmond (esmond-api.md §1.3): a
//! `format` query parameter picks a renderer (unknown → 404), then the `Accept` header must
//! match one of the remaining renderers (nothing → 406). The HTML renderer is not implemented;
//! a request that selects it gets JSON.

use crate::error::ApiError;

/// esmond's renderers as (media type, `format` name).
const RENDERERS: [(&str, &str); 2] = [("application/json", "json"), ("text/html", "api")];

/// Checks that the request can be answered, given its `format` parameter and `Accept` header.
pub(crate) fn negotiate(format: Option<&str>, accept: Option<&[u8]>) -> Result<(), ApiError> {
    let renderers: Vec<&str> = RENDERERS
        .iter()
        .filter(|(_, name)| format.is_none_or(|format| format == *name))
        .map(|(media_type, _)| *media_type)
        .collect();
    if renderers.is_empty() {
        return Err(ApiError::NotFound);
    }
    let accept = accept.map(String::from_utf8_lossy).unwrap_or_default();
    let accept = if accept.trim().is_empty() {
        "*/*".into()
    } else {
        accept
    };
    let acceptable = accept.split(',').any(|range| {
        let range = range
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        renderers.iter().any(|renderer| matches(&range, renderer))
    });
    if acceptable {
        Ok(())
    } else {
        Err(ApiError::NotAcceptable)
    }
}

fn matches(range: &str, media_type: &str) -> bool {
    if range == "*/*" || range == media_type {
        return true;
    }
    let (range_type, range_subtype) = range.split_once('/').unwrap_or((range, ""));
    range_subtype == "*" && media_type.split('/').next() == Some(range_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_browsers_are_served() {
        for accept in [
            None,
            Some("*/*"),
            Some("application/json"),
            Some("text/html,application/xhtml+xml;q=0.9"),
        ] {
            assert!(
                negotiate(None, accept.map(str::as_bytes)).is_ok(),
                "{accept:?}"
            );
        }
        assert!(negotiate(Some("json"), Some(b"application/json; indent=4")).is_ok());
        assert!(negotiate(Some("api"), None).is_ok());
    }

    #[test]
    fn other_types_and_formats_are_refused() {
        assert!(matches!(
            negotiate(None, Some(b"text/plain")),
            Err(ApiError::NotAcceptable)
        ));
        assert!(matches!(
            negotiate(Some("json"), Some(b"text/html")),
            Err(ApiError::NotAcceptable)
        ));
        assert!(matches!(
            negotiate(Some("xml"), None),
            Err(ApiError::NotFound)
        ));
    }
}
