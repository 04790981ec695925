//! The fixed catalog of event types, their data types and the summaries each allows.

use std::fmt;

/// The kind of value an event type carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataType {
    /// Whole numbers (throughput, packet counts).
    Integer,
    /// Floating point numbers (NTP figures, time error estimates).
    Float,
    /// A numerator and a denominator (packet loss rate).
    Percentage,
    /// Bucket label to count maps (delays, TTLs).
    Histogram,
    /// Arbitrary JSON documents (traceroutes, failures, raw results).
    Json,
    /// Lists of `{start, duration, val}` intervals.
    Subinterval,
}

impl DataType {
    /// Returns the summary types esmond allows for this data type, besides `base`.
    pub fn allowed_summaries(self) -> &'static [SummaryType] {
        match self {
            DataType::Integer | DataType::Float => {
                &[SummaryType::Aggregation, SummaryType::Average]
            }
            DataType::Percentage => &[SummaryType::Aggregation],
            DataType::Histogram => &[SummaryType::Aggregation, SummaryType::Statistics],
            DataType::Json | DataType::Subinterval => &[],
        }
    }
}

/// One entry of the catalog: an event type name and its data type; ordered by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventType {
    name: &'static str,
    data_type: DataType,
    ordinal: u8,
}

impl EventType {
    /// Returns the catalog entry for `name`, or `None` for names esmond does not know.
    pub fn lookup(name: &str) -> Option<EventType> {
        CATALOG
            .binary_search_by(|(candidate, _)| (*candidate).cmp(name))
            .ok()
            .map(|index| EventType {
                name: CATALOG[index].0,
                data_type: CATALOG[index].1,
                ordinal: index as u8,
            })
    }

    /// Returns every event type of the catalog, sorted by name.
    pub fn all() -> impl Iterator<Item = EventType> {
        CATALOG
            .iter()
            .enumerate()
            .map(|(index, &(name, data_type))| EventType {
                name,
                data_type,
                ordinal: index as u8,
            })
    }

    /// Returns the event type's name as it appears on the wire.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// Returns the event type's position in the catalog. The catalog has fewer than 64
    /// entries, so a set of event types fits in the bits of a `u64`.
    pub fn ordinal(self) -> u32 {
        u32::from(self.ordinal)
    }

    /// Returns the data type of the event type's values.
    pub fn data_type(self) -> DataType {
        self.data_type
    }

    /// Returns whether the event type may declare summaries of `summary_type`.
    pub fn allows(self, summary_type: SummaryType) -> bool {
        summary_type == SummaryType::Base
            || self.data_type.allowed_summaries().contains(&summary_type)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// How a summary derives its points from base data; `Base` is the data itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SummaryType {
    /// The posted points.
    Base,
    /// Sums (or bucket-wise sums) per window.
    Aggregation,
    /// Means per window.
    Average,
    /// Histogram statistics per window.
    Statistics,
}

impl SummaryType {
    const ALL: [SummaryType; 4] = [
        SummaryType::Base,
        SummaryType::Aggregation,
        SummaryType::Average,
        SummaryType::Statistics,
    ];

    /// Returns the name used in JSON bodies and query filters (`average`).
    pub fn json_name(self) -> &'static str {
        match self {
            SummaryType::Base => "base",
            SummaryType::Aggregation => "aggregation",
            SummaryType::Average => "average",
            SummaryType::Statistics => "statistics",
        }
    }

    /// Returns the name used in URL path segments (`averages`).
    pub fn url_name(self) -> &'static str {
        match self {
            SummaryType::Base => "base",
            SummaryType::Aggregation => "aggregations",
            SummaryType::Average => "averages",
            SummaryType::Statistics => "statistics",
        }
    }

    /// Parses a JSON name (`average`); URL names are rejected, as esmond rejects them.
    pub fn from_json_name(name: &str) -> Option<SummaryType> {
        Self::ALL.into_iter().find(|st| st.json_name() == name)
    }

    /// Parses a URL name (`averages`).
    pub fn from_url_name(name: &str) -> Option<SummaryType> {
        Self::ALL.into_iter().find(|st| st.url_name() == name)
    }
}

/// The catalog, sorted by name so that lookups can bisect it.
const CATALOG: [(&str, DataType); 49] = [
    ("failures", DataType::Json),
    ("histogram-owdelay", DataType::Histogram),
    ("histogram-rtt", DataType::Histogram),
    ("histogram-ttl", DataType::Histogram),
    ("histogram-ttl-reverse", DataType::Histogram),
    ("iostat", DataType::Json),
    ("mpstat", DataType::Json),
    ("ntp-delay", DataType::Float),
    ("ntp-dispersion", DataType::Float),
    ("ntp-jitter", DataType::Float),
    ("ntp-offset", DataType::Float),
    ("ntp-polling-interval", DataType::Float),
    ("ntp-reach", DataType::Integer),
    ("ntp-stratum", DataType::Integer),
    ("ntp-wander", DataType::Float),
    ("packet-count-lost", DataType::Integer),
    ("packet-count-lost-bidir", DataType::Integer),
    ("packet-count-sent", DataType::Integer),
    ("packet-duplicates", DataType::Integer),
    ("packet-duplicates-bidir", DataType::Integer),
    ("packet-loss-rate", DataType::Percentage),
    ("packet-loss-rate-bidir", DataType::Percentage),
    ("packet-reorders", DataType::Integer),
    ("packet-reorders-bidir", DataType::Integer),
    ("packet-retransmits", DataType::Integer),
    ("packet-retransmits-subintervals", DataType::Subinterval),
    ("packet-rtt", DataType::Integer),
    ("packet-rtt-subintervals", DataType::Subinterval),
    ("packet-trace", DataType::Json),
    ("packet-trace-multi", DataType::Json),
    ("path-mtu", DataType::Integer),
    ("pscheduler-raw", DataType::Json),
    ("pscheduler-run-href", DataType::Json),
    ("rusage", DataType::Json),
    ("streams-packet-retransmits", DataType::Json),
    ("streams-packet-retransmits-subintervals", DataType::Json),
    ("streams-packet-rtt", DataType::Json),
    ("streams-packet-rtt-subintervals", DataType::Json),
    ("streams-tcp-windowsize", DataType::Json),
    ("streams-tcp-windowsize-subintervals", DataType::Json),
    ("streams-tcpinfo", DataType::Json),
    ("streams-throughput", DataType::Json),
    ("streams-throughput-subintervals", DataType::Json),
    ("tcp-windowsize", DataType::Integer),
    ("tcp-windowsize-subintervals", DataType::Subinterval),
    ("tcpinfo", DataType::Json),
    ("throughput", DataType::Integer),
    ("throughput-subintervals", DataType::Subinterval),
    ("time-error-estimates", DataType::Float),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_sorted_and_complete() {
        assert!(CATALOG.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert_eq!(EventType::all().count(), 49);
    }

    #[test]
    fn ordinals_are_catalog_positions_that_fit_a_u64() {
        for (position, event_type) in EventType::all().enumerate() {
            assert_eq!(event_type.ordinal() as usize, position);
            assert!(event_type.ordinal() < 64);
            let found = EventType::lookup(event_type.name()).unwrap();
            assert_eq!(found.ordinal(), event_type.ordinal());
        }
    }

    #[test]
    fn lookup_finds_every_entry_and_nothing_else() {
        for event_type in EventType::all() {
            assert_eq!(EventType::lookup(event_type.name()), Some(event_type));
        }
        assert_eq!(EventType::lookup("streams-retransmits"), None);
        assert_eq!(EventType::lookup(""), None);
    }

    #[test]
    fn summaries_follow_the_data_type() {
        let throughput = EventType::lookup("throughput").unwrap();
        assert!(throughput.allows(SummaryType::Average));
        assert!(!throughput.allows(SummaryType::Statistics));
        let loss = EventType::lookup("packet-loss-rate").unwrap();
        assert!(loss.allows(SummaryType::Aggregation));
        assert!(!loss.allows(SummaryType::Average));
        let failures = EventType::lookup("failures").unwrap();
        assert!(failures.allows(SummaryType::Base));
        assert!(!failures.allows(SummaryType::Aggregation));
    }

    #[test]
    fn summary_names_have_two_spellings() {
        assert_eq!(
            SummaryType::from_json_name("average"),
            Some(SummaryType::Average)
        );
        assert_eq!(SummaryType::from_json_name("averages"), None);
        assert_eq!(
            SummaryType::from_url_name("aggregations"),
            Some(SummaryType::Aggregation)
        );
        assert_eq!(SummaryType::from_url_name("aggregation"), None);
    }
}
