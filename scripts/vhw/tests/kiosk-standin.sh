#!/bin/bash
# STAND-IN for kioskd under systemd (units/kiosk-standin.service): behaves like the daemon as
# systemd sees it, so the systemd tests can run before the real daemon exists.
#  - start-up takes a moment, then READY=1 (Type=notify);
#  - energises the door relay, as if a door pulse were in progress, so a stop has to release it;
#  - pings the watchdog from its main loop; a hung process (SIGSTOP in the test) stops pinging;
#  - SIGTERM: STOPPING=1, relay low, exit 0.
set -u
. /run/vhw.env
chip=$VHW_GPIOCHIP_NAME
relay=
on_term() {
    systemd-notify STOPPING=1
    [ -n "$relay" ] && kill "$relay" && wait "$relay" 2>/dev/null
    gpioset "$chip" 0=0
    echo "stand-in: relay low, exiting"
    exit 0
}
trap on_term TERM
sleep 1   # "loading models, opening the camera"
gpioset --mode=signal "$chip" 0=1 &
relay=$!
systemd-notify --ready --status="stand-in running, relay energised"
echo "stand-in: ready (pid $$)"
while :; do
    systemd-notify WATCHDOG=1
    sleep 0.5 & wait $!
done
