//! Reading time series (esmond-api.md §11): validation, time windows, pagination and links.

use esmond_tests::{TestApp, epoch_now as now, series_points, spawn_app};
use serde_json::{Value, json};

/// A throughput record with `count` points one minute apart from `start`.
async fn throughput(app: &TestApp, start: i64, count: i64) -> String {
    let key = app
        .create_metadata(&json!({
            "subject-type": "point-to-point", "source": "10.0.0.1", "destination": "10.0.0.2",
            "measurement-agent": "10.0.0.1", "series-start": start,
            "event-types": [{"event-type": "throughput", "summaries": [
                {"summary-type": "aggregation", "summary-window": 3600},
                {"summary-type": "average", "summary-window": 86400}]},
                {"event-type": "histogram-rtt", "summaries": [{"summary-type": "statistics", "summary-window": 0}]}]
        }))
        .await;
    let data: Vec<Value> = (0..count)
        .map(|i| json!({"ts": start + i * 60, "val": [{"event-type": "throughput", "val": i}]}))
        .collect();
    for chunk in data.chunks(1000) {
        assert_eq!(
            app.put_data(&key, &json!({ "data": chunk })).await.status,
            201
        );
    }
    key
}

fn stamps(points: &[(i64, Value)]) -> Vec<i64> {
    points.iter().map(|(ts, _)| *ts).collect()
}

#[tokio::test]
async fn read_validation() {
    let app = spawn_app().await;
    let key = throughput(&app, 1_000_000, 3).await;
    app.get(&format!("{key}/streams-retransmits/base"))
        .await
        .assert_detail(400, "Unsupported event type 'streams-retransmits' provided");
    app.get(&format!("{key}/throughput/average/86400"))
        .await
        .assert_detail(400, "Invalid summary type 'average'");
    app.get(&format!("{key}/throughput/averages/daily"))
        .await
        .assert_detail(400, "Summary window parameter must be an integer");
    app.get(&format!("{key}/throughput/base?time-start=x"))
        .await
        .assert_detail(400, "Time parameter must be an integer");
    app.get(&format!("{key}/throughput/base?time-start=5&time-end=4"))
        .await
        .assert_detail(400, "Requested start time must be less than end time");
    app.get(&format!("{key}/throughput/base?limit=ten"))
        .await
        .assert_detail(400, "Limit parameter must be an integer");
    app.get(&format!("{key}/throughput/base?limit=-1"))
        .await
        .assert_detail(400, "Limit parameter must not be negative");

    // Not checked, as in esmond: these are empty lists.
    for path in [
        "0123456789abcdef0123456789abcdef/throughput/base".to_owned(),
        format!("{key}/packet-trace/base"),
        format!("{key}/throughput/averages/3600"),
        format!("{key}/throughput/statistics/3600"),
        format!("{key}/throughput/base/300"),
        format!("{key}/throughput/base?limit=0"),
        // The server keeps hidden hourly states for the daily average; they are not a summary.
        format!("{key}/throughput/aggregations/86400"),
    ] {
        assert_eq!(series_points(&app.get(&path).await), [], "{path}");
    }
    // `base/0` is the base series (the form some clients emit).
    assert_eq!(
        series_points(&app.get(&format!("{key}/throughput/base/0")).await).len(),
        3
    );
}

#[tokio::test]
async fn time_windows() {
    let app = spawn_app().await;
    let start = 1_400_000_000;
    let key = throughput(&app, start, 10).await;
    let read = |query: String| {
        let app = &app;
        let key = key.clone();
        async move {
            stamps(&series_points(
                &app.get(&format!("{key}/throughput/base{query}")).await,
            ))
        }
    };
    assert_eq!(read(format!("?time={}", start + 120)).await, [start + 120]);
    assert_eq!(
        read(format!(
            "?time-start={}&time-end={}",
            start + 60,
            start + 180
        ))
        .await,
        [start + 60, start + 120, start + 180]
    );
    assert_eq!(
        read(format!("?time-start={}&time-range=60", start + 480)).await,
        [start + 480, start + 540]
    );
    assert_eq!(
        read(format!("?time-end={}&time-range=60", start + 60)).await,
        [start, start + 60]
    );
    assert_eq!(
        read(format!("?time-end={}", start + 60)).await,
        [start, start + 60]
    );
    assert_eq!(
        read(format!("?time-start={}", start + 500)).await,
        [start + 540]
    );

    // Summary bins are filtered on their start: a bin starting before time-start is left out.
    let hour = start - start % 3600;
    let bins = series_points(
        &app.get(&format!(
            "{key}/throughput/aggregations/3600?time-start={}",
            start
        ))
        .await,
    );
    assert!(bins.iter().all(|(ts, _)| *ts >= start) && !bins.iter().any(|(ts, _)| *ts == hour));
    let bins = series_points(
        &app.get(&format!("{key}/throughput/aggregations/3600?time={hour}"))
            .await,
    );
    // Points 0..=6 fall in the hour that holds `start` (the rest in the next one).
    let in_first_hour: i64 = (0..10)
        .filter(|i| (start + i * 60) / 3600 == start / 3600)
        .sum();
    assert_eq!(bins, [(hour, json!(in_first_hour as f64))]);

    // Future points are hidden by default (the window ends now), and shown when asked for.
    let future = now() + 1800;
    let future_key = throughput(&app, future, 1).await;
    assert_eq!(read_of(&app, &future_key, "").await, Vec::<i64>::new());
    assert_eq!(
        read_of(&app, &future_key, &format!("?time-start={}", now() - 60)).await,
        [future]
    );
    assert_eq!(read_of(&app, &future_key, "?time-range=60").await, [future]);
    assert_eq!(
        read_of(&app, &future_key, &format!("?time-end={}", future)).await,
        [future]
    );
}

async fn read_of(app: &TestApp, key: &str, query: &str) -> Vec<i64> {
    stamps(&series_points(
        &app.get(&format!("{key}/throughput/base{query}")).await,
    ))
}

#[tokio::test]
async fn pagination_and_links() {
    let app = spawn_app().await;
    let start = 1_300_000_000;
    let key = throughput(&app, start, 1600).await;
    let url = |query: &str| app.archive_url(&format!("{key}/throughput/base{query}"));

    let first = app.get(&format!("{key}/throughput/base")).await;
    assert_eq!(series_points(&first).len(), 1500, "default page size");
    assert_eq!(
        first.header("link"),
        Some(format!("<{}>; rel=\"next\"", url("?limit=1500&offset=1500")).as_str())
    );

    let middle = app
        .get(&format!("{key}/throughput/base?limit=2&offset=1"))
        .await;
    assert_eq!(stamps(&series_points(&middle)), [start + 60, start + 120]);
    // esmond never sends `next` with an explicit limit; here it does when more points exist.
    assert_eq!(
        middle.header("link"),
        Some(
            format!(
                "<{}>; rel=\"next\", <{}>; rel=\"prev\"",
                url("?limit=2&offset=3"),
                url("?limit=2")
            )
            .as_str()
        )
    );
    let last = app
        .get(&format!("{key}/throughput/base?limit=100&offset=1550"))
        .await;
    assert_eq!(series_points(&last).len(), 50);
    assert_eq!(
        last.header("link"),
        Some(format!("<{}>; rel=\"prev\"", url("?limit=100&offset=1450")).as_str())
    );
    assert_eq!(
        series_points(&app.get(&format!("{key}/throughput/base?offset=5000")).await),
        []
    );
    assert_eq!(
        series_points(
            &app.get(&format!("{key}/throughput/base?offset=-3&limit=1"))
                .await
        )[0]
        .0,
        start
    );

    // The official client's loop: limit=1000, then time-start = last ts + 1, until a short page.
    let mut collected = Vec::new();
    let mut time_start = 0;
    loop {
        let page = series_points(
            &app.get(&format!(
                "{key}/throughput/base?limit=1000&time-start={time_start}"
            ))
            .await,
        );
        collected.extend(stamps(&page));
        if page.len() < 1000 {
            break;
        }
        time_start = page.last().unwrap().0 + 1;
    }
    assert_eq!(
        collected,
        (0..1600).map(|i| start + i * 60).collect::<Vec<_>>()
    );
}
