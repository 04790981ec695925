//! Time partitions of a series, for backends that must bound partition size (Cassandra).
//!
//! The span is a fixed function of the data type and window, kept in code; the partitions a
//! series actually uses are indexed in `series_buckets`, so that reads skip empty ranges. Spans
//! aim at partitions well under 100 MB at perfSONAR's densest rates (one histogram a minute, one
//! point a second).

use esmond_model::DataType;

const DAY: i64 = 86_400;

/// The partition span, in seconds, of base points: one day. A day of one-minute histograms is
/// 1,440 rows; numbers are a few bytes each, so even a day of one point a second in every numeric
/// series of a record (which share partitions in Cassandra) stays in the tens of megabytes.
pub const POINT_SPAN: i64 = DAY;

/// Returns whether the base points of `data_type` are numbers, which esmond refuses twice at
/// the same second.
pub fn is_numeric(data_type: DataType) -> bool {
    matches!(
        data_type,
        DataType::Integer | DataType::Float | DataType::Percentage
    )
}

/// Returns the partition span, in seconds, of the bins of a summary window.
pub fn bin_span(window: i64) -> i64 {
    match window {
        ..=3600 => 30 * DAY,
        3601..=86_400 => 366 * DAY,
        _ => 3660 * DAY,
    }
}

/// Returns the partition that holds `ts` for partitions of `span` seconds.
pub fn bucket_of(ts: i64, span: i64) -> i64 {
    ts.div_euclid(span)
}

/// Returns the first and the last second of partition `bucket` of `span` seconds.
pub fn bucket_bounds(bucket: i64, span: i64) -> (i64, i64) {
    let begin = bucket.saturating_mul(span);
    (begin, begin.saturating_add(span - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_bounded_and_enumerable() {
        assert_eq!(bucket_of(0, DAY), 0);
        assert_eq!(bucket_of(DAY - 1, DAY), 0);
        assert_eq!(bucket_of(-1, DAY), -1);
        assert_eq!(bucket_of(DAY, DAY), 1);
        // A minute histogram day fits one partition: 1440 rows.
        assert_eq!(POINT_SPAN, DAY);
        assert!(is_numeric(DataType::Percentage));
        assert!(!is_numeric(DataType::Histogram));
        assert!(bin_span(300) < bin_span(86_400));
    }

    #[test]
    fn bounds_are_the_seconds_a_bucket_holds() {
        for ts in [0, DAY - 1, DAY, -1, 1_700_000_000] {
            let (begin, end) = bucket_bounds(bucket_of(ts, DAY), DAY);
            assert!(begin <= ts && ts <= end);
            assert_eq!(end - begin, DAY - 1);
        }
    }
}
