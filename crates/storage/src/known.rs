//! What a node knows of the numeric points stored for each record, so that esmond's duplicate
//! check (409) does not read them before every write.
//!
//! pScheduler posts each record's runs in time order, one new second after another. A node that
//! has read a record's newest points for a day, and noted every point it stored there since,
//! knows without reading whether a later second is taken: it is, only if this node stored it or
//! saw it in that read. Earlier seconds (a backfill, a retry of an old run) are read as before.
//!
//! The knowledge never claims a point that was not stored: a point is noted only once its write
//! succeeded or a read found it, and stored points leave only with their TTL, which outlasts what
//! a node remembers. What a node cannot know is a point another API node stored after this one
//! read the day. A run posted again through another node is then stored again (the same values,
//! as an upsert) and answered 201 instead of 409, which pScheduler counts alike.

use std::time::Duration;

use esmond_model::EventType;
use hashbrown::Equivalent;

use crate::NewestPoints;
use crate::buckets::{POINT_SPAN, bucket_of, is_numeric};
use crate::recent::RecentMap;

/// Rows read to learn a record's day: its newest points, about ten latencybg runs.
pub(crate) const LEARN_ROWS: usize = 64;

/// Seconds remembered per record and day; the oldest are forgotten first (and read again when
/// posted to).
const KNOWN_STAMPS: usize = 16;

/// Record days remembered.
const CAPACITY: usize = 50_000;

/// How long a record day is remembered after its last use.
const IDLE: Duration = Duration::from_secs(3600);

/// A set of catalogued event types, as bits of their ordinals.
pub(crate) type Bits = u64;

/// Returns the bit of a catalogued numeric event type (the only ones esmond checks).
pub(crate) fn bit(event_type: &str) -> Option<Bits> {
    EventType::lookup(event_type)
        .filter(|found| is_numeric(found.data_type()))
        .map(|found| 1 << found.ordinal())
}

/// Returns the bits of `event_types`, or `None` if one is not a catalogued numeric type.
pub(crate) fn bits(event_types: &[String]) -> Option<Bits> {
    event_types
        .iter()
        .try_fold(0, |all, event_type| Some(all | bit(event_type)?))
}

/// Returns the day partition of a time stamp.
pub(crate) fn day_of(ts: i64) -> i64 {
    bucket_of(ts, POINT_SPAN)
}

/// What a node knows of one record's day.
#[derive(Debug)]
struct Known {
    /// No point of the covered series stamped after this is stored, other than `stamps`.
    through: i64,
    /// The series covered.
    covered: Bits,
    /// The seconds after `through` that hold points, with their series, ascending.
    stamps: Vec<(i64, Bits)>,
}

impl Known {
    /// Notes points of `series` stored at `ts`.
    fn note(&mut self, ts: i64, series: Bits) {
        if ts <= self.through {
            return;
        }
        match self.stamps.binary_search_by_key(&ts, |&(stamp, _)| stamp) {
            Ok(found) => self.stamps[found].1 |= series,
            Err(at) => self.stamps.insert(at, (ts, series)),
        }
        self.trim();
    }

    /// Forgets the oldest seconds beyond [`KNOWN_STAMPS`]; they are read again when needed.
    fn trim(&mut self) {
        let excess = self.stamps.len().saturating_sub(KNOWN_STAMPS);
        if excess > 0 {
            self.through = self.stamps[excess - 1].0;
            self.stamps.drain(..excess);
        }
    }
}

/// The borrowed form of a `(metadata key, day)` entry.
#[derive(Debug, Hash)]
struct RecordDay<'a>(&'a str, i64);

impl Equivalent<(String, i64)> for RecordDay<'_> {
    fn equivalent(&self, key: &(String, i64)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

/// What a node can say about seconds of a record's day.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The seconds asked about that hold points of the series asked about, with those series.
    Known(Vec<(i64, Bits)>),
    /// The day is known, but not as far back as one of the seconds: read them.
    TooOld,
    /// Nothing is known of the day for these series: learn it first.
    Unknown,
}

/// A node's knowledge of the numeric points stored per record and day.
#[derive(Debug)]
pub(crate) struct KnownPoints {
    days: RecentMap<(String, i64), Known>,
}

impl KnownPoints {
    pub(crate) fn new() -> KnownPoints {
        KnownPoints {
            days: RecentMap::new(CAPACITY, IDLE, true),
        }
    }

    /// Says which of `stamps` (all in `day`) hold points of the series `asked`.
    pub(crate) fn lookup(
        &self,
        metadata_key: &str,
        day: i64,
        asked: Bits,
        stamps: &[i64],
    ) -> Lookup {
        self.days.with(&RecordDay(metadata_key, day), |known| {
            let Some(known) = known.filter(|known| known.covered & asked == asked) else {
                return Lookup::Unknown;
            };
            if stamps.iter().any(|&ts| ts <= known.through) {
                return Lookup::TooOld;
            }
            let taken = stamps
                .iter()
                .filter_map(|&ts| {
                    let at = known.stamps.binary_search_by_key(&ts, |&(stamp, _)| stamp);
                    let series = at.map_or(0, |at| known.stamps[at].1) & asked;
                    (series != 0).then_some((ts, series))
                })
                .collect();
            Lookup::Known(taken)
        })
    }

    /// Learns a record's day from its newest points of the series `covered`, in place of what
    /// was known of it.
    pub(crate) fn learn(&self, metadata_key: &str, day: i64, covered: Bits, newest: &NewestPoints) {
        let mut known = Known {
            through: newest.complete_after,
            covered,
            stamps: Vec::new(),
        };
        for (event_type, ts) in &newest.points {
            if let Some(series) = bit(event_type) {
                known.note(*ts, series);
            }
        }
        self.days.insert((metadata_key.to_owned(), day), known);
    }

    /// Notes that this node stored points of `series` at `ts`.
    pub(crate) fn stored(&self, metadata_key: &str, ts: i64, series: Bits) {
        self.days
            .with(&RecordDay(metadata_key, day_of(ts)), |known| {
                if let Some(known) = known {
                    known.note(ts, series);
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENT: &str = "packet-count-sent";
    const LOST: &str = "packet-count-lost";

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|&name| name.to_owned()).collect()
    }

    fn newest(points: &[(&str, i64)], complete_after: i64) -> NewestPoints {
        NewestPoints {
            points: points
                .iter()
                .map(|&(event_type, ts)| (event_type.to_owned(), ts))
                .collect(),
            complete_after,
        }
    }

    #[test]
    fn a_learned_day_answers_later_seconds_and_defers_earlier_ones() {
        let known = KnownPoints::new();
        let both = bits(&names(&[SENT, LOST])).unwrap();
        let day = day_of(1_700_000_000);
        let start = day * POINT_SPAN;
        assert_eq!(
            known.lookup("k", day, both, &[start + 120]),
            Lookup::Unknown
        );
        // The read found a point at +60 and was cut there.
        known.learn("k", day, both, &newest(&[(SENT, start + 60)], start + 59));
        assert_eq!(
            known.lookup("k", day, both, &[start + 60, start + 120]),
            Lookup::Known(vec![(start + 60, bit(SENT).unwrap())])
        );
        assert_eq!(known.lookup("k", day, both, &[start + 30]), Lookup::TooOld);
        // Another record, another day, or a series the read did not cover: unknown.
        assert_eq!(
            known.lookup("j", day, both, &[start + 120]),
            Lookup::Unknown
        );
        assert_eq!(
            known.lookup("k", day + 1, both, &[start + 120]),
            Lookup::Unknown
        );
        let rate = bit("packet-loss-rate").unwrap();
        assert_eq!(
            known.lookup("k", day, rate, &[start + 120]),
            Lookup::Unknown
        );
    }

    #[test]
    fn stored_points_are_noted_only_in_known_days() {
        let known = KnownPoints::new();
        let sent = bit(SENT).unwrap();
        let start = day_of(1_700_000_000) * POINT_SPAN;
        known.stored("k", start + 60, sent);
        assert_eq!(
            known.lookup("k", day_of(start), sent, &[start + 60]),
            Lookup::Unknown
        );
        known.learn("k", day_of(start), sent, &newest(&[], start - 1));
        known.stored("k", start + 60, sent);
        assert_eq!(
            known.lookup("k", day_of(start), sent, &[start + 60, start + 120]),
            Lookup::Known(vec![(start + 60, sent)])
        );
    }

    #[test]
    fn the_oldest_seconds_are_forgotten_and_then_read() {
        let known = KnownPoints::new();
        let sent = bit(SENT).unwrap();
        let start = day_of(1_700_000_000) * POINT_SPAN;
        known.learn("k", day_of(start), sent, &newest(&[], start - 1));
        for run in 0..=KNOWN_STAMPS as i64 {
            known.stored("k", start + 60 * run, sent);
        }
        // The first run is forgotten: it has to be read.
        assert_eq!(
            known.lookup("k", day_of(start), sent, &[start]),
            Lookup::TooOld
        );
        assert_eq!(
            known.lookup("k", day_of(start), sent, &[start + 60]),
            Lookup::Known(vec![(start + 60, sent)])
        );
    }

    #[test]
    fn only_catalogued_numeric_event_types_have_bits() {
        assert_eq!(bits(&names(&[SENT, "no-such-type"])), None);
        assert_eq!(bit("histogram-owdelay"), None);
        assert_eq!(bits(&names(&[SENT, LOST])).map(u64::count_ones), Some(2));
    }
}
