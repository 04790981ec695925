//! The metadata JSON object (esmond-api.md §5) with esmond's key order.

use esmond_model::{EventTypeRow, Metadata, Subject, SummaryType};
use serde_json::{Map, Value, json};

/// Builds URLs and URIs of one deployment.
#[derive(Debug, Clone)]
pub(crate) struct Urls<'a> {
    /// `http://<Host header>`.
    pub(crate) origin: &'a str,
    /// The configured path prefix, e.g. `/esmond`.
    pub(crate) prefix: &'a str,
}

impl Urls<'_> {
    /// Returns the path of the archive root, `<P>/perfsonar/archive/`.
    pub(crate) fn archive_path(&self) -> String {
        format!("{}/perfsonar/archive/", self.prefix)
    }

    /// Returns the path of a metadata record, with its trailing slash.
    pub(crate) fn metadata_path(&self, key: &str) -> String {
        format!("{}{key}/", self.archive_path())
    }

    /// Returns the absolute URL of a metadata record.
    pub(crate) fn metadata_url(&self, key: &str) -> String {
        format!("{}{}", self.origin, self.metadata_path(key))
    }
}

/// Returns one summary entry: `uri`, `summary-type`, `summary-window` (a string), `time-updated`.
pub(crate) fn summary_entry(urls: &Urls<'_>, key: &str, row: &EventTypeRow) -> Value {
    let uri = format!(
        "{}{}/{}/{}",
        urls.metadata_path(key),
        row.key.event_type,
        row.key.summary_type.url_name(),
        row.key.window
    );
    json!({
        "uri": uri,
        "summary-type": row.key.summary_type.json_name(),
        "summary-window": row.key.window.to_string(),
        "time-updated": row.time_updated,
    })
}

/// Returns the entry of one event type: `base-uri`, `event-type`, `time-updated`, `summaries`.
pub(crate) fn event_type_entry(urls: &Urls<'_>, metadata: &Metadata, event_type: &str) -> Value {
    let rows: Vec<&EventTypeRow> = metadata.rows_of(event_type).collect();
    let time_updated = rows
        .iter()
        .find(|row| row.key.summary_type == SummaryType::Base)
        .and_then(|row| row.time_updated);
    let summaries: Vec<Value> = rows
        .iter()
        .filter(|row| row.key.summary_type != SummaryType::Base)
        .map(|row| summary_entry(urls, &metadata.key, row))
        .collect();
    json!({
        "base-uri": format!("{}{event_type}/base", urls.metadata_path(&metadata.key)),
        "event-type": event_type,
        "time-updated": time_updated,
        "summaries": summaries,
    })
}

/// Returns the names of the record's event types, in order, each once.
pub(crate) fn event_type_names(metadata: &Metadata) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for row in &metadata.event_types {
        if names.last() != Some(&row.key.event_type.as_str()) {
            names.push(&row.key.event_type);
        }
    }
    names
}

/// Returns the metadata object.
pub(crate) fn metadata_object(urls: &Urls<'_>, metadata: &Metadata) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("url".into(), urls.metadata_url(&metadata.key).into());
    object.insert("metadata-key".into(), metadata.key.clone().into());
    object.insert(
        "subject-type".into(),
        metadata.subject.subject_type().into(),
    );
    let event_types: Vec<Value> = event_type_names(metadata)
        .into_iter()
        .map(|name| event_type_entry(urls, metadata, name))
        .collect();
    object.insert("event-types".into(), event_types.into());
    match &metadata.subject {
        Subject::PointToPoint {
            source,
            destination,
            measurement_agent,
            tool_name,
            input_source,
            input_destination,
        } => {
            object.insert("source".into(), source.to_string().into());
            object.insert("destination".into(), destination.to_string().into());
            object.insert(
                "measurement-agent".into(),
                measurement_agent.to_string().into(),
            );
            object.insert("tool-name".into(), tool_name.clone().into());
            object.insert("input-source".into(), input_source.clone().into());
            object.insert("input-destination".into(), input_destination.clone().into());
        }
        Subject::NetworkElement {
            source,
            measurement_agent,
            tool_name,
            input_source,
        } => {
            object.insert("source".into(), source.to_string().into());
            object.insert(
                "measurement-agent".into(),
                measurement_agent.to_string().into(),
            );
            object.insert("tool-name".into(), tool_name.clone().into());
            object.insert("input-source".into(), input_source.clone().into());
        }
    }
    for (key, value) in &metadata.parameters {
        object.insert(key.replace('_', "-"), value.clone().into());
    }
    object.insert("uri".into(), urls.metadata_path(&metadata.key).into());
    object
}
