#!/bin/sh
# `make bench`: build the benchmarks in release mode (own build folder) and print every figure.
set -eu
cd "$(dirname "$0")/.."
swift build -c release --scratch-path .build-release --product kiosk-bench
BIN=.build-release/release/kiosk-bench
# Listed explicitly: reading names from --help took a wrapped description line for one.
for area in detection imaging outbox api pipeline; do
    echo "== $area"
    $BIN "$area"
done
echo "== pipeline with a server that answers after 5.5 s (the decision deadline bounds the wait)"
$BIN pipeline --server-delay 5.5
