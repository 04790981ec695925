//! API keys: generated from the OS random source, shown once, stored as SHA-256 digests.

use rand::TryRngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Number of leading key characters kept in clear so that operators can tell keys apart.
pub const HINT_LENGTH: usize = 6;

/// Returns a new key: 40 lowercase hex characters from 20 random bytes, as esmond's keys are.
pub fn generate_api_key() -> String {
    let mut bytes = [0u8; 20];
    OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random source is readable");
    hex::encode(bytes)
}

/// Returns the digest under which a key is stored.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Returns the clear prefix of a key.
pub fn key_hint(key: &str) -> String {
    key.chars().take(HINT_LENGTH).collect()
}

/// Compares two digests in constant time.
pub fn digests_match(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_look_like_esmond_keys_and_differ() {
        let (a, b) = (generate_api_key(), generate_api_key());
        assert_eq!(a.len(), 40);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn digests_are_stable_and_compared_exactly() {
        let key = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(hash_api_key(key), hash_api_key(key));
        assert!(digests_match(&hash_api_key(key), &hash_api_key(key)));
        assert!(!digests_match(&hash_api_key(key), &hash_api_key("other")));
        assert_eq!(key_hint(key), "012345");
    }
}
