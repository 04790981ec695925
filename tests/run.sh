#!/usr/bin/env bash
# The one test command: static checks, the whole Rust suite, the esmond-client compatibility
# tests, and the Cassandra smoke test. It installs and starts what it needs (Python packages in a
# virtualenv, Cassandra 5.0 jars through Maven, a throw-away Cassandra node on loopback), reusing
# what an earlier run left in place.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
cassandra=tests/scripts/cassandra.sh

step() { printf '\n==> %s (%ds)\n' "$*" "$SECONDS" >&2; }

cleanup() {
    "$cassandra" wipe >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "static checks"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings

# Cassandra boots while the Rust suite compiles and runs.
step "starting cassandra"
"$cassandra" fetch
"$cassandra" wipe >/dev/null 2>&1 || true
"$cassandra" init 1
"$cassandra" start 1

step "rust tests"
cargo test --workspace

step "esmond-client 4.2.1 against esmond-rs"
cargo build --bin esmond-rs
tests/python/run-esmond-client.sh target/debug/esmond-rs

step "cassandra smoke test"
"$cassandra" wait 1 240
CASSANDRA_URI=127.0.0.1:9042 cargo test -p esmond-storage --test cassandra -- --ignored

step "all tests passed"
