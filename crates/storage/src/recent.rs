//! A node's memory of writes it need not repeat, and of points it need not read again: a bounded
//! set or map that forgets old entries.
//!
//! The write path asks it a few times per series and request. It keeps two generations of
//! entries: a lookup checks both, an insert goes to the newer, and the older is dropped whole
//! when the newer is half the capacity or half the lifetime old. So an entry is kept for at
//! least half the lifetime (unless the set fills), at most the whole of it. Forgetting early only
//! costs a repeated write, never a skipped one. A lookup borrows its key: nothing is allocated
//! to ask.

use std::hash::Hash;
use std::mem;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use hashbrown::{Equivalent, HashMap};

use crate::SeriesKey;

/// The borrowed form of a `(SeriesKey, T)` entry: finds a series' entry without copying its
/// names.
#[derive(Debug, Hash)]
pub(crate) struct SeriesAt<'a, T>(pub(crate) &'a SeriesKey, pub(crate) T);

impl<T: PartialEq> Equivalent<(SeriesKey, T)> for SeriesAt<'_, T> {
    fn equivalent(&self, key: &(SeriesKey, T)) -> bool {
        *self.0 == key.0 && self.1 == key.1
    }
}

/// A bounded map of recent entries; see the module documentation.
#[derive(Debug)]
pub(crate) struct RecentMap<K, V> {
    generations: Mutex<Generations<K, V>>,
    /// Entries per generation before it is retired.
    half_capacity: usize,
    /// Age at which a generation is retired.
    half_lifetime: Duration,
    /// Whether a lookup that finds an entry keeps it for another generation (remembered for as
    /// long as it is used) or not (remembered for at most the lifetime after its insert).
    renew_on_use: bool,
}

#[derive(Debug)]
struct Generations<K, V> {
    newer: Generation<K, V>,
    older: Generation<K, V>,
}

#[derive(Debug)]
struct Generation<K, V> {
    entries: HashMap<K, V>,
    /// When the first of `entries` could have been inserted.
    started: Instant,
}

impl<K, V> Generation<K, V> {
    fn new() -> Generation<K, V> {
        Generation {
            entries: HashMap::new(),
            started: Instant::now(),
        }
    }
}

impl<K: Hash + Eq, V> RecentMap<K, V> {
    /// Returns an empty map of at most `capacity` entries, each kept at most `lifetime` after it
    /// was inserted (after it was last found, with `renew_on_use`).
    pub(crate) fn new(capacity: usize, lifetime: Duration, renew_on_use: bool) -> RecentMap<K, V> {
        RecentMap {
            generations: Mutex::new(Generations {
                newer: Generation::new(),
                older: Generation::new(),
            }),
            half_capacity: (capacity / 2).max(1),
            half_lifetime: lifetime / 2,
            renew_on_use,
        }
    }

    /// Locks the generations, first retiring the newer one if it is full or half the lifetime
    /// old, and forgetting the older one if it is past the lifetime.
    fn lock(&self) -> std::sync::MutexGuard<'_, Generations<K, V>> {
        // Every change leaves both maps whole: a panic elsewhere cannot corrupt them.
        let mut generations = self
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if generations.newer.entries.len() >= self.half_capacity
            || generations.newer.started.elapsed() >= self.half_lifetime
        {
            generations.older = mem::replace(&mut generations.newer, Generation::new());
        }
        // After a long quiet spell the older generation may be past the lifetime too.
        if generations.older.started.elapsed() >= self.half_lifetime * 2 {
            generations.older.entries.clear();
        }
        generations
    }

    /// Calls `visit` with the value remembered for `key`, if any, and returns what it returns.
    /// The map stays locked meanwhile: `visit` must be quick.
    pub(crate) fn with<Q, R>(&self, key: &Q, visit: impl FnOnce(Option<&mut V>) -> R) -> R
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let mut generations = self.lock();
        let generations = &mut *generations;
        if let Some(value) = generations.newer.entries.get_mut(key) {
            return visit(Some(value));
        }
        if !self.renew_on_use {
            return visit(generations.older.entries.get_mut(key));
        }
        match generations.older.entries.remove_entry(key) {
            Some((key, value)) => {
                let value = generations
                    .newer
                    .entries
                    .entry(key)
                    .insert(value)
                    .into_mut();
                visit(Some(value))
            }
            None => visit(None),
        }
    }

    /// Remembers `value` for `key`, in place of any value before.
    pub(crate) fn insert(&self, key: K, value: V) {
        let mut generations = self.lock();
        generations.older.entries.remove(&key);
        generations.newer.entries.insert(key, value);
    }
}

/// A bounded set of recent entries; see the module documentation.
#[derive(Debug)]
pub(crate) struct RecentSet<K>(RecentMap<K, ()>);

impl<K: Hash + Eq> RecentSet<K> {
    /// Returns an empty set of at most `capacity` entries, each kept at most `lifetime` after it
    /// was inserted (after it was last found, with `renew_on_use`).
    pub(crate) fn new(capacity: usize, lifetime: Duration, renew_on_use: bool) -> RecentSet<K> {
        RecentSet(RecentMap::new(capacity, lifetime, renew_on_use))
    }

    /// Returns whether `key` is remembered.
    pub(crate) fn contains<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> bool {
        self.0.with(key, |found| found.is_some())
    }

    /// Remembers `key`.
    pub(crate) fn insert(&self, key: K) {
        self.0.insert(key, ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(metadata_key: &str, event_type: &str) -> SeriesKey {
        SeriesKey {
            metadata_key: metadata_key.to_owned(),
            event_type: event_type.to_owned(),
        }
    }

    #[test]
    fn finds_an_owned_entry_by_its_borrowed_form() {
        let set = RecentSet::new(100, Duration::from_secs(60), false);
        set.insert((series("a", "packet-count-sent"), (0, 7)));
        assert!(set.contains(&SeriesAt(&series("a", "packet-count-sent"), (0, 7))));
        assert!(!set.contains(&SeriesAt(&series("a", "packet-count-sent"), (0, 8))));
        assert!(!set.contains(&SeriesAt(&series("a", "packet-count-lost"), (0, 7))));
        assert!(!set.contains(&SeriesAt(&series("b", "packet-count-sent"), (0, 7))));
    }

    #[test]
    fn a_full_generation_is_retired_and_the_one_before_it_dropped() {
        let set = RecentSet::new(4, Duration::from_secs(3600), false);
        set.insert(1);
        set.insert(2);
        // The newer generation is full: it becomes the older one.
        set.insert(3);
        assert!(set.contains(&1) && set.contains(&2) && set.contains(&3));
        set.insert(4);
        // Retired again: 1 and 2 are gone.
        set.insert(5);
        assert!(!set.contains(&1) && !set.contains(&2));
        assert!(set.contains(&3) && set.contains(&4) && set.contains(&5));
    }

    #[test]
    fn entries_expire_with_the_lifetime_unless_renewed_by_use() {
        // Long enough steps that a slow sleep cannot skip a generation.
        let lifetime = Duration::from_secs(1);
        let plain = RecentSet::new(100, lifetime, false);
        let renewed = RecentSet::new(100, lifetime, true);
        plain.insert(1);
        renewed.insert(1);
        for _ in 0..4 {
            std::thread::sleep(lifetime / 4);
            assert!(renewed.contains(&1));
        }
        std::thread::sleep(lifetime / 4);
        assert!(!plain.contains(&1));
        assert!(renewed.contains(&1));
        std::thread::sleep(lifetime + lifetime / 4);
        assert!(!renewed.contains(&1));
    }
}
