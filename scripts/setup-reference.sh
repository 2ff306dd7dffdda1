#!/bin/sh
# Prepare the reference detector the accuracy test and `kiosk-bench detection` compare against:
# OpenCV's own cv2.FaceDetectorYN, from a pinned opencv-python-headless wheel in a private venv.
# Debian's python3-opencv (4.6) cannot run the 2023mar YuNet model (its output names differ).
#
#   scripts/setup-reference.sh          # prints nothing when the venv is ready
#
# The venv lives in ${KIOSK_CACHE:-~/.cache/kiosk-agent}/reference-venv; the interpreter the
# tests run is its bin/python. Idempotent: when the venv answers with the pinned versions it
# exits at once without touching the network. Needs python3-venv (installed here when running
# as root) and PyPI.
set -eu

OPENCV=4.10.0.84
NUMPY=2.4.6
PINS="opencv-python-headless==$OPENCV numpy==$NUMPY"
ROOT=${KIOSK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kiosk-agent}
VENV=$ROOT/reference-venv
STAMP=$VENV/.kiosk-reference

say() { printf 'reference: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

# Fast path: the stamp records the pins it was built with; a changed pin rebuilds.
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$PINS" ]; then
    exit 0
fi

command -v python3 >/dev/null || fail "python3 is missing: apt-get install python3 python3-venv"
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        say "installing python3-venv (Debian)"
        export DEBIAN_FRONTEND=noninteractive
        timeout 300 apt-get update -qq || fail "apt-get update failed; check the network and /etc/apt/sources.list"
        timeout 600 apt-get install -y -qq --no-install-recommends python3-venv >/dev/null ||
            fail "could not install python3-venv; install it (apt-get install python3-venv) and run again"
    else
        fail "python3-venv is missing: run 'sudo apt-get install python3-venv', then $0 again"
    fi
fi

say "creating $VENV with $PINS (PyPI, about 60 MB)"
mkdir -p "$ROOT"
# Built in place (venv scripts carry their own path); the stamp, written last, marks it usable.
rm -rf "$VENV"
timeout 120 python3 -m venv "$VENV" || fail "python3 -m venv $VENV failed"
# Wheels only: nothing is compiled, so a fresh machine needs no compiler and the result is the
# same binary everywhere.
timeout 600 "$VENV/bin/pip" install -q --disable-pip-version-check --no-cache-dir --only-binary :all: $PINS ||
    fail "pip install $PINS failed (PyPI unreachable?); check the network or a proxy (PIP_INDEX_URL) and run $0 again"
got=$("$VENV/bin/python" -c 'import cv2; cv2.FaceDetectorYN.create; print(cv2.__version__)') ||
    fail "the new venv cannot import cv2.FaceDetectorYN; run $0 again (it rebuilds the venv)"
case "$got" in 4.10.0*) ;; *) fail "the venv has OpenCV $got, expected ${OPENCV%.*}" ;; esac
printf '%s\n' "$PINS" >"$STAMP"
say "ready: $VENV/bin/python (OpenCV $got)"
