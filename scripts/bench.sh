#!/bin/sh
# `make bench`: build the benchmarks in release mode (own build folder) and print every figure.
set -eu
cd "$(dirname "$0")/.."
swift build -c release --scratch-path .build-release --product kiosk-bench
BIN=.build-release/release/kiosk-bench
for area in $($BIN --help | awk '/SUBCOMMANDS:/{f=1;next} f && NF {print $1}' | grep -v '^help$'); do
    echo "== $area"
    $BIN "$area"
done
