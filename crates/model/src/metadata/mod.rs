//! Metadata: what a measurement is (subject, free-form parameters) and which event types and
//! summaries it records.
//!
//! [`NewMetadata::from_json`] validates a posted document in esmond's order with esmond's
//! messages and computes esmond's checksum, so that a re-posted description finds its record.

mod checksum;
mod validate;

use std::net::IpAddr;

pub use validate::MetadataError;

use crate::catalog::SummaryType;

/// Longest text esmond's schema accepts in a subject string field or a parameter key.
pub const MAX_FIELD_LENGTH: usize = 128;

/// Who or what was measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A measurement between two hosts.
    PointToPoint {
        /// Address the measurement was sent from.
        source: IpAddr,
        /// Address the measurement was sent to.
        destination: IpAddr,
        /// Address of the host that ran the measurement.
        measurement_agent: IpAddr,
        /// Tool, e.g. `bwctl/iperf3` or `pscheduler/powstream`.
        tool_name: String,
        /// Source as the test was specified (often a host name).
        input_source: String,
        /// Destination as the test was specified.
        input_destination: String,
    },
    /// A measurement of one host.
    NetworkElement {
        /// Address of the measured element.
        source: IpAddr,
        /// Address of the host that ran the measurement.
        measurement_agent: IpAddr,
        /// Tool that measured.
        tool_name: String,
        /// Element as the test was specified.
        input_source: String,
    },
}

impl Subject {
    /// Returns the wire name of the subject type.
    pub fn subject_type(&self) -> &'static str {
        match self {
            Subject::PointToPoint { .. } => POINT_TO_POINT,
            Subject::NetworkElement { .. } => NETWORK_ELEMENT,
        }
    }
}

/// Wire name of the point-to-point subject type.
pub const POINT_TO_POINT: &str = "point-to-point";
/// Wire name of the network-element subject type.
pub const NETWORK_ELEMENT: &str = "network-element";

/// One registration of an event type on a metadata record: its base data (`Base`, window 0) or
/// one summary of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventTypeKey {
    /// Event type name; historic records may hold names outside the catalog.
    pub event_type: String,
    /// Base data or the kind of summary.
    pub summary_type: SummaryType,
    /// Summary window in seconds; 0 for base data.
    pub window: i64,
}

/// An event-type registration as stored, with the time data was last written to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTypeRow {
    /// Which event type, summary type and window.
    pub key: EventTypeKey,
    /// Wall-clock time (epoch seconds) of the last write, `None` if never written.
    pub time_updated: Option<i64>,
}

/// A validated metadata document, ready to be stored or matched by checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMetadata {
    /// The measured subject.
    pub subject: Subject,
    /// Free-form parameters as (key as posted, Python `str()` of the value), sorted by key.
    pub parameters: Vec<(String, String)>,
    /// Event-type registrations, sorted and without duplicates; every event type has its base row.
    pub event_types: Vec<EventTypeKey>,
    /// esmond's SHA-256 checksum of the document, lowercase hex.
    pub checksum: String,
}

/// A stored metadata record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// 32 lowercase hex characters.
    pub key: String,
    /// The measured subject.
    pub subject: Subject,
    /// Free-form parameters as stored, sorted by key.
    pub parameters: Vec<(String, String)>,
    /// Registrations sorted by event type (byte order), summary type and window.
    pub event_types: Vec<EventTypeRow>,
}

impl Metadata {
    /// Returns the rows of one event type: its base row first, then its summaries in order.
    pub fn rows_of<'a>(
        &'a self,
        event_type: &'a str,
    ) -> impl Iterator<Item = &'a EventTypeRow> + 'a {
        self.event_types
            .iter()
            .filter(move |row| row.key.event_type == event_type)
    }
}
