//! The admin commands. Results go to stdout (a new key alone on its line, so scripts can capture
//! it); progress and errors go to the log on stderr.

use anyhow::{Context, bail};
use esmond_metadata::auth::{generate_api_key, hash_api_key, key_hint};
use esmond_metadata::{Error, MetadataStore};
use ipnet::IpNet;

use super::{CassandraCommand, IpCommand, TokenCommand, UserCommand};
use crate::{Settings, open_metadata};

pub(super) async fn user(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let store = open_metadata(settings).await?;
    match command {
        UserCommand::Add { name } => {
            store.add_user(&name).await?;
            eprintln!("user {name} created");
        }
        UserCommand::List => {
            for user in store.list_users().await? {
                println!(
                    "{}{}",
                    user.name,
                    if user.active { "" } else { " (inactive)" }
                );
            }
        }
        UserCommand::Disable { name } => {
            store.set_user_active(&name, false).await?;
            eprintln!("user {name} disabled; its api keys are refused");
        }
        UserCommand::Enable { name } => {
            store.set_user_active(&name, true).await?;
            eprintln!("user {name} enabled");
        }
        UserCommand::Remove { name } => {
            store.remove_user(&name).await?;
            eprintln!("user {name} removed with its keys and networks");
        }
    }
    Ok(())
}

pub(super) async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let store = open_metadata(settings).await?;
    match command {
        TokenCommand::Create { name } => {
            let key = generate_api_key();
            store
                .add_api_key(&name, &hash_api_key(&key), &key_hint(&key))
                .await?;
            eprintln!("api key created for user {name}; it is shown only now");
            println!("{key}");
        }
        TokenCommand::Revoke { key: Some(key), .. } => {
            if !store.revoke_api_key(&hash_api_key(key.trim())).await? {
                bail!("no such api key");
            }
            eprintln!("api key revoked");
        }
        TokenCommand::Revoke {
            user: Some(user), ..
        } => {
            let count = store.revoke_user_api_keys(&user).await?;
            eprintln!("{count} api key(s) of user {user} revoked");
        }
        TokenCommand::Revoke { .. } => bail!("give a key or --user"),
        TokenCommand::List => {
            for key in store.list_api_keys().await? {
                println!("{}\t{}…\tcreated {}", key.user, key.hint, key.created_at);
            }
        }
    }
    Ok(())
}

fn parse_network(text: &str) -> anyhow::Result<IpNet> {
    if let Ok(network) = text.parse::<IpNet>() {
        return Ok(network);
    }
    let address: std::net::IpAddr = text
        .parse()
        .with_context(|| format!("{text} is neither an ip address nor a network"))?;
    Ok(IpNet::from(address))
}

pub(super) async fn ip(settings: &Settings, command: IpCommand) -> anyhow::Result<()> {
    let store = open_metadata(settings).await?;
    match command {
        IpCommand::Allow { name, networks } => allow(&store, &name, &networks).await,
        IpCommand::List { user } => {
            let networks = store.list_networks().await?;
            let shown: Vec<_> = networks
                .iter()
                .filter(|entry| user.as_ref().is_none_or(|u| &entry.user == u))
                .collect();
            if shown.is_empty() {
                eprintln!("no ip networks found");
            }
            for entry in shown {
                println!("{} {}", entry.user, entry.network);
            }
            Ok(())
        }
        IpCommand::Remove { name, networks } => {
            let mut missing = 0;
            for text in &networks {
                let network = parse_network(text)?;
                if store.remove_network(&name, network).await? {
                    eprintln!("network {} removed from user {name}", network.trunc());
                } else {
                    eprintln!("user {name} has no network {}", network.trunc());
                    missing += 1;
                }
            }
            if missing > 0 {
                bail!("{missing} network(s) not found");
            }
            Ok(())
        }
    }
}

async fn allow(store: &MetadataStore, name: &str, networks: &[String]) -> anyhow::Result<()> {
    let mut refused = 0;
    for text in networks {
        let network = parse_network(text)?;
        match store.allow_network(name, network).await {
            Ok(()) => eprintln!("network {} now acts as user {name}", network.trunc()),
            Err(Error::AlreadyExists(message)) => {
                eprintln!("{message}; skipped");
                refused += 1;
            }
            Err(other) => return Err(other.into()),
        }
    }
    if refused > 0 {
        bail!("{refused} network(s) already assigned");
    }
    Ok(())
}

pub(super) async fn cassandra(
    settings: &Settings,
    command: CassandraCommand,
) -> anyhow::Result<()> {
    let cassandra = &settings.cassandra;
    if !cassandra.is_configured() {
        bail!(
            "no cassandra nodes configured (cassandra.nodes, or cassandra_servers in an esmond.conf)"
        );
    }
    match command {
        CassandraCommand::Init => {
            cassandra.init_schema().await?;
            eprintln!(
                "keyspace {} and its tables are in place",
                cassandra.keyspace
            );
        }
        CassandraCommand::SetReplicas { replicas } => {
            anyhow::ensure!(replicas > 0, "the replication factor must be at least 1");
            let before = cassandra.status().await?.replication;
            let replication = cassandra.set_replicas(replicas).await?;
            println!(
                "keyspace {} replication is now {}",
                cassandra.keyspace,
                replication.to_cql()
            );
            println!("with every node up, run on each node in turn:");
            for node in &cassandra.nodes {
                let host = node
                    .rsplit_once(':')
                    .map_or(node.as_str(), |(host, _)| host);
                println!("  nodetool -h {host} repair -full {}", cassandra.keyspace);
            }
            let lowered = before
                .as_ref()
                .and_then(|options| options.iter().find(|(key, _)| *key != "class"))
                .and_then(|(_, factor)| factor.parse::<u32>().ok())
                .is_some_and(|factor| replicas < factor);
            if lowered {
                println!(
                    "the factor went down: then run `nodetool cleanup {}` on each node",
                    cassandra.keyspace
                );
            }
        }
        CassandraCommand::Status => {
            let status = cassandra.status().await?;
            for (address, datacenter, up) in &status.nodes {
                let state = if *up { "up" } else { "down" };
                println!(
                    "{address}\t{}\t{state}",
                    datacenter.as_deref().unwrap_or("-")
                );
            }
            match status.replication {
                Some(options) => {
                    let mut options: Vec<_> = options.into_iter().collect();
                    options.sort();
                    let text: Vec<String> = options
                        .iter()
                        .map(|(key, value)| format!("{key}={value}"))
                        .collect();
                    println!("keyspace {}: {}", cassandra.keyspace, text.join(" "));
                }
                None => println!(
                    "keyspace {}: missing (run esmond-rs cassandra init)",
                    cassandra.keyspace
                ),
            }
        }
    }
    Ok(())
}
