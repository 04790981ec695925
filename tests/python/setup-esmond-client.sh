#!/usr/bin/env bash
# Installs the published esmond-client 4.2.1 into a virtualenv for the compatibility tests.
#
# That release is Python 2 source; it is converted with Python 3.11's 2to3 (lib2to3) and installed
# unchanged otherwise, so the tests exercise the client's own logic. The virtualenv is reused
# between runs once complete.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
venv=${ESMOND_CLIENT_VENV:-$here/../.venv}
version=4.2.1
marker=$venv/.esmond-client-$version

if [[ -f $marker ]]; then
    exit 0
fi

# lib2to3 ships with Python up to 3.12; prefer 3.11 as the issue asks.
python=""
for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import lib2to3, venv' 2>/dev/null; then
        python=$candidate
        break
    fi
done
if [[ -z $python ]]; then
    echo "setup-esmond-client: installing python3-venv (no python with lib2to3 and venv found)" >&2
    apt-get update -qq && apt-get install -y -qq python3-venv python3-lib2to3 >/dev/null
    python=python3
fi

rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check requests python-dateutil

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
    "esmond-client==$version" -d "$work"
tar -xzf "$work/esmond_client-$version.tar.gz" -C "$work"
source_dir=$work/esmond_client-$version
# -n: no backups; -w: write the converted files in place.
"$python" -m lib2to3 -w -n "$source_dir/esmond_client" >/dev/null 2>"$work/2to3.log" || {
    cat "$work/2to3.log" >&2
    exit 1
}
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "$source_dir"
"$venv/bin/python" -c 'from esmond_client.perfsonar.query import ApiConnect, ApiFilters'
touch "$marker"
echo "setup-esmond-client: esmond-client $version installed in $venv" >&2
