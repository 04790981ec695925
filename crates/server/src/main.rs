//! `esmond-rs`: an esmond-compatible perfSONAR measurement archive.

use clap::Parser;
use esmond_server::cli::Cli;

/// Requests allocate many small, short-lived buffers; mimalloc serves them with less CPU and
/// less contention between worker threads than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = cli.settings()?;
    esmond_server::telemetry::init(&settings.log.filter);
    cli.run(settings).await
}
