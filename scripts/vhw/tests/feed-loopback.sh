#!/bin/bash
# Runs INSIDE the VM: feeds frames to the v4l2loopback camera until killed, so a consumer
# (kioskd, a capture test) sees a live camera showing a scripted sequence.
# usage: feed-loopback.sh WIDTH HEIGHT FOURCC FPS FRAME-FILE...
#   FOURCC      pixel format of the files: MJPG (each file one WIDTHxHEIGHT JPEG), or raw YUYV,
#               UYVY (2 bytes/pixel), RGB3, BGR3 (3), GREY (1): exactly WIDTH*HEIGHT*bpp bytes
#   FRAME-FILE  shown in order, FPS frames a second, then from the start again
# Env: VHW_LOOPBACK_DEV (set in the VM). Sets the loopback's keep_format control while it runs;
# on exit reloads the module (tests/reset-loopback.sh), so the next user starts from a clean device.
# Prints "feed-loopback: first frame written" once the device shows as a camera (with
# exclusive_caps=1 not before): a consumer started earlier finds no capture device.
set -u
[ $# -ge 5 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
W=$1 H=$2 F=$3 FPS=$4; shift 4
L=${VHW_LOOPBACK_DEV:?not inside the VM harness}
case "$F" in MJPG) bpp=0 ;; YUYV|UYVY|YVYU) bpp=2 ;; RGB3|BGR3) bpp=3 ;; GREY) bpp=1 ;;
    *) echo "feed-loopback: unsupported FOURCC $F" >&2; exit 2 ;; esac
# Each distinct file's size once: a sequence names the same few files many times, and under
# emulation every stat is a process start (160 of them once delayed the first frame past a minute).
declare -A SIZE
for f in "$@"; do
    [ -n "${SIZE[$f]:-}" ] && continue
    size=$(stat -c %s "$f" 2>/dev/null) || { echo "feed-loopback: cannot read $f" >&2; exit 2; }
    if [ $bpp -gt 0 ] && [ "$size" != $((W * H * bpp)) ]; then
        echo "feed-loopback: $f is not one ${W}x${H} $F frame ($((W * H * bpp)) bytes)" >&2; exit 2
    fi
    SIZE[$f]=$size
done
# The output format must survive between this call and the writer's open: keep_format=1.
v4l2-ctl -d "$L" -c keep_format=1 --set-fmt-video-out=width="$W",height="$H",pixelformat="$F" || {
    echo "feed-loopback: cannot set ${W}x${H} $F on $L (another writer, or a stale device: tests/reset-loopback.sh)" >&2
    v4l2-ctl -d "$L" -c keep_format=0 >/dev/null 2>&1; exit 1; }
# On exit: release the device and reload the module (reset-loopback.sh: a write() writer leaves
# v4l2loopback without capabilities), so the next feeder or test starts from a clean device.
stop() { exec 3>&-; v4l2-ctl -d "$L" -c keep_format=0 >/dev/null 2>&1; "$(dirname "$0")/reset-loopback.sh"; exit 0; }
trap stop TERM INT
delay=$(awk "BEGIN{print 1 / $FPS}")
# One open descriptor for the whole run (readers see a steady camera); every frame is exactly one
# write() (v4l2loopback takes each write as a frame): dd with one block of the file's size.
exec 3<>"$L"
first=1
while :; do
    for f in "$@"; do
        dd if="$f" bs="${SIZE[$f]}" count=1 status=none >&3 || { echo "feed-loopback: writing $f failed" >&2; stop; }
        [ $first = 1 ] && { first=0; echo "feed-loopback: first frame written"; }
        sleep "$delay"
    done
done
