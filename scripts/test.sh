#!/usr/bin/env bash
# Installs what the tests need, starts a Docker engine if none answers, builds, and runs the
# whole suite (unit and end-to-end) through ctest. CI runs exactly this.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
source "$repo/scripts/lib.sh"

install_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
"$repo/scripts/format.sh" --check
start_engine

# The images the end-to-end tests use, built once per machine (no registry needed): in the
# background while the code compiles and the fuzzers and unit tests run (much of it waits on
# debootstrap's downloads, not on the CPU). The whole suite's, rather than each by the first
# test that needs it; a run of chosen tests (ctest arguments) only the common ones.
image_sets=(conformance nginx)
[ "$#" -gt 0 ] || image_sets+=(nonroot services frameworks acme package swarm)
images_log="$(mktemp)"
"$repo/tests/images/build-images.sh" "${image_sets[@]}" >"$images_log" 2>&1 &
images=$!
trap 'kill "$images" 2>/dev/null || true; rm -f "$images_log"' EXIT

build_dir="${PALLET_TEST_BUILD_DIR:-$repo/build-test}"
werror=OFF
[ "${CI:-}" == "true" ] && werror=ON
cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON -DPALLET_WERROR="$werror" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"

# Fuzzing: each libFuzzer target (ASan, UBSan) on its seed corpus for a few seconds.
"$repo/scripts/fuzz.sh" "${PALLET_FUZZ_SECONDS:-6}"

# The unit tests in one process, shuffled and repeated: no test leans on another's leftovers
# (ctest below runs each in a process of its own).
"$build_dir/tests/pallet_unit_tests" --gtest_shuffle --gtest_repeat=3 --gtest_brief=1 >/dev/null \
    || "$build_dir/tests/pallet_unit_tests" --gtest_shuffle --gtest_repeat=3 --gtest_brief=1

if ! wait "$images"; then
    cat "$images_log" >&2
    echo "test.sh: the test images could not be built (above)" >&2
    exit 1
fi
cat "$images_log"

cd "$build_dir"
# Two at once: the engine's tests in one lane, the swarm's beside them (tests/CMakeLists.txt).
ctest --output-on-failure --timeout 900 -j 2 "$@"
