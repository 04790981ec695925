//! A metadata search (esmond-api.md §6), already resolved: host names turned into addresses,
//! times into a window, pagination into numbers.

use std::net::IpAddr;

use esmond_model::Metadata;

/// Default and fallback page size of the metadata list, as esmond's.
pub const DEFAULT_LIMIT: u64 = 1500;

/// All filters of one search; every present filter must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataFilter {
    /// Exact metadata key.
    pub metadata_key: Option<String>,
    /// Exact subject type.
    pub subject_type: Option<String>,
    /// The source must be one of these addresses.
    pub source: Option<Vec<IpAddr>>,
    /// The destination must be one of these addresses (never matches network elements).
    pub destination: Option<Vec<IpAddr>>,
    /// The measurement agent must be one of these addresses.
    pub measurement_agent: Option<Vec<IpAddr>>,
    /// Exact tool name.
    pub tool_name: Option<String>,
    /// Exact input source.
    pub input_source: Option<String>,
    /// Exact input destination (never matches network elements).
    pub input_destination: Option<String>,
    /// Conditions that one and the same event-type row must meet.
    pub row: RowFilter,
    /// Free-form parameters as (key, value), each matched exactly.
    pub parameters: Vec<(String, String)>,
    /// Page size.
    pub limit: u64,
    /// Records to skip.
    pub offset: u64,
}

/// Conditions on one event-type row of a record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFilter {
    /// Event type name.
    pub event_type: Option<String>,
    /// Summary type, JSON name (`base`, `aggregation`, `average`, `statistics`).
    pub summary_type: Option<String>,
    /// Summary window in seconds.
    pub summary_window: Option<i64>,
    /// `time-updated` at or after this time.
    pub updated_from: Option<i64>,
    /// `time-updated` at or before this time.
    pub updated_until: Option<i64>,
}

impl RowFilter {
    /// Returns whether any condition is set.
    pub fn is_active(&self) -> bool {
        *self != RowFilter::default()
    }
}

/// One page of a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataPage {
    /// Number of matching records, ignoring limit and offset.
    pub total: u64,
    /// The records of the page, sorted by key.
    pub records: Vec<Metadata>,
}
