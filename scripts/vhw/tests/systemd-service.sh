#!/bin/bash
# Runs INSIDE the VM with systemd as PID 1 (VHW_INIT=systemd). Checks a kiosk daemon unit the way
# the field relies on it:
#   1. the unit is Type=notify with a watchdog and restarts when the watchdog fires;
#   2. `systemctl start` waits for READY=1 (the unit is "activating" until then);
#   3. a hung process (SIGSTOP: no more WATCHDOG=1) is killed by the watchdog and restarted;
#   4. `systemctl stop` ends it cleanly (SIGTERM handled, no kill after timeout) with the door
#      relay low and the GPIO line released.
# usage: systemd-service.sh NAME UNIT-FILE [EXECSTART]
#   NAME        unit name to install it as (e.g. kiosk-standin, kioskd)
#   UNIT-FILE   the unit; @PROJECT@ in it is replaced with the project folder
#   EXECSTART   optional replacement ExecStart (a drop-in), e.g. the debug build of kioskd with
#               a test configuration, since the unit names the installed path
# Environment: VHW_EXPECT_RELAY_HIGH=1 when the service holds the relay high while running (the
# stand-in does, so that the stop check proves a release). VHW_CHECK_WATCHDOG=0 leaves out step 3
# (the stage does for the stand-in when the real kioskd's watchdog is checked); it is said, not
# counted as a skipped test.
set -u
. "$(dirname "$0")/lib.sh"
NAME=${1:?usage: systemd-service.sh NAME UNIT-FILE [EXECSTART]}
UNIT_FILE=${2:?usage: systemd-service.sh NAME UNIT-FILE [EXECSTART]}
EXEC=${3:-}
T_NAME="systemd/$NAME"
S=${VHW_GPIO_SIM_SYSFS:-}

if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]; then
    skip "systemd is not PID 1 here (run with VHW_INIT=systemd)"; finish; exit
fi
prop() { systemctl show -p "$1" --value "$NAME.service"; }
# Conditions for wait_for (functions, so they are evaluated on every poll).
is_active() { [ "$(prop ActiveState)" = active ]; }
restarted_after() { # OLD-PID OLD-RESTARTS
    [ "$(prop NRestarts)" -gt "$2" ] && [ "$(prop ActiveState)" = active ] && [ "$(prop MainPID)" != "$1" ]
}

U=/run/systemd/system
sed "s#@PROJECT@#${VHW_PROJECT:-$PWD}#g" "$UNIT_FILE" >"$U/$NAME.service"
if [ -n "$EXEC" ]; then
    mkdir -p "$U/$NAME.service.d"
    printf '[Service]\nExecStart=\nExecStart=%s\n' "$EXEC" >"$U/$NAME.service.d/50-vhw.conf"
fi
systemctl daemon-reload

# ---- 1. the unit's contract ----
[ "$(prop Type)" = notify ] && pass "Type=notify" || fail "Type=$(prop Type), expected notify"
case "$(prop Restart)" in
    on-failure|on-watchdog|on-abnormal|always) pass "Restart=$(prop Restart) restarts after a watchdog kill" ;;
    *) fail "Restart=$(prop Restart) does not restart after a watchdog kill" ;;
esac

# ---- 2. readiness ----
t0=$(date +%s.%N)
systemctl start --no-block "$NAME.service"
if wait_for 60 is_active; then
    pass "active $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}") s after start"
else
    fail "not active 60 s after start (state $(prop ActiveState)/$(prop SubState))"
    journalctl -b --no-pager -u "$NAME.service" | tail -n 20 | sed 's/^/    | /'
    finish; exit
fi
# Type=notify: the unit turns active when READY=1 arrives, not when the process starts.
waited=$(( $(prop ActiveEnterTimestampMonotonic) - $(prop ExecMainStartTimestampMonotonic) ))
[ "$waited" -gt 100000 ] && pass "active only at READY=1, $((waited / 1000)) ms after the process started" ||
    fail "active ${waited} us after the process started: systemd did not wait for READY=1"
# The watchdog interval is only reported while the service runs.
wd=$(prop WatchdogUSec)
case "$wd" in ""|0|infinity) fail "no watchdog while running (WatchdogUSec=$wd): set WatchdogSec" ;; *) pass "watchdog armed (WatchdogUSec=$wd)" ;; esac
status=$(prop StatusText)
[ -n "$status" ] && pass "status text: $status" || skip "no STATUS= text sent (optional)"
if [ "${VHW_EXPECT_RELAY_HIGH:-0}" = 1 ] && [ -n "$S" ]; then
    wait_for 5 grep -qx 1 "$S/sim_gpio0/value" && pass "relay energised while running" || fail "relay not energised while running"
fi

# ---- 3. watchdog: a hung process is killed and the service restarted ----
if [ "${VHW_CHECK_WATCHDOG:-1}" = 0 ]; then
    echo "note - $T_NAME: watchdog restart not checked here (VHW_CHECK_WATCHDOG=0: checked on the real kioskd)"
else
    pid=$(prop MainPID); restarts=$(prop NRestarts)
    t0=$(date +%s.%N)
    kill -STOP "$pid"
    if wait_for 60 restarted_after "$pid" "$restarts"; then
        pass "hung process (pid $pid) killed by the watchdog and restarted, active again after $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}") s"
    else
        fail "no watchdog restart within 60 s of hanging pid $pid (state $(prop ActiveState)/$(prop SubState), restarts $(prop NRestarts))"
        kill -CONT "$pid" 2>/dev/null
    fi
    journalctl -b --no-pager -u "$NAME.service" | grep -q 'Watchdog timeout' &&
        pass "journal records the watchdog timeout" || fail "journal has no 'Watchdog timeout' line"
fi

# ---- 4. stop: clean, relay low, line released ----
if [ "${VHW_EXPECT_RELAY_HIGH:-0}" = 1 ] && [ -n "$S" ]; then
    wait_for 10 grep -qx 1 "$S/sim_gpio0/value" || fail "relay not energised before the stop"
fi
t0=$(date +%s.%N)
timeout 60 systemctl stop "$NAME.service"
took=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}")
state=$(prop ActiveState); result=$(prop Result)
[ "$state" = inactive ] && [ "$result" = success ] && pass "systemctl stop: clean exit in $took s" ||
    fail "systemctl stop: state=$state result=$result after $took s (SIGTERM not handled in time?)"
if [ -n "$S" ]; then
    [ "$(cat "$S/sim_gpio0/value")" = 0 ] && pass "relay low after stop" || fail "relay high after stop"
    gpioinfo "$VHW_GPIOCHIP_NAME" | sed -n 2p | grep -q unused && pass "relay line released after stop" ||
        fail "relay line still requested after stop: $(gpioinfo "$VHW_GPIOCHIP_NAME" | sed -n 2p)"
fi

rm -rf "$U/$NAME.service" "$U/$NAME.service.d"; systemctl daemon-reload
finish
