//! Row shapes shared by the backends, and their assembly into [`Metadata`] records.

use std::collections::HashMap;
use std::net::IpAddr;

use esmond_model::metadata::{NETWORK_ELEMENT, POINT_TO_POINT};
use esmond_model::{EventTypeKey, EventTypeRow, Metadata, Subject, SummaryType};
use sqlx::FromRow;

use crate::{Error, Result};

/// Subject columns as stored.
#[derive(Debug)]
pub(crate) struct SubjectColumns<'a> {
    pub(crate) source: String,
    pub(crate) destination: Option<String>,
    pub(crate) measurement_agent: String,
    pub(crate) tool_name: &'a str,
    pub(crate) input_source: &'a str,
    pub(crate) input_destination: Option<&'a str>,
}

impl<'a> SubjectColumns<'a> {
    /// Returns the columns of a subject; network elements have no destination.
    pub(crate) fn of(subject: &'a Subject) -> SubjectColumns<'a> {
        match subject {
            Subject::PointToPoint {
                source,
                destination,
                measurement_agent,
                tool_name,
                input_source,
                input_destination,
            } => SubjectColumns {
                source: source.to_string(),
                destination: Some(destination.to_string()),
                measurement_agent: measurement_agent.to_string(),
                tool_name,
                input_source,
                input_destination: Some(input_destination),
            },
            Subject::NetworkElement {
                source,
                measurement_agent,
                tool_name,
                input_source,
            } => SubjectColumns {
                source: source.to_string(),
                destination: None,
                measurement_agent: measurement_agent.to_string(),
                tool_name,
                input_source,
                input_destination: None,
            },
        }
    }
}

/// A metadata row.
#[derive(Debug, FromRow)]
pub(crate) struct MetadataRow {
    metadata_id: i64,
    metadata_key: String,
    subject_type: String,
    source: String,
    destination: Option<String>,
    measurement_agent: String,
    tool_name: String,
    input_source: String,
    input_destination: Option<String>,
}

/// An event-type registration row.
#[derive(Debug, FromRow)]
pub(crate) struct RegistrationRow {
    metadata_id: i64,
    event_type: String,
    summary_type: String,
    summary_window: i64,
    time_updated: Option<i64>,
}

/// A parameter row.
#[derive(Debug, FromRow)]
pub(crate) struct ParameterRow {
    metadata_id: i64,
    parameter_key: String,
    parameter_value: String,
}

fn corrupt(what: String) -> Error {
    Error::Internal(what.into())
}

fn address(text: &str) -> Result<IpAddr> {
    text.parse()
        .map_err(|_| corrupt(format!("stored address {text} is not an ip address")))
}

impl MetadataRow {
    fn into_metadata(self) -> Result<Metadata> {
        let subject = match (self.subject_type.as_str(), self.destination) {
            (POINT_TO_POINT, Some(destination)) => Subject::PointToPoint {
                source: address(&self.source)?,
                destination: address(&destination)?,
                measurement_agent: address(&self.measurement_agent)?,
                tool_name: self.tool_name,
                input_source: self.input_source,
                input_destination: self.input_destination.unwrap_or_default(),
            },
            (NETWORK_ELEMENT, _) => Subject::NetworkElement {
                source: address(&self.source)?,
                measurement_agent: address(&self.measurement_agent)?,
                tool_name: self.tool_name,
                input_source: self.input_source,
            },
            (other, _) => return Err(corrupt(format!("stored subject type {other} is unknown"))),
        };
        Ok(Metadata {
            key: self.metadata_key,
            subject,
            parameters: Vec::new(),
            event_types: Vec::new(),
        })
    }
}

/// Builds the records with these ids from their rows, in the order of `ids`, with event types
/// and parameters sorted by byte order (esmond-api.md §5.2).
pub(crate) fn assemble(
    ids: &[i64],
    rows: Vec<MetadataRow>,
    registrations: Vec<RegistrationRow>,
    parameters: Vec<ParameterRow>,
) -> Result<Vec<Metadata>> {
    let mut records = HashMap::with_capacity(rows.len());
    for row in rows {
        records.insert(row.metadata_id, row.into_metadata()?);
    }
    for row in registrations {
        let summary_type = SummaryType::from_json_name(&row.summary_type).ok_or_else(|| {
            corrupt(format!(
                "stored summary type {} is unknown",
                row.summary_type
            ))
        })?;
        if let Some(record) = records.get_mut(&row.metadata_id) {
            let key = EventTypeKey {
                event_type: row.event_type,
                summary_type,
                window: row.summary_window,
            };
            record.event_types.push(EventTypeRow {
                key,
                time_updated: row.time_updated,
            });
        }
    }
    for row in parameters {
        if let Some(record) = records.get_mut(&row.metadata_id) {
            record
                .parameters
                .push((row.parameter_key, row.parameter_value));
        }
    }
    let mut ordered = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(mut record) = records.remove(id) {
            record.event_types.sort_by(|a, b| a.key.cmp(&b.key));
            record.parameters.sort();
            ordered.push(record);
        }
    }
    Ok(ordered)
}
