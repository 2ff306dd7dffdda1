# shellcheck shell=bash
# Sourced by the in-guest test scripts: "ok" / "FAIL" / "skip" lines and a closing count line.
T_PASS=0; T_FAIL=0; T_SKIP=0
T_NAME=${T_NAME:-$(basename "$0" .sh)}
pass() { T_PASS=$((T_PASS + 1)); echo "ok   - $T_NAME: $*"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL - $T_NAME: $*"; }
skip() { T_SKIP=$((T_SKIP + 1)); echo "skip - $T_NAME: $*"; }
# check DESCRIPTION CMD...: passes when CMD succeeds; CMD's output is shown only on failure.
check() {
    local what=$1 out; shift
    if out=$("$@" 2>&1); then pass "$what"; else fail "$what"; printf '%s\n' "$out" | tail -n 15 | sed 's/^/    | /'; fi
}
# The closing line that run-hw-stage.sh counts; exit status 1 when anything failed.
finish() {
    echo "$T_NAME: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
    # One file per part, written whole (appending to one shared file over 9p duplicated a line
    # once on a busy host).
    [ -n "${VHW_RESULTS:-}" ] && echo "$T_NAME $T_PASS $T_FAIL $T_SKIP" >"$VHW_RESULTS/${T_NAME//\//_}"
    [ "$T_FAIL" -eq 0 ]
}
# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds or SECONDS of wall time have
# passed; the guest is slow, so every wait is bounded. By the clock, not by counting polls: a
# poll (systemctl show) itself takes a few hundred ms under emulation, which once stretched a
# "60 s" wait to over 3 minutes.
wait_for() {
    local deadline=$(( $(date +%s) + $1 )); shift
    while :; do
        "$@" && return 0
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}
