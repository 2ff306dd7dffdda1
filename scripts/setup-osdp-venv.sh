#!/bin/sh
# Prepare the OSDP control panel the interop test (Tests/OSDPTests/LibOSDPInteropTests.swift)
# runs against: LibOSDP's Python binding (PyPI `libosdp`, a cp311 manylinux wheel), pinned, in a
# private venv. An implementation nobody here wrote is the point: our PD is checked against it.
#
#   scripts/setup-osdp-venv.sh          # prints nothing when the venv is ready
#
# The venv lives in ${KIOSK_CACHE:-~/.cache/kiosk-agent}/venv-libosdp; the interpreter the test
# runs is its bin/python. Idempotent: when the stamp matches the pin it exits at once without
# touching the network. Needs python3-venv and PyPI.
set -eu

PINS="libosdp==3.2.9"
ROOT=${KIOSK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kiosk-agent}
VENV=$ROOT/venv-libosdp
STAMP=$VENV/.kiosk-libosdp

say() { printf 'osdp-venv: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$PINS" ]; then
    exit 0
fi

command -v python3 >/dev/null || fail "python3 is missing: apt-get install python3 python3-venv"
python3 -c 'import ensurepip, venv' 2>/dev/null ||
    fail "python3-venv is missing: run 'sudo apt-get install python3-venv' (or scripts/setup-reference.sh as root), then $0 again"

say "creating $VENV with $PINS (PyPI, under 1 MB)"
mkdir -p "$ROOT"
rm -rf "$VENV"
timeout 120 python3 -m venv "$VENV" || fail "python3 -m venv $VENV failed"
# Wheels only: nothing compiled, the same binary everywhere.
timeout 300 "$VENV/bin/pip" install -q --disable-pip-version-check --no-cache-dir --only-binary :all: $PINS ||
    fail "pip install $PINS failed (PyPI unreachable?); check the network or a proxy (PIP_INDEX_URL) and run $0 again"
"$VENV/bin/python" -c 'import osdp; osdp.ControlPanel' ||
    fail "the new venv cannot import osdp.ControlPanel; run $0 again (it rebuilds the venv)"
printf '%s\n' "$PINS" >"$STAMP"
say "ready: $VENV/bin/python ($PINS)"
