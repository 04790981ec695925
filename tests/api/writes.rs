//! Writing measurements (esmond-api.md §9, §12–§14): validation order and messages, duplicates,
//! registration of undeclared event types, exact floats, and what a rejected write leaves.

use esmond_tests::{TestApp, send, series_points, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// A record with one event type of every data type, with their usual summaries.
async fn all_types(app: &TestApp) -> String {
    app.create_metadata(&json!({
        "subject-type": "point-to-point", "source": "10.0.0.1", "destination": "10.0.0.2",
        "measurement-agent": "10.0.0.1",
        "event-types": [
            {"event-type": "throughput", "summaries": [{"summary-type": "average", "summary-window": 86400},
                                                       {"summary-type": "aggregation", "summary-window": 3600}]},
            {"event-type": "ntp-offset", "summaries": [{"summary-type": "average", "summary-window": 3600},
                                                       {"summary-type": "aggregation", "summary-window": 3600}]},
            {"event-type": "packet-loss-rate", "summaries": [{"summary-type": "aggregation", "summary-window": 3600}]},
            {"event-type": "histogram-owdelay", "summaries": [{"summary-type": "aggregation", "summary-window": 86400},
                                                              {"summary-type": "statistics", "summary-window": 0},
                                                              {"summary-type": "statistics", "summary-window": 86400}]},
            {"event-type": "histogram-ttl"},
            {"event-type": "packet-trace"},
            {"event-type": "throughput-subintervals"}
        ]
    }))
    .await
}

async fn series(app: &TestApp, key: &str, path: &str) -> Vec<(i64, Value)> {
    series_points(&app.get(&format!("{key}/{path}")).await)
}

fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&'static str>,
    body: &'static str,
) -> reqwest::RequestBuilder {
    let mut request = app
        .archive(Method::POST, path)
        .header("authorization", app.token())
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request
}

#[tokio::test]
async fn esmond_example_round_trip() {
    let app = spawn_app().await;
    let key = all_types(&app).await;
    let first = app
        .post_point(&key, "throughput", 1398965989, &json!(5978580000_i64))
        .await;
    assert_eq!((first.status.as_u16(), first.text.as_str()), (201, "\"\""));
    app.post_point(&key, "throughput", 1398965989, &json!(5978580000_i64))
        .await
        .assert_detail(
            409,
            "Time series value already exists with event type throughput at time 1398965989",
        );
    let bulk = json!({"data": [
        {"ts": 1398973189, "val": [{"event-type": "throughput", "val": 5413040000_i64}]},
        {"ts": 1398980389, "val": [{"event-type": "throughput", "val": "7964590000"}]},
        {"ts": 1398987589, "val": [{"event-type": "throughput", "val": 6946810000.7}]}
    ]});
    assert_eq!(app.put_data(&key, &bulk).await.status, 201);
    assert_eq!(
        app.get(&format!("{key}/throughput/averages/86400"))
            .await
            .text,
        r#"[{"ts":1398902400,"val":6575755000.0}]"#
    );
    assert_eq!(
        app.get(&format!("{key}/throughput/base?time=1398965989"))
            .await
            .text,
        r#"[{"ts":1398965989,"val":5978580000.0}]"#
    );
    let hourly = series(&app, &key, "throughput/aggregations/3600").await;
    assert_eq!(hourly[0], (1398963600, json!(5978580000.0)));
    assert_eq!(hourly.len(), 4);
}

#[tokio::test]
async fn every_data_type_is_stored_and_summarised() {
    let app = spawn_app().await;
    let key = all_types(&app).await;
    let t = 1_400_000_000; // 2014-05-13T16:53:20Z; the hour starts at 1399996800 + 14400.
    let bulk = json!({"data": [
        {"ts": t, "val": [
            {"event-type": "ntp-offset", "val": 0.57},
            {"event-type": "packet-loss-rate", "val": {"numerator": 1, "denominator": 10}},
            {"event-type": "histogram-owdelay", "val": {"41.00": 98, "41.10": 2}},
            {"event-type": "histogram-ttl", "val": {"test": 100}},
            {"event-type": "packet-trace", "val": {"error": "e2", "hops": [1.10, 1e2]}},
            {"event-type": "throughput-subintervals", "val": [{"start": "0.0", "duration": "1.0", "val": "100"}]}
        ]},
        {"ts": t + 60, "val": [
            {"event-type": "ntp-offset", "val": "0.00003"},
            {"event-type": "packet-loss-rate", "val": {"numerator": "0", "denominator": 30}},
            {"event-type": "histogram-owdelay", "val": {"41.10": 96, "41.20": 3, "50.0": 1}}
        ]}
    ]});
    let answer = app.put_data(&key, &bulk).await;
    assert_eq!(answer.status, 201, "{}", answer.text);

    // Floats are kept exactly (esmond: 0.5699 and 0).
    // Numbers compare by value: the server writes 3e-05 where json! writes 0.00003.
    let floats = |points: Vec<(i64, Value)>| -> Vec<(i64, f64)> {
        points
            .into_iter()
            .map(|(ts, value)| (ts, value.as_f64().unwrap()))
            .collect()
    };
    assert_eq!(
        floats(series(&app, &key, "ntp-offset/base").await),
        [(t, 0.57), (t + 60, 0.00003)]
    );
    let hour = t - t % 3600;
    assert_eq!(
        floats(series(&app, &key, "ntp-offset/aggregations/3600").await),
        [(hour, 0.57 + 0.00003)]
    );
    assert_eq!(
        floats(series(&app, &key, "ntp-offset/averages/3600").await),
        [(hour, (0.57 + 0.00003) / 2.0)]
    );
    assert!(
        app.get(&format!("{key}/ntp-offset/base"))
            .await
            .text
            .contains(r#""val":3e-05"#)
    );

    assert_eq!(
        series(&app, &key, "packet-loss-rate/base").await,
        [(t, json!(0.1)), (t + 60, json!(0.0))]
    );
    assert_eq!(
        series(&app, &key, "packet-loss-rate/aggregations/3600").await,
        [(hour, json!(0.025))]
    );

    let day = t - t % 86400;
    assert_eq!(
        app.get(&format!("{key}/histogram-owdelay/aggregations/86400"))
            .await
            .text,
        format!(r#"[{{"ts":{day},"val":{{"41.00":98,"41.10":98,"41.20":3,"50.0":1}}}}]"#)
    );
    assert_eq!(
        app.get(&format!("{key}/histogram-owdelay/statistics/86400"))
            .await
            .text,
        format!(
            r#"[{{"ts":{day},"val":{{"mode":[41.0,41.1],"mean":41.09700000000001,"minimum":41.0,"maximum":50.0,"percentile-25":41.0,"median":41.1,"percentile-75":41.1,"percentile-95":41.1,"variance":0.40109100000000003,"standard-deviation":0.6333174559413313}}}}]"#
        )
    );
    assert_eq!(
        series(&app, &key, "histogram-ttl/base").await,
        [(t, json!({"test": 100}))]
    );
    assert_eq!(
        app.get(&format!("{key}/packet-trace/base")).await.text,
        format!(r#"[{{"ts":{t},"val":{{"error":"e2","hops":[1.1,100.0]}}}}]"#)
    );
    assert_eq!(
        series(&app, &key, "throughput-subintervals/base").await,
        [(
            t,
            json!([{"start": "0.0", "duration": "1.0", "val": "100"}])
        )]
    );
    // Summaries the data type does not have, or that were not registered, are empty.
    assert_eq!(series(&app, &key, "ntp-offset/statistics/3600").await, []);
    assert_eq!(series(&app, &key, "ntp-offset/averages/86400").await, []);
    assert_eq!(
        series(&app, &key, "histogram-owdelay/aggregations/3600").await,
        []
    );
}

#[tokio::test]
async fn statistics_vectors_from_esmond() {
    let app = spawn_app().await;
    let key = all_types(&app).await;
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
    for (index, (histogram, expected)) in vectors.iter().enumerate() {
        let ts = 1_000_000 + index as i64 * 100_000;
        let histogram: Value = serde_json::from_str(histogram).unwrap();
        assert_eq!(
            app.post_point(&key, "histogram-owdelay", ts, &histogram)
                .await
                .status,
            201
        );
        let shown = app
            .get(&format!("{key}/histogram-owdelay/statistics/0?time={ts}"))
            .await;
        assert_eq!(shown.text, format!(r#"[{{"ts":{ts},"val":{expected}}}]"#));
    }
}

#[tokio::test]
async fn single_point_validation_order() {
    let app = spawn_app().await;
    let key = all_types(&app).await;
    let base = format!("{key}/throughput/base");
    let cases: Vec<(Option<&'static str>, &'static str, &str)> = vec![
        (
            None,
            r#"{"ts": 1, "val": 1}"#,
            "Must post content-type: application/json header and json-formatted payload.",
        ),
        (
            Some("application/x-www-form-urlencoded"),
            "ts=1&val=1",
            "Must post content-type: application/json header and json-formatted payload.",
        ),
        (Some("application/json"), "", "No data payload POSTed."),
        (
            Some("application/json"),
            "{bad",
            "POST data payload could not be decoded to a JSON object - given: b'{bad'",
        ),
        (
            Some("application/json"),
            r#"{"val": 1}"#,
            "Required field ts not provided in request",
        ),
        (
            Some("application/json"),
            r#"{"ts": "123.5", "val": 1}"#,
            "Time must be a unix timestamp",
        ),
        (
            Some("application/json"),
            r#"{"ts": null, "val": 1}"#,
            "Time must be a unix timestamp",
        ),
        (
            Some("application/json"),
            r#"{"ts": 1}"#,
            "Required field val not provided in request",
        ),
        (
            Some("application/json"),
            r#"{"ts": 1, "val": "many"}"#,
            "Value must be an integer",
        ),
    ];
    for (content_type, body, message) in cases {
        send(post_raw(&app, &base, content_type, body))
            .await
            .assert_detail(400, message);
    }
    send(post_raw(
        &app,
        &format!("{key}/bogus/base"),
        Some("application/json"),
        r#"{"ts": 1, "val": 1}"#,
    ))
    .await
    .assert_detail(400, "Invalid event type bogus");
    send(post_raw(
        &app,
        &format!("{key}/throughput/bogus"),
        Some("application/json"),
        r#"{"ts": 1, "val": 1}"#,
    ))
    .await
    .assert_detail(400, "Invalid summary type bogus");
    send(post_raw(
        &app,
        &format!("{key}/throughput/averages/86400"),
        Some("application/json"),
        r#"{"ts": 1, "val": 1}"#,
    ))
    .await
    .assert_detail(
        400,
        "Only base summary-type allowed for writing. Cannot use averages",
    );
    // A window after `base` is accepted and ignored, and string time stamps count.
    let windowed = send(post_raw(
        &app,
        &format!("{key}/throughput/base/300"),
        Some("application/json"),
        r#"{"ts": "86400", "val": 5}"#,
    ))
    .await;
    assert_eq!(windowed.status, 201);
    assert_eq!(
        series(&app, &key, "throughput/base").await,
        [(86400, json!(5.0))]
    );
    let anonymous = send(
        app.archive(Method::POST, &base)
            .header("content-type", "application/json")
            .body(r#"{"ts":2,"val":1}"#),
    )
    .await;
    anonymous.assert_detail(401, "Authentication credentials were not provided.");
}

#[tokio::test]
async fn value_validation_per_data_type() {
    let app = spawn_app().await;
    let key = all_types(&app).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("throughput", json!("12.5"), "Value must be an integer"),
        ("throughput", json!(null), "Value must be an integer"),
        ("throughput", json!([1]), "Value must be an integer"),
        (
            "ntp-offset",
            json!("fast"),
            "Value must be a floating point number",
        ),
        (
            "ntp-offset",
            json!("nan"),
            "Value must be a floating point number",
        ),
        (
            "ntp-offset",
            json!("inf"),
            "Value must be a floating point number",
        ),
        (
            "ntp-offset",
            json!(null),
            "Value must be a floating point number",
        ),
        (
            "packet-loss-rate",
            json!({"denominator": 1}),
            "Missing required field 'numerator'",
        ),
        (
            "packet-loss-rate",
            json!("bad input"),
            "Missing required field 'numerator'",
        ),
        (
            "packet-loss-rate",
            json!(5),
            "Missing required field 'numerator'",
        ),
        (
            "packet-loss-rate",
            json!({"numerator": 1}),
            "Missing required field 'denominator'",
        ),
        (
            "packet-loss-rate",
            json!({"numerator": "x", "denominator": 1}),
            "The field 'numerator' must be an integer",
        ),
        (
            "packet-loss-rate",
            json!({"numerator": 1, "denominator": "x"}),
            "The field 'denominator' must be an integer",
        ),
        (
            "packet-loss-rate",
            json!({"numerator": 1, "denominator": 0}),
            "The field 'denominator' must be greater than 0",
        ),
        (
            "packet-loss-rate",
            json!({"numerator": -1, "denominator": 3}),
            "The field 'numerator' cannot be negative",
        ),
        (
            "histogram-owdelay",
            json!({"1": "bad"}),
            "Value of histogram must be an integer",
        ),
        (
            "histogram-owdelay",
            json!({"1": null}),
            "Invalid histogram provided",
        ),
        ("histogram-owdelay", json!(5), "Invalid histogram provided"),
        ("histogram-owdelay", json!(""), "Invalid histogram provided"),
        (
            "histogram-owdelay",
            json!([1, 1]),
            "Invalid histogram provided",
        ),
        (
            "throughput-subintervals",
            json!([{"duration": 1, "val": 1}]),
            "Interval must contain 'start' field at position 1",
        ),
        (
            "throughput-subintervals",
            json!([{"start": 0, "duration": 1, "val": 1}, {"start": 0, "val": 1}]),
            "Interval must contain 'duration' field at position 2",
        ),
        (
            "throughput-subintervals",
            json!([{"start": 0, "duration": 1}]),
            "Interval must contain 'val' field at position 1",
        ),
        (
            "throughput-subintervals",
            json!([{"start": "x", "duration": 1, "val": 1}]),
            "Subinterval 'start' and 'duration' must be floating point numbers",
        ),
        (
            "throughput-subintervals",
            json!([]),
            "Invalid subintervals provided",
        ),
        (
            "throughput-subintervals",
            json!({}),
            "Invalid subintervals provided",
        ),
        (
            "throughput-subintervals",
            json!("bad input"),
            "Invalid subintervals provided",
        ),
    ];
    for (event_type, value, message) in cases {
        app.post_point(&key, event_type, 1_000, &value)
            .await
            .assert_detail(400, message);
        let bulk =
            json!({"data": [{"ts": 1_000, "val": [{"event-type": event_type, "val": value}]}]});
        app.put_data(&key, &bulk).await.assert_detail(400, message);
    }
    // An empty histogram cannot have statistics; without statistics it is stored.
    app.post_point(&key, "histogram-owdelay", 1_000, &json!({})).await.assert_detail(
        400,
        "Histogram of event type histogram-owdelay at time 1000 has no samples; its statistics cannot be computed",
    );
    app.post_point(&key, "histogram-owdelay", 1_000, &json!({"5": 0})).await.assert_detail(
        400,
        "Histogram of event type histogram-owdelay at time 1000 has no samples; its statistics cannot be computed",
    );
    assert_eq!(
        app.post_point(&key, "histogram-ttl", 1_000, &json!({}))
            .await
            .status,
        201
    );
    for event_type in [
        "throughput",
        "ntp-offset",
        "packet-loss-rate",
        "histogram-owdelay",
        "throughput-subintervals",
    ] {
        assert_eq!(
            series(&app, &key, &format!("{event_type}/base")).await,
            [],
            "{event_type} kept a refused point"
        );
    }
}

#[tokio::test]
async fn bulk_validation_messages_and_nothing_half_stored() {
    let app = spawn_app().await;
    let key = all_types(&app).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "Request must contain 'data' element"),
        (json!([1]), "Request must contain 'data' element"),
        (json!({"data": {}}), "The 'data' element must be an array"),
        (
            json!({"data": [{"val": []}]}),
            "Missing ts field in provided data list at position 1",
        ),
        (
            json!({"data": [{"ts": 1, "val": []}, {"ts": 2}]}),
            "Missing val field in provided data list at position 2",
        ),
        (
            json!({"data": [{"ts": 1, "val": {}}]}),
            "'val' field must be an array in provided data list at position 1",
        ),
        (
            json!({"data": [{"ts": 1, "val": [{"val": 1}]}]}),
            "Missing event-type field at data item 1 in value 1 ",
        ),
        (
            json!({"data": [{"ts": 1, "val": [{"event-type": "throughput", "val": 1}, {"event-type": "throughput"}]}]}),
            "Missing val field at data item 1 in value 2 ",
        ),
        (
            json!({"data": [{"ts": "soon", "val": []}]}),
            "Time must be a unix timestamp",
        ),
        (
            json!({"data": [{"ts": 1, "val": [{"event-type": "streams-retransmits", "val": 1}]}]}),
            "Invalid event type streams-retransmits",
        ),
        // The first items are valid: a refused request still stores none of them.
        (
            json!({"data": [
                {"ts": 10, "val": [{"event-type": "throughput", "val": 1}, {"event-type": "packet-trace", "val": {}}]},
                {"ts": 20, "val": [{"event-type": "throughput", "val": "x"}]}
            ]}),
            "Value must be an integer",
        ),
    ];
    for (body, message) in cases {
        app.put_data(&key, &body).await.assert_detail(400, message);
    }
    let put = |content_type: &'static str, body: &'static str| {
        send(
            app.archive(Method::PUT, &format!("{key}/"))
                .header("authorization", app.token())
                .header("content-type", content_type)
                .body(body),
        )
    };
    put("text/plain", "{}").await.assert_detail(
        400,
        "Must post content-type: application/json header and json-formatted payload.",
    );
    put("application/json", "")
        .await
        .assert_detail(400, "No data payload POSTed.");
    put("application/json", "{'data'").await.assert_detail(
        400,
        "POST data payload could not be decoded to a JSON object - given: b\"{'data'\"",
    );
    assert_eq!(series(&app, &key, "throughput/base").await, []);
    assert_eq!(series(&app, &key, "packet-trace/base").await, []);
    let record = app.get(&format!("{key}/")).await.json();
    assert!(
        record["event-types"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["time-updated"].is_null())
    );
}

#[tokio::test]
async fn unknown_records_and_undeclared_event_types() {
    let app = spawn_app().await;
    let key = all_types(&app).await;
    let bulk = json!({"data": [{"ts": 100, "val": [{"event-type": "throughput", "val": 1}]}]});
    app.put_data("0123456789abcdef0123456789abcdef", &bulk)
        .await
        .assert_detail(404, "Not found.");
    app.post_point(
        "0123456789abcdef0123456789abcdef",
        "throughput",
        100,
        &json!(1),
    )
    .await
    .assert_detail(404, "Not found.");

    // pScheduler's parallel throughput run carries event types its metadata never declared.
    let run = json!({"data": [{"ts": 1_500_000_000, "val": [
        {"event-type": "throughput", "val": 9_000_000_000_i64},
        {"event-type": "streams-packet-rtt", "val": [1.5, 2.5]},
        {"event-type": "streams-tcp-windowsize-subintervals", "val": [[1, 2], [3, 4]]}
    ]}]});
    assert_eq!(app.put_data(&key, &run).await.status, 201);
    assert_eq!(
        series(&app, &key, "streams-packet-rtt/base?time-end=2000000000").await,
        [(1_500_000_000, json!([1.5, 2.5]))]
    );
    let record = app.get(&format!("{key}/")).await.json();
    let rtt = record["event-types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event-type"] == "streams-packet-rtt")
        .cloned();
    let rtt = rtt.expect("the undeclared event type is registered");
    assert_eq!(rtt["summaries"], json!([]));
    assert!(rtt["time-updated"].is_i64());
    // A single POST may register one too.
    assert_eq!(
        app.post_point(&key, "packet-retransmits", 1_500_000_000, &json!(3))
            .await
            .status,
        201
    );
    assert_eq!(
        app.get(&format!("{key}/packet-retransmits")).await.json()[0]["event-type"],
        "packet-retransmits"
    );
}

#[tokio::test]
async fn duplicates_conflict_for_numbers_and_replace_documents() {
    let app = spawn_app().await;
    let key = all_types(&app).await;
    let first = json!({"data": [
        {"ts": 1000, "val": [{"event-type": "throughput", "val": 10}, {"event-type": "histogram-owdelay", "val": {"1": 1}}]}
    ]});
    assert_eq!(app.put_data(&key, &first).await.status, 201);

    // Two points at one second in one request: the first is kept, the second is a duplicate
    // (esmond summed them); the rest of the request is stored, then 409.
    let second = json!({"data": [
        {"ts": 2000, "val": [{"event-type": "throughput", "val": 10}]},
        {"ts": 2000, "val": [{"event-type": "throughput", "val": 5}]},
        {"ts": 3000, "val": [{"event-type": "throughput", "val": 7}, {"event-type": "histogram-owdelay", "val": {"2": 3}}]}
    ]});
    app.put_data(&key, &second).await.assert_detail(
        409,
        "Time series value already exists with event type throughput at time 2000",
    );
    assert_eq!(
        series(&app, &key, "throughput/base").await,
        [(1000, json!(10.0)), (2000, json!(10.0)), (3000, json!(7.0))]
    );

    // Sending the same request again changes nothing.
    let before: Vec<String> = read_all(&app, &key).await;
    app.put_data(&key, &second).await.assert_detail(
        409,
        "Time series value already exists with event type throughput at time 2000",
    );
    assert_eq!(read_all(&app, &key).await, before);

    // Histograms are replaced, and the aggregation counts the new one once (esmond added it again).
    let replace = json!({"data": [{"ts": 1000, "val": [{"event-type": "histogram-owdelay", "val": {"1": 5}}]}]});
    assert_eq!(app.put_data(&key, &replace).await.status, 201);
    assert_eq!(app.put_data(&key, &replace).await.status, 201);
    assert_eq!(
        series(&app, &key, "histogram-owdelay/base?time=1000").await,
        [(1000, json!({"1": 5}))]
    );
    assert_eq!(
        series(&app, &key, "histogram-owdelay/aggregations/86400").await,
        [(0, json!({"1": 5, "2": 3}))]
    );
}

#[tokio::test]
async fn duplicates_are_found_per_series_across_days() {
    let app = spawn_app().await;
    let key = all_types(&app).await;
    let other = app
        .create_metadata(&json!({
            "subject-type": "point-to-point", "source": "10.0.0.3", "destination": "10.0.0.4",
            "measurement-agent": "10.0.0.3", "event-types": [{"event-type": "throughput"}]
        }))
        .await;
    assert_ne!(key, other);
    // Two days apart, in the three numeric series of the record.
    let (day_one, day_two) = (1_700_000_000, 1_700_000_000 + 2 * 86_400);
    let first = json!({"data": [
        {"ts": day_one, "val": [{"event-type": "throughput", "val": 10}]},
        {"ts": day_two, "val": [{"event-type": "ntp-offset", "val": 0.5}]}
    ]});
    assert_eq!(app.put_data(&key, &first).await.status, 201);

    // Other series at the same seconds, and the same series on another record, are new.
    let elsewhere = json!({"data": [
        {"ts": day_one, "val": [{"event-type": "ntp-offset", "val": 0.25},
                                {"event-type": "packet-loss-rate", "val": {"numerator": 1, "denominator": 10}}]},
        {"ts": day_two, "val": [{"event-type": "throughput", "val": 20}]}
    ]});
    assert_eq!(app.put_data(&key, &elsewhere).await.status, 201);
    assert_eq!(app.put_data(&other, &first).await.status, 201);

    // A request repeating a point of the second day is refused for that point only.
    let again = json!({"data": [
        {"ts": day_one + 60, "val": [{"event-type": "throughput", "val": 11}]},
        {"ts": day_two, "val": [{"event-type": "ntp-offset", "val": 9.0}]}
    ]});
    app.put_data(&key, &again).await.assert_detail(
        409,
        &format!("Time series value already exists with event type ntp-offset at time {day_two}"),
    );
    let range = format!("time-start={day_one}&time-end={day_two}");
    assert_eq!(
        series(&app, &key, &format!("throughput/base?{range}")).await,
        [
            (day_one, json!(10.0)),
            (day_one + 60, json!(11.0)),
            (day_two, json!(20.0))
        ]
    );
    assert_eq!(
        series(&app, &key, &format!("ntp-offset/base?{range}")).await,
        [(day_one, json!(0.25)), (day_two, json!(0.5))]
    );
    assert_eq!(
        series(&app, &key, &format!("packet-loss-rate/base?{range}")).await,
        [(day_one, json!(0.1))]
    );
    assert_eq!(
        series(&app, &other, &format!("throughput/base?{range}")).await,
        [(day_one, json!(10.0))]
    );
}

/// Every series and summary of `all_types`, as text.
async fn read_all(app: &TestApp, key: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for path in [
        "throughput/base",
        "throughput/averages/86400",
        "throughput/aggregations/3600",
        "histogram-owdelay/base",
        "histogram-owdelay/aggregations/86400",
        "histogram-owdelay/statistics/86400",
        "histogram-owdelay/statistics/0",
    ] {
        texts.push(app.get(&format!("{key}/{path}")).await.text);
    }
    texts
}

#[tokio::test]
async fn time_updated_follows_writes_without_a_write_per_point() {
    let app = spawn_app().await;
    let key = all_types(&app).await;
    let before = app.updates.stored_marks();
    let started = esmond_tests::epoch_now();
    for index in 0..200 {
        assert_eq!(
            app.post_point(&key, "throughput", 10_000 + index, &json!(index))
                .await
                .status,
            201
        );
    }
    for batch in 0..20 {
        let data: Vec<Value> = (0..100)
            .map(|i| json!({"ts": 100_000 + batch * 100 + i, "val": [{"event-type": "throughput", "val": i}]}))
            .collect();
        assert_eq!(
            app.put_data(&key, &json!({ "data": data })).await.status,
            201
        );
    }
    let stored = app.updates.stored_marks() - before;
    // 2,200 points: the first write is recorded at once, the rest coalesce into the interval.
    assert!(stored <= 3, "{stored} time-updated writes for 2,200 points");
    let record = app.get(&format!("{key}/")).await.json();
    let throughput = record["event-types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event-type"] == "throughput")
        .unwrap()
        .clone();
    let updated = throughput["time-updated"]
        .as_i64()
        .expect("time-updated is set");
    assert!(updated >= started && updated <= esmond_tests::epoch_now());
    assert!(
        throughput["summaries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["time-updated"] == throughput["time-updated"])
    );
    let recent = app
        .get(&format!(
            "?event-type=throughput&time-range=600&metadata-key={key}"
        ))
        .await
        .json();
    assert_eq!(recent.as_array().unwrap().len(), 1);
    let untouched = app
        .get(&format!(
            "?event-type=ntp-offset&time-range=600&metadata-key={key}"
        ))
        .await
        .json();
    assert_eq!(untouched, json!([]));
}
