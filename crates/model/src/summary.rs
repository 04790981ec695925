//! Summaries as mergeable bin states (esmond-api.md §4.3).
//!
//! A bin's state holds everything every summary type needs (count, sums, ratio parts, merged
//! histogram), so one state per window serves `aggregation`, `average` and `statistics`, and a
//! larger window is folded from the states of a smaller one that divides it. The state depends
//! only on the set of points in the bin, never on the order or number of writes: recomputing
//! it is idempotent.

use serde_json::Value as Json;

use crate::catalog::{DataType, SummaryType};
use crate::histogram::Histogram;
use crate::value::Value;

/// The mergeable summary state of the points in one bin.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BinState {
    /// Number of base points folded in.
    pub count: i64,
    /// Sum of integer values.
    pub int_sum: i64,
    /// Sum of float values, in time order.
    pub float_sum: f64,
    /// Sum of percentage numerators.
    pub numerator: i64,
    /// Sum of percentage denominators.
    pub denominator: i64,
    /// Bucket-wise sum of histograms, buckets in order of first appearance.
    pub histogram: Option<Histogram>,
}

impl BinState {
    /// Returns the state of a single point.
    pub fn of(value: &Value) -> BinState {
        let mut state = BinState::default();
        state.add(value);
        state
    }

    /// Folds one point in.
    pub fn add(&mut self, value: &Value) {
        self.count += 1;
        match value {
            Value::Integer(integer) => self.int_sum = self.int_sum.saturating_add(*integer),
            Value::Float(float) => self.float_sum += float,
            Value::Percentage {
                numerator,
                denominator,
            } => {
                self.numerator = self.numerator.saturating_add(*numerator);
                self.denominator = self.denominator.saturating_add(*denominator);
            }
            Value::Histogram(histogram) => match &mut self.histogram {
                Some(merged) => merged.merge(histogram),
                None => self.histogram = Some(histogram.clone()),
            },
            Value::Subinterval(_) | Value::Json(_) => {}
        }
    }

    /// Folds the state of a later part of the bin in.
    pub fn merge(&mut self, later: &BinState) {
        self.count += later.count;
        self.int_sum = self.int_sum.saturating_add(later.int_sum);
        self.float_sum += later.float_sum;
        self.numerator = self.numerator.saturating_add(later.numerator);
        self.denominator = self.denominator.saturating_add(later.denominator);
        if let Some(histogram) = &later.histogram {
            match &mut self.histogram {
                Some(merged) => merged.merge(histogram),
                None => self.histogram = Some(histogram.clone()),
            }
        }
    }

    /// Returns the summary value esmond shows for this state, or `None` when the summary type
    /// does not apply to the data type (or the bin is empty).
    pub fn render(&self, data_type: DataType, summary_type: SummaryType) -> Option<Json> {
        if self.count == 0 {
            return None;
        }
        let value = match (data_type, summary_type) {
            (DataType::Integer, SummaryType::Aggregation) => Json::from(self.int_sum as f64),
            (DataType::Integer, SummaryType::Average) => {
                Json::from(self.int_sum as f64 / self.count as f64)
            }
            (DataType::Float, SummaryType::Aggregation) => Json::from(self.float_sum),
            (DataType::Float, SummaryType::Average) => {
                Json::from(self.float_sum / self.count as f64)
            }
            (DataType::Percentage, SummaryType::Aggregation) => {
                Json::from(self.numerator as f64 / self.denominator as f64)
            }
            (DataType::Histogram, SummaryType::Aggregation) => self.histogram.as_ref()?.to_json(),
            (DataType::Histogram, SummaryType::Statistics) => {
                self.histogram.as_ref()?.statistics()?
            }
            _ => return None,
        };
        Some(value)
    }
}

/// Returns the start of the bin of `window` seconds that holds `ts` (epoch-aligned).
pub fn bin_start(ts: i64, window: i64) -> i64 {
    if window <= 0 {
        ts
    } else {
        ts.div_euclid(window) * window
    }
}

/// Returns the windows whose bin states are kept for an event type with these summary windows:
/// the windows themselves, plus hourly and daily states that larger windows fold from, so
/// that no write rescans more than a bounded number of points or states.
pub fn state_windows(summary_windows: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut windows: Vec<i64> = summary_windows
        .into_iter()
        .filter(|window| *window > 0)
        .collect();
    for internal in [3600, 86400] {
        if windows
            .iter()
            .any(|window| *window > internal && window % internal == 0)
        {
            windows.push(internal);
        }
    }
    windows.sort_unstable();
    windows.dedup();
    windows
}

/// Returns the largest kept window smaller than `window` that divides it: the states a bin of
/// `window` is folded from. `None` means folding from base points.
pub fn fold_source(window: i64, kept: &[i64]) -> Option<i64> {
    kept.iter()
        .copied()
        .filter(|smaller| *smaller < window && window % smaller == 0)
        .max()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fold(values: &[Value]) -> BinState {
        let mut state = BinState::default();
        for value in values {
            state.add(value);
        }
        state
    }

    #[test]
    fn integer_and_float_summaries() {
        let state = fold(&[
            Value::Integer(5_978_580_000),
            Value::Integer(5_413_040_000),
            Value::Integer(7_964_590_000),
            Value::Integer(6_946_810_000),
        ]);
        assert_eq!(
            state.render(DataType::Integer, SummaryType::Aggregation),
            Some(json!(26_303_020_000.0))
        );
        assert_eq!(
            state.render(DataType::Integer, SummaryType::Average),
            Some(json!(6_575_755_000.0))
        );
        let floats = fold(&[Value::Float(0.5), Value::Float(0.25)]);
        assert_eq!(
            floats.render(DataType::Float, SummaryType::Aggregation),
            Some(json!(0.75))
        );
        assert_eq!(
            floats.render(DataType::Float, SummaryType::Average),
            Some(json!(0.375))
        );
        assert_eq!(
            floats.render(DataType::Float, SummaryType::Statistics),
            None
        );
    }

    #[test]
    fn percentages_pool_their_parts() {
        let state = fold(&[
            Value::Percentage {
                numerator: 1,
                denominator: 10,
            },
            Value::Percentage {
                numerator: 0,
                denominator: 30,
            },
        ]);
        assert_eq!(
            state.render(DataType::Percentage, SummaryType::Aggregation),
            Some(json!(0.025))
        );
    }

    #[test]
    fn folding_states_equals_folding_points() {
        let histograms: Vec<Value> = [
            json!({"1": 2, "3": 1}),
            json!({"3": 4, "2": 1}),
            json!({"9": 1}),
        ]
        .iter()
        .map(|value| Value::parse(DataType::Histogram, value).unwrap())
        .collect();
        let direct = fold(&histograms);
        let mut folded = fold(&histograms[..2]);
        folded.merge(&fold(&histograms[2..]));
        assert_eq!(direct, folded);
        assert_eq!(
            direct.render(DataType::Histogram, SummaryType::Aggregation),
            Some(json!({"1": 2, "3": 5, "2": 1, "9": 1}))
        );
    }

    #[test]
    fn windows_and_fold_sources() {
        assert_eq!(bin_start(1_398_965_989, 86400), 1_398_902_400);
        assert_eq!(bin_start(-1, 60), -60);
        assert_eq!(bin_start(17, 0), 17);
        assert_eq!(state_windows([300, 3600, 86400, 0]), vec![300, 3600, 86400]);
        assert_eq!(state_windows([86400]), vec![3600, 86400]);
        assert_eq!(state_windows([604_800]), vec![3600, 86400, 604_800]);
        assert_eq!(state_windows([600]), vec![600]);
        let kept = state_windows([300, 86400]);
        assert_eq!(fold_source(300, &kept), None);
        assert_eq!(fold_source(3600, &kept), Some(300));
        assert_eq!(fold_source(86400, &kept), Some(3600));
    }
}
