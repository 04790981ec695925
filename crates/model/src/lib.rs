//! The esmond domain, free of I/O: the event-type catalog, Python-compatible text rendering of
//! values, and the validation and checksum of metadata posted by perfSONAR clients.
//!
//! Layout: [`catalog`] holds the 49 event types and their summaries; [`pyfmt`] renders values the
//! way esmond's Python does (`str()`, `repr()`, `int()`); [`json`] writes esmond's compact JSON;
//! [`metadata`] turns a posted metadata document into a validated [`metadata::NewMetadata`];
//! [`value`] validates measured values per data type; [`histogram`] merges histograms and
//! computes their statistics; [`summary`] folds points into mergeable bin states.

pub mod catalog;
pub mod histogram;
pub mod json;
pub mod metadata;
pub mod pyfmt;
pub mod summary;
pub mod value;

pub use catalog::{DataType, EventType, SummaryType};
pub use histogram::Histogram;
pub use metadata::{EventTypeKey, EventTypeRow, Metadata, MetadataError, NewMetadata, Subject};
pub use summary::BinState;
pub use value::{Value, ValueError};
