//! Validation of a posted metadata document (esmond-api.md §8.1–§8.4), in esmond's order and with
//! esmond's messages. Inputs on which esmond crashes with a 500 get a 400 with a message of the
//! same style instead.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::checksum::{ChecksumInput, ChecksumRow, PostedWindow};
use super::{
    EventTypeKey, MAX_FIELD_LENGTH, NETWORK_ELEMENT, NewMetadata, POINT_TO_POINT, Subject,
};
use crate::catalog::{EventType, SummaryType};
use crate::pyfmt::{is_integer_literal, parse_int, py_str};

/// Why a posted metadata document was refused; the message is the client-visible `detail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// No `subject-type` key (also for bodies that are not objects).
    #[error("Missing subject-type field in request")]
    MissingSubjectType,
    /// No `event-types` key.
    #[error("Missing event-types field in request")]
    MissingEventTypes,
    /// A subject type other than the two known ones.
    #[error("Invalid subject type {0}")]
    InvalidSubjectType(String),
    /// The client tried to choose the key.
    #[error("metadata-key is not allowed to be specified")]
    MetadataKeyGiven,
    /// `event-types` is neither an array nor null.
    #[error("event_types must be a list")]
    EventTypesNotList,
    /// An event-type spec without `event-type`.
    #[error("No event-type defined")]
    NoEventType,
    /// An event type outside the catalog.
    #[error("Invalid event-type {0}")]
    InvalidEventType(String),
    /// `summaries` is neither an array nor null (esmond crashes here).
    #[error("summaries must be a list")]
    SummariesNotList,
    /// A summary without `summary-type`.
    #[error("Summary must contain summary-type")]
    MissingSummaryType,
    /// A summary type outside the four JSON names.
    #[error("Invalid summary type '{0}'")]
    InvalidSummaryType(String),
    /// A summary type the event type's data type does not support.
    #[error("Summary type {summary_type} not allowed for event-type {event_type}")]
    SummaryNotAllowed {
        /// JSON name of the summary type.
        summary_type: &'static str,
        /// Event type name.
        event_type: &'static str,
    },
    /// A summary without `summary-window`.
    #[error("Summary must contain summary-window")]
    MissingSummaryWindow,
    /// A window that is not an integer (including null, booleans and fractions).
    #[error("Summary window must be an integer")]
    WindowNotInteger,
    /// A negative window, which esmond accepts but can never fill.
    #[error("Summary window must not be negative")]
    NegativeWindow,
    /// A required subject field is absent (esmond crashes here).
    #[error("Missing {0} field in request")]
    MissingSubjectField(&'static str),
    /// A subject address that is not an IP address (esmond on PostgreSQL crashes here).
    #[error("Invalid IP address {value} in field {field}")]
    InvalidAddress {
        /// Field name as posted.
        field: &'static str,
        /// Python `str()` of the posted value.
        value: String,
    },
    /// A subject field that the subject type does not have (esmond crashes here).
    #[error("Field {field} is not allowed for subject type {subject_type}")]
    FieldNotAllowed {
        /// Field name as posted.
        field: &'static str,
        /// The subject type posted.
        subject_type: &'static str,
    },
    /// A null subject string field (esmond crashes here).
    #[error("Field {0} must not be null")]
    NullField(&'static str),
    /// A subject string longer than the schema allows (esmond on PostgreSQL crashes here).
    #[error("Field {0} must be at most 128 characters")]
    FieldTooLong(&'static str),
    /// A free-form parameter whose value is null (esmond crashes here).
    #[error("Parameter {0} must not be null")]
    NullParameter(String),
    /// A free-form parameter key longer than the schema allows.
    #[error("Parameter name {0} must be at most 128 characters")]
    ParameterKeyTooLong(String),
    /// A free-form parameter that would overwrite a built-in field of the output.
    #[error("Parameter name {0} is reserved")]
    ReservedParameter(String),
}

/// Output keys of the metadata object that a free-form parameter must not shadow once its `_`
/// become `-` (esmond-api.md §18 item 16).
const RESERVED_KEYS: [&str; 14] = [
    "url",
    "metadata-key",
    "subject-type",
    "event-types",
    "source",
    "destination",
    "measurement-agent",
    "tool-name",
    "input-source",
    "input-destination",
    "uri",
    "metadata-count-total",
    "metadata-previous-page",
    "metadata-next-page",
];

/// Subject fields as (posted name, internal name used by the checksum).
const ADDRESS_FIELDS: [(&str, &str); 3] = [
    ("source", "source"),
    ("destination", "destination"),
    ("measurement-agent", "measurement_agent"),
];
const TEXT_FIELDS: [(&str, &str); 3] = [
    ("tool-name", "tool_name"),
    ("input-source", "input_source"),
    ("input-destination", "input_destination"),
];

impl NewMetadata {
    /// Validates a posted metadata document and computes its checksum.
    ///
    /// The caller answers a JSON `null` body itself (esmond gives it a different error shape).
    pub fn from_json(body: &Value) -> Result<NewMetadata, MetadataError> {
        let Value::Object(document) = body else {
            return Err(MetadataError::MissingSubjectType);
        };
        let Some(subject_type) = document.get("subject-type") else {
            return Err(MetadataError::MissingSubjectType);
        };
        let Some(event_types) = document.get("event-types") else {
            return Err(MetadataError::MissingEventTypes);
        };
        let subject_type = match subject_type.as_str() {
            Some(POINT_TO_POINT) => POINT_TO_POINT,
            Some(NETWORK_ELEMENT) => NETWORK_ELEMENT,
            _ => return Err(MetadataError::InvalidSubjectType(py_str(subject_type))),
        };
        if document.contains_key("metadata-key") {
            return Err(MetadataError::MetadataKeyGiven);
        }
        let specs: &[Value] = match event_types {
            Value::Null => &[],
            Value::Array(specs) => specs,
            _ => return Err(MetadataError::EventTypesNotList),
        };

        let mut input = ChecksumInput {
            subject_type,
            ..ChecksumInput::default()
        };
        let mut rows = BTreeSet::new();
        for spec in specs {
            read_event_type(spec, &mut input.rows, &mut rows)?;
        }
        let subject = read_subject(subject_type, document, &mut input)?;
        let parameters = read_parameters(document, &mut input)?;

        Ok(NewMetadata {
            subject,
            parameters,
            event_types: rows.into_iter().collect(),
            checksum: input.checksum(),
        })
    }
}

/// Validates one event-type spec, adding its base row and summaries.
fn read_event_type<'a>(
    spec: &'a Value,
    checksum_rows: &mut Vec<ChecksumRow<'a>>,
    rows: &mut BTreeSet<EventTypeKey>,
) -> Result<(), MetadataError> {
    let Some(name) = spec.as_object().and_then(|spec| spec.get("event-type")) else {
        return Err(MetadataError::NoEventType);
    };
    let Some(event_type) = name.as_str().and_then(EventType::lookup) else {
        return Err(MetadataError::InvalidEventType(py_str(name)));
    };
    checksum_rows.push(ChecksumRow {
        event_type: event_type.name(),
        summary_type: "base",
        window: PostedWindow::Base,
    });
    rows.insert(EventTypeKey {
        event_type: event_type.name().to_owned(),
        summary_type: SummaryType::Base,
        window: 0,
    });

    let summaries: &[Value] = match spec.get("summaries") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(summaries)) => summaries,
        Some(_) => return Err(MetadataError::SummariesNotList),
    };
    for summary in summaries {
        let Some(type_name) = summary
            .as_object()
            .and_then(|summary| summary.get("summary-type"))
        else {
            return Err(MetadataError::MissingSummaryType);
        };
        let Some(summary_type) = type_name.as_str().and_then(SummaryType::from_json_name) else {
            return Err(MetadataError::InvalidSummaryType(py_str(type_name)));
        };
        if summary_type == SummaryType::Base {
            continue;
        }
        if !event_type.allows(summary_type) {
            return Err(MetadataError::SummaryNotAllowed {
                summary_type: summary_type.json_name(),
                event_type: event_type.name(),
            });
        }
        let Some(window) = summary.get("summary-window") else {
            return Err(MetadataError::MissingSummaryWindow);
        };
        let seconds = parse_window(window)?;
        checksum_rows.push(ChecksumRow {
            event_type: event_type.name(),
            summary_type: summary_type.json_name(),
            window: PostedWindow::Posted(window),
        });
        rows.insert(EventTypeKey {
            event_type: event_type.name().to_owned(),
            summary_type,
            window: seconds,
        });
    }
    Ok(())
}

/// Reads a summary window given as a JSON integer, an integral float or an integer string.
fn parse_window(window: &Value) -> Result<i64, MetadataError> {
    let seconds = match window {
        Value::Number(number) if is_integer_literal(&number.to_string()) => number.as_i64(),
        Value::Number(number) => number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64),
        Value::String(text) => parse_int(text),
        _ => None,
    };
    match seconds {
        None => Err(MetadataError::WindowNotInteger),
        Some(seconds) if seconds < 0 => Err(MetadataError::NegativeWindow),
        Some(seconds) => Ok(seconds),
    }
}

/// Validates the subject fields of the subject type and records the posted ones for the checksum.
fn read_subject<'a>(
    subject_type: &'static str,
    document: &'a Map<String, Value>,
    input: &mut ChecksumInput<'a>,
) -> Result<Subject, MetadataError> {
    let point_to_point = subject_type == POINT_TO_POINT;
    if !point_to_point {
        for field in ["destination", "input-destination"] {
            if document.contains_key(field) {
                return Err(MetadataError::FieldNotAllowed {
                    field,
                    subject_type,
                });
            }
        }
    }
    let mut addresses = [None; 3];
    for (slot, (field, internal)) in addresses.iter_mut().zip(ADDRESS_FIELDS) {
        let Some(value) = document.get(field) else {
            if point_to_point || field != "destination" {
                return Err(MetadataError::MissingSubjectField(field));
            }
            continue;
        };
        let address = value.as_str().and_then(|text| text.parse::<IpAddr>().ok());
        *slot = Some(address.ok_or_else(|| MetadataError::InvalidAddress {
            field,
            value: py_str(value),
        })?);
        input.subject_fields.push((internal, value));
    }
    let mut texts: [String; 3] = Default::default();
    for (slot, (field, internal)) in texts.iter_mut().zip(TEXT_FIELDS) {
        let Some(value) = document.get(field) else {
            continue;
        };
        if value.is_null() {
            return Err(MetadataError::NullField(field));
        }
        let text = py_str(value);
        if text.chars().count() > MAX_FIELD_LENGTH {
            return Err(MetadataError::FieldTooLong(field));
        }
        *slot = text;
        input.subject_fields.push((internal, value));
    }
    let [source, destination, measurement_agent] = addresses;
    let [tool_name, input_source, input_destination] = texts;
    let (source, measurement_agent) = (
        source.expect("required"),
        measurement_agent.expect("required"),
    );
    Ok(match destination {
        Some(destination) => Subject::PointToPoint {
            source,
            destination,
            measurement_agent,
            tool_name,
            input_source,
            input_destination,
        },
        None => Subject::NetworkElement {
            source,
            measurement_agent,
            tool_name,
            input_source,
        },
    })
}

/// Validates the free-form parameters: every key that is not structural or a subject field.
fn read_parameters<'a>(
    document: &'a Map<String, Value>,
    input: &mut ChecksumInput<'a>,
) -> Result<Vec<(String, String)>, MetadataError> {
    let structural = ["subject-type", "event-types"];
    let subject_fields = ADDRESS_FIELDS
        .iter()
        .chain(TEXT_FIELDS.iter())
        .map(|(field, _)| *field);
    let taken: BTreeSet<&str> = structural.into_iter().chain(subject_fields).collect();

    let mut parameters = Vec::new();
    for (key, value) in document {
        if taken.contains(key.as_str()) {
            continue;
        }
        if key.chars().count() > MAX_FIELD_LENGTH {
            return Err(MetadataError::ParameterKeyTooLong(key.clone()));
        }
        if RESERVED_KEYS.contains(&key.replace('_', "-").as_str()) {
            return Err(MetadataError::ReservedParameter(key.clone()));
        }
        if value.is_null() {
            return Err(MetadataError::NullParameter(key.clone()));
        }
        parameters.push((key.clone(), py_str(value)));
        input.parameters.push((key, value));
    }
    parameters.sort();
    Ok(parameters)
}

#[cfg(test)]
mod tests;
