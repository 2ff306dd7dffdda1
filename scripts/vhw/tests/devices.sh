#!/bin/bash
# Runs INSIDE the VM: proves the harness's devices behave as docs/TESTING.md promises, with the
# stock tools only (v4l2-ctl, libgpiod's gpio* tools), so a failure here points at the harness,
# not at the project's code.
set -u
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for v in VHW_VIDEO_DEV VHW_LOOPBACK_DEV VHW_GPIOCHIP VHW_GPIOCHIP_NAME VHW_GPIO_SIM_SYSFS VHW_GPIO_SIM_CONFIGFS; do
    if [ -z "${!v:-}" ]; then fail "$v is not set (not inside the harness VM?)"; finish; exit; fi
done
V=$VHW_VIDEO_DEV L=$VHW_LOOPBACK_DEV C=$VHW_GPIOCHIP_NAME S=$VHW_GPIO_SIM_SYSFS

# ---- vivid camera ----
check "vivid at $V is a capture device offering YUYV" \
    bash -c "v4l2-ctl -d $V -D | grep -q 'Video Capture' && v4l2-ctl -d $V --list-formats | grep -q \"'YUYV'\""
check "vivid: 640x480 YUYV, 3 frames captured by mmap streaming" bash -c "
    v4l2-ctl -d $V --set-fmt-video=width=640,height=480,pixelformat=YUYV &&
    v4l2-ctl -d $V --stream-mmap --stream-count=3 --stream-to=$T/vivid.raw &&
    [ \$(stat -c %s $T/vivid.raw) -eq $((3 * 640 * 480 * 2)) ]"

# ---- v4l2loopback: a frame written by a producer comes out unchanged at the capture side ----
head -c $((640 * 480 * 2)) "$T/vivid.raw" >"$T/frame.yuyv" 2>/dev/null
check "loopback at $L is labelled kiosk-loopback" bash -c "v4l2-ctl -d $L -D | grep -q kiosk-loopback"
# v4l2loopback forgets the output format when its last handle closes, unless keep_format is set:
# set both in one open, then one long-lived writer writes whole frames (dd: one write() per frame).
v4l2-ctl -d "$L" -c keep_format=1 --set-fmt-video-out=width=640,height=480,pixelformat=YUYV >/dev/null 2>&1
( while :; do cat "$T/frame.yuyv" || exit; sleep 0.1; done ) 2>/dev/null |
    dd of="$L" bs=$((640 * 480 * 2)) iflag=fullblock status=none 2>"$T/dd.err" &
producer=$!
if wait_for 10 bash -c "v4l2-ctl -d $L -D | grep -A4 'Device Caps' | grep -q 'Video Capture'"; then
    pass "loopback shows as a capture device once a producer writes"
    check "loopback: captured frame equals the injected one" bash -c "
        timeout 20 v4l2-ctl -d $L --stream-mmap --stream-count=2 --stream-to=$T/got.raw &&
        tail -c $((640 * 480 * 2)) $T/got.raw | cmp -s - $T/frame.yuyv"
else
    fail "loopback never showed a capture capability with a producer running: $(cat "$T/dd.err")"
fi
kill "$producer" 2>/dev/null; wait "$producer" 2>/dev/null
# Leave the device as the next suite expects it (a write() writer leaves it without capabilities).
v4l2-ctl -d "$L" -c keep_format=0 >/dev/null 2>&1
check "loopback: reset to its start state (module reloaded, output format settable)" bash -c "
    $(dirname "$0")/reset-loopback.sh && v4l2-ctl -d $L -D | grep -A2 'Device Caps' | grep -q 'Video Output'"

# ---- gpio-sim chip ----
check "gpiodetect lists $C [kiosk-gpio] with 8 lines" bash -c "gpiodetect | grep -q \"^$C \[${VHW_GPIOCHIP_LABEL:-kiosk-gpio}\] (8 lines)\""
names=$(gpioinfo "$C" | sed -n 's/.*line *[0-9]*: *"\([^"]*\)".*/\1/p' | tr '\n' ' ')
if [ "$names" = "door-relay led-green led-red buzzer door-sensor exit-button tamper spare " ]; then
    pass "line names are the kiosk wiring"
else
    fail "line names are '$names'"
fi
gpioset --mode=signal "$C" 0=1 &
setter=$!
if wait_for 5 grep -qx 1 "$S/sim_gpio0/value"; then pass "output: door-relay driven high is seen in sim_gpio0/value"
else fail "output: door-relay driven high but sim_gpio0/value=$(cat "$S/sim_gpio0/value")"; fi
kill "$setter"; wait "$setter" 2>/dev/null
check "output: released door-relay falls back to its pull-down (0)" wait_for 5 grep -qx 0 "$S/sim_gpio0/value"

echo pull-up >"$S/sim_gpio4/pull"
check "input: pull-up on door-sensor reads 1" bash -c "[ \$(gpioget $C 4) = 1 ]"
echo pull-down >"$S/sim_gpio4/pull"
check "input: pull-down on door-sensor reads 0" bash -c "[ \$(gpioget $C 4) = 0 ]"

timeout 20 gpiomon --num-events=2 --format='%e' "$C" 5 >"$T/events" &
mon=$!
# Edges count only once gpiomon holds the line: wait for its request (gpioinfo names the consumer),
# not a fixed time; starting gpiomon from the 9p /usr once took longer than the 0.5 s waited here
# before, and the rising edge was missed.
wait_for 10 bash -c "gpioinfo $C | grep -q 'line *5:.*\"gpiomon\"'" || echo "gpiomon did not request line 5 within 10 s"
# The two edges 0.2 s apart in guest time, so gpio-sim raises two interrupts, not one.
echo pull-up >"$S/sim_gpio5/pull"; sleep 0.2; echo pull-down >"$S/sim_gpio5/pull"
wait "$mon"
if [ "$(tr -d '\n' <"$T/events")" = 10 ]; then pass "events: exit-button press and release arrive as rising then falling edges"
else fail "events: expected rising,falling; got '$(tr '\n' ',' <"$T/events")'"; fi

finish
