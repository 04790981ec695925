#!/usr/bin/env bash
# The one test command: static checks, the whole Rust suite against the embedded store, again
# with PostgreSQL, and again with PostgreSQL and Cassandra; the PostgreSQL outage tests; the
# esmond-client compatibility tests; the Cassandra backend tests; and, on a 3-node Cassandra
# cluster, a driver failover test and the clustered deployment (two esmond-rs nodes behind
# HAProxy) through node failures. It installs and starts what it needs (PostgreSQL from Debian's
# packages, Python packages in a virtualenv, Cassandra 5.0 jars through Maven, throw-away
# PostgreSQL and Cassandra servers on loopback), reusing what an earlier run left in place.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
cassandra=tests/scripts/cassandra.sh
postgres=tests/scripts/postgres.sh

# On CI every build starts from nothing: incremental state is only written, never reused.
if [[ ${CI:-} == true ]]; then export CARGO_INCREMENTAL=0; fi

step() { printf '\n==> %s (%ds)\n' "$*" "$SECONDS" >&2; }

cleanup() {
    "$cassandra" wipe >/dev/null 2>&1 || true
    "$postgres" wipe >/dev/null 2>&1 || true
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

step "starting postgresql"
"$postgres" wipe >/dev/null 2>&1 || true
"$postgres" start
pg_url=$("$postgres" url)

step "rust tests, embedded store"
cargo test --workspace

step "black-box suite again, metadata in postgresql"
ESMOND_TEST_POSTGRES_URL=$pg_url cargo test -p esmond-tests --test api

step "postgresql outage and time-updated load"
ESMOND_TEST_POSTGRES_URL=$pg_url cargo test -p esmond-tests --test postgres -- --ignored --nocapture

step "esmond-client 4.2.1 against esmond-rs"
cargo build --bin esmond-rs
tests/python/run-esmond-client.sh target/debug/esmond-rs

step "cassandra backend tests"
"$cassandra" wait 1 240
CASSANDRA_URI=127.0.0.1:9042 cargo test -p esmond-storage --test cassandra -- --ignored

step "black-box suite again, clustered stores: metadata in postgresql, time series in cassandra"
ESMOND_TEST_POSTGRES_URL=$pg_url ESMOND_TEST_CASSANDRA=127.0.0.1:9042 cargo test -p esmond-tests --test api

step "clustered deployment: 3 cassandra nodes, postgresql, 2 esmond-rs nodes behind haproxy"
if ! command -v haproxy >/dev/null; then
    echo "installing haproxy from Debian's packages" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
fi
"$cassandra" wipe
"$cassandra" init 3
for node in 1 2 3; do
    "$cassandra" start "$node"
    "$cassandra" wait "$node" 240
done
ESMOND_TEST_CASSANDRA_CLUSTER=127.0.0.1:9042,127.0.0.2:9042,127.0.0.3:9042 \
    ESMOND_TEST_POSTGRES_URL=$pg_url ESMOND_RS_BIN="$repo/target/debug/esmond-rs" \
    cargo test -p esmond-tests --test cluster -- --ignored --nocapture

step "all tests passed"
