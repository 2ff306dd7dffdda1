#!/bin/bash
# Runs INSIDE the one VM that run-hw-stage.sh boots (systemd as PID 1). Runs, in order:
#   1. tests/devices.sh        the harness's own devices behave (stock tools only)
#   2. the Swift hardware suites: the host-built test binary, --filter "$VHW_HW_FILTER"
#   3. tests/systemd-service.sh with the kioskd stand-in
#   4. tests/systemd-service.sh with the real systemd/kioskd.service, when it and its VM
#      configuration exist (see docs/TESTING.md, "kioskd under systemd")
# Every part writes "NAME PASSED FAILED SKIPPED [WHY]" to its own file in the folder $VHW_RESULTS;
# run-hw-stage.sh adds them up. Each part's wall time goes to $VHW_STAGE_DIR/times ("KEY SECONDS"),
# so the summary shows which part a slow machine stretches before it becomes a timeout.
# Exit status: 0 when nothing failed.
set -u
cd "$VHW_PROJECT" || exit 1
V=scripts/vhw
rc=0
uptime_s() { cut -d' ' -f1 /proc/uptime; }
TIMES=$VHW_STAGE_DIR/times
# Boot as the guest saw it: kernel and guest-init until the devices were ready, then systemd
# until this command started.
awk -v d="$(cat /vhw/ready_uptime 2>/dev/null || echo 0)" -v t="$(uptime_s)" \
    'BEGIN { printf "boot_devices %.1f\nboot_total %.1f\n", d, t }' >"$TIMES"
PART= PART_T0=
part() { # KEY TITLE: closes the running part's clock and starts the next one
    [ -n "$PART" ] && echo "$PART $(awk "BEGIN{printf \"%.1f\", $(uptime_s) - $PART_T0}")" >>"$TIMES"
    PART=$1 PART_T0=$(uptime_s)
    [ -n "$PART" ] && { shift; echo; echo "======== hardware stage: $* ========"; }
}

part devices "devices"
$V/tests/devices.sh || rc=1

part swift "Swift hardware suites (--filter $VHW_HW_FILTER)"
# A fresh loopback device for the suites (see tests/reset-loopback.sh for why).
$V/tests/reset-loopback.sh || echo "warning: could not reset $VHW_LOOPBACK_DEV"
# One suite at a time: the guest has one emulated vCPU, and suites running side by side stretch
# each other's timings (relay pulse lengths, debounce) far beyond what a kiosk would see.
parallel=--no-parallel
[ "${VHW_SWIFT_PARALLEL:-0}" = 1 ] && parallel=
if [ -x "$VHW_TEST_BINARY" ]; then
    # The binary and its Swift runtime (/opt/swift) come from the host, read-only.
    timeout -k 5 "${VHW_SWIFT_TIMEOUT:-360}" "$VHW_TEST_BINARY" --testing-library swift-testing $parallel \
        --filter "$VHW_HW_FILTER" --xunit-output "$VHW_STAGE_DIR/hardware-tests.xml"
    src=$?
    echo "$src" >"$VHW_STAGE_DIR/swift.rc"
    # 69: Swift Testing found no test matching the filter; run-hw-stage.sh judges that.
    [ $src -eq 0 ] || [ $src -eq 69 ] || rc=1
    [ $src -eq 124 ] && echo "the Swift hardware suites were stopped after ${VHW_SWIFT_TIMEOUT:-360}s (VHW_SWIFT_TIMEOUT)"
else
    echo "no test binary at $VHW_TEST_BINARY"; echo 127 >"$VHW_STAGE_DIR/swift.rc"; rc=1
fi

# ---- systemd: what the real kioskd needs (decided first: it shapes the stand-in's checks) ----
# The real daemon under its own unit as shipped (systemd/kioskd.service), installed like the
# package would (tests/install-kioskd.sh); only ExecStart is replaced (drop-in), since the unit
# names the installed path. Uses a VM configuration when one exists (Tests/Fixtures/vhw/kioskd.yaml),
# else (default, VHW_KIOSKD=1) the shipped config/kioskd.yaml pointed at the VM with --set;
# VHW_KIOSKD=0 skips it.
unit=systemd/kioskd.service bin=.build/debug/kioskd model=.assets/models/face_detection_yunet_2023mar.onnx
fixtures=${VHW_KIOSKD_FIXTURES:-$VHW_PROJECT/Tests/Fixtures/vhw}
# The unit's sandbox hides /tmp (PrivateTmp=) and /home, /root (ProtectHome=), where a checkout
# may live (CI's clone does): install the binary and model on the guest's own root file system,
# as a package would put them outside any home or temporary folder.
installed=/srv/kiosk-agent-test
exec="$installed/kioskd --config /etc/kiosk-agent/kioskd.yaml"
missing=
for f in "$unit" "$bin" "$model"; do [ -e "$f" ] || missing="$missing $f"; done
if [ ! -e "$fixtures/kioskd.yaml" ]; then
    if [ "${VHW_KIOSKD:-1}" = 1 ]; then
        # API on a closed local port (offline policy), the model installed below, secrets as credentials.
        exec="$exec --set api.url=http://127.0.0.1:9 --set api.credentials_file=credentials"
        exec="$exec --set outbox.key_file=outbox.key"
        exec="$exec --set detection.model=$installed/$(basename "$model")"
    else
        missing="$missing ${fixtures#"$VHW_PROJECT"/}/kioskd.yaml (or VHW_KIOSKD=1)"
    fi
fi

part standin "systemd: kioskd stand-in"
# The stand-in holds the relay high while running, so its stop check proves a release. Its
# watchdog check (a SIGSTOPped process killed and restarted, ~10 s) runs only when the real
# kioskd's does not: that one proves the same contract on the daemon that ships.
standin_watchdog=1
[ -z "$missing" ] && standin_watchdog=0
VHW_EXPECT_RELAY_HIGH=1 VHW_CHECK_WATCHDOG=$standin_watchdog \
    $V/tests/systemd-service.sh kiosk-standin $V/units/kiosk-standin.service || rc=1

part kioskd "systemd: kioskd"
if [ -z "$missing" ]; then
    mkdir -p "$installed" && cp "$bin" "$installed/kioskd" && cp "$model" "$installed/" ||
        missing="$missing (copy to $installed failed)"
fi
if [ -n "$missing" ]; then
    echo "skip - systemd/kioskd: not yet enabled, missing:$missing"
    echo "systemd/kioskd 0 0 1 (the real unit waits for:$missing)" >"$VHW_RESULTS/systemd_kioskd"
elif ! $V/tests/install-kioskd.sh; then
    echo "FAIL - systemd/kioskd: installing the system files failed (see above)"
    echo "systemd/kioskd 0 1 0" >"$VHW_RESULTS/systemd_kioskd"; rc=1
else
    $V/tests/systemd-service.sh kioskd "$unit" "$exec" || rc=1
    journalctl -b --no-pager -u kioskd.service -o cat >"$VHW_STAGE_DIR/kioskd-journal.log" 2>&1
fi
part ""
exit $rc
