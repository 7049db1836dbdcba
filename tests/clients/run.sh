#!/usr/bin/env bash
# Client conformance: drives a real customerlink server with the official ServiceStack clients,
# Python (PyPI `servicestack`, tests/clients/python) and TypeScript (npm `@servicestack/client`,
# tests/clients/typescript).
#
#   bash tests/clients/run.sh [path/to/customerlink]     (default: target/debug/customerlink)
#
# Builds no Rust: pass a built binary. Installs the client dependencies when missing or stale
# (a venv in tests/clients/python/.venv; `npm ci` in tests/clients/typescript), starts the server
# on a fresh temporary data folder and a free loopback port, runs pytest and then the node tests
# against it, and always stops the server. Exits non-zero when any suite failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-target/debug/customerlink}"
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac
if [[ ! -x "$bin" ]]; then
    echo "run.sh: no executable at $bin (build it first: cargo build)" >&2
    exit 2
fi

# --- client dependencies (idempotent) ---------------------------------------------------------
py="$here/python"
venv="$py/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if ! cmp -s "$py/requirements.txt" "$venv/.installed-requirements.txt"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$py/requirements.txt"
    cp "$py/requirements.txt" "$venv/.installed-requirements.txt"
fi

ts="$here/typescript"
if [[ ! -f "$ts/node_modules/.package-lock.json" || "$ts/package-lock.json" -nt "$ts/node_modules/.package-lock.json" ]]; then
    (cd "$ts" && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- the server -------------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/customerlink-clients.XXXXXX")"
data="$work/data"
log="$work/server.log"
server_pid=""

stop_server() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        local rc=0
        wait "$server_pid" || rc=$?
        if [[ $rc -ne 0 ]]; then
            echo "run.sh: the server exited with status $rc after SIGTERM" >&2
        fi
    fi
    server_pid=""
}
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$bin" serve --listen 127.0.0.1:0 --data "$data" --log-level info 2>"$log" >/dev/null &
server_pid=$!

addr=""
for _ in $(seq 1 200); do
    addr="$(grep -o 'address=127\.0\.0\.1:[0-9]*' "$log" | head -n 1 | cut -d= -f2 || true)"
    [[ -n "$addr" && -s "$data/initial-api-key" ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "run.sh: the server did not start:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.05
done
if [[ -z "$addr" || ! -s "$data/initial-api-key" ]]; then
    echo "run.sh: the server printed no address or wrote no initial-api-key within 10 s:" >&2
    cat "$log" >&2
    exit 1
fi

export CUSTOMERLINK_URL="http://$addr"
CUSTOMERLINK_KEY="$(cat "$data/initial-api-key")"
export CUSTOMERLINK_KEY
echo "run.sh: customerlink at $CUSTOMERLINK_URL (data $data)"

# --- the suites -------------------------------------------------------------------------------
py_rc=0
echo "=== Python: servicestack JsonServiceClient (pytest) ==="
(cd "$py" && "$venv/bin/python" -m pytest -p no:cacheprovider -rxXfE .) || py_rc=$?

ts_rc=0
echo "=== TypeScript: @servicestack/client JsonServiceClient (node --test) ==="
(cd "$ts" && rm -rf dist && npx --no-install tsc -p tsconfig.json && node --test $(ls dist/*.js | grep -Ev "/(dtos|support)\.js$")) || ts_rc=$?

curl_rc=0
echo "=== curl with JSV bodies (the seed sample) ==="
bash "$(dirname "$0")/curl_jsv.sh" || curl_rc=$?

stop_server

echo "=== client conformance: python exit $py_rc, typescript exit $ts_rc, curl exit $curl_rc ==="
if [[ $py_rc -ne 0 || $ts_rc -ne 0 || $curl_rc -ne 0 ]]; then
    echo "--- server log (last 40 lines) ---"
    tail -n 40 "$log"
    exit 1
fi
