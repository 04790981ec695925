//! Host name resolution for the `source`, `destination` and `measurement-agent` filters
//! (esmond-api.md §6.2): the first address of each family, chosen by `dns-match-rule`, with a
//! timeout so that a slow resolver cannot hold a search for long.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;

/// Resolves host names with the system's resolver configuration and hosts file.
#[derive(Clone)]
pub struct HostResolver {
    resolver: Arc<TokioResolver>,
    timeout: Duration,
}

impl std::fmt::Debug for HostResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostResolver")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Address family of one lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl HostResolver {
    /// Returns a resolver reading `/etc/resolv.conf` and `/etc/hosts`; without a usable
    /// `resolv.conf` only the hosts file and literals resolve.
    pub fn system(timeout: Duration) -> HostResolver {
        let provider = TokioConnectionProvider::default();
        let mut builder = TokioResolver::builder(provider.clone()).unwrap_or_else(|error| {
            tracing::warn!(%error, "no usable resolver configuration, resolving from the hosts file only");
            TokioResolver::builder_with_config(ResolverConfig::new(), provider)
        });
        let options: &mut ResolverOpts = builder.options_mut();
        options.timeout = timeout;
        options.attempts = 1;
        HostResolver {
            resolver: Arc::new(builder.build()),
            timeout,
        }
    }

    /// Returns the addresses `host` stands for under `rule`, or esmond's error message.
    pub(crate) async fn resolve(
        &self,
        host: &str,
        rule: Option<&str>,
    ) -> Result<Vec<IpAddr>, String> {
        let families: &[Family] = match rule.unwrap_or("v4v6") {
            "v4v6" => &[Family::V6, Family::V4],
            "only-v4" => &[Family::V4],
            "only-v6" => &[Family::V6],
            "prefer-v4" => &[Family::V4, Family::V6],
            "prefer-v6" => &[Family::V6, Family::V4],
            other => return Err(format!("Invalid dns-match-rule parameter {other}")),
        };
        let take_all = rule.is_none_or(|rule| rule == "v4v6");
        let mut addresses = Vec::with_capacity(2);
        for &family in families {
            if let Some(address) = self.first(host, family).await {
                addresses.push(address);
                if !take_all {
                    break;
                }
            }
        }
        if addresses.is_empty() {
            return Err(format!("Unable to find address for host {host}"));
        }
        Ok(addresses)
    }

    /// Returns the first address of one family, as `getaddrinfo` would list it first.
    async fn first(&self, host: &str, family: Family) -> Option<IpAddr> {
        if let Ok(literal) = host.parse::<IpAddr>() {
            // A literal resolves only within its own family, as with getaddrinfo.
            return (literal.is_ipv4() == (family == Family::V4)).then_some(literal);
        }
        if host.trim().is_empty() {
            return None;
        }
        let lookup = async {
            match family {
                Family::V4 => self
                    .resolver
                    .ipv4_lookup(host)
                    .await
                    .ok()?
                    .iter()
                    .next()
                    .map(|a| IpAddr::V4(a.0)),
                Family::V6 => self
                    .resolver
                    .ipv6_lookup(host)
                    .await
                    .ok()?
                    .iter()
                    .next()
                    .map(|a| IpAddr::V6(a.0)),
            }
        };
        tokio::time::timeout(self.timeout, lookup)
            .await
            .ok()
            .flatten()
    }
}
