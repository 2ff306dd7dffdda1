#!/bin/bash
# The virtual-hardware stage of `make test` (and all of `make test-hw`): boots ONE VM with systemd
# as PID 1, a V4L2 camera, a v4l2loopback camera and a gpio-sim GPIO chip, and runs inside it the
# device self-check, the Swift suites whose name contains "Hardware" (from the already-built test
# binary), and the systemd checks. Prints loudly what ran, passed, failed or was skipped, and why,
# and how long each part took.
#
# aidee-sim (the Face AiDee server, with dlib matching) runs HERE on the host, on 127.0.0.1 and a
# free port, with the account, project, user and enrolled face prepared by kioskctl; the guest
# reaches it at 10.0.2.100 through qemu's user network (run-in-vm.sh, VHW_GUESTFWD), the only
# address it can reach. Only what needs a kernel device runs in the emulated guest.
#
# When the stage cannot run here (no qemu, set-up failed, no test binary) it FAILS. To skip it on
# purpose, and say so loudly: KIOSK_SKIP_VM=1 (VHW_SKIP=1 is the same); refused when CI=true.
# Knobs: VHW_HW_FILTER=Hardware  VHW_STAGE_TIMEOUT=600  VHW_SWIFT_TIMEOUT=360
#        VHW_TEST_BINARY=.build/debug/kiosk-agentPackageTests.xctest, and run-in-vm.sh's knobs.
# Exit status: 0 all passed (or skipped by KIOSK_SKIP_VM=1); 1 something failed or could not run.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$VHW_PROJECT" || exit 1
T0=$(date +%s)
# Budgets, measured on a slow machine of the class (docs/TESTING.md, "Budget"): about 2.5 times
# the slowest measurement, so a machine several-fold slower is reported by the per-part times
# below before it fails.
STAGE_TIMEOUT=${VHW_STAGE_TIMEOUT:-600}
SWIFT_TIMEOUT=${VHW_SWIFT_TIMEOUT:-360}
banner() { echo; echo "################ hardware stage: $* ################"; }
BIN=${VHW_TEST_BINARY:-.build/debug/kiosk-agentPackageTests.xctest}
FILTER=${VHW_HW_FILTER:-Hardware}

# The hardware tests in the binary, to compare with what ran in the VM (--list-tests ignores
# --filter, so the filter is applied here as the regular expression Swift Testing takes it as).
planned() {
    local listing
    if [ -x "$BIN" ] && listing=$("$BIN" --testing-library swift-testing --list-tests 2>/dev/null); then
        printf '%s\n' "$listing" | grep -cE -- "$FILTER" || true
    else
        echo "?"   # no binary, or it could not list its tests (being rebuilt?); the VM run still counts
    fi
}

# The stage could not run: a failure, unless skipped on purpose (above). Says how to fix or skip.
not_run() { # WHY FIX
    banner "NOT RUN — $1"
    echo "hardware stage: 0 hardware tests ran. $2"
    echo "hardware stage: FAILED: the virtual-hardware stage must run. To skip it on purpose (not in CI),"
    echo "                run with KIOSK_SKIP_VM=1 and the summary will say that the hardware tests did not run."
    echo "hardware: 0 passed, 1 failed, 0 skipped"
    exit 1
}

SKIP_BY=
[ "${VHW_SKIP:-0}" = 1 ] && SKIP_BY=VHW_SKIP
[ "${KIOSK_SKIP_VM:-0}" = 1 ] && SKIP_BY=KIOSK_SKIP_VM
if [ -n "$SKIP_BY" ]; then
    if [ "${CI:-}" = true ]; then
        not_run "$SKIP_BY=1 is refused in CI" "CI must run the camera, GPIO and systemd tests: unset $SKIP_BY."
    fi
    n=$(planned)
    echo
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    echo "!!! VIRTUAL-HARDWARE STAGE SKIPPED BY $SKIP_BY=1: $n hardware tests did not run"
    echo "!!! (plus the device self-check and the systemd checks of kioskd). Nothing about the camera,"
    echo "!!! the GPIO chip or systemd was tested. Unset $SKIP_BY to run them."
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    echo "hardware: 0 passed, 0 failed, $([ "$n" = "?" ] && echo 0 || echo "$n") skipped"
    exit 0
fi

command -v qemu-system-x86_64 >/dev/null || scripts/setup-deps.sh vm >&2 ||
    not_run "qemu and the VM packages are missing" "Install them as root: scripts/setup-deps.sh vm"
command -v qemu-system-x86_64 >/dev/null || not_run "qemu-system-x86_64 is not installed" "Run scripts/setup-deps.sh vm as root."
ts=$(date +%s)
scripts/vhw/setup.sh || not_run "the VM set-up failed (see above)" "Fix the cause and rerun scripts/vhw/setup.sh."
SETUP_S=$(( $(date +%s) - ts ))
[ -x "$BIN" ] || not_run "no test binary at $BIN" "Build it first: swift build --build-tests (make test-hw does)."
PLANNED=$(planned)

STAGE=$VHW_PROJECT/.build/vhw-stage
rm -rf "$STAGE"; mkdir -p "$STAGE/results"
TIMES=$STAGE/times HOST_TIMES=$STAGE/host-times
: >"$HOST_TIMES"
secs() { awk "BEGIN{printf \"%.1f\", $2 - $1}"; }

# ---- aidee-sim on the host ----
# The end-to-end suite's server. Everything about it is prepared here, so the guest only runs the
# kiosk side: a failure is handed to the guest as VHW_AIDEE_ERROR and fails that suite (a missing
# server must never turn into skipped end-to-end tests).
AIDEE=$STAGE/aidee
SIM_PID=
stop_simulator() {
    [ -n "$SIM_PID" ] || return 0
    kill "$SIM_PID" 2>/dev/null
    # Graceful stop (SIGTERM); bounded, then SIGKILL, so the stage never waits on it.
    for _ in $(seq 50); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SIM_PID" 2>/dev/null
    wait "$SIM_PID" 2>/dev/null
    SIM_PID=
}
trap stop_simulator EXIT
trap 'exit 130' INT TERM
# The guest's port for the service; the host's is whatever free port aidee-sim picked.
GUEST_PORT=8080
start_simulator() {
    local bindir sim ctl url pw user line
    bindir=$(dirname "$BIN")
    sim=$bindir/aidee-sim ctl=$bindir/kioskctl
    [ -x "$sim" ] || { echo "no aidee-sim at $sim (swift build --build-tests builds it)"; return 1; }
    [ -x "$ctl" ] || { echo "no kioskctl at $ctl (swift build --build-tests builds it)"; return 1; }
    [ -s .assets/faces/images/facerec/obama.jpg ] || { echo "no face assets (.assets/faces): run scripts/fetch-assets.sh"; return 1; }
    mkdir -p "$AIDEE" && chmod 700 "$AIDEE" || return 1
    pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    # --port 0: a free port, named on the first stdout line. --warm-up loads the models before that
    # line, so the first check-in does not pay for it. In memory: nothing outlives the stage.
    "$sim" --host 127.0.0.1 --port 0 --account "kiosk:$pw" --project 1:Door --warm-up \
        --models .assets/models --log-level notice >"$AIDEE/stdout" 2>"$AIDEE/server.log" &
    SIM_PID=$!
    line=
    for _ in $(seq 600); do   # up to 60 s: the models load in about a second on this class of machine
        line=$(grep -m1 'listening on' "$AIDEE/stdout" 2>/dev/null) && break
        kill -0 "$SIM_PID" 2>/dev/null || break
        sleep 0.1
    done
    SIM_PORT=$(printf '%s' "$line" | sed -n 's#.*http://127\.0\.0\.1:\([0-9]*\)/.*#\1#p')
    if [ -z "$SIM_PORT" ]; then
        echo "aidee-sim did not start: $(tail -n 3 "$AIDEE/server.log" | tr '\n' ' ')"; stop_simulator; return 1
    fi
    url=http://127.0.0.1:$SIM_PORT
    # The kiosk's account: key and secret saved 0600 under the project folder, which the guest
    # shares at the same path (the guest reads it; nothing secret goes through the environment).
    printf '%s\n' "$pw" | "$ctl" api key issue --url "$url" --username kiosk --password-stdin --save "$AIDEE/credentials" >/dev/null ||
        { echo "kioskctl api key issue failed"; return 1; }
    user=$("$ctl" api users create --url "$url" --project 1 --credentials "$AIDEE/credentials" --status APPROVED --json |
           sed -n 's/.*"id":\([0-9]*\).*/\1/p')
    [ -n "$user" ] || { echo "kioskctl api users create failed"; return 1; }
    "$ctl" api faces add --url "$url" --project 1 --credentials "$AIDEE/credentials" --user "$user" \
        --image .assets/faces/images/facerec/obama.jpg >/dev/null || { echo "kioskctl api faces add (obama.jpg) failed"; return 1; }
    echo "aidee-sim on 127.0.0.1:$SIM_PORT (pid $SIM_PID), project 1, user $user enrolled with obama.jpg"
}
ts=$(date +%s.%N)
unset VHW_AIDEE_URL VHW_AIDEE_CREDENTIALS VHW_AIDEE_PROJECT VHW_AIDEE_ERROR VHW_GUESTFWD
# Not in $( ): SIM_PID and SIM_PORT must reach this shell (the trap stops the server).
if start_simulator >"$STAGE/aidee-start.log" 2>&1; then
    cat "$STAGE/aidee-start.log"
    export VHW_GUESTFWD=$GUEST_PORT:$SIM_PORT VHW_AIDEE_URL=http://10.0.2.100:$GUEST_PORT
    export VHW_AIDEE_CREDENTIALS=$AIDEE/credentials VHW_AIDEE_PROJECT=1
else
    stop_simulator
    export VHW_AIDEE_ERROR="aidee-sim could not be prepared on the host: $(tr '\n' ' ' <"$STAGE/aidee-start.log")"
    echo "hardware stage: $VHW_AIDEE_ERROR (the end-to-end suite will fail)"
fi
echo "aidee $(secs "$ts" "$(date +%s.%N)")" >>"$HOST_TIMES"

banner "booting one VM (systemd as PID 1) for $PLANNED Swift hardware tests, device and systemd checks"
VHW_INIT=systemd VHW_TIMING=1 VHW_TIMING_FILE=$STAGE/vm-times VHW_TIMEOUT=$STAGE_TIMEOUT VHW_SWIFT_TIMEOUT=$SWIFT_TIMEOUT \
VHW_PASS_ENV="${VHW_PASS_ENV:-} VHW_STAGE_DIR VHW_RESULTS VHW_TEST_BINARY VHW_HW_FILTER VHW_SWIFT_TIMEOUT VHW_KIOSKD_FIXTURES VHW_KIOSKD VHW_SWIFT_PARALLEL VHW_AIDEE_URL VHW_AIDEE_CREDENTIALS VHW_AIDEE_PROJECT VHW_AIDEE_ERROR" \
VHW_STAGE_DIR=$STAGE VHW_RESULTS=$STAGE/results VHW_TEST_BINARY=$VHW_PROJECT/$BIN VHW_HW_FILTER=$FILTER \
    scripts/vhw/run-in-vm.sh scripts/vhw/stage-in-guest.sh 2>&1 | tee "$STAGE/output.log"
vmrc=${PIPESTATUS[0]}
stop_simulator

# ---- power cuts and a failing state card: their own light VM (busybox init), booted per cut ----
# Host-driven (this shell kills qemu); each writes its "NAME PASSED FAILED SKIPPED" line to results.
PC_WORKER=$VHW_PROJECT/$(dirname "$BIN")/outbox-crash-worker
banner "power cuts under the queue (${VHW_POWERCUT_CUTS:-30} cuts) and a failing state card"
ts=$(date +%s.%N)
VHW_POWERCUT_WORKER=$PC_WORKER VHW_POWERCUT_RESULTS=$STAGE/results/power-cut \
    scripts/vhw/powercut.sh "${VHW_POWERCUT_CUTS:-30}" 2>&1 | tee -a "$STAGE/output.log"
echo "powercut $(secs "$ts" "$(date +%s.%N)")" >>"$HOST_TIMES"
ts=$(date +%s.%N)
VHW_POWERCUT_WORKER=$PC_WORKER VHW_POWERCUT_RESULTS=$STAGE/results/storage-failure \
    scripts/vhw/powercut.sh --storage 2>&1 | tee -a "$STAGE/output.log"
echo "storage $(secs "$ts" "$(date +%s.%N)")" >>"$HOST_TIMES"

# ---- add up ----
sp=0 sf=0 ss=0
lines=()
while read -r name p f s why; do
    [ -n "$name" ] || continue
    sp=$((sp + p)); sf=$((sf + f)); ss=$((ss + s))
    lines+=("$(printf '  %-24s %3d passed, %d failed, %d skipped %s' "$name" "$p" "$f" "$s" "$why")")
done < <(cat "$STAGE"/results/* 2>/dev/null)
X=$STAGE/hardware-tests.xml
if [ -s "$X" ]; then
    # Count the test cases themselves: the testsuite's "tests" attribute leaves skipped ones out.
    read -r xt xf xs < <(awk '/<testcase /{n++; bad=0} /<failure|<error/{if (!bad) {f++; bad=1}} /<skipped/{s++}
                              END{print n+0, f+0, s+0}' "$X")
    xp=$(( xt - xf - xs ))
    sp=$((sp + xp)); sf=$((sf + xf)); ss=$((ss + xs))
    lines+=("$(printf '  %-24s %3d passed, %d failed, %d skipped (of %s planned)' "Swift hardware suites" "$xp" "$xf" "$xs" "$PLANNED")")
    # Why tests were skipped, once per reason.
    while read -r why; do lines+=("    skipped because: $why"); done < <(sed -n 's/.*<skipped>\(.*\)<\/skipped>.*/\1/p' "$X" | sort | uniq -c | sed 's/^ *\([0-9]*\) /\1 × /')
    srcode=$(cat "$STAGE/swift.rc" 2>/dev/null)
    # 69 (EX_UNAVAILABLE) is Swift Testing's "no test matched the filter": a failure only when the
    # binary has hardware tests that should have run.
    if [ "$srcode" = 69 ] && [ "$xt" = 0 ] && [ "$PLANNED" = 0 ]; then :
    elif [ "$srcode" = 124 ] || [ "$srcode" = 137 ]; then
        sf=$((sf + 1)); lines+=("  Swift test binary stopped after VHW_SWIFT_TIMEOUT=${SWIFT_TIMEOUT}s (status $srcode): see the per-part times below")
    elif [ "$srcode" != 0 ] && [ "$xf" = 0 ] && [ "$srcode" -gt 128 ] 2>/dev/null; then
        # The results file is written when the run ends: a signal after it is a crash at exit
        # (something a test left running), not a failed test.
        sf=$((sf + 1)); lines+=("  Swift test binary killed by signal $((srcode - 128)) ($(kill -l $((srcode - 128)) 2>/dev/null)) after writing its results: a crash at exit, from work a test left running")
    elif [ "$srcode" != 0 ] && [ "$xf" = 0 ]; then
        sf=$((sf + 1)); lines+=("  Swift test binary exited with status $srcode (crash, timeout, or no test matched)")
    fi
else
    sf=$((sf + 1)); lines+=("  Swift hardware suites: NO RESULTS (the binary did not finish; see the output above)")
    # The test that was running when it died: started, never passed or failed.
    while read -r t; do lines+=("    unfinished: $t"); done < <(
        sed -n 's/.*◇ Test \(.*\) started\.$/\1/p' "$STAGE/output.log" 2>/dev/null | sort >"$STAGE/started"
        sed -n 's/.*[✔✘] Test \(.*\) \(passed\|failed\) after.*/\1/p' "$STAGE/output.log" 2>/dev/null | sort >"$STAGE/ended"
        comm -23 "$STAGE/started" "$STAGE/ended")
fi
[ "$PLANNED" = 0 ] && [ "${xt:-0}" = 0 ] && lines+=("  (no Swift suite matches '$FILTER' yet: name hardware suites *Hardware*, see docs/TESTING.md)")
[ -n "${VHW_AIDEE_ERROR:-}" ] && lines+=("  $VHW_AIDEE_ERROR")

# ---- where the time went ----
# Guest parts from stage-in-guest.sh (guest clock), the VM's wall time from run-in-vm.sh, the
# Swift suites from the xunit file. A part missing from the list did not finish.
t() { awk -v k="$1" '$1==k{print $2; exit}' "$TIMES" "$STAGE/vm-times" "$HOST_TIMES" 2>/dev/null; }
timing=()
tl() { [ -n "$2" ] && timing+=("$(printf '  %-34s %6ss%s' "$1" "$2" "${3:-}")"); }
tl "set-up (kernel, modules cached)" "$SETUP_S"
tl "aidee-sim on the host (start, enrol)" "$(t aidee)"
tl "boot: kernel + devices" "$(t boot_devices)"
[ -n "$(t boot_total)" ] && tl "boot: systemd up to the stage" "$(awk "BEGIN{printf \"%.1f\", $(t boot_total) - $(t boot_devices)}")"
tl "devices self-check" "$(t devices)"
tl "Swift hardware suites" "$(t swift)" "  (limit VHW_SWIFT_TIMEOUT=${SWIFT_TIMEOUT}s)"
if [ -s "$X" ]; then
    # Per suite (test case times summed by class); the rest of the part is the binary's start-up.
    while read -r suite secs; do tl "  $suite" "$secs"; done < <(awk -F'"' '/<testcase /{
            for (i = 1; i < NF; i++) { if ($i ~ /classname=$/) c = $(i+1); if ($i ~ / time=$/) tm = $(i+1) }
            sub(/^[^.]*\./, "", c); sum[c] += tm } END { for (c in sum) printf "%s %.1f\n", c, sum[c] }' "$X" | sort -k2 -nr)
fi
tl "systemd: kioskd stand-in" "$(t standin)"
tl "systemd: kioskd" "$(t kioskd)"
if [ -n "$(t vm_wall)" ] && [ -n "$(t vm_done)" ]; then
    # From the command's end: systemd's ExecStopPost keeps dmesg and the journal, then power-off.
    tl "logs kept, power-off, qemu exit" "$(awk "BEGIN{v = $(t vm_wall) - $(t vm_done); printf \"%.1f\", v < 0 ? 0 : v}")"
fi
tl "VM in all" "$(t vm_wall)" "  (limit VHW_STAGE_TIMEOUT=${STAGE_TIMEOUT}s)"
tl "power cuts (a boot per cut)" "$(t powercut)"
tl "failing state card (one boot)" "$(t storage)"

ELAPSED=$(( $(date +%s) - T0 ))
if [ "$vmrc" = 0 ] && [ "$sf" = 0 ]; then verdict=PASSED; else verdict=FAILED; fi
banner "$verdict in ${ELAPSED}s (setup ${SETUP_S}s)"
printf '%s\n' "${lines[@]}"
case "$vmrc" in
    0|1) ;;
    124) echo "  the VM or the stage timed out (VHW_STAGE_TIMEOUT=$STAGE_TIMEOUT); logs in .build/vhw-logs" ;;
    125) echo "  the VM could not be set up; logs in .build/vhw-logs" ;;
    *) echo "  the stage inside the VM ended with status $vmrc; logs in .build/vhw-logs" ;;
esac
echo "time per part (wall; compare with docs/TESTING.md, \"Budget\"):"
printf '%s\n' "${timing[@]}"
[ "$vmrc" != 0 ] && [ "$sf" = 0 ] && sf=1
echo "hardware: $sp passed, $sf failed, $ss skipped"
[ "$verdict" = PASSED ]
