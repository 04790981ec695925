//! Concurrent writers, on two server instances sharing one store, interleaving points into the
//! same summary windows: every summary must equal the formula over all points, and repeating a
//! request must change nothing.

use std::collections::BTreeMap;

use esmond_tests::{TestApp, series_points, spawn_app, spawn_peer};
use serde_json::{Value, json};

const WRITERS: i64 = 16;
const POINTS_PER_WRITER: i64 = 24;
/// Points of the past, whose bins every write updates at once.
const PAST: i64 = 1_450_000_000;

fn ts(start: i64, writer: i64, index: i64) -> i64 {
    // Writers interleave within the same 5-minute, hourly and daily bins.
    start + (index * WRITERS + writer) * 11
}

fn histogram(writer: i64, index: i64) -> Value {
    json!({ (10 + (writer + index) % 5).to_string(): 1 + index % 3, "99": writer % 2 })
}

fn entries(writer: i64, index: i64) -> Vec<Value> {
    vec![
        json!({"event-type": "throughput", "val": writer * 1000 + index}),
        json!({"event-type": "ntp-offset", "val": (writer * 100 + index) as f64 / 64.0}),
        json!({"event-type": "packet-loss-rate", "val": {"numerator": index % 4, "denominator": 100}}),
        json!({"event-type": "histogram-owdelay", "val": histogram(writer, index)}),
    ]
}

async fn read(app: &TestApp, key: &str, path: &str) -> Vec<(i64, Value)> {
    series_points(
        &app.get(&format!(
            "{key}/{path}?time-start=0&time-end=2000000000&limit=100000"
        ))
        .await,
    )
}

fn bin(ts: i64, window: i64) -> i64 {
    ts - ts.rem_euclid(window)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_converge_on_the_formulas() {
    converge(PAST).await;
}

/// Recent points leave their bins to the settling pass; reads fold them meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_of_recent_points_read_the_formulas() {
    converge(esmond_tests::epoch_now() - 600).await;
}

async fn converge(start: i64) {
    let first = spawn_app().await;
    let second = spawn_peer(&first).await;
    let key = first
        .create_metadata(&json!({
            "subject-type": "point-to-point", "source": "10.9.0.1", "destination": "10.9.0.2",
            "measurement-agent": "10.9.0.1",
            "event-types": [
                {"event-type": "throughput", "summaries": [
                    {"summary-type": "aggregation", "summary-window": 300},
                    {"summary-type": "aggregation", "summary-window": 3600},
                    {"summary-type": "average", "summary-window": 86400}]},
                {"event-type": "ntp-offset", "summaries": [
                    {"summary-type": "aggregation", "summary-window": 3600},
                    {"summary-type": "average", "summary-window": 3600}]},
                {"event-type": "packet-loss-rate", "summaries": [
                    {"summary-type": "aggregation", "summary-window": 300},
                    {"summary-type": "aggregation", "summary-window": 86400}]},
                {"event-type": "histogram-owdelay", "summaries": [
                    {"summary-type": "aggregation", "summary-window": 300},
                    {"summary-type": "aggregation", "summary-window": 86400},
                    {"summary-type": "statistics", "summary-window": 300}]}
            ]
        }))
        .await;

    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let (origin_app, key) = (if writer % 2 == 0 { &first } else { &second }, key.clone());
        let (base, token) = (origin_app.archive_url(""), origin_app.token());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut index = 0;
            while index < POINTS_PER_WRITER {
                // Alternate single-run PUTs and two-run PUTs, as pScheduler hosts would.
                let runs = if index % 3 == 0 { 1 } else { 2 }.min(POINTS_PER_WRITER - index);
                let data: Vec<Value> = (index..index + runs)
                    .map(|i| json!({"ts": ts(start, writer, i), "val": entries(writer, i)}))
                    .collect();
                let answer = client
                    .put(format!("{base}{key}/"))
                    .header("authorization", &token)
                    .header("content-type", "application/json")
                    .body(json!({ "data": data }).to_string())
                    .send()
                    .await
                    .expect("request sent");
                let status = answer.status();
                assert_eq!(status, 201, "{}", answer.text().await.unwrap_or_default());
                index += runs;
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer finished");
    }

    let all: Vec<(i64, i64)> = (0..WRITERS)
        .flat_map(|w| (0..POINTS_PER_WRITER).map(move |i| (w, i)))
        .collect();
    // Integer sums and averages.
    for (window, path) in [(300, "aggregations/300"), (3600, "aggregations/3600")] {
        let mut sums: BTreeMap<i64, f64> = BTreeMap::new();
        for &(w, i) in &all {
            *sums.entry(bin(ts(start, w, i), window)).or_default() += (w * 1000 + i) as f64;
        }
        let expected: Vec<(i64, Value)> = sums.into_iter().map(|(t, s)| (t, json!(s))).collect();
        assert_eq!(
            read(&second, &key, &format!("throughput/{path}")).await,
            expected,
            "throughput {path}"
        );
    }
    let mut daily: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for &(w, i) in &all {
        let entry = daily.entry(bin(ts(start, w, i), 86400)).or_default();
        entry.0 += w * 1000 + i;
        entry.1 += 1;
    }
    let expected: Vec<(i64, Value)> = daily
        .iter()
        .map(|(t, (s, c))| (*t, json!(*s as f64 / *c as f64)))
        .collect();
    assert_eq!(
        read(&first, &key, "throughput/averages/86400").await,
        expected
    );

    // Float sums (multiples of 1/64 add exactly in any order) and means.
    let mut floats: BTreeMap<i64, (f64, i64)> = BTreeMap::new();
    for &(w, i) in &all {
        let entry = floats.entry(bin(ts(start, w, i), 3600)).or_default();
        entry.0 += (w * 100 + i) as f64 / 64.0;
        entry.1 += 1;
    }
    let sums: Vec<(i64, Value)> = floats.iter().map(|(t, (s, _))| (*t, json!(*s))).collect();
    assert_eq!(
        read(&first, &key, "ntp-offset/aggregations/3600").await,
        sums
    );
    let means: Vec<(i64, Value)> = floats
        .iter()
        .map(|(t, (s, c))| (*t, json!(*s / *c as f64)))
        .collect();
    assert_eq!(read(&second, &key, "ntp-offset/averages/3600").await, means);

    // Pooled loss ratios.
    for window in [300, 86400] {
        let mut parts: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for &(w, i) in &all {
            let entry = parts.entry(bin(ts(start, w, i), window)).or_default();
            entry.0 += i % 4;
            entry.1 += 100;
        }
        let expected: Vec<(i64, Value)> = parts
            .iter()
            .map(|(t, (n, d))| (*t, json!(*n as f64 / *d as f64)))
            .collect();
        assert_eq!(
            read(
                &first,
                &key,
                &format!("packet-loss-rate/aggregations/{window}")
            )
            .await,
            expected
        );
    }

    // Histogram sums, bucket by bucket.
    for window in [300, 86400] {
        let mut merged: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
        for &(w, i) in &all {
            let bucket = merged.entry(bin(ts(start, w, i), window)).or_default();
            for (label, count) in histogram(w, i).as_object().unwrap() {
                *bucket.entry(label.clone()).or_default() += count.as_i64().unwrap();
            }
        }
        let shown: BTreeMap<i64, BTreeMap<String, i64>> = read(
            &second,
            &key,
            &format!("histogram-owdelay/aggregations/{window}"),
        )
        .await
        .into_iter()
        .map(|(t, h)| {
            (
                t,
                h.as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
                    .collect(),
            )
        })
        .collect();
        assert_eq!(shown, merged, "histogram aggregations/{window}");
    }
    let statistics = read(&first, &key, "histogram-owdelay/statistics/300").await;
    assert_eq!(
        statistics.len(),
        read(&first, &key, "histogram-owdelay/aggregations/300")
            .await
            .len()
    );

    // The same request again changes nothing (numbers: 409, histograms: replaced by themselves).
    let paths = [
        "throughput/aggregations/300",
        "throughput/averages/86400",
        "ntp-offset/aggregations/3600",
        "packet-loss-rate/aggregations/300",
        "histogram-owdelay/aggregations/86400",
        "histogram-owdelay/statistics/300",
    ];
    let mut before = Vec::new();
    for path in paths {
        before.push(read(&first, &key, path).await);
    }
    let repeat = json!({"data": [{"ts": ts(start, 3, 5), "val": entries(3, 5)}, {"ts": ts(start, 4, 5), "val": entries(4, 5)}]});
    for app in [&first, &second] {
        let answer = app.put_data(&key, &repeat).await;
        assert_eq!(answer.status, 409, "{}", answer.text);
    }
    for (path, earlier) in paths.iter().zip(before) {
        assert_eq!(
            read(&second, &key, path).await,
            earlier,
            "{path} changed after a repeated request"
        );
    }
}
