//! What single statements cost Cassandra: the shapes in which a run's numbers can be checked and
//! written, each driven on its own at full load, with Cassandra's CPU per run when its process is
//! named. This is how the duplicate check's read was weighed against a run's writes, and a
//! conditional batch, which would check and write in one, against both.

use std::sync::Arc;
use std::time::Duration;

use esmond_storage::buckets::{POINT_SPAN, bucket_of};
use esmond_storage::cassandra::{CassandraSettings, insert_point_cql, select_existing_cql};
use scylla::client::session::Session;
use scylla::statement::batch::{Batch, BatchStatement, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::value::MaybeUnset;

use crate::load::drive;

/// The numbers of a latencybg run, all in its record's shared partition.
const NUMBERS: [&str; 6] = [
    "packet-count-lost",
    "packet-count-sent",
    "packet-duplicates",
    "packet-loss-rate",
    "packet-reorders",
    "time-error-estimates",
];

/// Records the runs go to, round robin.
const RECORDS: u64 = 100;

/// What to measure.
pub(crate) struct Measure {
    pub(crate) nodes: Vec<String>,
    pub(crate) concurrency: usize,
    pub(crate) duration: Duration,
    /// Cassandra's process, to read its CPU time from `/proc`.
    pub(crate) cassandra_pid: Option<u32>,
    /// Times each shape runs, in turn with the others.
    pub(crate) rounds: usize,
}

/// The ways of checking and writing runs that are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The run's numbers as one single-partition batch: what esmond-rs and the raw writer send.
    Batch,
    /// The duplicate check's read alone, of a second that holds no point.
    Check,
    /// The check, then the batch: what esmond-rs and the raw writer with the check send.
    CheckThenBatch,
    /// The numbers as one conditional batch (`if not exists`): check and write in one, by Paxos.
    ConditionalBatch,
}

impl Shape {
    const ALL: [Shape; 4] = [
        Shape::Batch,
        Shape::Check,
        Shape::CheckThenBatch,
        Shape::ConditionalBatch,
    ];

    fn name(self) -> &'static str {
        match self {
            Shape::Batch => "the run's numbers as one batch",
            Shape::Check => "the duplicate check's read alone",
            Shape::CheckThenBatch => "the check, then the batch",
            Shape::ConditionalBatch => "one conditional batch (if not exists)",
        }
    }
}

struct Statements {
    insert: PreparedStatement,
    insert_if_absent: PreparedStatement,
    existing: PreparedStatement,
}

/// A run: its record and second.
fn run_of(shape_base: i64, n: u64) -> (String, i64) {
    let record = format!("statements-record-{:03}", n % RECORDS);
    let ts = shape_base + 60 * i64::try_from(n / RECORDS).unwrap_or(i64::MAX / 120);
    (record, ts)
}

/// A row of a run's numbers, bound for the archive's point insert: an integer, the other value
/// columns unset, as the archive writes them.
type NumberRow = (
    String,
    &'static str,
    i64,
    i64,
    &'static str,
    i64,
    MaybeUnset<f64>,
    MaybeUnset<i64>,
    MaybeUnset<i64>,
    MaybeUnset<&'static str>,
    i32,
);

fn number_rows(record: &str, ts: i64) -> Vec<NumberRow> {
    let bucket = bucket_of(ts, POINT_SPAN);
    NUMBERS
        .iter()
        .map(|&event_type| {
            (
                record.to_owned(),
                "",
                bucket,
                ts,
                event_type,
                7,
                MaybeUnset::Unset,
                MaybeUnset::Unset,
                MaybeUnset::Unset,
                MaybeUnset::Unset,
                0,
            )
        })
        .collect()
}

async fn write_numbers(
    session: &Session,
    statement: &PreparedStatement,
    record: &str,
    ts: i64,
) -> bool {
    let rows = number_rows(record, ts);
    let batch = Batch::new_with_statements(
        BatchType::Unlogged,
        vec![BatchStatement::PreparedStatement(statement.clone()); rows.len()],
    );
    session.batch(&batch, rows).await.is_ok()
}

async fn check(session: &Session, statements: &Statements, record: &str, ts: i64) -> bool {
    let values = (record, bucket_of(ts, POINT_SPAN), vec![ts]);
    session
        .execute_unpaged(&statements.existing, values)
        .await
        .is_ok()
}

/// Sends one request of `shape` for the `n`th run.
async fn request(
    session: &Session,
    statements: &Statements,
    shape: Shape,
    base: i64,
    n: u64,
) -> bool {
    let (record, ts) = run_of(base, n);
    match shape {
        Shape::Batch => write_numbers(session, &statements.insert, &record, ts).await,
        Shape::Check => check(session, statements, &record, ts).await,
        Shape::CheckThenBatch => {
            check(session, statements, &record, ts).await
                && write_numbers(session, &statements.insert, &record, ts).await
        }
        Shape::ConditionalBatch => {
            write_numbers(session, &statements.insert_if_absent, &record, ts).await
        }
    }
}

/// Returns the CPU time of process `pid`, in clock ticks (user and system).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

/// Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

pub(crate) async fn run(measure: &Measure) -> anyhow::Result<()> {
    let keyspace = format!("esmond_bench_statements_{}", std::process::id());
    let settings = CassandraSettings {
        nodes: measure.nodes.clone(),
        keyspace: keyspace.clone(),
        ..CassandraSettings::default()
    };
    settings.init_schema().await?;
    let session = Arc::new(settings.session().await?);
    let insert_cql = insert_point_cql(&keyspace);
    let statements = Arc::new(Statements {
        insert: session.prepare(insert_cql.as_str()).await?,
        insert_if_absent: session
            .prepare(insert_cql.replace(" using ttl ?", " if not exists using ttl ?"))
            .await?,
        existing: session.prepare(select_existing_cql(&keyspace)).await?,
    });
    println!(
        "statements straight to Cassandra, {} clients, {} s each, {} rounds:",
        measure.concurrency,
        measure.duration.as_secs(),
        measure.rounds
    );
    println!("| shape | runs/s | p50 ms | p99 ms | Cassandra µs per run |");
    println!("|---|---|---|---|---|");
    // Each shape and round writes its own seconds, so no shape finds another's points.
    let start = esmond_storage::now() - 86_400;
    let mut base = start;
    for _ in 0..measure.rounds {
        for shape in Shape::ALL {
            base += 1_000_000;
            let before = measure.cassandra_pid.and_then(cpu_ticks);
            let (session, statements) = (session.clone(), statements.clone());
            let shape_base = base;
            let stats = drive(measure.concurrency, measure.duration, move |n| {
                let (session, statements) = (session.clone(), statements.clone());
                async move { request(&session, &statements, shape, shape_base, n).await }
            })
            .await;
            let after = measure.cassandra_pid.and_then(cpu_ticks);
            let runs = stats.requests as f64;
            let cpu = match (before, after) {
                (Some(before), Some(after)) => format!(
                    "{:.0}",
                    (after - before) as f64 / TICKS_PER_SECOND * 1e6 / runs.max(1.0)
                ),
                _ => "-".to_owned(),
            };
            println!(
                "| {} | {:.0} | {:.2} | {:.2} | {cpu} |{}",
                shape.name(),
                runs / stats.elapsed.as_secs_f64(),
                stats.percentile(50.0).as_secs_f64() * 1000.0,
                stats.percentile(99.0).as_secs_f64() * 1000.0,
                if stats.failures > 0 {
                    format!(" {} failed", stats.failures)
                } else {
                    String::new()
                }
            );
        }
    }
    session
        .query_unpaged(format!("drop keyspace {keyspace}"), &[])
        .await?;
    Ok(())
}
