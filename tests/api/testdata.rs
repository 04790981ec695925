//! esmond's own test data posted through the HTTP API, with every summary checked against
//! expectations computed here, independently of the server's summary code.

use std::collections::BTreeMap;

use esmond_tests::fixtures::load_json;
use esmond_tests::{TestApp, series_points, spawn_app};
use serde_json::{Value, json};

/// Points of a test-data file as (epoch seconds, value).
fn points(file: &str) -> Vec<(i64, Value)> {
    let data = load_json(file);
    data.as_array()
        .expect("test data is a list")
        .iter()
        .map(|point| {
            (
                point["ts"].as_i64().expect("ts in ms") / 1000,
                point["val"].clone(),
            )
        })
        .collect()
}

/// Registers one event type with these summaries (type, window) and returns the key.
async fn metadata(app: &TestApp, event_type: &str, summaries: &[(&str, i64)]) -> String {
    let summaries: Vec<Value> = summaries
        .iter()
        .map(|(kind, window)| json!({"summary-type": kind, "summary-window": window}))
        .collect();
    app.create_metadata(&json!({
        "subject-type": "point-to-point", "source": "198.129.254.30", "destination": "198.124.252.141",
        "measurement-agent": "198.129.254.30", "tool-name": "esmond/testdata",
        "event-types": [{"event-type": event_type, "summaries": summaries}]
    }))
    .await
}

/// Posts points in bulk PUTs of `chunk` points each, as measurement runs arrive.
async fn post_all(
    app: &TestApp,
    key: &str,
    event_type: &str,
    points: &[(i64, Value)],
    chunk: usize,
) {
    for part in points.chunks(chunk) {
        let data: Vec<Value> = part
            .iter()
            .map(|(ts, val)| json!({"ts": ts, "val": [{"event-type": event_type, "val": val}]}))
            .collect();
        let answer = app.put_data(key, &json!({ "data": data })).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        assert_eq!(answer.text, "\"\"");
    }
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
    ts.div_euclid(window) * window
}

fn counts(histogram: &Value) -> BTreeMap<String, i64> {
    histogram
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
        .collect()
}

/// Sums histograms per bin of `window`.
fn aggregate(points: &[(i64, Value)], window: i64) -> BTreeMap<i64, BTreeMap<String, i64>> {
    let mut bins: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
    for (ts, histogram) in points {
        let merged = bins.entry(bin(*ts, window)).or_default();
        for (label, count) in counts(histogram) {
            *merged.entry(label).or_default() += count;
        }
    }
    bins
}

#[track_caller]
fn close(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {actual} is not a number"));
    let tolerance = 1e-9 * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: got {actual}, expected {expected}"
    );
}

/// Checks an esmond statistics object against the textbook definitions: the NIST (N+1)p
/// percentile over the expanded sample, population variance, all modes.
#[track_caller]
fn check_statistics(statistics: &Value, histogram: &BTreeMap<String, i64>, what: &str) {
    let mut buckets: Vec<(f64, i64)> = histogram
        .iter()
        .map(|(label, count)| (label.parse().unwrap(), *count))
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n: i64 = buckets.iter().map(|b| b.1).sum();
    let mean = buckets.iter().map(|(v, c)| v * *c as f64).sum::<f64>() / n as f64;
    let variance = buckets
        .iter()
        .map(|(v, c)| *c as f64 * (v - mean).powi(2))
        .sum::<f64>()
        / n as f64;
    // The i-th smallest sample, 1-based.
    let sample = |i: i64| {
        let mut seen = 0;
        for (value, count) in &buckets {
            seen += count;
            if seen >= i {
                return *value;
            }
        }
        buckets.last().unwrap().0
    };
    let percentile = |p: f64| {
        let rank = p / 100.0 * (n as f64 + 1.0);
        let k = rank.floor() as i64;
        let d = rank - k as f64;
        if k == 0 {
            sample(1)
        } else if k >= n {
            sample(n)
        } else {
            sample(k) + d * (sample(k + 1) - sample(k))
        }
    };
    let top = buckets.iter().map(|b| b.1).max().unwrap();
    let mut modes: Vec<f64> = buckets.iter().filter(|b| b.1 == top).map(|b| b.0).collect();
    let mut shown: Vec<f64> = statistics["mode"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_f64().unwrap())
        .collect();
    modes.sort_by(f64::total_cmp);
    shown.sort_by(f64::total_cmp);
    assert_eq!(shown, modes, "{what}: mode");
    close(&statistics["mean"], mean, what);
    close(&statistics["minimum"], buckets[0].0, what);
    close(&statistics["maximum"], buckets.last().unwrap().0, what);
    close(&statistics["percentile-25"], percentile(25.0), what);
    close(&statistics["median"], percentile(50.0), what);
    close(&statistics["percentile-75"], percentile(75.0), what);
    close(&statistics["percentile-95"], percentile(95.0), what);
    close(&statistics["variance"], variance, what);
    close(&statistics["standard-deviation"], variance.sqrt(), what);
    let keys: Vec<&str> = statistics
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "mode",
            "mean",
            "minimum",
            "maximum",
            "percentile-25",
            "median",
            "percentile-75",
            "percentile-95",
            "variance",
            "standard-deviation"
        ]
    );
}

async fn check_histograms(file: &str, event_type: &str, windows: &[i64], chunk: usize) {
    let app = spawn_app().await;
    let mut summaries = vec![("statistics", 0)];
    for window in windows {
        summaries.push(("aggregation", *window));
        summaries.push(("statistics", *window));
    }
    let key = metadata(&app, event_type, &summaries).await;
    let posted = points(file);
    post_all(&app, &key, event_type, &posted, chunk).await;

    let base = read(&app, &key, &format!("{event_type}/base")).await;
    assert_eq!(base.len(), posted.len());
    for ((ts, shown), (posted_ts, histogram)) in base.iter().zip(&posted) {
        assert_eq!(ts, posted_ts);
        assert_eq!(counts(shown), counts(histogram), "base point at {ts}");
    }
    let per_point = read(&app, &key, &format!("{event_type}/statistics/0")).await;
    assert_eq!(per_point.len(), posted.len());
    for ((ts, statistics), (_, histogram)) in per_point.iter().zip(&posted) {
        check_statistics(
            statistics,
            &counts(histogram),
            &format!("statistics/0 at {ts}"),
        );
    }
    for &window in windows {
        let expected = aggregate(&posted, window);
        let aggregations = read(&app, &key, &format!("{event_type}/aggregations/{window}")).await;
        let shown: BTreeMap<i64, BTreeMap<String, i64>> = aggregations
            .iter()
            .map(|(ts, h)| (*ts, counts(h)))
            .collect();
        assert_eq!(shown, expected, "aggregations/{window}");
        let statistics = read(&app, &key, &format!("{event_type}/statistics/{window}")).await;
        assert_eq!(statistics.len(), expected.len(), "statistics/{window}");
        for (ts, value) in &statistics {
            check_statistics(
                value,
                &expected[ts],
                &format!("statistics/{window} at {ts}"),
            );
        }
    }
}

#[tokio::test]
async fn owdelay_minute_histograms() {
    check_histograms(
        "histogram_owdelay_minute_data.json",
        "histogram-owdelay",
        &[300, 3600, 86400],
        60,
    )
    .await;
}

#[tokio::test]
async fn owdelay_daily_histograms() {
    check_histograms(
        "histogram_owdelay_daily_data.json",
        "histogram-owdelay",
        &[86400],
        10,
    )
    .await;
}

#[tokio::test]
async fn ttl_histograms() {
    check_histograms("histogram_ttl_data.json", "histogram-ttl", &[3600], 200).await;
}

async fn check_integers(file: &str, event_type: &str, windows: &[i64], chunk: usize) {
    let app = spawn_app().await;
    let mut summaries = Vec::new();
    for window in windows {
        summaries.push(("aggregation", *window));
        summaries.push(("average", *window));
    }
    let key = metadata(&app, event_type, &summaries).await;
    let posted = points(file);
    post_all(&app, &key, event_type, &posted, chunk).await;

    let base = read(&app, &key, &format!("{event_type}/base")).await;
    let expected_base: Vec<(i64, Value)> = posted
        .iter()
        .map(|(ts, val)| (*ts, json!(val.as_i64().unwrap() as f64)))
        .collect();
    assert_eq!(base, expected_base);
    assert!(
        app.get(&format!("{key}/{event_type}/base"))
            .await
            .text
            .contains(".0}"),
        "integers render as floats"
    );

    for &window in windows {
        let mut bins: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for (ts, value) in &posted {
            let entry = bins.entry(bin(*ts, window)).or_default();
            entry.0 += value.as_i64().unwrap();
            entry.1 += 1;
        }
        let sums: Vec<(i64, Value)> = bins
            .iter()
            .map(|(start, (sum, _))| (*start, json!(*sum as f64)))
            .collect();
        assert_eq!(
            read(&app, &key, &format!("{event_type}/aggregations/{window}")).await,
            sums,
            "aggregations/{window}"
        );
        let averages = read(&app, &key, &format!("{event_type}/averages/{window}")).await;
        assert_eq!(averages.len(), bins.len());
        for ((start, shown), (expected_start, (sum, count))) in averages.iter().zip(&bins) {
            assert_eq!(start, expected_start);
            close(
                shown,
                *sum as f64 / *count as f64,
                &format!("averages/{window} at {start}"),
            );
        }
    }
}

#[tokio::test]
async fn packet_counts() {
    check_integers(
        "packet_count_lost_data.json",
        "packet-count-lost",
        &[300, 3600, 86400],
        120,
    )
    .await;
    check_integers(
        "packet_count_sent_data.json",
        "packet-count-sent",
        &[300, 3600, 86400],
        1440,
    )
    .await;
    check_integers(
        "packet_duplicates_data.json",
        "packet-duplicates",
        &[3600],
        1,
    )
    .await;
}

#[tokio::test]
async fn throughput() {
    check_integers("throughput_data.json", "throughput", &[3600, 86400], 50).await;
}
