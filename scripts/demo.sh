#!/bin/sh
# `make demo`: until kioskd is assembled, run the furthest working part of the path.
set -eu
cd "$(dirname "$0")/.."
swift build
echo "demo: the daemon is not assembled yet; the shims and models are in place:"
swift test --skip-build --filter ShimTests 2>&1 | tail -n 1
