//! GET R1: every filter of esmond-api.md §6, over esmond's own 16-record fixture, with the counts
//! esmond's tests expect and expectations computed here from the fixture itself.

use std::collections::BTreeSet;

use esmond_model::{Subject, SummaryType};
use esmond_tests::fixtures::{FixtureRecord, metadata_fixture};
use esmond_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

async fn fixture_app() -> (TestApp, Vec<FixtureRecord>) {
    let app = spawn_app().await;
    let records = metadata_fixture("perfsonar_api_metadata.json");
    for record in &records {
        app.metadata
            .import_metadata(&record.metadata, &record.checksum)
            .await
            .expect("fixture imports");
    }
    (app, records)
}

fn keys(listing: &Value) -> Vec<String> {
    listing
        .as_array()
        .expect("a list")
        .iter()
        .map(|m| m["metadata-key"].as_str().unwrap().to_owned())
        .collect()
}

/// Returns the sorted keys of the fixture records that satisfy `keep`.
fn expected(records: &[FixtureRecord], keep: impl Fn(&FixtureRecord) -> bool) -> Vec<String> {
    let set: BTreeSet<String> = records
        .iter()
        .filter(|r| keep(r))
        .map(|r| r.metadata.key.clone())
        .collect();
    set.into_iter().collect()
}

#[tokio::test]
async fn counts_from_esmond_fixture_tests() {
    let (app, _) = fixture_app().await;
    let count = |query: &'static str| {
        let app = &app;
        async move { app.get(query).await.json().as_array().unwrap().len() }
    };
    assert_eq!(count("").await, 16);
    assert_eq!(count("?event-type=packet-trace").await, 4);
    assert_eq!(
        count("?event-type=throughput&summary-type=average").await,
        5
    );
    assert_eq!(
        count("?event-type=throughput&summary-type=average&summary-window=86400").await,
        4
    );
    assert_eq!(count("?source=198.129.254.30").await, 4);
    assert_eq!(count("?source=2001:400:201:1150::3").await, 2);
    assert_eq!(count("?limit=1").await, 1);
    assert_eq!(count("?offset=1").await, 15);
    assert_eq!(count("?offset=10&limit=10").await, 6);
    assert_eq!(count("?summary-type=averages").await, 0);
    assert_eq!(count("?summary-type=base").await, 16);
}

#[tokio::test]
async fn subject_and_parameter_filters_match_the_fixture() {
    let (app, records) = fixture_app().await;
    let subject = |record: &FixtureRecord| match &record.metadata.subject {
        Subject::PointToPoint {
            source,
            destination,
            measurement_agent,
            tool_name,
            input_source,
            input_destination,
        } => (
            *source,
            *destination,
            *measurement_agent,
            tool_name.clone(),
            input_source.clone(),
            input_destination.clone(),
        ),
        Subject::NetworkElement { .. } => unreachable!("the fixture holds point-to-point records"),
    };
    let first = subject(&records[1]);
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            format!("?source={}", first.0),
            expected(&records, |r| subject(r).0 == first.0),
        ),
        (
            format!("?destination={}", first.1),
            expected(&records, |r| subject(r).1 == first.1),
        ),
        (
            format!("?measurement-agent={}", first.2),
            expected(&records, |r| subject(r).2 == first.2),
        ),
        (
            format!("?tool-name={}", first.3),
            expected(&records, |r| subject(r).3 == first.3),
        ),
        (
            format!("?input-source={}", first.4),
            expected(&records, |r| subject(r).4 == first.4),
        ),
        (
            format!("?input-destination={}", first.5),
            expected(&records, |r| subject(r).5 == first.5),
        ),
        (
            "?subject-type=point-to-point".to_owned(),
            expected(&records, |_| true),
        ),
        ("?subject-type=network-element".to_owned(), vec![]),
        (
            format!("?metadata-key={}", records[3].metadata.key),
            vec![records[3].metadata.key.clone()],
        ),
        (
            "?ip-packet-interval=1&ip-packet-size=1000".to_owned(),
            expected(&records, |r| {
                let has = |k: &str, v: &str| {
                    r.metadata
                        .parameters
                        .iter()
                        .any(|(pk, pv)| pk == k && pv == v)
                };
                has("ip-packet-interval", "1") && has("ip-packet-size", "1000")
            }),
        ),
        ("?callback=jQuery123&_=1398".to_owned(), vec![]),
    ];
    for (query, expected_keys) in cases {
        assert_eq!(
            keys(&app.get(&query).await.json()),
            expected_keys,
            "query {query}"
        );
    }
    // A repeated name counts with its last value.
    let repeated = app
        .get(&format!("?tool-name=nothing&tool-name={}", first.3))
        .await
        .json();
    assert_eq!(
        keys(&repeated),
        expected(&records, |r| subject(r).3 == first.3)
    );
}

#[tokio::test]
async fn event_type_filters_hold_on_the_same_row() {
    let (app, records) = fixture_app().await;
    let has_row = |record: &FixtureRecord, event_type: &str, summary: SummaryType, window: i64| {
        record.metadata.event_types.iter().any(|row| {
            row.key.event_type == event_type
                && row.key.summary_type == summary
                && row.key.window == window
        })
    };
    let listing = app
        .get("?event-type=histogram-owdelay&summary-type=statistics&summary-window=0")
        .await
        .json();
    assert_eq!(
        keys(&listing),
        expected(&records, |r| has_row(
            r,
            "histogram-owdelay",
            SummaryType::Statistics,
            0
        ))
    );
    let listing = app
        .get("?event-type=throughput&summary-window=3600")
        .await
        .json();
    assert_eq!(
        keys(&listing),
        expected(&records, |r| r.metadata.event_types.iter().any(|row| row
            .key
            .event_type
            == "throughput"
            && row.key.window == 3600))
    );
    app.get("?summary-window=daily")
        .await
        .assert_detail(400, "Summary window parameter must be an integer");
}

#[tokio::test]
async fn time_filters_follow_esmond_rules() {
    let (app, records) = fixture_app().await;
    // As in esmond's test, one event type was just written: its time-updated is now.
    let now = esmond_tests::epoch_now();
    let fresh = "481ceff181e34bacae35e35f2544623e";
    app.metadata
        .mark_updated(fresh, "failures", now)
        .await
        .unwrap();

    let cases = [
        ("?time-start=1398798900", 4),
        ("?time-end=1398798900", 12),
        ("?time=1398798965", 1),
        ("?time-start=1398798900&time-range=60", 1),
        ("?time-end=1398798900&time-range=60", 1),
        ("?time-start=1398798840&time-end=1398798960", 2),
        ("?time-range=600", 1),
    ];
    for (query, count) in cases {
        assert_eq!(
            app.get(query).await.json().as_array().unwrap().len(),
            count,
            "query {query}"
        );
    }
    assert_eq!(keys(&app.get("?time-range=600").await.json()), [fresh]);

    // The same window, computed here from the fixture: rows updated within [begin, end].
    let within = |record: &FixtureRecord, begin: i64, end: i64| {
        record.metadata.key == fresh && (begin..=end).contains(&now)
            || record
                .metadata
                .event_types
                .iter()
                .any(|row| row.time_updated.is_some_and(|t| (begin..=end).contains(&t)))
    };
    let listing = app
        .get("?time-start=1398790000&time-end=1398798000")
        .await
        .json();
    assert_eq!(
        keys(&listing),
        expected(&records, |r| within(r, 1_398_790_000, 1_398_798_000))
    );
    let listing = app
        .get("?event-type=histogram-rtt&time-start=1398798900")
        .await
        .json();
    assert_eq!(
        keys(&listing),
        expected(&records, |r| r.metadata.event_types.iter().any(|row| row
            .key
            .event_type
            == "histogram-rtt"
            && row.time_updated.is_some_and(|t| t >= 1_398_798_900)))
    );

    for bad in [
        "?time=abc",
        "?time-start=1.5",
        "?time-end=x",
        "?time-range=soon",
    ] {
        app.get(bad)
            .await
            .assert_detail(400, "Time parameter must be an integer");
    }
    app.get("?time-start=10&time-end=5")
        .await
        .assert_detail(400, "Requested start time must be less than end time");
    assert_eq!(
        app.get("?time-start=1398798965&time-end=1398798965")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get("?time-start=%201_398_798_965%20")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn pagination_links_and_totals() {
    let (app, records) = fixture_app().await;
    let all = expected(&records, |_| true);
    let answer = app.get("?limit=2&offset=1").await;
    let page = answer.json();
    assert_eq!(keys(&page), all[1..3]);
    let next = app.archive_url("?limit=2&offset=3");
    let previous = app.archive_url("?limit=2");
    assert_eq!(page[0]["metadata-count-total"], json!(16));
    assert_eq!(page[0]["metadata-previous-page"], json!(previous));
    assert_eq!(page[0]["metadata-next-page"], json!(next));
    assert!(
        page[1].get("metadata-count-total").is_none(),
        "only the first element carries the totals"
    );
    let keys_of_first: Vec<&str> = page[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys_of_first[keys_of_first.len() - 4..],
        [
            "uri",
            "metadata-count-total",
            "metadata-previous-page",
            "metadata-next-page"
        ]
    );
    assert_eq!(
        answer.header("link"),
        Some(format!("<{next}>; rel=\"next\", <{previous}>; rel=\"prev\"").as_str())
    );

    let beyond = app.get("?offset=100").await;
    assert_eq!(beyond.json(), json!([]));
    assert_eq!(
        beyond.header("link"),
        Some(format!("<{}>; rel=\"prev\"", app.archive_url("?limit=1500")).as_str())
    );

    let whole = app.get("").await;
    assert_eq!(keys(&whole.json()), all, "sorted by metadata key");
    assert_eq!(whole.header("link"), None);
    assert_eq!(whole.json()[0]["metadata-previous-page"], Value::Null);

    for fallback in ["?limit=0", "?limit=-4", "?limit=many"] {
        assert_eq!(
            app.get(fallback).await.json().as_array().unwrap().len(),
            16,
            "{fallback}"
        );
    }
    assert_eq!(keys(&app.get("?offset=-2").await.json()), all);
    // The official client pages by repeating the query with growing offsets.
    let mut collected = Vec::new();
    for offset in (0..16).step_by(5) {
        collected.extend(keys(
            &app.get(&format!("?limit=5&offset={offset}")).await.json(),
        ));
    }
    assert_eq!(collected, all);
}

#[tokio::test]
async fn host_names_and_dns_match_rules() {
    let app = spawn_app().await;
    let mut body = crate::throughput_body();
    body["source"] = json!("127.0.0.1");
    let key = app.create_metadata(&body).await;
    let mut other = crate::throughput_body();
    other["source"] = json!("2001:db8::7");
    let v6_key = app.create_metadata(&other).await;

    for query in [
        "?source=localhost",
        "?source=localhost&dns-match-rule=only-v4",
        "?source=localhost&dns-match-rule=prefer-v4",
    ] {
        assert_eq!(
            keys(&app.get(query).await.json()),
            std::slice::from_ref(&key),
            "{query}"
        );
    }
    assert_eq!(
        keys(
            &app.get("?source=127.0.0.1&dns-match-rule=prefer-v6")
                .await
                .json()
        ),
        std::slice::from_ref(&key)
    );
    assert_eq!(
        keys(&app.get("?source=2001:DB8:0::7").await.json()),
        std::slice::from_ref(&v6_key)
    );
    assert_eq!(
        keys(
            &app.get("?source=2001:db8::7&dns-match-rule=prefer-v4")
                .await
                .json()
        ),
        [v6_key]
    );

    app.get("?source=10.1.1.1&dns-match-rule=only-v6")
        .await
        .assert_detail(400, "Unable to find address for host 10.1.1.1");
    app.get("?source=2001:db8::7&dns-match-rule=only-v4")
        .await
        .assert_detail(400, "Unable to find address for host 2001:db8::7");
    app.get("?source=")
        .await
        .assert_detail(400, "Unable to find address for host ");
    app.get("?destination=nonexistent.invalid")
        .await
        .assert_detail(400, "Unable to find address for host nonexistent.invalid");
    app.get("?source=localhost&dns-match-rule=v6-only")
        .await
        .assert_detail(400, "Invalid dns-match-rule parameter v6-only");
    // Without an address filter the rule is never looked at, as in esmond.
    assert_eq!(
        app.get("?dns-match-rule=v6-only")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
