#!/bin/sh
# `make bench`: build as the packages are built (release, the Swift runtime linked in with
# --static-swift-stdlib, lld; own build folder) and print the terminal's figures in one table
# (`kiosk-bench all`: goals, verdicts, same-run references, spread). Arguments go to it:
#   scripts/bench.sh --quick     about 4 minutes instead of about 12 (2 cores), after the build
#                                (the first release build takes about 12 minutes more)
#   scripts/bench.sh --json      the same figures as JSON
#   scripts/bench.sh --areas     the older per-area benchmarks (detection accuracy, imaging vs
#                                tjbench, queue, API, pipeline) with their own detail
set -eu
cd "$(dirname "$0")/.."
# Everything but the tests: kiosk-bench runs the release kioskd, kioskctl and aidee-sim. Linked
# as packaging/build-deb.sh links them, so start-up and memory are the shipped binaries' (a
# shared Swift runtime, almost half of kioskctl's start goes to the dynamic loader's lookups).
swift build -c release --static-swift-stdlib -Xswiftc -use-ld=lld --scratch-path .build-release
BIN=.build-release/release/kiosk-bench
if [ "${1:-}" = "--areas" ]; then
    # Listed explicitly: reading names from --help took a wrapped description line for one.
    for area in detection imaging outbox api pipeline; do
        echo "== $area"
        $BIN "$area"
    done
    echo "== pipeline with a server that answers after 5.5 s (the decision deadline bounds the wait)"
    $BIN pipeline --server-delay 5.5
    exit 0
fi
$BIN all "$@"
