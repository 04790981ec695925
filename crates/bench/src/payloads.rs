//! pScheduler-shaped bodies: latencybg and throughput metadata with the archiver's default
//! summaries, and one run of each as a bulk PUT.

use serde_json::{Map, Value, json};

fn aggregations(windows: &[i64]) -> Vec<Value> {
    windows
        .iter()
        .map(|window| json!({"summary-type": "aggregation", "summary-window": window}))
        .collect()
}

/// Returns the last octet of the hosts of records tagged `tag`, so that each kind of record has
/// addresses of its own and the search scenario finds exactly one record.
fn host_octet(tag: &str) -> usize {
    match tag {
        "bench-search" => 1,
        "bench-new" => 2,
        "bench-day" | "bench-month" => 7,
        _ => 9,
    }
}

/// A latencybg record between two hosts named by `index`.
pub(crate) fn latency_metadata(tag: &str, index: usize) -> Value {
    let octet = host_octet(tag);
    let mut owdelay = aggregations(&[300, 3600, 86400]);
    owdelay.extend(
        [0, 300, 3600, 86400]
            .iter()
            .map(|window| json!({"summary-type": "statistics", "summary-window": window})),
    );
    json!({
        "subject-type": "point-to-point",
        "source": format!("10.{}.{}.{octet}", index / 250 % 250, index % 250),
        "destination": format!("10.200.{}.{}", index % 250, octet + 1),
        "measurement-agent": format!("10.{}.{}.{octet}", index / 250 % 250, index % 250),
        "tool-name": "pscheduler/powstream", "input-source": format!("src{index}.example.net"),
        "input-destination": format!("dst{index}.example.net"), "time-duration": 60,
        "pscheduler-test-type": "latencybg", "bench-tag": tag,
        "event-types": [
            {"event-type": "histogram-owdelay", "summaries": owdelay},
            {"event-type": "histogram-ttl", "summaries": []},
            {"event-type": "packet-count-sent", "summaries": aggregations(&[300, 3600, 86400])},
            {"event-type": "packet-count-lost", "summaries": aggregations(&[300, 3600, 86400])},
            {"event-type": "packet-loss-rate", "summaries": aggregations(&[300, 3600, 86400])},
            {"event-type": "packet-duplicates", "summaries": []},
            {"event-type": "packet-reorders", "summaries": []},
            {"event-type": "time-error-estimates", "summaries": []},
            {"event-type": "pscheduler-run-href", "summaries": []}
        ]
    })
}

/// A throughput record.
pub(crate) fn throughput_metadata(tag: &str, index: usize) -> Value {
    json!({
        "subject-type": "point-to-point",
        "source": format!("10.{}.{}.3", index / 250 % 250, index % 250), "destination": "10.201.0.4",
        "measurement-agent": format!("10.{}.{}.3", index / 250 % 250, index % 250),
        "tool-name": "pscheduler/iperf3", "input-source": "a.example.net", "input-destination": "b.example.net",
        "time-duration": 20, "bw-parallel-streams": 1, "bench-tag": tag,
        "event-types": [
            {"event-type": "throughput", "summaries": [{"summary-type": "average", "summary-window": 86400}]},
            {"event-type": "packet-retransmits", "summaries": []},
            {"event-type": "throughput-subintervals", "summaries": []},
            {"event-type": "pscheduler-run-href", "summaries": []}
        ]
    })
}

/// The summarised series of a latencybg run, by position in [`latency_run`], with the windows
/// whose bins esmond-rs keeps for them (statistics share the aggregation's bins).
pub(crate) const LATENCY_SUMMARIES: &[(usize, &[i64])] = &[
    (0, &[300, 3600, 86400]),
    (2, &[300, 3600, 86400]),
    (3, &[300, 3600, 86400]),
    (4, &[300, 3600, 86400]),
];

/// One latencybg run (600 packets, a one-way delay histogram of about 30 buckets).
pub(crate) fn latency_run(ts: i64, seed: i64) -> Value {
    let histogram: Map<String, Value> = (0..30)
        .map(|bucket| {
            (
                format!("{:.2}", 30.0 + bucket as f64 / 10.0),
                json!((seed + bucket) % 40 + 1),
            )
        })
        .collect();
    json!({"data": [{"ts": ts, "val": [
        {"event-type": "histogram-owdelay", "val": histogram},
        {"event-type": "histogram-ttl", "val": {"62": 600}},
        {"event-type": "packet-count-sent", "val": 600},
        {"event-type": "packet-count-lost", "val": seed % 3},
        {"event-type": "packet-loss-rate", "val": {"numerator": seed % 3, "denominator": 600}},
        {"event-type": "packet-duplicates", "val": 0},
        {"event-type": "packet-reorders", "val": 0},
        {"event-type": "time-error-estimates", "val": 0.000_12},
        {"event-type": "pscheduler-run-href", "val": {"href": format!("https://ps.example.net/pscheduler/runs/{seed}")}}
    ]}]})
}

/// The summarised series of a throughput run: the daily average, and the hourly state it folds
/// from.
pub(crate) const THROUGHPUT_SUMMARIES: &[(usize, &[i64])] = &[(0, &[3600, 86400])];

/// One throughput run.
pub(crate) fn throughput_run(ts: i64, seed: i64) -> Value {
    let intervals: Vec<Value> =
        (0..20).map(|second| json!({"start": second as f64, "duration": 1.0, "val": 9_000_000_000_i64 + seed})).collect();
    json!({"data": [{"ts": ts, "val": [
        {"event-type": "throughput", "val": 9_000_000_000_i64 + seed},
        {"event-type": "packet-retransmits", "val": seed % 7},
        {"event-type": "throughput-subintervals", "val": intervals},
        {"event-type": "pscheduler-run-href", "val": {"href": format!("https://ps.example.net/pscheduler/runs/t{seed}")}}
    ]}]})
}
