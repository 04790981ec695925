//! Query strings of the metadata list (esmond-api.md §6) turned into a [`MetadataFilter`].

use esmond_metadata::MetadataFilter;
use esmond_metadata::filter::{DEFAULT_LIMIT, RowFilter};
use esmond_model::pyfmt::parse_int;

use crate::dns::HostResolver;

/// Parameter names with a meaning of their own; every other name filters on a free-form
/// parameter.
const KNOWN: [&str; 19] = [
    "source",
    "destination",
    "measurement-agent",
    "tool-name",
    "input-source",
    "input-destination",
    "subject-type",
    "metadata-key",
    "event-type",
    "summary-type",
    "summary-window",
    "time",
    "time-start",
    "time-end",
    "time-range",
    "dns-match-rule",
    "limit",
    "offset",
    "format",
];

/// A decoded query string, in order; a repeated name counts with its last value.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Decodes a query string as Django does (`+` is a space, percent escapes decoded).
    pub(crate) fn parse(query: Option<&str>) -> QueryParams {
        let pairs = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
        QueryParams { pairs }
    }

    /// Returns the last value given for `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Returns every (name, value) pair in request order.
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Returns each name once, with its last value, in order of first appearance.
    fn last_values(&self) -> Vec<(&str, &str)> {
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in &self.pairs {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names
            .into_iter()
            .map(|name| (name, self.get(name).unwrap_or_default()))
            .collect()
    }
}

/// Returns the page size: a positive integer, or the default for anything else.
pub(crate) fn limit(params: &QueryParams) -> u64 {
    params
        .get("limit")
        .and_then(parse_int)
        .and_then(|limit| u64::try_from(limit).ok())
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_LIMIT)
}

/// Returns the records to skip: a non-negative integer, or 0 for anything else.
pub(crate) fn offset(params: &QueryParams) -> u64 {
    params
        .get("offset")
        .and_then(parse_int)
        .and_then(|offset| u64::try_from(offset).ok())
        .unwrap_or(0)
}

/// Returns the `time-updated` window of the time filters (esmond-api.md §6.4), or esmond's error.
pub(crate) fn time_window(
    params: &QueryParams,
    now: i64,
) -> Result<(Option<i64>, Option<i64>), String> {
    let read = |name: &str| -> Result<Option<i64>, String> {
        params
            .get(name)
            .map(|value| {
                parse_int(value).ok_or_else(|| "Time parameter must be an integer".to_owned())
            })
            .transpose()
    };
    let (time, start, end, range) = (
        read("time")?,
        read("time-start")?,
        read("time-end")?,
        read("time-range")?,
    );
    let window = match (time, start, end, range) {
        (Some(time), ..) => (Some(time), Some(time)),
        (None, Some(start), Some(end), _) => (Some(start), Some(end)),
        (None, Some(start), None, Some(range)) => (Some(start), Some(start.saturating_add(range))),
        (None, None, Some(end), Some(range)) => (Some(end.saturating_sub(range)), Some(end)),
        (None, Some(start), None, None) => (Some(start), None),
        (None, None, Some(end), None) => (Some(0), Some(end)),
        (None, None, None, Some(range)) => (Some(now.saturating_sub(range)), None),
        (None, None, None, None) => (None, None),
    };
    if let (Some(begin), Some(end)) = window
        && end < begin
    {
        return Err("Requested start time must be less than end time".to_owned());
    }
    Ok(window)
}

/// Builds the search a query string asks for, resolving host names; errors are esmond's messages.
pub(crate) async fn build_filter(
    params: &QueryParams,
    resolver: &HostResolver,
    now: i64,
) -> Result<MetadataFilter, String> {
    let (updated_from, updated_until) = time_window(params, now)?;
    let summary_window = params
        .get("summary-window")
        .map(|value| {
            parse_int(value).ok_or_else(|| "Summary window parameter must be an integer".to_owned())
        })
        .transpose()?;
    let text = |name: &str| params.get(name).map(str::to_owned);
    let rule = params.get("dns-match-rule");
    let mut addresses = [None, None, None];
    for (slot, name) in addresses
        .iter_mut()
        .zip(["source", "destination", "measurement-agent"])
    {
        if let Some(host) = params.get(name) {
            *slot = Some(resolver.resolve(host, rule).await?);
        }
    }
    let [source, destination, measurement_agent] = addresses;
    let parameters = params
        .last_values()
        .into_iter()
        .filter(|(name, _)| !KNOWN.contains(name))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();

    Ok(MetadataFilter {
        metadata_key: text("metadata-key"),
        subject_type: text("subject-type"),
        source,
        destination,
        measurement_agent,
        tool_name: text("tool-name"),
        input_source: text("input-source"),
        input_destination: text("input-destination"),
        row: RowFilter {
            event_type: text("event-type"),
            summary_type: text("summary-type"),
            summary_window,
            updated_from,
            updated_until,
        },
        parameters,
        limit: limit(params),
        offset: offset(params),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(query: &str) -> Result<(Option<i64>, Option<i64>), String> {
        time_window(&QueryParams::parse(Some(query)), 1000)
    }

    #[test]
    fn time_filters_resolve_in_esmond_order() {
        assert_eq!(window("time=5&time-start=1"), Ok((Some(5), Some(5))));
        assert_eq!(
            window("time-start=1&time-end=9&time-range=2"),
            Ok((Some(1), Some(9)))
        );
        assert_eq!(window("time-start=1&time-range=2"), Ok((Some(1), Some(3))));
        assert_eq!(window("time-end=9&time-range=2"), Ok((Some(7), Some(9))));
        assert_eq!(window("time-start=1"), Ok((Some(1), None)));
        assert_eq!(window("time-end=9"), Ok((Some(0), Some(9))));
        assert_eq!(window("time-range=600"), Ok((Some(400), None)));
        assert_eq!(window(""), Ok((None, None)));
        assert_eq!(window("time-start=5&time-end=5"), Ok((Some(5), Some(5))));
        assert_eq!(
            window("time-start=x").unwrap_err(),
            "Time parameter must be an integer"
        );
        assert_eq!(
            window("time-start=6&time-end=5").unwrap_err(),
            "Requested start time must be less than end time"
        );
    }

    #[test]
    fn pagination_falls_back_like_esmond() {
        let params = |query: &str| QueryParams::parse(Some(query));
        assert_eq!(limit(&params("")), 1500);
        assert_eq!(limit(&params("limit=0")), 1500);
        assert_eq!(limit(&params("limit=-3")), 1500);
        assert_eq!(limit(&params("limit=abc")), 1500);
        assert_eq!(limit(&params("limit=2&limit=7")), 7);
        assert_eq!(offset(&params("offset=-1")), 0);
        assert_eq!(offset(&params("offset=x")), 0);
        assert_eq!(offset(&params("offset=10")), 10);
    }
}
