#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: install dependencies, build with
# AddressSanitizer + UndefinedBehaviorSanitizer, run unit, oracle and CLI tests through CTest.
# Extra arguments go to ctest (e.g. -R tokenizer).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

scripts/install-deps.sh
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWISP_SANITIZE=ON -DWISP_BUILD_BENCH=ON
cmake --build build-test
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir build-test --output-on-failure -j 2 "$@"
