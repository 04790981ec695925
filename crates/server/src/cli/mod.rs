//! The command line: `serve`, and the admin commands that manage users, API keys and IP
//! networks in the same store `serve` uses (same `--config`, `--data-dir` and environment).

mod admin;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::{Application, Settings, shutdown_signal};

/// esmond-rs: an esmond-compatible perfSONAR measurement archive.
#[derive(Debug, Parser)]
#[command(name = "esmond-rs", version)]
pub struct Cli {
    /// TOML configuration file (see config/esmond-rs.toml).
    #[arg(long, global = true, env = "ESMOND_RS_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the embedded database (default ./esmond-data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serves the archive API.
    Serve(ServeArgs),
    /// Applies pending database migrations (the embedded file, and PostgreSQL when configured).
    Migrate,
    /// Manages users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manages API keys (`Authorization: Token <key>`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manages IP networks whose requests act as a user.
    #[command(subcommand)]
    Ip(IpCommand),
    /// Manages the Cassandra keyspace of the time series.
    #[command(subcommand)]
    Cassandra(CassandraCommand),
}

#[derive(Debug, Subcommand)]
enum CassandraCommand {
    /// Creates the keyspace (with the configured replication) and the tables if missing.
    Init,
    /// Changes the keyspace's replication factor, then says which repairs to run.
    SetReplicas {
        /// The new replication factor (per data centre with NetworkTopologyStrategy).
        replicas: u32,
    },
    /// Shows the nodes the driver sees, up or down, and the keyspace's replication.
    Status,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Creates a user.
    Add { name: String },
    /// Lists users.
    List,
    /// Removes a user with its API keys and networks.
    Remove { name: String },
    /// Stops accepting a user's API keys (until enabled again).
    Disable { name: String },
    /// Accepts a disabled user's API keys again.
    Enable { name: String },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Creates an API key for a user (creating the user if needed) and prints it alone on stdout.
    Create { name: String },
    /// Revokes one API key, or every key of a user with --user.
    Revoke {
        /// The key to revoke.
        #[arg(required_unless_present = "user", conflicts_with = "user")]
        key: Option<String>,
        /// Revoke every key of this user.
        #[arg(long)]
        user: Option<String>,
    },
    /// Lists API keys (their first characters only).
    List,
}

#[derive(Debug, Subcommand)]
enum IpCommand {
    /// Lets networks (CIDR or single addresses) act as a user, creating the user if needed.
    Allow {
        name: String,
        #[arg(required = true)]
        networks: Vec<String>,
    },
    /// Lists networks.
    List {
        /// Only this user's networks.
        #[arg(long)]
        user: Option<String>,
    },
    /// Removes networks from a user.
    Remove {
        name: String,
        #[arg(required = true)]
        networks: Vec<String>,
    },
}

impl Cli {
    /// Returns the settings: file and environment, then this command line's flags.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = Settings::load(self.config.as_deref())?;
        if let Some(data_dir) = &self.data_dir {
            settings.storage.data_dir.clone_from(data_dir);
        }
        if let Command::Serve(ServeArgs {
            listen: Some(listen),
        }) = &self.command
        {
            settings.http.listen = *listen;
        }
        Ok(settings)
    }

    /// Runs the command.
    pub async fn run(self, settings: Settings) -> anyhow::Result<()> {
        match self.command {
            Command::Serve(_) => {
                serve(&settings, self.config.as_deref(), self.data_dir.as_deref()).await
            }
            Command::Migrate => migrate(settings).await,
            Command::User(command) => admin::user(&settings, command).await,
            Command::Token(command) => admin::token(&settings, command).await,
            Command::Ip(command) => admin::ip(&settings, command).await,
            Command::Cassandra(command) => admin::cassandra(&settings, command).await,
        }
    }
}

async fn migrate(mut settings: Settings) -> anyhow::Result<()> {
    settings.postgres.migrate = true;
    crate::open_stores(&settings).await?;
    let target = if settings.postgres.is_configured() {
        "postgresql and the embedded file"
    } else {
        "the embedded file"
    };
    eprintln!("migrations applied to {target}");
    Ok(())
}

async fn serve(
    settings: &Settings,
    config: Option<&std::path::Path>,
    data_dir: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let application = Application::build(settings).await?;
    let address = application.local_addr();
    tracing::info!(
        url = %format!("http://{address}{}/perfsonar/archive/", settings.http.prefix.trim_end_matches('/')),
        data_dir = %settings.storage.data_dir.display(),
        "esmond-rs listening"
    );
    let mut hint = String::from("esmond-rs");
    if let Some(config) = config {
        hint.push_str(&format!(" --config {}", config.display()));
    }
    if let Some(data_dir) = data_dir {
        hint.push_str(&format!(" --data-dir {}", data_dir.display()));
    }
    tracing::info!("create an API key for writers with: {hint} token create <user>");
    application.run_until(shutdown_signal()).await
}
