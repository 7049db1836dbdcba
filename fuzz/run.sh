#!/usr/bin/env bash
# Fuzzes every cargo-fuzz target for FUZZ_SECONDS seconds each (default 60; FUZZ_SECONDS=5 is
# a smoke run), starting from the committed seeds in fuzz/seeds/<target>/ plus whatever
# fuzz/corpus/<target>/ holds from earlier runs, with the target's dictionary from fuzz/dict/.
# Stable Rust: no sanitizer (`-s none`); debug assertions and overflow checks stay on.
#
#   bash fuzz/run.sh                      # all targets, 60 s each
#   FUZZ_SECONDS=600 bash fuzz/run.sh jsv # one target, longer
#
# New interesting inputs go to fuzz/corpus/<target>/ (git-ignored; the seeds are never written
# to). A crash stops that target, leaves its input in fuzz/artifacts/<target>/crash-<sha1> and
# makes the script exit non-zero after the remaining targets have run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

seconds="${FUZZ_SECONDS:-60}"
all_targets=(jsv jsv_roundtrip bind_json bind_form negotiate_route xml pipeline message_text multipart)
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=("${all_targets[@]}")
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

dict_for() {
    case "$1" in
        jsv) echo jsv.dict ;;
        bind_json) echo json.dict ;;
        xml) echo xml.dict ;;
        pipeline | bind_form) echo http.dict ;;
        message_text) echo message_text.dict ;;
        *) echo "" ;;
    esac
}

cargo fuzz build -s none

failed=()
for target in "${targets[@]}"; do
    echo "=== fuzz ${target}: ${seconds}s"
    mkdir -p "fuzz/corpus/${target}"
    args=(-max_total_time="${seconds}" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1)
    dict="$(dict_for "${target}")"
    if [ -n "${dict}" ]; then
        args+=(-dict="fuzz/dict/${dict}")
    fi
    # The first corpus directory is the one libFuzzer writes to: keep the seeds read-only.
    if ! cargo fuzz run -s none "${target}" "fuzz/corpus/${target}" "fuzz/seeds/${target}" -- "${args[@]}"; then
        failed+=("${target}")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]} (inputs in fuzz/artifacts/<target>/)" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} target(s), ${seconds}s each, no crashes"
