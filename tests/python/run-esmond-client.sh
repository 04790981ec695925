#!/usr/bin/env bash
# Runs the esmond-client compatibility tests against a real esmond-rs binary: a fresh data
# directory, a free loopback port, a key made with `esmond-rs token create`.
# usage: run-esmond-client.sh path/to/esmond-rs
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
binary=$(realpath "${1:?usage: run-esmond-client.sh path/to/esmond-rs}")
venv=${ESMOND_CLIENT_VENV:-$here/../.venv}
"$here/setup-esmond-client.sh"

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$binary" --data-dir "$work/data" serve --listen "127.0.0.1:$port" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
    if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/esmond/perfsonar/')" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
key=$("$binary" --data-dir "$work/data" token create esmond-client-test)

status=0
for suite in test_esmond_client_metadata.py test_esmond_client_data.py; do
    ESMOND_URL="http://127.0.0.1:$port" ESMOND_KEY="$key" "$venv/bin/python" -W error "$here/$suite" || status=$?
done
if [[ $status -ne 0 ]]; then
    echo "--- server log ---" >&2
    tail -n 50 "$work/server.log" >&2
fi
exit $status
