//! esmond's metadata checksum (esmond-storage.md §3.3, esmond-api.md §8.3).
//!
//! Kept byte for byte so that a deployment that imported esmond's database still recognises
//! descriptions that clients re-post: Python `str()` of each value, lowercased, in a fixed order.

use std::cmp::Ordering;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::pyfmt::py_str;

/// A summary window as posted; esmond sorts windows by their JSON type.
#[derive(Debug, Clone)]
pub(crate) enum PostedWindow<'a> {
    /// The base row's window, which esmond writes as the string `0`.
    Base,
    /// A declared summary's window, exactly as posted.
    Posted(&'a Value),
}

impl PostedWindow<'_> {
    fn text(&self) -> String {
        match self {
            PostedWindow::Base => "0".to_owned(),
            PostedWindow::Posted(value) => py_str(value).to_lowercase(),
        }
    }

    /// Orders numbers numerically and strings by code point; esmond crashes on a mix, here
    /// numbers come first.
    fn compare(&self, other: &Self) -> Ordering {
        match (self.as_value(), other.as_value()) {
            (Value::Number(a), Value::Number(b)) => {
                let (a, b) = (
                    a.as_f64().unwrap_or(f64::NAN),
                    b.as_f64().unwrap_or(f64::NAN),
                );
                a.partial_cmp(&b).unwrap_or(Ordering::Equal)
            }
            (Value::String(a), Value::String(b)) => a.cmp(&b),
            (Value::Number(_), _) => Ordering::Less,
            (_, Value::Number(_)) => Ordering::Greater,
            _ => Ordering::Equal,
        }
    }

    fn as_value(&self) -> Value {
        match self {
            PostedWindow::Base => Value::String("0".to_owned()),
            PostedWindow::Posted(value) => (*value).clone(),
        }
    }
}

/// One event-type row as the checksum sees it.
#[derive(Debug, Clone)]
pub(crate) struct ChecksumRow<'a> {
    pub(crate) event_type: &'a str,
    pub(crate) summary_type: &'a str,
    pub(crate) window: PostedWindow<'a>,
}

/// The parts of a posted document that the checksum covers.
#[derive(Debug, Default)]
pub(crate) struct ChecksumInput<'a> {
    pub(crate) subject_type: &'a str,
    /// Posted subject fields as (internal underscore name, value).
    pub(crate) subject_fields: Vec<(&'static str, &'a Value)>,
    /// Free-form parameters as (key as posted, value).
    pub(crate) parameters: Vec<(&'a str, &'a Value)>,
    pub(crate) rows: Vec<ChecksumRow<'a>>,
}

impl ChecksumInput<'_> {
    /// Returns the string esmond hashes.
    pub(crate) fn canonical(mut self) -> String {
        let mut text = format!("subject-type::{}", self.subject_type.to_lowercase());
        self.subject_fields.sort_by(|a, b| a.0.cmp(b.0));
        for (name, value) in &self.subject_fields {
            text.push_str(&format!(",{name}::{}", py_str(value).to_lowercase()));
        }
        self.parameters.sort_by(|a, b| a.0.cmp(b.0));
        for (key, value) in &self.parameters {
            text.push_str(&format!(
                ",{}::{}",
                key.to_lowercase(),
                py_str(value).to_lowercase()
            ));
        }
        self.rows.sort_by(|a, b| {
            a.event_type
                .cmp(b.event_type)
                .then_with(|| a.summary_type.cmp(b.summary_type))
                .then_with(|| a.window.compare(&b.window))
        });
        for row in &self.rows {
            text.push_str(&format!(
                ",{}::{}::{}",
                row.event_type,
                row.summary_type,
                row.window.text()
            ));
        }
        text
    }

    /// Returns the SHA-256 of the canonical string, lowercase hex.
    pub(crate) fn checksum(self) -> String {
        hex::encode(Sha256::digest(self.canonical().as_bytes()))
    }
}
