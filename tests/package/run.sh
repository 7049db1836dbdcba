#!/usr/bin/env bash
# The Debian package, installed for real: builds it with `cargo deb` from an already built
# binary, installs it with `dpkg -i`, checks that the service answers /health/ready — under
# systemd when systemd runs here, else the installed binary started the way the unit starts it
# (as the customerlink user, umask 0077, the unit's arguments) — then removes the package
# (data, config and user stay) and purges it (all gone). Needs root, dpkg, adduser and curl.
#
#   bash tests/package/run.sh [BINARY]      # default target/debug/customerlink
#
# CI packages the debug binary it already built (into the `package-test` profile's folder,
# which nothing else uses): this tests the packaging — files, modes, scripts, the unit — not the
# optimiser, and costs no second build. `cargo deb` alone builds the release profile.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-target/debug/customerlink}
[ "$(id -u)" = 0 ] || { echo "package test: needs root (dpkg -i)" >&2; exit 1; }
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked

fail() { echo "package test: FAIL: $*" >&2; exit 1; }
owner_mode() { stat -c '%U:%G %a' "$1"; }

out=target/package-test
rm -rf "$out" && mkdir -p "$out"
install -m 0755 "$BIN" "$out/customerlink"
cargo deb --profile package-test --no-build --fast --output "$out/customerlink.deb"
dpkg --purge customerlink >/dev/null 2>&1 || true   # a run that stopped half-way

dpkg -i "$out/customerlink.deb"
[ -x /usr/bin/customerlink ] || fail "no /usr/bin/customerlink"
/usr/bin/customerlink --version
getent passwd customerlink | grep -q ':/var/lib/customerlink:/usr/sbin/nologin$' \
  || fail "system user: $(getent passwd customerlink)"
[ "$(owner_mode /etc/customerlink/customerlink.toml)" = "root:customerlink 640" ] \
  || fail "config: $(owner_mode /etc/customerlink/customerlink.toml)"
for f in /usr/share/man/man1/customerlink.1* /usr/share/bash-completion/completions/customerlink \
  /usr/share/zsh/vendor-completions/_customerlink /usr/share/fish/vendor_completions.d/customerlink.fish; do
  [ -f "$f" ] || fail "missing $f"
done
unit=$(dpkg -L customerlink | grep '/systemd/system/customerlink.service$') || fail "no unit"
grep -q '^UMask=0077$' "$unit" && grep -q '^StateDirectory=customerlink$' "$unit" \
  && grep -q '^User=customerlink$' "$unit" || fail "unit not hardened: $unit"

wait_ready() {
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$1/health/ready")" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

if [ -d /run/systemd/system ] && systemctl is-system-running >/dev/null 2>&1; then
  echo "package test: systemd runs here; the package started the unit"
  wait_ready 127.0.0.1:8080 || { journalctl -u customerlink --no-pager | tail -20; fail "not ready"; }
  systemctl is-enabled customerlink
  systemctl stop customerlink
else
  echo "package test: no systemd; starting the installed binary as the unit does"
  # What StateDirectory= and the unit's User=, UMask= and ExecStart= do. The port alone is
  # the test's (8080 may be taken on a CI machine).
  install -d -m 0700 -o customerlink -g customerlink /var/lib/customerlink
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
  CUSTOMERLINK_LISTEN="127.0.0.1:$port" setpriv --reuid=customerlink --regid=customerlink \
    --init-groups --inh-caps=-all -- sh -c "umask 0077; exec $exec_start" &
  pid=$!
  wait_ready "127.0.0.1:$port" || { kill "$pid" 2>/dev/null; fail "not ready"; }
  kill -TERM "$pid" && wait "$pid" || fail "did not stop cleanly on SIGTERM"
fi
for f in customerlink.redb master.key initial-api-key; do
  [ "$(owner_mode "/var/lib/customerlink/$f")" = "customerlink:customerlink 600" ] \
    || fail "$f: $(owner_mode "/var/lib/customerlink/$f")"
done

dpkg -r customerlink
[ ! -e /usr/bin/customerlink ] || fail "remove left the binary"
[ -f /var/lib/customerlink/customerlink.redb ] || fail "remove deleted the data"
[ -f /etc/customerlink/customerlink.toml ] || fail "remove deleted the config"
getent passwd customerlink >/dev/null || fail "remove deleted the user"

dpkg --purge customerlink
[ ! -e /var/lib/customerlink ] || fail "purge left /var/lib/customerlink"
[ ! -e /etc/customerlink ] || fail "purge left /etc/customerlink"
! getent passwd customerlink >/dev/null || fail "purge left the user"
! getent group customerlink >/dev/null || fail "purge left the group"
[ ! -e /etc/systemd/system/multi-user.target.wants/customerlink.service ] \
  || fail "purge left the unit enabled"
echo "package test: OK"
