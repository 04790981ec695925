//! GET R2 (one record), R3 (one event type), R4 (summary listing) and the no-op POST on R3.

use esmond_tests::{send, spawn_app};
use reqwest::Method;
use serde_json::json;

use crate::throughput_body;

#[tokio::test]
async fn one_record_and_its_quirks() {
    let app = spawn_app().await;
    let key = app.create_metadata(&throughput_body()).await;
    let record = app.get(&format!("{key}/")).await;
    assert_eq!(record.status, 200);
    assert_eq!(record.json()["metadata-key"], json!(key));
    assert!(record.json().get("metadata-count-total").is_none());

    app.get("0123456789abcdef0123456789abcdef/")
        .await
        .assert_detail(404, "Not found.");
    // esmond applies the list filters to the detail view too.
    app.get(&format!("{key}/?event-type=packet-trace"))
        .await
        .assert_detail(404, "Not found.");
    assert_eq!(
        app.get(&format!("{key}/?event-type=throughput"))
            .await
            .status,
        200
    );
    assert_eq!(app.get(&format!("{key}/?offset=5")).await.status, 200);
    app.get(&format!("{key}/?time-start=x"))
        .await
        .assert_detail(400, "Time parameter must be an integer");
}

#[tokio::test]
async fn event_type_detail_is_a_list() {
    let app = spawn_app().await;
    let key = app.create_metadata(&throughput_body()).await;
    let expected = json!([{
        "base-uri": app.archive_path(&format!("{key}/throughput/base")),
        "event-type": "throughput",
        "time-updated": null,
        "summaries": [{"uri": app.archive_path(&format!("{key}/throughput/averages/86400")),
                        "summary-type": "average", "summary-window": "86400", "time-updated": null}]
    }]);
    assert_eq!(app.get(&format!("{key}/throughput")).await.json(), expected);
    assert_eq!(
        app.get(&format!("{key}/throughput/")).await.json(),
        expected
    );
    for missing in [
        format!("{key}/packet-trace"),
        format!("{key}/bogus-type/"),
        "nokey/throughput".to_owned(),
    ] {
        let answer = app.get(&missing).await;
        assert_eq!(answer.status, 200, "{missing}");
        assert_eq!(answer.json(), json!([]), "{missing}");
    }
}

#[tokio::test]
async fn summary_listing() {
    let app = spawn_app().await;
    let key = app.create_metadata(&throughput_body()).await;
    let expected = json!([{"uri": app.archive_path(&format!("{key}/throughput/averages/86400")),
                           "summary-type": "average", "summary-window": "86400", "time-updated": null}]);
    assert_eq!(
        app.get(&format!("{key}/throughput/averages")).await.json(),
        expected
    );
    assert_eq!(
        app.get(&format!("{key}/throughput/averages/")).await.json(),
        expected
    );
    app.get(&format!("{key}/throughput/aggregations"))
        .await
        .assert_detail(404, "Not found.");
    app.get(&format!("{key}/failures/statistics"))
        .await
        .assert_detail(404, "Not found.");
    app.get("nokey/throughput/averages")
        .await
        .assert_detail(404, "Not found.");
    app.get(&format!("{key}/streams-retransmits/averages"))
        .await
        .assert_detail(400, "Unsupported event type 'streams-retransmits' provided");
    app.get(&format!("{key}/throughput/average"))
        .await
        .assert_detail(400, "Invalid summary type 'average'");
}

#[tokio::test]
async fn event_type_post_checks_the_body_and_stores_nothing() {
    let app = spawn_app().await;
    let key = app.create_metadata(&throughput_body()).await;
    let post = |content_type: &'static str, body: &'static [u8]| {
        send(
            app.archive(Method::POST, &format!("{key}/throughput"))
                .header("authorization", app.token())
                .header("content-type", content_type)
                .body(body),
        )
    };
    let accepted = post("application/json", br#"{"ts": 1, "val": 2}"#).await;
    assert_eq!(accepted.status, 201);
    assert_eq!(accepted.text, "\"\"");
    post("text/plain", b"{}").await.assert_detail(
        400,
        "Must post content-type: application/json header and json-formatted payload.",
    );
    post("application/json", b"")
        .await
        .assert_detail(400, "No data payload POSTed.");
    post("application/json; charset=utf-8", b"a\"b'c\n\xff")
        .await
        .assert_detail(
            400,
            "POST data payload could not be decoded to a JSON object - given: b'a\"b\\'c\\n\\xff'",
        );
    let anonymous = send(
        app.archive(Method::POST, &format!("{key}/throughput"))
            .body("{}"),
    )
    .await;
    anonymous.assert_detail(401, "Authentication credentials were not provided.");
    let detail = app.get(&format!("{key}/throughput")).await.json();
    assert_eq!(detail[0]["time-updated"], json!(null));
}
