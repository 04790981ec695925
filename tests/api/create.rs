//! POST R1: creating (or finding) metadata (esmond-api.md §8).

use esmond_tests::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::throughput_body;

#[tokio::test]
async fn created_metadata_has_esmond_shape_and_location() {
    let app = spawn_app().await;
    let answer = app.post_metadata(&throughput_body()).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let body = answer.json();
    let key = body["metadata-key"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 32);
    assert!(
        key.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(
        answer.header("location"),
        Some(app.archive_url(&format!("{key}/")).as_str())
    );

    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "url",
            "metadata-key",
            "subject-type",
            "event-types",
            "source",
            "destination",
            "measurement-agent",
            "tool-name",
            "input-source",
            "input-destination",
            "ip-transport-protocol",
            "time-duration",
            "uri"
        ]
    );
    assert_eq!(body["url"], json!(app.archive_url(&format!("{key}/"))));
    assert_eq!(body["uri"], json!(app.archive_path(&format!("{key}/"))));
    assert_eq!(body["time-duration"], json!("20"));
    assert_eq!(body["input-source"], json!("Host1.Example.net"));
    let expected_event_types = json!([
        {"base-uri": app.archive_path(&format!("{key}/failures/base")), "event-type": "failures",
         "time-updated": null, "summaries": []},
        {"base-uri": app.archive_path(&format!("{key}/throughput/base")), "event-type": "throughput",
         "time-updated": null, "summaries": [
            {"uri": app.archive_path(&format!("{key}/throughput/averages/86400")), "summary-type": "average",
             "summary-window": "86400", "time-updated": null}
         ]}
    ]);
    assert_eq!(body["event-types"], expected_event_types);
}

#[tokio::test]
async fn identical_descriptions_share_one_key() {
    let app = spawn_app().await;
    let first = app.create_metadata(&throughput_body()).await;
    assert_eq!(app.create_metadata(&throughput_body()).await, first);

    // Values match case-insensitively and numbers match their string form, as in esmond.
    let mut same = throughput_body();
    same["input-source"] = json!("host1.example.net");
    same["time-duration"] = json!("20");
    assert_eq!(app.create_metadata(&same).await, first);

    let mut extra_summary = throughput_body();
    extra_summary["event-types"][0]["summaries"]
        .as_array_mut()
        .unwrap()
        .push(json!({"summary-type": "aggregation", "summary-window": 3600}));
    assert_ne!(app.create_metadata(&extra_summary).await, first);

    let mut extra_parameter = throughput_body();
    extra_parameter["bw-parallel-streams"] = json!(2);
    assert_ne!(app.create_metadata(&extra_parameter).await, first);

    let total = app.get("").await.json()[0]["metadata-count-total"].clone();
    assert_eq!(total, json!(3));
}

#[tokio::test]
async fn esmond_validation_messages_in_order() {
    let app = spawn_app().await;
    let point = |event_types: Value| {
        json!({"subject-type": "point-to-point", "source": "10.0.0.1", "destination": "10.0.0.2",
               "measurement-agent": "10.0.0.1", "event-types": event_types})
    };
    let summary =
        |summary: Value| point(json!([{"event-type": "throughput", "summaries": [summary]}]));
    let cases: Vec<(Value, &str)> = vec![
        (json!([]), "Missing subject-type field in request"),
        (json!({}), "Missing subject-type field in request"),
        (json!("text"), "Missing subject-type field in request"),
        (
            json!({"subject-type": "point-to-point"}),
            "Missing event-types field in request",
        ),
        (
            json!({"subject-type": "bogus", "event-types": []}),
            "Invalid subject type bogus",
        ),
        (
            json!({"subject-type": "point-to-point", "event-types": [], "metadata-key": "x"}),
            "metadata-key is not allowed to be specified",
        ),
        (
            json!({"subject-type": "point-to-point", "event-types": {}}),
            "event_types must be a list",
        ),
        (point(json!([{"summaries": []}])), "No event-type defined"),
        (
            point(json!([{"event-type": "streams-retransmits"}])),
            "Invalid event-type streams-retransmits",
        ),
        (
            summary(json!({"summary-window": 60})),
            "Summary must contain summary-type",
        ),
        (
            summary(json!({"summary-type": "averages", "summary-window": 60})),
            "Invalid summary type 'averages'",
        ),
        (
            summary(json!({"summary-type": "statistics", "summary-window": 60})),
            "Summary type statistics not allowed for event-type throughput",
        ),
        (
            summary(json!({"summary-type": "average"})),
            "Summary must contain summary-window",
        ),
        (
            summary(json!({"summary-type": "average", "summary-window": "daily"})),
            "Summary window must be an integer",
        ),
    ];
    for (body, message) in cases {
        app.post_metadata(&body).await.assert_detail(400, message);
    }
}

#[tokio::test]
async fn inputs_that_crash_esmond_get_a_clear_400() {
    let app = spawn_app().await;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = throughput_body();
        change(&mut body);
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            with(&|b| drop(b.as_object_mut().unwrap().remove("destination"))),
            "Missing destination field in request",
        ),
        (
            with(&|b| drop(b.as_object_mut().unwrap().remove("source"))),
            "Missing source field in request",
        ),
        (
            with(&|b| b["source"] = json!("host.example.net")),
            "Invalid IP address host.example.net in field source",
        ),
        (
            with(&|b| b["measurement-agent"] = json!(5)),
            "Invalid IP address 5 in field measurement-agent",
        ),
        (
            with(&|b| b["flag"] = json!(null)),
            "Parameter flag must not be null",
        ),
        (
            with(&|b| b["tool-name"] = json!(null)),
            "Field tool-name must not be null",
        ),
        (
            with(&|b| b["tool-name"] = json!("t".repeat(129))),
            "Field tool-name must be at most 128 characters",
        ),
        (
            with(&|b| b["url"] = json!("x")),
            "Parameter name url is reserved",
        ),
        (
            with(&|b| b["event_types"] = json!("x")),
            "Parameter name event_types is reserved",
        ),
        (
            with(&|b| b["subject-type"] = json!("network-element")),
            "Field destination is not allowed for subject type network-element",
        ),
        (
            with(&|b| {
                b["event-types"][0]["summaries"][0]["summary-window"] = json!(null);
            }),
            "Summary window must be an integer",
        ),
        (
            with(&|b| {
                b["event-types"][0]["summaries"][0]["summary-window"] = json!(-3600);
            }),
            "Summary window must not be negative",
        ),
        (
            with(&|b| {
                b["event-types"][0]["summaries"][0]["summary-window"] = json!(3.7);
            }),
            "Summary window must be an integer",
        ),
    ];
    for (body, message) in cases {
        app.post_metadata(&body).await.assert_detail(400, message);
    }
    let listing = app.get("").await;
    assert_eq!(listing.json(), json!([]), "a refused post stored something");
}

#[tokio::test]
async fn bodies_that_are_not_json_objects() {
    let app = spawn_app().await;
    let post = |content_type: Option<&'static str>, body: &'static str| {
        let mut request = app
            .archive(Method::POST, "")
            .header("authorization", app.token())
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        esmond_tests::send(request)
    };

    let answer = post(Some("application/json"), "{bad").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error - "),
        "{}",
        answer.text
    );

    let answer = post(Some("application/json"), "null").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"non_field_errors": ["No data provided"]})
    );

    post(Some("application/json"), "")
        .await
        .assert_detail(400, "Missing subject-type field in request");
    post(Some("application/json"), "42")
        .await
        .assert_detail(400, "Missing subject-type field in request");
    post(Some("text/plain"), "{}")
        .await
        .assert_detail(415, "Unsupported media type \"text/plain\" in request.");
    post(
        Some("application/x-www-form-urlencoded"),
        "subject-type=point-to-point&event-types=throughput",
    )
    .await
    .assert_detail(400, "event_types must be a list");
    post(None, "")
        .await
        .assert_detail(400, "Missing subject-type field in request");
}

#[tokio::test]
async fn parameters_are_stored_as_python_strings() {
    let app = spawn_app().await;
    let mut body = throughput_body();
    body["flag"] = json!(true);
    body["fl"] = json!(0.1);
    body["foo_bar"] = json!([1, 2]);
    body["source"] = json!("2001:0DB8:0000::1");
    let key = app.create_metadata(&body).await;
    let stored = app.get(&format!("{key}/")).await.json();
    assert_eq!(stored["flag"], json!("True"));
    assert_eq!(stored["fl"], json!("0.1"));
    // `_` is shown as `-`, but searched for as posted.
    assert_eq!(stored["foo-bar"], json!("[1, 2]"));
    assert_eq!(stored["source"], json!("2001:db8::1"));
    let found = app.get("?foo_bar=%5B1,%202%5D&flag=True").await.json();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(app.get("?foo-bar=%5B1,%202%5D").await.json(), json!([]));
}

#[tokio::test]
async fn duplicate_summaries_are_stored_once() {
    let app = spawn_app().await;
    let mut body = throughput_body();
    body["event-types"][0]["summaries"] = json!([
        {"summary-type": "average", "summary-window": 86400},
        {"summary-type": "average", "summary-window": "86400"},
        {"summary-type": "aggregation", "summary-window": " 03600"},
        {"summary-type": "base", "summary-window": 0}
    ]);
    let key = app.create_metadata(&body).await;
    let stored = app.get(&format!("{key}/")).await.json();
    let summaries = &stored["event-types"][1]["summaries"];
    let windows: Vec<(&str, &str)> = summaries
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["summary-type"].as_str().unwrap(),
                s["summary-window"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(windows, [("aggregation", "3600"), ("average", "86400")]);
}

#[tokio::test]
async fn network_element_metadata() {
    let app = spawn_app().await;
    let body = json!({
        "subject-type": "network-element", "source": "10.0.0.9", "measurement-agent": "10.0.0.9",
        "tool-name": "ntpq", "event-types": [{"event-type": "ntp-offset",
            "summaries": [{"summary-type": "average", "summary-window": 3600}]}]
    });
    let key = app.create_metadata(&body).await;
    let stored = app.get(&format!("{key}/")).await.json();
    let keys: Vec<&str> = stored
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "url",
            "metadata-key",
            "subject-type",
            "event-types",
            "source",
            "measurement-agent",
            "tool-name",
            "input-source",
            "uri"
        ]
    );
    assert_eq!(stored["input-source"], json!(""));
    assert_eq!(app.get("?destination=10.0.0.9").await.json(), json!([]));
    assert_eq!(
        app.get("?subject-type=network-element")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_identical_posts_get_one_key() {
    let app = spawn_app().await;
    let mut body = throughput_body();
    body["race"] = json!("32 at once");
    let url = app.archive_url("");
    let mut posts = Vec::new();
    for _ in 0..32 {
        let (url, token, body) = (url.clone(), app.token(), body.to_string());
        posts.push(tokio::spawn(async move {
            let request = reqwest::Client::new()
                .post(url)
                .header("authorization", token)
                .header("content-type", "application/json")
                .body(body);
            esmond_tests::send(request).await
        }));
    }
    let mut keys = std::collections::BTreeSet::new();
    for post in posts {
        let answer = post.await.expect("post finished");
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        keys.insert(answer.json()["metadata-key"].as_str().unwrap().to_owned());
    }
    assert_eq!(keys.len(), 1, "{keys:?}");
    let listing = app.get("?race=32%20at%20once").await.json();
    assert_eq!(listing.as_array().unwrap().len(), 1);
}
