#!/usr/bin/env bash
# Runs schemathesis (PyPI, pinned) against a local aidee-sim with the project's own contract
# (Sources/AiDeeAPI/openapi.yaml, as served by the simulator at /openapi.yaml), with EVERY check
# schemathesis has: no 5xx, answers (status, content type, headers, body) as documented,
# schema-invalid requests rejected and schema-valid ones accepted, 401 without or with a bad
# X-API-Token, 405 with `Allow` for undeclared methods, deleted users gone (stateful phase, through
# the contract's links), and every answer within MAX_RESPONSE_TIME seconds. Per-operation settings
# are in scripts/schemathesis.toml. Bounded so it takes well under a minute on 2 cores.
#
#   scripts/schemathesis.sh              # build aidee-sim if needed, run, exit non-zero on findings
#   MAX_EXAMPLES=50 scripts/schemathesis.sh
#
# Environment: KIOSK_VENV (default ~/.cache/kiosk-agent/venv-schemathesis), MAX_EXAMPLES (20),
# SEED (1), MAX_RESPONSE_TIME (10 s), AIDEE_SIM (a prebuilt binary; default:
# `swift build --product aidee-sim`).
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${KIOSK_VENV:-$HOME/.cache/kiosk-agent/venv-schemathesis}"
MAX_EXAMPLES="${MAX_EXAMPLES:-20}"
SEED="${SEED:-1}"
MAX_RESPONSE_TIME="${MAX_RESPONSE_TIME:-10}"
# Every check of schemathesis 4.32.5 (what `--checks all` selects), named so the output says which
# ran; max_response_time is the one more that needs a limit. Bumping the version: compare with
# `schemathesis run --help` (possible values of --checks).
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance
CHECKS+=,response_schema_conformance,negative_data_rejection,positive_data_acceptance,missing_required_header
CHECKS+=,unsupported_method,allow_header_conformance,use_after_free,ensure_resource_availability,ignored_auth
CHECKS+=,object_level_authorization

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
    "$VENV/bin/schemathesis" --config-file "$ROOT/scripts/schemathesis.toml" \
        run "$BASE/openapi.yaml" --url "$BASE/api/v1" \
        --checks "$CHECKS" --max-response-time "$MAX_RESPONSE_TIME" --continue-on-failure \
        --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
        --workers 1 --request-timeout 20 --generation-database none --no-color \
        -H "X-API-Token: $TOKEN" "$@" 2>&1 | tee -a "$WORK/schemathesis.out"
    return "${PIPESTATUS[0]}"
}

# revokeToken would revoke the shared token and turn the rest of the run into 401s: run it last,
# alone (no stateful phase: it has no links).
START=$(date +%s)
status=0
run --exclude-operation-id revokeToken --phases examples,coverage,fuzzing,stateful || status=$?
run --include-operation-id revokeToken --phases examples,coverage,fuzzing || status=$?

# What ran, for the log and the closing summary of `make test` (scripts/vhw/test-summary.sh):
# schemathesis's own "Test cases: N generated, …" lines per run, added up here.
read -r cases passed failures skipped < <(awk '/[0-9]+ generated/ {
        for (i = 1; i < NF; i++) { n = $i; gsub(/,/, "", n); w = $(i+1)
            if (w ~ /^generated/) g += n; if (w ~ /^passed/) p += n; if (w ~ /^unique/) f += n; if (w ~ /^skipped/) s += n } }
    END { print g + 0, p + 0, f + 0, s + 0 }' "$WORK/schemathesis.out")
scenarios=$(awk '/Scenarios:/ { s += $2 } END { print s + 0 }' "$WORK/schemathesis.out")
n_checks=$(( $(tr -cd , <<<"$CHECKS" | wc -c) + 2 ))
echo "schemathesis.sh: checks ($n_checks): ${CHECKS//,/, }, max_response_time (${MAX_RESPONSE_TIME} s)"
echo "schemathesis.sh: $cases cases ($passed passed, $skipped skipped) and $scenarios stateful scenarios;" \
     "$failures unique failures; $(( $(date +%s) - START )) s (max-examples $MAX_EXAMPLES, seed $SEED), exit $status"
if grep -qi "fatal\|panic" "$WORK/sim.err"; then cat "$WORK/sim.err" >&2; status=1; fi
exit "$status"
