#!/usr/bin/env bash
# Runs schemathesis (PyPI, pinned) against a local aidee-sim with the project's own contract
# (Sources/AiDeeAPI/openapi.yaml, as served by the simulator at /openapi.yaml).
# Checks: no 5xx (not_a_server_error) and every answer matches the document
# (response_schema_conformance). Bounded so it takes well under two minutes.
#
#   scripts/schemathesis.sh              # build aidee-sim if needed, run, exit non-zero on findings
#   MAX_EXAMPLES=50 scripts/schemathesis.sh
#
# Environment: KIOSK_VENV (default ~/.cache/kiosk-agent/venv-schemathesis), MAX_EXAMPLES (20),
# SEED (1), AIDEE_SIM (a prebuilt binary; default: `swift build --product aidee-sim`).
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${KIOSK_VENV:-$HOME/.cache/kiosk-agent/venv-schemathesis}"
MAX_EXAMPLES="${MAX_EXAMPLES:-20}"
SEED="${SEED:-1}"

# 1. schemathesis in its own venv, installed once.
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "schemathesis.sh: installing schemathesis==$SCHEMATHESIS_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

# 2. The simulator, on a free port, with a throw-away data folder.
if [[ -z "${AIDEE_SIM:-}" ]]; then
    (cd "$ROOT" && swift build --product aidee-sim >/dev/null)
    AIDEE_SIM="$(cd "$ROOT" && swift build --show-bin-path)/aidee-sim"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/aidee-schemathesis.XXXXXX")"
SIM_PID=""
cleanup() {
    if [[ -n "$SIM_PID" ]] && kill -0 "$SIM_PID" 2>/dev/null; then
        kill -TERM "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

"$AIDEE_SIM" --port 0 --data "$WORK/data" --models "${KIOSK_ASSETS:-$ROOT/.assets}/models" \
    --account tester:secret-pw --project 1:Schemathesis --log-level warning \
    >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
PORT=""
for _ in $(seq 1 100); do
    PORT="$(sed -n 's|^aidee-sim listening on http://127.0.0.1:\([0-9]*\)/api/v1$|\1|p' "$WORK/sim.out")"
    [[ -n "$PORT" ]] && break
    kill -0 "$SIM_PID" 2>/dev/null || { cat "$WORK/sim.err" >&2; echo "schemathesis.sh: aidee-sim did not start" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$PORT" ]] || { echo "schemathesis.sh: aidee-sim did not report its port" >&2; exit 1; }
BASE="http://127.0.0.1:$PORT"

# 3. A token, so operations behind X-API-Token get past authentication.
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
KEY_JSON="$(curl -sf -X POST "$BASE/api/v1/auth/key" -H 'Content-Type: application/json' \
    -d '{"username":"tester","password":"secret-pw"}')"
TOKEN="$(curl -sf -X POST "$BASE/api/v1/auth/token" -H 'Content-Type: application/json' \
    -d "{\"key\":\"$(echo "$KEY_JSON" | json_field key)\",\"secret\":\"$(echo "$KEY_JSON" | json_field secret)\"}" \
    | json_field token)"

run() {
    "$VENV/bin/schemathesis" run "$BASE/openapi.yaml" --url "$BASE/api/v1" \
        --checks not_a_server_error,response_schema_conformance \
        --max-examples "$MAX_EXAMPLES" --seed "$SEED" --phases examples,coverage,fuzzing \
        --workers 1 --request-timeout 20 --generation-database none --no-color \
        -H "X-API-Token: $TOKEN" "$@"
}

# revokeToken would revoke the shared token and turn the rest of the run into 401s: run it last.
START=$(date +%s)
status=0
run --exclude-operation-id revokeToken || status=$?
run --include-operation-id revokeToken || status=$?
echo "schemathesis.sh: finished in $(( $(date +%s) - START )) s (max-examples $MAX_EXAMPLES, seed $SEED), exit $status"
if grep -qi "fatal\|panic" "$WORK/sim.err"; then cat "$WORK/sim.err" >&2; status=1; fi
exit "$status"
