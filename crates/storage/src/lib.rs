//! Time series of esmond-rs: base points and summary bins behind one storage contract, kept in the
//! embedded SQLite file or in Cassandra.
//!
//! Layout: empty so far. The storage contract and its embedded backend arrive with the
//! time-series routes; the Cassandra backend after them. `tests/cassandra.rs` already proves
//! that the test command's Cassandra answers CQL through the `scylla` driver.
