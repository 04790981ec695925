//! Stored forms of points and bin states, shared by the backends: one column per kind of value,
//! histograms and documents as JSON text.

use esmond_model::{BinState, DataType, EventType, Histogram, Value};
use serde_json::Value as Json;
use sqlx::FromRow;

use crate::{Bin, Error, Point, Result, SeriesKey};

pub(crate) fn corrupt(message: String) -> Error {
    Error::Internal(message.into())
}

pub(crate) fn data_type(series: &SeriesKey) -> Result<DataType> {
    EventType::lookup(&series.event_type)
        .map(EventType::data_type)
        .ok_or_else(|| {
            corrupt(format!(
                "event type {} is not in the catalog",
                series.event_type
            ))
        })
}

/// The value columns of a point row.
#[derive(Debug, Default, FromRow)]
pub(crate) struct ValueColumns {
    pub(crate) ts: i64,
    pub(crate) v_int: Option<i64>,
    pub(crate) v_float: Option<f64>,
    pub(crate) v_num: Option<i64>,
    pub(crate) v_den: Option<i64>,
    pub(crate) v_json: Option<String>,
}

pub(crate) fn histogram_from_text(text: &str) -> Result<Histogram> {
    let document: Json =
        serde_json::from_str(text).map_err(|error| Error::Internal(Box::new(error)))?;
    let object = document
        .as_object()
        .ok_or_else(|| corrupt("stored histogram is not an object".to_owned()))?;
    let mut buckets = Vec::with_capacity(object.len());
    for (label, count) in object {
        let count = count
            .as_i64()
            .ok_or_else(|| corrupt(format!("stored histogram count {count} is not an integer")))?;
        buckets.push((label.clone(), count));
    }
    Ok(Histogram::new(buckets))
}

pub(crate) fn histogram_to_text(histogram: &Histogram) -> String {
    histogram.to_json().to_string()
}

impl ValueColumns {
    pub(crate) fn of(point: &Point) -> ValueColumns {
        let mut columns = ValueColumns {
            ts: point.ts,
            ..ValueColumns::default()
        };
        match &point.value {
            Value::Integer(integer) => columns.v_int = Some(*integer),
            Value::Float(float) => columns.v_float = Some(*float),
            Value::Percentage {
                numerator,
                denominator,
            } => {
                columns.v_num = Some(*numerator);
                columns.v_den = Some(*denominator);
            }
            Value::Histogram(histogram) => columns.v_json = Some(histogram_to_text(histogram)),
            Value::Subinterval(document) | Value::Json(document) => {
                columns.v_json = Some(document.to_string())
            }
        }
        columns
    }

    pub(crate) fn into_point(self, data_type: DataType) -> Result<Point> {
        let missing = || {
            corrupt(format!(
                "stored point at {} lacks its {data_type:?} value",
                self.ts
            ))
        };
        let document = |text: &Option<String>| -> Result<Json> {
            let text = text.as_deref().ok_or_else(missing)?;
            serde_json::from_str(text).map_err(|error| Error::Internal(Box::new(error)))
        };
        let value = match data_type {
            DataType::Integer => Value::Integer(self.v_int.ok_or_else(missing)?),
            DataType::Float => Value::Float(self.v_float.ok_or_else(missing)?),
            DataType::Percentage => Value::Percentage {
                numerator: self.v_num.ok_or_else(missing)?,
                denominator: self.v_den.ok_or_else(missing)?,
            },
            DataType::Histogram => Value::Histogram(histogram_from_text(
                self.v_json.as_deref().ok_or_else(missing)?,
            )?),
            DataType::Subinterval => Value::Subinterval(document(&self.v_json)?),
            DataType::Json => Value::Json(document(&self.v_json)?),
        };
        Ok(Point { ts: self.ts, value })
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct BinRow {
    pub(crate) bin_start: i64,
    pub(crate) point_count: i64,
    pub(crate) int_sum: i64,
    pub(crate) float_sum: f64,
    pub(crate) numerator: i64,
    pub(crate) denominator: i64,
    pub(crate) histogram: Option<String>,
}

impl BinRow {
    pub(crate) fn into_bin(self) -> Result<Bin> {
        let histogram = self
            .histogram
            .as_deref()
            .map(histogram_from_text)
            .transpose()?;
        let state = BinState {
            count: self.point_count,
            int_sum: self.int_sum,
            float_sum: self.float_sum,
            numerator: self.numerator,
            denominator: self.denominator,
            histogram,
        };
        Ok(Bin {
            start: self.bin_start,
            state,
        })
    }
}
