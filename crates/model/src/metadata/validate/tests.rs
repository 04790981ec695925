use serde_json::json;

use super::*;

fn throughput_body() -> Value {
    json!({
        "subject-type": "point-to-point",
        "source": "10.1.1.1",
        "destination": "10.1.1.2",
        "tool-name": "bwctl/iperf3",
        "measurement-agent": "10.1.1.1",
        "input-source": "Host1.Example.net",
        "input-destination": "host2.example.net",
        "time-duration": 20,
        "ip-transport-protocol": "tcp",
        "event-types": [
            {"event-type": "throughput", "summaries": [{"summary-type": "average", "summary-window": 86400}]},
            {"event-type": "failures"}
        ]
    })
}

#[test]
fn checksum_matches_esmond_test_vector() {
    let body = throughput_body();
    let metadata = NewMetadata::from_json(&body).unwrap();
    assert_eq!(
        metadata.checksum,
        "c862e3dabcb6cb1e903e31a5f4d2a858583e0f3c40a7671e9aba98750f34b6ab"
    );
    assert_eq!(
        metadata.parameters,
        vec![
            ("ip-transport-protocol".to_owned(), "tcp".to_owned()),
            ("time-duration".to_owned(), "20".to_owned())
        ]
    );
    let rows: Vec<_> = metadata
        .event_types
        .iter()
        .map(|row| (row.event_type.as_str(), row.summary_type, row.window))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("failures", SummaryType::Base, 0),
            ("throughput", SummaryType::Base, 0),
            ("throughput", SummaryType::Average, 86400)
        ]
    );
}

#[test]
fn checksum_ignores_value_case_and_number_form() {
    let mut body = throughput_body();
    body["input-source"] = json!("host1.example.net");
    body["time-duration"] = json!("20");
    let metadata = NewMetadata::from_json(&body).unwrap();
    assert_eq!(
        metadata.checksum,
        "c862e3dabcb6cb1e903e31a5f4d2a858583e0f3c40a7671e9aba98750f34b6ab"
    );
    body["time-duration"] = json!("21");
    assert_ne!(
        NewMetadata::from_json(&body).unwrap().checksum,
        metadata.checksum
    );
}

#[track_caller]
fn refused(body: Value) -> String {
    NewMetadata::from_json(&body).unwrap_err().to_string()
}

#[test]
fn errors_come_in_esmond_order_with_esmond_messages() {
    assert_eq!(refused(json!([])), "Missing subject-type field in request");
    assert_eq!(refused(json!(5)), "Missing subject-type field in request");
    assert_eq!(
        refused(json!({"event-types": []})),
        "Missing subject-type field in request"
    );
    assert_eq!(
        refused(json!({"subject-type": "x"})),
        "Missing event-types field in request"
    );
    assert_eq!(
        refused(json!({"subject-type": "x", "event-types": []})),
        "Invalid subject type x"
    );
    assert_eq!(
        refused(json!({"subject-type": "point-to-point", "event-types": [], "metadata-key": "k"})),
        "metadata-key is not allowed to be specified"
    );
    assert_eq!(
        refused(json!({"subject-type": "point-to-point", "event-types": "throughput"})),
        "event_types must be a list"
    );
    let with = |specs: Value| json!({"subject-type": "point-to-point", "event-types": specs});
    assert_eq!(refused(with(json!([{}]))), "No event-type defined");
    assert_eq!(
        refused(with(json!([{"event-type": "bogus"}]))),
        "Invalid event-type bogus"
    );
    assert_eq!(
        refused(with(
            json!([{"event-type": "throughput", "summaries": [{}]}])
        )),
        "Summary must contain summary-type"
    );
    assert_eq!(
        refused(with(
            json!([{"event-type": "throughput", "summaries": [{"summary-type": "averages"}]}])
        )),
        "Invalid summary type 'averages'"
    );
    assert_eq!(
        refused(with(
            json!([{"event-type": "throughput", "summaries": [{"summary-type": "statistics"}]}])
        )),
        "Summary type statistics not allowed for event-type throughput"
    );
    assert_eq!(
        refused(with(
            json!([{"event-type": "throughput", "summaries": [{"summary-type": "average"}]}])
        )),
        "Summary must contain summary-window"
    );
    for window in [json!("abc"), json!(3.7), json!(null), json!(true)] {
        let specs = json!([{"event-type": "throughput", "summaries": [{"summary-type": "average", "summary-window": window}]}]);
        assert_eq!(refused(with(specs)), "Summary window must be an integer");
    }
}

#[test]
fn inputs_that_crash_esmond_are_refused_clearly() {
    let mut body = throughput_body();
    body.as_object_mut().unwrap().remove("destination");
    assert_eq!(refused(body), "Missing destination field in request");

    let mut body = throughput_body();
    body["source"] = json!("not-an-address");
    assert_eq!(
        refused(body),
        "Invalid IP address not-an-address in field source"
    );

    let mut body = throughput_body();
    body["flag"] = json!(null);
    assert_eq!(refused(body), "Parameter flag must not be null");

    let mut body = throughput_body();
    body["tool-name"] = json!("x".repeat(129));
    assert_eq!(
        refused(body),
        "Field tool-name must be at most 128 characters"
    );

    let mut body = throughput_body();
    body["metadata_key"] = json!("x");
    assert_eq!(refused(body), "Parameter name metadata_key is reserved");

    let mut body = throughput_body();
    body["subject-type"] = json!("network-element");
    assert_eq!(
        refused(body),
        "Field destination is not allowed for subject type network-element"
    );

    let mut body = throughput_body();
    body["event-types"] = json!([{"event-type": "throughput", "summaries": [{"summary-type": "average", "summary-window": -60}]}]);
    assert_eq!(refused(body), "Summary window must not be negative");
}

#[test]
fn stored_forms_follow_python_str() {
    let mut body = throughput_body();
    body["flag"] = json!(true);
    body["fl"] = json!(0.1);
    body["foo_bar"] = json!([1, 2]);
    body["source"] = json!("2001:0DB8:0000::1");
    let metadata = NewMetadata::from_json(&body).unwrap();
    let find = |key: &str| {
        metadata
            .parameters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(find("flag"), Some("True"));
    assert_eq!(find("fl"), Some("0.1"));
    assert_eq!(find("foo_bar"), Some("[1, 2]"));
    let Subject::PointToPoint { source, .. } = metadata.subject else {
        panic!("point-to-point expected")
    };
    assert_eq!(source.to_string(), "2001:db8::1");
}

#[test]
fn windows_accept_integer_forms_and_duplicates_collapse() {
    let body = json!({
        "subject-type": "network-element", "source": "10.0.0.1", "measurement-agent": "10.0.0.1",
        "event-types": [{"event-type": "ntp-offset", "summaries": [
            {"summary-type": "average", "summary-window": " 086400"},
            {"summary-type": "average", "summary-window": 86400},
            {"summary-type": "aggregation", "summary-window": 3600.0},
            {"summary-type": "base", "summary-window": "whatever"}
        ]}]
    });
    let metadata = NewMetadata::from_json(&body).unwrap();
    let rows: Vec<_> = metadata
        .event_types
        .iter()
        .map(|row| (row.summary_type, row.window))
        .collect();
    assert_eq!(
        rows,
        vec![
            (SummaryType::Base, 0),
            (SummaryType::Aggregation, 3600),
            (SummaryType::Average, 86400)
        ]
    );
    assert!(matches!(metadata.subject, Subject::NetworkElement { .. }));
}
