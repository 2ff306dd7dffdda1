#!/bin/bash
# Runs INSIDE the VM: feeds raw frames to the v4l2loopback camera until killed, so a consumer
# (kioskd, a capture test) sees a live camera showing a scripted sequence.
# usage: feed-loopback.sh WIDTH HEIGHT FOURCC FPS FRAME-FILE...
#   FOURCC      pixel format of the files, e.g. YUYV (2 bytes/pixel), RGB3, BGR3 (3), GREY (1)
#   FRAME-FILE  one raw frame each (exactly WIDTH*HEIGHT*bytes-per-pixel bytes); shown in order,
#               FPS frames a second, then from the start again
# Env: VHW_LOOPBACK_DEV (set in the VM). Sets the loopback's keep_format control while it runs and
# clears it on exit, so the next user starts from a clean device.
set -u
[ $# -ge 5 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
W=$1 H=$2 F=$3 FPS=$4; shift 4
L=${VHW_LOOPBACK_DEV:?not inside the VM harness}
case "$F" in YUYV|UYVY|YVYU|RGBP) bpp=2 ;; RGB3|BGR3) bpp=3 ;; GREY) bpp=1 ;; RGB4|BGR4|XR24|AR24) bpp=4 ;;
    *) echo "feed-loopback: unsupported FOURCC $F" >&2; exit 2 ;; esac
size=$((W * H * bpp))
for f in "$@"; do
    [ "$(stat -c %s "$f" 2>/dev/null)" = "$size" ] ||
        { echo "feed-loopback: $f is not one ${W}x${H} $F frame ($size bytes)" >&2; exit 2; }
done
# The output format must survive between this call and the writer's open: keep_format=1.
v4l2-ctl -d "$L" -c keep_format=1 --set-fmt-video-out=width="$W",height="$H",pixelformat="$F" ||
    { echo "feed-loopback: cannot set ${W}x${H} $F on $L" >&2; exit 1; }
trap 'kill $writer 2>/dev/null; wait $writer 2>/dev/null; v4l2-ctl -d "$L" -c keep_format=0 >/dev/null 2>&1; exit 0' TERM INT EXIT
delay=$(awk "BEGIN{print 1 / $FPS}")
# One writer holds the device open; dd turns every frame into exactly one write() call.
( while :; do for f in "$@"; do cat "$f" || exit 1; sleep "$delay"; done; done ) 2>/dev/null |
    dd of="$L" bs="$size" iflag=fullblock status=none &
writer=$!
wait $writer
