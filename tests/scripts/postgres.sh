#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on a loopback port owned by the test run, from Debian's
# packages (installed with apt-get when missing).
#
#   postgres.sh start     install if needed, initdb if needed, start, wait until it answers
#   postgres.sh stop      fast shutdown (for restart tests; data kept)
#   postgres.sh restart   stop, then start
#   postgres.sh url       print the superuser URL the tests use
#   postgres.sh psql ...  run psql against the cluster
#   postgres.sh wipe      stop and delete the cluster
#
# Environment:
#   ESMOND_PG_RUN_DIR  cluster directory   (<repo>/target/postgres-run)
#   ESMOND_PG_PORT     port on 127.0.0.1   (55432)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
run_dir=$(realpath -m "${ESMOND_PG_RUN_DIR:-$repo/target/postgres-run}")
port=${ESMOND_PG_PORT:-55432}
data=$run_dir/data
log=$run_dir/server.log

note() { echo "postgres.sh: $*" >&2; }
die() { note "$*"; exit 1; }

bin_dir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n $dir && -x $dir/pg_ctl ]] && echo "$dir"
}

install() {
    if bin_dir >/dev/null; then return; fi
    note "installing postgresql from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The package's own cluster is not used; the test run makes its own.
    apt-get install -y -qq postgresql >/dev/null
    bin_dir >/dev/null || die "postgresql did not install"
}

# initdb and the server refuse to run as root: use the package's postgres account then.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

ready() { as_owner "$(bin_dir)/pg_isready" -q -h 127.0.0.1 -p "$port"; }

start() {
    install
    local bin; bin=$(bin_dir)
    mkdir -p "$run_dir"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$run_dir"
    if [[ ! -f $data/PG_VERSION ]]; then
        as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
    fi
    if ready 2>/dev/null; then
        note "already running on 127.0.0.1:$port"
        return
    fi
    # Durability is not under test here: fsync off keeps the suite fast on small disks.
    as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$run_dir -c fsync=off -c max_connections=300" >/dev/null
    local started=$SECONDS
    until ready; do
        (( SECONDS - started < 60 )) || die "not ready after 60 s; see $log"
        sleep 0.2
    done
    note "ready on 127.0.0.1:$port"
}

stop() {
    local bin; bin=$(bin_dir) || return 0
    [[ -f $data/postmaster.pid ]] || return 0
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    url) echo "postgres://postgres@127.0.0.1:$port/postgres" ;;
    psql) shift; as_owner "$(bin_dir)/psql" -h 127.0.0.1 -p "$port" -U postgres -X -q "$@" ;;
    wipe) stop; rm -rf "$run_dir" ;;
    *) die "usage: postgres.sh start|stop|restart|url|psql|wipe" ;;
esac
