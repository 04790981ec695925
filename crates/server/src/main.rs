//! `esmond-rs`: an esmond-compatible perfSONAR measurement archive.

use clap::Parser;
use esmond_server::cli::Cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = cli.settings()?;
    esmond_server::telemetry::init(&settings.log.filter);
    cli.run(settings).await
}
