#!/bin/bash
# Runs INSIDE the VM: reloads v4l2loopback so $VHW_LOOPBACK_DEV is back in its start state.
# Needed after a write()-based feeder: v4l2loopback 0.12.7 with exclusive_caps=1 only restores the
# output capability when a *streaming* writer closes, so after a write() writer the device shows
# neither capture nor output, and it keeps buffers of the last format while any handle is open.
# Fails (status 1) when something still holds the device open.
set -u
. /vhw/config
L=${VHW_LOOPBACK_DEV:-/dev/video$VHW_LOOPBACK_NR}
rmmod v4l2loopback 2>/dev/null || { echo "reset-loopback: $L is still open (rmmod refused)" >&2; exit 1; }
insmod /vhw-mod/v4l2loopback.ko video_nr="$VHW_LOOPBACK_NR" $VHW_LOOPBACK_ARGS || exit 1
command -v udevadm >/dev/null && udevadm settle -t 10 2>/dev/null
for _ in $(seq 50); do [ -e "$L" ] && exit 0; sleep 0.1; done
echo "reset-loopback: $L did not come back" >&2; exit 1
