//! Histograms (bucket label → count, in posted order), their merge, and esmond's statistics
//! (esmond-api.md §4.4, §4.5).

use serde_json::{Map, Value, json};

use crate::pyfmt::parse_float;

/// A histogram: bucket labels (compared as strings, so `41.0` and `41.00` differ) with counts,
/// in the order the buckets first appeared.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Histogram {
    buckets: Vec<(String, i64)>,
}

impl Histogram {
    /// Returns a histogram of these buckets; a label given twice keeps its last count at its
    /// first position, as a decoded JSON object does.
    pub fn new(buckets: impl IntoIterator<Item = (String, i64)>) -> Histogram {
        let mut histogram = Histogram::default();
        for (label, count) in buckets {
            match histogram
                .buckets
                .iter_mut()
                .find(|(existing, _)| *existing == label)
            {
                Some((_, existing)) => *existing = count,
                None => histogram.buckets.push((label, count)),
            }
        }
        histogram
    }

    /// Returns the buckets in order.
    pub fn buckets(&self) -> &[(String, i64)] {
        &self.buckets
    }

    /// Returns the total count.
    pub fn total(&self) -> i64 {
        self.buckets
            .iter()
            .map(|(_, count)| *count)
            .fold(0, i64::saturating_add)
    }

    /// Adds `other` bucket by bucket: existing labels in place, new labels appended in `other`'s
    /// order.
    pub fn merge(&mut self, other: &Histogram) {
        for (label, count) in &other.buckets {
            match self
                .buckets
                .iter_mut()
                .find(|(existing, _)| existing == label)
            {
                Some((_, existing)) => *existing = existing.saturating_add(*count),
                None => self.buckets.push((label.clone(), *count)),
            }
        }
    }

    /// Returns the histogram as a JSON object with integer counts, in bucket order.
    pub fn to_json(&self) -> Value {
        let map: Map<String, Value> = self
            .buckets
            .iter()
            .map(|(label, count)| (label.clone(), json!(count)))
            .collect();
        Value::Object(map)
    }

    /// Returns esmond's statistics object; `{}` when a label is not a number, as esmond does.
    ///
    /// Returns `None` when the counts add up to zero or less, where esmond divides by zero.
    pub fn statistics(&self) -> Option<Value> {
        let mut values = Vec::with_capacity(self.buckets.len());
        for (label, count) in &self.buckets {
            let Some(value) = parse_float(label) else {
                return Some(json!({}));
            };
            values.push((value, *count));
        }
        let total = self.total();
        if total <= 0 {
            return None;
        }
        let n = total as f64;

        // Mean and mode walk the buckets in their stored order: the order sets the last bits of
        // the mean and the order of the modes.
        let mut weighted = 0.0;
        let mut mode: Vec<f64> = Vec::new();
        let mut mode_count = i64::MIN;
        for &(value, count) in &values {
            weighted += value * count as f64;
            if count > mode_count {
                mode = vec![value];
                mode_count = count;
            } else if count == mode_count {
                mode.push(value);
            }
        }
        let mean = weighted / n;

        let mut sorted = values;
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let minimum = sorted.first().map(|bucket| bucket.0).unwrap_or_default();
        let maximum = sorted.last().map(|bucket| bucket.0).unwrap_or_default();
        let percentiles = percentiles(&sorted, total, &[25.0, 50.0, 75.0, 95.0]);
        let variance = sorted
            .iter()
            .map(|&(value, count)| count as f64 * (value - mean).powi(2))
            .sum::<f64>()
            / n;

        Some(json!({
            "mode": mode,
            "mean": mean,
            "minimum": minimum,
            "maximum": maximum,
            "percentile-25": percentiles[0],
            "median": percentiles[1],
            "percentile-75": percentiles[2],
            "percentile-95": percentiles[3],
            "variance": variance,
            "standard-deviation": variance.sqrt(),
        }))
    }
}

/// One percentile of esmond's NIST "(N+1)p" estimator: `n = p/100·(N+1)`, `k = floor(n)`,
/// `d = n − k`, interpolating between the k-th and (k+1)-th ordered samples.
#[derive(Debug, Clone)]
struct Percentile {
    k: i64,
    d: f64,
    total: i64,
    tentative: Option<f64>,
    result: Option<f64>,
}

impl Percentile {
    fn new(percent: f64, total: i64) -> Percentile {
        let rank = percent / 100.0 * (total as f64 + 1.0);
        let whole = rank.floor();
        Percentile {
            k: whole as i64,
            d: rank - whole,
            total,
            tentative: None,
            result: None,
        }
    }

    /// Feeds the bucket reached with cumulative count `cumulative`; returns whether the
    /// percentile is now decided, or must wait for the next bucket to interpolate.
    fn feed(&mut self, cumulative: i64, value: f64) -> bool {
        if let Some(previous) = self.tentative.take() {
            self.result = Some(previous + self.d * (value - previous));
            return true;
        }
        let exact = self.k == 0
            || (cumulative >= self.total && self.k >= self.total)
            || (self.k as f64 + self.d) < cumulative as f64;
        if exact {
            self.result = Some(value);
            return true;
        }
        self.tentative = Some(value);
        false
    }
}

/// Walks the sorted buckets as esmond does: zero-count buckets take part, each percentile in
/// turn is fed while the cumulative count reaches its rank, and one that waits to interpolate
/// stops the walk of that bucket.
fn percentiles(sorted: &[(f64, i64)], total: i64, wanted: &[f64]) -> Vec<f64> {
    let mut percentiles: Vec<Percentile> =
        wanted.iter().map(|p| Percentile::new(*p, total)).collect();
    let mut current = 0;
    let mut cumulative: i64 = 0;
    for &(value, count) in sorted {
        cumulative = cumulative.saturating_add(count);
        while current < percentiles.len() && cumulative >= percentiles[current].k {
            if !percentiles[current].feed(cumulative, value) {
                break;
            }
            current += 1;
        }
    }
    let last = sorted.last().map(|bucket| bucket.0).unwrap_or_default();
    percentiles
        .into_iter()
        .map(|percentile| percentile.result.unwrap_or(last))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::to_string;

    fn histogram(json: &str) -> Histogram {
        let value: Value = serde_json::from_str(json).unwrap();
        Histogram::new(
            value
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_i64().unwrap())),
        )
    }

    #[test]
    fn statistics_match_esmond_vectors() {
        let vectors = [
            (
                r#"{"10":1,"20":1}"#,
                r#"{"mode":[10.0,20.0],"mean":15.0,"minimum":10.0,"maximum":20.0,"percentile-25":10.0,"median":15.0,"percentile-75":20.0,"percentile-95":20.0,"variance":25.0,"standard-deviation":5.0}"#,
            ),
            (
                r#"{"1":5,"2":0,"3":5}"#,
                r#"{"mode":[1.0,3.0],"mean":2.0,"minimum":1.0,"maximum":3.0,"percentile-25":1.0,"median":1.5,"percentile-75":3.0,"percentile-95":3.0,"variance":1.0,"standard-deviation":1.0}"#,
            ),
            (
                r#"{"3":2,"1":2,"2":1}"#,
                r#"{"mode":[3.0,1.0],"mean":2.0,"minimum":1.0,"maximum":3.0,"percentile-25":1.0,"median":2.0,"percentile-75":3.0,"percentile-95":3.0,"variance":0.8,"standard-deviation":0.8944271909999159}"#,
            ),
            (
                r#"{"0":0,"5":1}"#,
                r#"{"mode":[5.0],"mean":5.0,"minimum":0.0,"maximum":5.0,"percentile-25":0.0,"median":5.0,"percentile-75":5.0,"percentile-95":5.0,"variance":0.0,"standard-deviation":0.0}"#,
            ),
            (
                r#"{"7":3}"#,
                r#"{"mode":[7.0],"mean":7.0,"minimum":7.0,"maximum":7.0,"percentile-25":7.0,"median":7.0,"percentile-75":7.0,"percentile-95":7.0,"variance":0.0,"standard-deviation":0.0}"#,
            ),
            (
                r#"{"34.4":506,"34.5":85,"34.6":5,"34.7":4}"#,
                r#"{"mode":[34.4],"mean":34.41783333333333,"minimum":34.4,"maximum":34.7,"percentile-25":34.4,"median":34.4,"percentile-75":34.4,"percentile-95":34.5,"variance":0.00203197222222228,"standard-deviation":0.04507740256738713}"#,
            ),
            (
                r#"{"41.00":98,"41.10":98,"41.20":3,"50.0":1}"#,
                r#"{"mode":[41.0,41.1],"mean":41.09700000000001,"minimum":41.0,"maximum":50.0,"percentile-25":41.0,"median":41.1,"percentile-75":41.1,"percentile-95":41.1,"variance":0.40109100000000003,"standard-deviation":0.6333174559413313}"#,
            ),
        ];
        for (input, expected) in vectors {
            assert_eq!(
                to_string(&histogram(input).statistics().unwrap()),
                expected,
                "statistics of {input}"
            );
        }
    }

    #[test]
    fn percentile_unit_cases_from_esmond() {
        let mut forty = Percentile::new(40.0, 1);
        assert!(forty.feed(1, 100.0));
        assert_eq!(forty.result, Some(100.0));
        let mut ninety_five = Percentile::new(95.0, 9);
        assert!(ninety_five.feed(9, 101.0));
        assert_eq!(ninety_five.result, Some(101.0));
        let mut interpolated = Percentile::new(95.0, 10);
        assert!(!interpolated.feed(4, 100.0));
        assert!(interpolated.feed(6, 101.0));
        assert!(
            (interpolated.result.unwrap() - 100.45).abs() < 1e-9,
            "{:?}",
            interpolated.result
        );
    }

    #[test]
    fn labels_that_are_not_numbers_give_empty_statistics() {
        assert_eq!(histogram(r#"{"test":100}"#).statistics(), Some(json!({})));
        assert_eq!(histogram(r#"{"1":0}"#).statistics(), None);
        assert_eq!(
            histogram(r#"{" 1e1 ":2}"#).statistics().unwrap()["mean"],
            json!(10.0)
        );
    }

    #[test]
    fn merge_keeps_order_and_compares_labels_as_text() {
        let mut merged = histogram(r#"{"41.00":98,"41.10":2}"#);
        merged.merge(&histogram(r#"{"41.10":96,"41.20":3,"41.0":1}"#));
        assert_eq!(
            to_string(&merged.to_json()),
            r#"{"41.00":98,"41.10":98,"41.20":3,"41.0":1}"#
        );
    }
}
