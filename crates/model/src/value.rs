//! Measured values: parsing a posted value for its data type with esmond's rules and messages
//! (esmond-api.md §14), and the time stamps of points.

use serde_json::{Number, Value as Json};

use crate::catalog::DataType;
use crate::histogram::Histogram;
use crate::pyfmt::{is_integer_literal, parse_float, parse_int};

/// One measured value, validated for its data type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A whole number.
    Integer(i64),
    /// A float, kept exactly as posted (esmond truncated to 4 decimals).
    Float(f64),
    /// A ratio; the denominator is positive and the numerator not negative.
    Percentage {
        /// Numerator (e.g. packets lost).
        numerator: i64,
        /// Denominator (e.g. packets sent).
        denominator: i64,
    },
    /// Bucket counts.
    Histogram(Histogram),
    /// Intervals, stored as posted.
    Subinterval(Json),
    /// Any JSON document, stored as decoded.
    Json(Json),
}

/// Why a posted value was refused; the message is esmond's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

fn refuse<T>(message: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError(message.into()))
}

/// Converts like Python's `int()` on a decoded JSON value: integers, floats truncated toward
/// zero, integer strings, booleans. Returns `None` for anything else or beyond `i64`.
pub fn python_int(value: &Json) -> Option<i64> {
    match value {
        Json::Number(number) => number_to_int(number),
        Json::String(text) => parse_int(text),
        Json::Bool(flag) => Some(i64::from(*flag)),
        _ => None,
    }
}

fn number_to_int(number: &Number) -> Option<i64> {
    if is_integer_literal(&number.to_string()) {
        return number.as_i64();
    }
    let float = number.as_f64()?.trunc();
    // The bounds are exactly representable; anything outside (or NaN) does not fit.
    (-9.223_372_036_854_776e18..9.223_372_036_854_776e18)
        .contains(&float)
        .then_some(float as i64)
}

/// Converts like Python's `float()` on a decoded JSON value.
fn python_float(value: &Json) -> Option<f64> {
    match value {
        Json::Number(number) => number.as_f64(),
        Json::String(text) => parse_float(text),
        Json::Bool(flag) => Some(if *flag { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// Reads a point's time stamp as esmond does: integers, floats (fraction dropped) and integer
/// strings are epoch seconds.
pub fn parse_timestamp(value: &Json) -> Option<i64> {
    match value {
        Json::Bool(_) => None,
        other => python_int(other),
    }
}

impl Value {
    /// Validates and converts a posted value for `data_type`.
    pub fn parse(data_type: DataType, value: &Json) -> Result<Value, ValueError> {
        match data_type {
            DataType::Integer => match python_int(value) {
                Some(integer) => Ok(Value::Integer(integer)),
                None => refuse("Value must be an integer"),
            },
            DataType::Float => match python_float(value) {
                Some(float) if float.is_finite() => Ok(Value::Float(float)),
                _ => refuse("Value must be a floating point number"),
            },
            DataType::Percentage => parse_percentage(value),
            DataType::Histogram => parse_histogram(value),
            DataType::Subinterval => parse_subintervals(value),
            DataType::Json => Ok(Value::Json(value.clone())),
        }
    }

    /// Returns the value as esmond shows a base point: integers and ratios as floats.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Integer(integer) => Json::from(*integer as f64),
            Value::Float(float) => Json::from(*float),
            Value::Percentage {
                numerator,
                denominator,
            } => Json::from(*numerator as f64 / *denominator as f64),
            Value::Histogram(histogram) => histogram.to_json(),
            Value::Subinterval(document) | Value::Json(document) => document.clone(),
        }
    }
}

fn parse_percentage(value: &Json) -> Result<Value, ValueError> {
    // esmond looks the fields up with `in`, so a string without them reads as a missing field.
    let field = |name: &str| value.as_object().and_then(|object| object.get(name));
    let Some(numerator) = field("numerator") else {
        return refuse("Missing required field 'numerator'");
    };
    let Some(denominator) = field("denominator") else {
        return refuse("Missing required field 'denominator'");
    };
    let Some(numerator) = python_int(numerator) else {
        return refuse("The field 'numerator' must be an integer");
    };
    let Some(denominator) = python_int(denominator) else {
        return refuse("The field 'denominator' must be an integer");
    };
    if denominator <= 0 {
        return refuse("The field 'denominator' must be greater than 0");
    }
    if numerator < 0 {
        return refuse("The field 'numerator' cannot be negative");
    }
    Ok(Value::Percentage {
        numerator,
        denominator,
    })
}

fn parse_histogram(value: &Json) -> Result<Value, ValueError> {
    let Some(object) = value.as_object() else {
        return refuse("Invalid histogram provided");
    };
    let mut buckets = Vec::with_capacity(object.len());
    for (label, count) in object {
        let count = match count {
            // Python's int() raises TypeError (esmond: "Invalid histogram") for these.
            Json::Null | Json::Array(_) | Json::Object(_) => {
                return refuse("Invalid histogram provided");
            }
            other => match python_int(other) {
                Some(count) => count,
                None => return refuse("Value of histogram must be an integer"),
            },
        };
        buckets.push((label.clone(), count));
    }
    Ok(Value::Histogram(Histogram::new(buckets)))
}

fn parse_subintervals(value: &Json) -> Result<Value, ValueError> {
    let invalid = || refuse("Invalid subintervals provided");
    let Some(intervals) = value.as_array().filter(|intervals| !intervals.is_empty()) else {
        return invalid();
    };
    for (index, interval) in intervals.iter().enumerate() {
        let Some(interval) = interval.as_object() else {
            return invalid();
        };
        for field in ["start", "duration", "val"] {
            if !interval.contains_key(field) {
                return refuse(format!(
                    "Interval must contain '{field}' field at position {}",
                    index + 1
                ));
            }
        }
        for field in ["start", "duration"] {
            match &interval[field] {
                Json::Null | Json::Array(_) | Json::Object(_) => return invalid(),
                other if python_float(other).is_none() => {
                    return refuse(
                        "Subinterval 'start' and 'duration' must be floating point numbers",
                    );
                }
                _ => {}
            }
        }
    }
    Ok(Value::Subinterval(value.clone()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[track_caller]
    fn refused(data_type: DataType, value: Json) -> String {
        Value::parse(data_type, &value).unwrap_err().0
    }

    #[test]
    fn integers_follow_python_int() {
        let parse = |value: Json| Value::parse(DataType::Integer, &value).unwrap();
        assert_eq!(parse(json!(5978580000_i64)), Value::Integer(5_978_580_000));
        assert_eq!(parse(json!(6946810000.7)), Value::Integer(6_946_810_000));
        assert_eq!(parse(json!(" 7964590000 ")), Value::Integer(7_964_590_000));
        assert_eq!(parse(json!(true)), Value::Integer(1));
        for bad in [
            json!("12.5"),
            json!("abc"),
            json!(null),
            json!([1]),
            json!({}),
            json!(1e300),
        ] {
            assert_eq!(refused(DataType::Integer, bad), "Value must be an integer");
        }
    }

    #[test]
    fn floats_are_kept_exactly() {
        assert_eq!(
            Value::parse(DataType::Float, &json!(0.57)).unwrap(),
            Value::Float(0.57)
        );
        assert_eq!(
            Value::parse(DataType::Float, &json!("0.00003")).unwrap(),
            Value::Float(0.00003)
        );
        assert_eq!(
            Value::parse(DataType::Float, &json!("1e-3")).unwrap(),
            Value::Float(0.001)
        );
        for bad in [
            json!("nan"),
            json!("inf"),
            json!("x"),
            json!(null),
            json!([]),
        ] {
            assert_eq!(
                refused(DataType::Float, bad),
                "Value must be a floating point number"
            );
        }
    }

    #[test]
    fn percentages_check_in_esmond_order() {
        let ok = Value::parse(
            DataType::Percentage,
            &json!({"numerator": "3", "denominator": 1.5}),
        )
        .unwrap();
        assert_eq!(
            ok,
            Value::Percentage {
                numerator: 3,
                denominator: 1
            }
        );
        let cases = [
            (
                json!({"denominator": 1}),
                "Missing required field 'numerator'",
            ),
            (json!("bad input"), "Missing required field 'numerator'"),
            (
                json!({"numerator": 1}),
                "Missing required field 'denominator'",
            ),
            (
                json!({"numerator": "x", "denominator": 1}),
                "The field 'numerator' must be an integer",
            ),
            (
                json!({"numerator": 1, "denominator": "x"}),
                "The field 'denominator' must be an integer",
            ),
            (
                json!({"numerator": 1, "denominator": 0}),
                "The field 'denominator' must be greater than 0",
            ),
            (
                json!({"numerator": -1, "denominator": 5}),
                "The field 'numerator' cannot be negative",
            ),
        ];
        for (value, message) in cases {
            assert_eq!(refused(DataType::Percentage, value), message);
        }
    }

    #[test]
    fn histograms_and_subintervals() {
        let histogram =
            Value::parse(DataType::Histogram, &json!({"41.00": "98", "41.10": 2.9})).unwrap();
        assert_eq!(histogram.to_json(), json!({"41.00": 98, "41.10": 2}));
        assert_eq!(
            refused(DataType::Histogram, json!({"1": "bad"})),
            "Value of histogram must be an integer"
        );
        assert_eq!(
            refused(DataType::Histogram, json!({"1": null})),
            "Invalid histogram provided"
        );
        assert_eq!(
            refused(DataType::Histogram, json!([0])),
            "Invalid histogram provided"
        );

        let intervals = json!([{"start": "0.0", "duration": "1.0", "val": "100"}]);
        assert_eq!(
            Value::parse(DataType::Subinterval, &intervals)
                .unwrap()
                .to_json(),
            intervals
        );
        let cases = [
            (
                json!([{"duration": 1, "val": 1}]),
                "Interval must contain 'start' field at position 1",
            ),
            (
                json!([{"start": 0, "duration": 1, "val": 1}, {"start": 1, "val": 1}]),
                "Interval must contain 'duration' field at position 2",
            ),
            (
                json!([{"start": 0, "duration": 1}]),
                "Interval must contain 'val' field at position 1",
            ),
            (
                json!([{"start": "x", "duration": 1, "val": 1}]),
                "Subinterval 'start' and 'duration' must be floating point numbers",
            ),
            (json!([]), "Invalid subintervals provided"),
            (json!("bad input"), "Invalid subintervals provided"),
        ];
        for (value, message) in cases {
            assert_eq!(refused(DataType::Subinterval, value), message);
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp(&json!(1398965989)), Some(1_398_965_989));
        assert_eq!(parse_timestamp(&json!(1398965989.9)), Some(1_398_965_989));
        assert_eq!(parse_timestamp(&json!("1392238294")), Some(1_392_238_294));
        assert_eq!(parse_timestamp(&json!("123.5")), None);
        assert_eq!(parse_timestamp(&json!(null)), None);
        assert_eq!(parse_timestamp(&json!(true)), None);
    }
}
