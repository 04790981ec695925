//! esmond's Django fixtures (`../shared/esmond-testdata/perfsonar_api_metadata.json`), read into
//! metadata records with their keys, checksums and `time_updated` values.

use std::collections::BTreeMap;
use std::path::PathBuf;

use esmond_model::{EventTypeKey, EventTypeRow, Metadata, Subject, SummaryType};
use serde_json::Value;

/// Returns the directory of esmond's test data beside the repository (`../shared`), or the one
/// named by `ESMOND_TESTDATA`.
pub fn testdata_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("ESMOND_TESTDATA") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/esmond-testdata")
}

/// Reads and parses one file of the test data.
pub fn load_json(name: &str) -> Value {
    let path = testdata_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).expect("test data is json")
}

/// One fixture record and the checksum esmond stored for it.
#[derive(Debug, Clone)]
pub struct FixtureRecord {
    /// The record.
    pub metadata: Metadata,
    /// esmond's checksum.
    pub checksum: String,
}

/// Returns the epoch seconds of a `YYYY-MM-DDTHH:MM:SSZ` timestamp.
pub fn parse_utc(text: &str) -> i64 {
    let number =
        |range: std::ops::Range<usize>| text[range].parse::<i64>().expect("timestamp digits");
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let (hour, minute, second) = (number(11..13), number(14..16), number(17..19));
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hour * 3600 + minute * 60 + second
}

/// Reads the metadata records of a Django fixture file.
pub fn metadata_fixture(name: &str) -> Vec<FixtureRecord> {
    let objects = load_json(name);
    let objects = objects.as_array().expect("fixture is a list");
    let of_model = |model: &'static str| {
        objects
            .iter()
            .filter(move |object| object["model"] == model)
    };
    let text = |value: &Value| value.as_str().expect("string field").to_owned();

    let mut subjects = BTreeMap::new();
    for object in of_model("api.pspointtopointsubject") {
        let fields = &object["fields"];
        let subject = Subject::PointToPoint {
            source: text(&fields["source"]).parse().expect("source"),
            destination: text(&fields["destination"]).parse().expect("destination"),
            measurement_agent: text(&fields["measurement_agent"]).parse().expect("agent"),
            tool_name: text(&fields["tool_name"]),
            input_source: text(&fields["input_source"]),
            input_destination: text(&fields["input_destination"]),
        };
        subjects.insert(fields["metadata"].as_i64().expect("metadata id"), subject);
    }
    let mut records = Vec::new();
    for object in of_model("api.psmetadata") {
        let id = object["pk"].as_i64().expect("pk");
        let fields = &object["fields"];
        let mut event_types: Vec<EventTypeRow> = of_model("api.pseventtypes")
            .filter(|row| row["fields"]["metadata"] == id)
            .map(|row| {
                let fields = &row["fields"];
                EventTypeRow {
                    key: EventTypeKey {
                        event_type: text(&fields["event_type"]),
                        summary_type: SummaryType::from_json_name(
                            fields["summary_type"].as_str().unwrap(),
                        )
                        .expect("summary type"),
                        window: fields["summary_window"].as_i64().expect("window"),
                    },
                    time_updated: fields["time_updated"].as_str().map(parse_utc),
                }
            })
            .collect();
        event_types.sort_by(|a, b| a.key.cmp(&b.key));
        let mut parameters: Vec<(String, String)> = of_model("api.psmetadataparameters")
            .filter(|row| row["fields"]["metadata"] == id)
            .map(|row| {
                (
                    text(&row["fields"]["parameter_key"]),
                    text(&row["fields"]["parameter_value"]),
                )
            })
            .collect();
        parameters.sort();
        let metadata = Metadata {
            key: text(&fields["metadata_key"]),
            subject: subjects
                .remove(&id)
                .expect("every fixture record has a subject"),
            parameters,
            event_types,
        };
        records.push(FixtureRecord {
            metadata,
            checksum: text(&fields["checksum"]),
        });
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_to_epoch_seconds() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), 0);
        assert_eq!(parse_utc("2014-04-29T19:16:05Z"), 1_398_798_965);
        assert_eq!(parse_utc("2000-03-01T00:00:00Z"), 951_868_800);
    }
}
