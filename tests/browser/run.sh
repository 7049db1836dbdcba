#!/usr/bin/env bash
# End-to-end browser test of the recipient portal: headless Chromium (Debian's chromium and
# chromium-driver, driven by Selenium) goes through landing → code by email → verify → open →
# the resource application, and through a document share's landing → code → verify → Download
# (the saved bytes compared with the upload), and dev mode's mailbox → portal → /dev/resource,
# against the real customerlink binary; then audits every portal page with axe-core in English
# and Spanish, at 320 px and at desktop width.
#
#   bash tests/browser/run.sh [path/to/customerlink]     (default: target/debug/customerlink)
#
# Builds no Rust: pass a built binary. Installs Chromium and its driver when missing (apt), the
# Python dependencies into tests/browser/.venv and axe-core (npm ci) when missing or stale. The
# test starts and stops everything it needs itself (SMTP sink, stand-in resource app, the
# server, Chromium); screenshots of each page go to tests/browser/output/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-target/debug/customerlink}"
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac
if [[ ! -x "$bin" ]]; then
    echo "run.sh: no executable at $bin (build it first: cargo build)" >&2
    exit 2
fi

# --- Chromium and chromedriver (Debian packages) ----------------------------------------------
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # No recommends (printer, desktop bits); fonts-liberation is the one recommend a page needs.
    apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-liberation >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null  # (its launcher script warns about /dev/shm on stderr)

# --- Python dependencies (idempotent) ---------------------------------------------------------
venv="$here/.venv"
python3 -c 'import ensurepip' 2>/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
}
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if ! cmp -s "$here/requirements.txt" "$venv/.installed-requirements.txt"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/.installed-requirements.txt"
fi

# --- axe-core (npm, pinned by package-lock.json; idempotent) --------------------------------
if [[ ! -f "$here/node_modules/.package-lock.json" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
export AXE_JS="$here/node_modules/axe-core/axe.min.js"

# --- the test ---------------------------------------------------------------------------------
rm -rf "$here/output"
mkdir -p "$here/output"
export CUSTOMERLINK_BIN="$bin"
export CUSTOMERLINK_POLICY_TEMPLATE="$root/data/policy.toml"
export BROWSER_TEST_OUTPUT="$here/output"
# Selenium must not look for (or download) a driver of its own: the paths are given.
export SE_OFFLINE=true
export PYTHONDONTWRITEBYTECODE=1
cd "$here"
timeout --kill-after=10 300 "$venv/bin/python" -m pytest -p no:cacheprovider -rfE -v --tb=short test_portal_browser.py
