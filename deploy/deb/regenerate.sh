#!/usr/bin/env bash
# Rewrites the completions and the man page the Debian package ships from the binary's own
# output, after a flag or command changed (tests/packaging.rs fails until this is run).
#
#   bash deploy/deb/regenerate.sh [BINARY]      # default: cargo build, target/debug/customerlink
set -euo pipefail
cd "$(dirname "$0")"
bin=${1:-}
if [ -z "$bin" ]; then
  cargo build --quiet --bin customerlink
  bin=../../target/debug/customerlink
fi
"$bin" completions bash > completions/customerlink.bash
"$bin" completions zsh > completions/_customerlink
"$bin" completions fish > completions/customerlink.fish
"$bin" man > customerlink.1
