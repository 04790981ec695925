//! Black-box tests of esmond's metadata interface over HTTP, against a real esmond-rs.

mod auth;
mod concurrency;
mod create;
mod event_types;
mod health;
mod reads;
mod search;
mod testdata;
mod wire;
mod writes;

use serde_json::{Value, json};

/// A point-to-point throughput description as esmond's own examples post it.
pub(crate) fn throughput_body() -> Value {
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
