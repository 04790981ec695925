//! Who is asking (esmond-api.md §3): an `Authorization: Token <key>` header, or else the client
//! address matched against the users' IP networks.
//!
//! A node trusts a key it has found valid for [`KeyCache`]'s lifetime, so that a write costs no
//! SQL round trip for its key; unknown, revoked and inactive keys are never cached.
//!
//! Unlike esmond, `X-Forwarded-For` is believed only when the peer is a configured trusted proxy,
//! and then the client is the rightmost address that is not itself a trusted proxy.

use std::net::IpAddr;
use std::time::Duration;

use esmond_metadata::MetadataStore;
use esmond_metadata::auth::hash_api_key;
use ipnet::IpNet;
use moka::future::Cache;

use crate::error::ApiError;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// The user name.
    pub(crate) user: String,
}

/// Keys a node trusts without asking the store: at most this many.
const KEY_CACHE_CAPACITY: u64 = 10_000;

/// API keys this node found valid recently, by hash, with their user; cheap to clone.
#[derive(Debug, Clone)]
pub struct KeyCache {
    users: Option<Cache<String, String>>,
}

impl KeyCache {
    /// Returns a cache that trusts a checked key for `lifetime`; zero checks every request.
    pub fn new(lifetime: Duration) -> KeyCache {
        let users = (!lifetime.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(KEY_CACHE_CAPACITY)
                .time_to_live(lifetime)
                .build()
        });
        KeyCache { users }
    }

    async fn user(&self, hash: &str) -> Option<String> {
        match &self.users {
            Some(users) => users.get(hash).await,
            None => None,
        }
    }

    async fn remember(&self, hash: String, user: &str) {
        if let Some(users) = &self.users {
            users.insert(hash, user.to_owned()).await;
        }
    }
}

/// What an `Authorization` header says about tokens.
#[derive(Debug, PartialEq, Eq)]
enum TokenHeader<'a> {
    /// No header, or one for another scheme (`Basic`, tastypie's `ApiKey`): fall through to IP.
    Absent,
    /// A well-formed `Token <key>`.
    Key(&'a str),
}

fn parse_token_header(header: Option<&[u8]>) -> Result<TokenHeader<'_>, ApiError> {
    let Some(header) = header else {
        return Ok(TokenHeader::Absent);
    };
    let words: Vec<&[u8]> = header
        .split(u8::is_ascii_whitespace)
        .filter(|word| !word.is_empty())
        .collect();
    match words.as_slice() {
        [scheme, ..] if !scheme.eq_ignore_ascii_case(b"token") => Ok(TokenHeader::Absent),
        [] => Ok(TokenHeader::Absent),
        [_] => Err(ApiError::Unauthorized(
            "Invalid token header. No credentials provided.",
        )),
        [_, key] => std::str::from_utf8(key).map(TokenHeader::Key).map_err(|_| {
            ApiError::Unauthorized(
                "Invalid token header. Token string should not contain invalid characters.",
            )
        }),
        _ => Err(ApiError::Unauthorized(
            "Invalid token header. Token string should not contain spaces.",
        )),
    }
}

/// Checks the token header, if any: a bad one is refused even on reads.
pub(crate) async fn authenticate_token(
    metadata: &MetadataStore,
    keys: &KeyCache,
    header: Option<&[u8]>,
) -> Result<Option<Identity>, ApiError> {
    let TokenHeader::Key(key) = parse_token_header(header)? else {
        return Ok(None);
    };
    let hash = hash_api_key(key);
    if let Some(user) = keys.user(&hash).await {
        return Ok(Some(Identity { user }));
    }
    let Some(user) = metadata.user_for_api_key(&hash).await? else {
        return Err(ApiError::Unauthorized("Invalid token."));
    };
    if !user.active {
        return Err(ApiError::Unauthorized("User inactive or deleted."));
    }
    keys.remember(hash, &user.name).await;
    Ok(Some(Identity { user: user.name }))
}

/// Returns the client address for IP authentication, or `None` when it cannot be told.
pub(crate) fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&[u8]>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |address: &IpAddr| trusted.iter().any(|network| network.contains(address));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let Some(forwarded_for) = forwarded_for.filter(|value| !value.is_empty()) else {
        return Some(peer);
    };
    let hops: Vec<IpAddr> = std::str::from_utf8(forwarded_for)
        .ok()?
        .split(',')
        .map(|hop| hop.trim().parse())
        .collect::<Result<_, _>>()
        .ok()?;
    hops.iter()
        .rev()
        .find(|hop| !is_trusted(hop))
        .or(hops.first())
        .copied()
}

/// Returns the user whose most specific network contains `address`.
pub(crate) async fn authenticate_address(
    metadata: &MetadataStore,
    address: IpAddr,
) -> Result<Option<Identity>, ApiError> {
    let networks = metadata.list_networks().await?;
    let best = networks
        .into_iter()
        .filter(|entry| entry.network.contains(&address))
        .max_by_key(|entry| entry.network.prefix_len());
    Ok(best.map(|entry| Identity { user: entry.user }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_headers_parse_like_drf() {
        assert_eq!(parse_token_header(None).unwrap(), TokenHeader::Absent);
        assert_eq!(
            parse_token_header(Some(b"Basic abc")).unwrap(),
            TokenHeader::Absent
        );
        assert_eq!(
            parse_token_header(Some(b"ApiKey user:key")).unwrap(),
            TokenHeader::Absent
        );
        assert_eq!(
            parse_token_header(Some(b"token abc")).unwrap(),
            TokenHeader::Key("abc")
        );
        assert_eq!(
            parse_token_header(Some(b"Token  abc ")).unwrap(),
            TokenHeader::Key("abc")
        );
        let message = |header: &[u8]| parse_token_header(Some(header)).unwrap_err().to_string();
        assert_eq!(
            message(b"Token"),
            "Invalid token header. No credentials provided."
        );
        assert_eq!(
            message(b"Token a b"),
            "Invalid token header. Token string should not contain spaces."
        );
        assert_eq!(
            message(b"Token \xff\xfe"),
            "Invalid token header. Token string should not contain invalid characters."
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "127.0.0.2".parse().unwrap();
        let trusted: Vec<IpNet> = vec![
            "127.0.0.2/32".parse().unwrap(),
            "10.9.0.0/16".parse().unwrap(),
        ];
        let client = |peer: IpAddr, header: &str| {
            client_address(Some(peer), Some(header.as_bytes()), &trusted)
        };
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(client(other, "10.0.0.1"), Some(other));
        assert_eq!(client(proxy, "10.0.0.1"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(
            client(proxy, "10.0.0.1, 198.51.100.4, 10.9.1.1"),
            Some("198.51.100.4".parse().unwrap())
        );
        assert_eq!(client(proxy, "10.0.0.1, nonsense"), None);
        assert_eq!(client_address(Some(proxy), None, &trusted), Some(proxy));
        assert_eq!(client_address(None, Some(b"10.0.0.1"), &trusted), None);
    }
}
