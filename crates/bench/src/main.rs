//! `esmond-bench`: load for an esmond-compatible archive, measured.
//!
//! `esmond-bench http` runs five scenarios against any archive's base URL and token (esmond-rs,
//! or esmond itself for a side-by-side figure) at the concurrencies asked for, with a new
//! connection per request (as pScheduler) or keep-alive. `esmond-bench ingest` measures
//! esmond-rs's ingest of pScheduler runs and then writes the same rows straight through the
//! `scylla` driver into the same Cassandra, for the ratio to the raw limit.
//!
//! `esmond-bench statements` weighs, straight against Cassandra, the ways a run's numbers can be
//! checked for esmond's 409 and written.
//!
//! Layout: [`payloads`] builds pScheduler-shaped bodies; [`load`] drives concurrent clients and
//! collects latencies; [`scenarios`] is the HTTP part; [`raw`] the driver-only writer;
//! [`statements`] the statement shapes.

mod load;
mod payloads;
mod raw;
mod scenarios;
mod statements;

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Benchmarks an esmond-compatible archive.
#[derive(Debug, Parser)]
#[command(name = "esmond-bench", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The five HTTP scenarios: metadata POST, bulk PUT, metadata search, one day of base
    /// data, one day of statistics; plus 30 days of hourly statistics.
    Http(HttpArgs),
    /// Ingest through esmond-rs, then the same rows straight into Cassandra.
    Ingest(IngestArgs),
    /// What the ways of checking and writing a run's numbers cost Cassandra, each on its own.
    Statements(StatementsArgs),
}

/// Where the archive is and how to talk to it.
#[derive(Debug, Clone, Args)]
struct Target {
    /// The archive root, e.g. http://127.0.0.1:8080/esmond/perfsonar/archive/
    #[arg(long)]
    url: String,
    /// An API key allowed to write.
    #[arg(long)]
    token: String,
    /// Reuse connections (HTTP/1.1 keep-alive) instead of one connection per request.
    #[arg(long)]
    keep_alive: bool,
}

#[derive(Debug, Args)]
struct HttpArgs {
    #[command(flatten)]
    target: Target,
    /// Concurrent clients, one run per value.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    concurrency: Vec<usize>,
    /// Seconds each scenario runs at each concurrency.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Metadata records to create before the search scenario (they are reused if present).
    #[arg(long, default_value_t = 10_000)]
    records: usize,
}

#[derive(Debug, Args)]
struct IngestArgs {
    #[command(flatten)]
    target: Target,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds of ingest in all.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Slices the ingest is sent in; after each, every raw writer writes the same rows.
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    /// Latencybg records to write to, each run 60 s after the last on its record (a quarter
    /// as many throughput records).
    #[arg(long, default_value_t = 100)]
    records: usize,
    /// Cassandra nodes of the archive, for the raw-driver comparison (comma separated).
    #[arg(long, value_delimiter = ',')]
    cassandra: Vec<String>,
    /// The archive's keyspace, if it was made for this benchmark: the summary bins of the runs
    /// are then settled at once and the time counted, and the keyspace is dropped afterwards.
    /// Never name a keyspace that holds real data.
    #[arg(long)]
    settle_keyspace: Option<String>,
}

#[derive(Debug, Args)]
struct StatementsArgs {
    /// Cassandra nodes (comma separated); a scratch keyspace is made there and dropped.
    #[arg(long, value_delimiter = ',', required = true)]
    cassandra: Vec<String>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds each shape runs, each round.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Times each shape runs, in turn with the others.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Cassandra's process id on this host, to report its CPU time per run.
    #[arg(long)]
    cassandra_pid: Option<u32>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Http(args) => {
            scenarios::run(
                &args.target,
                &args.concurrency,
                Duration::from_secs(args.seconds),
                args.records,
            )
            .await
        }
        Command::Ingest(args) => {
            let ingest = raw::Ingest {
                concurrency: args.concurrency,
                duration: Duration::from_secs(args.seconds),
                rounds: args.rounds,
                records: args.records,
                nodes: args.cassandra,
                settle_keyspace: args.settle_keyspace,
            };
            raw::compare(&args.target, &ingest).await
        }
        Command::Statements(args) => {
            let measure = statements::Measure {
                nodes: args.cassandra,
                concurrency: args.concurrency,
                duration: Duration::from_secs(args.seconds),
                cassandra_pid: args.cassandra_pid,
                rounds: args.rounds,
            };
            statements::run(&measure).await
        }
    }
}
