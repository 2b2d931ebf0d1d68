#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan and UBSan) and runs each on a copy of its
# seed corpus for SECONDS (default 6). Fails on any crash, leak, sanitizer report or broken
# property, and leaves the input that found it in build-fuzz/findings/.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/scripts/lib.sh"
install_packages clang libclang-rt-14-dev
seconds="${1:-6}"
build="${PALLET_FUZZ_BUILD_DIR:-$repo/build-fuzz}"
CXX=clang++ cmake -S "$repo" -B "$build" -DPALLET_FUZZ=ON -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target invocation_fuzz env_file_fuzz url_fuzz parsing_fuzz \
    records_fuzz >"$build/build.log" 2>&1 || { tail -30 "$build/build.log" >&2; exit 1; }
mkdir -p "$build/findings"
failed=0
for target in invocation env_file url parsing records; do
    corpus="$(mktemp -d)"
    cp "$repo/fuzz/corpus/$target/"* "$corpus/"
    log="$build/findings/$target.log"
    if (cd "$build/findings" && "$build/fuzz/${target}_fuzz" -max_total_time="$seconds" -timeout=10 \
            -rss_limit_mb=2048 -print_final_stats=1 "$corpus" >"$log" 2>&1); then
        echo "fuzz: $target: $(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log") runs in ${seconds}s, nothing found"
    else
        echo "fuzz: $target: FOUND A PROBLEM (input in $build/findings):" >&2
        grep -E 'ERROR|SUMMARY|property|runtime error' "$log" | head -5 >&2
        failed=1
    fi
    rm -rf "$corpus"
done
exit "$failed"
