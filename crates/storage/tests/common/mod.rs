//! The concurrency scenario both backends must pass: many "nodes" (store handles that do not
//! share their in-process locks) write interleaved points into the same bins at once, and every
//! bin must end up equal to the fold of all points.

use std::collections::BTreeMap;
use std::sync::Arc;

use esmond_model::{DataType, Value};
use esmond_storage::{Page, Point, SeriesKey, SeriesStore, TimeRange, TimeSeriesRepository};

const NODES: i64 = 16;
const POINTS: i64 = 40;

/// Runs the scenario against `backend` with these kept windows.
pub(crate) async fn nodes_writing_one_bin_converge(
    backend: Arc<dyn TimeSeriesRepository>,
    windows: Vec<i64>,
) {
    let series = SeriesKey {
        metadata_key: "k".repeat(32),
        event_type: "throughput".to_owned(),
    };
    let mut tasks = Vec::new();
    for node in 0..NODES {
        // Each node has its own handle, hence its own locks: only the re-read loop protects them.
        let store = SeriesStore::new(backend.clone());
        let (series, windows) = (series.clone(), windows.clone());
        tasks.push(tokio::spawn(async move {
            for index in 0..POINTS {
                let ts = 1_000_000 + (index * NODES + node) * 3;
                let point = Point {
                    ts,
                    value: Value::Integer(node * 1000 + index),
                };
                store
                    .write(&series, DataType::Integer, &windows, vec![point])
                    .await
                    .expect("write succeeds");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let store = SeriesStore::new(backend);
    let everything = TimeRange {
        begin: 0,
        end: 4_000_000,
    };
    for window in windows {
        let mut expected: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for node in 0..NODES {
            for index in 0..POINTS {
                let ts = 1_000_000 + (index * NODES + node) * 3;
                let entry = expected.entry(ts - ts % window).or_default();
                entry.0 += node * 1000 + index;
                entry.1 += 1;
            }
        }
        let bins = store
            .bins(&series, window, everything, Page::default())
            .await
            .unwrap();
        let shown: BTreeMap<i64, (i64, i64)> = bins
            .iter()
            .map(|bin| (bin.start, (bin.state.int_sum, bin.state.count)))
            .collect();
        assert_eq!(shown, expected, "window {window}");
    }
}
