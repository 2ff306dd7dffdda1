#!/vhw-bb/sh
# PID 1 of the power-cut VM (scripts/vhw/powercut.sh), packed into its own initramfs: busybox,
# this script and the few modules it needs (virtio, 9p, ext4, device-mapper). No systemd, no
# cameras: each boot only has to mount the state disk and start the writer, so a cut-and-reboot
# cycle is as short as emulation allows.
#  - host /usr and /opt read-only over 9p (the worker and the Swift runtime), the project folder
#    read-only (the worker binary), the per-run folder /vhw read-write (config, reports, status).
#  - the state disk /dev/vda (ext4 made on the host) mounted on /state with $PC_MOUNT_OPTS.
#  - $PC_MODE: write (the worker writes until qemu is killed), check (report, clean unmount,
#    power off), or storage (scripts/vhw/tests/storage-failure.sh: the disk behind device-mapper).
#  - the worker's lines go to the second serial port, which the host reads as they come.
export PATH=/vhw-bb
say() { echo "[powercut-guest] $*" >/dev/console; }
finish() { # STATUS
    echo "$1" >/vhw/rc.tmp && mv /vhw/rc.tmp /vhw/rc
    dmesg >/vhw/dmesg.log 2>/dev/null
    sync; poweroff -f; sleep 5; echo o >/proc/sysrq-trigger
}
die() { say "FATAL: $*"; finish 125; }

mkdir -p /proc /sys /dev /tmp /run /vhw /usr /opt /state /root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
ln -s /proc/self/fd /dev/fd
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs -o mode=755 run /run
while read -r ko; do
    # crc32c-intel needs SSE4.2, which TCG's qemu64 CPU lacks; crc32c_generic serves instead.
    [ -n "$ko" ] && { insmod "/vhw-mod/$ko" 2>/dev/null || [ "$ko" = crc32c-intel.ko ] || die "insmod $ko failed"; }
done </vhw-mod/order
mount9p() { mkdir -p "$2"; mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000,$3" "$1" "$2" || die "mount 9p $1 on $2 failed"; }
mount9p vhwrun /vhw rw,cache=none
. /vhw/config || die "cannot read /vhw/config"
export PC_MODE PC_SEQ PC_PROJECT PC_WORKER PC_MOUNT_OPTS
mount9p usr /usr ro,cache=loose
[ "$PC_HAVE_OPT" = 1 ] && mount9p opt /opt ro,cache=loose
mount9p wd "$PC_PROJECT" ro,cache=loose
ln -s usr/bin /bin; ln -s usr/sbin /sbin; ln -s usr/lib /lib; ln -s usr/lib64 /lib64
export PATH=/usr/sbin:/usr/bin:/vhw-bb HOME=/root LANG=C.UTF-8

i=0; while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
[ -b /dev/vda ] || die "the state disk /dev/vda did not appear"
OUT=/dev/ttyS1
stty -F $OUT raw -echo 115200 2>/dev/null || die "cannot set up $OUT"

if [ "$PC_MODE" = storage ]; then
    bash "$PC_PROJECT/scripts/vhw/tests/storage-failure.sh" >$OUT 2>&1
    finish $?
fi

# The journal replays here after a cut, as at a terminal's boot.
mount -t ext4 -o "$PC_MOUNT_OPTS" /dev/vda /state || die "mount -t ext4 -o $PC_MOUNT_OPTS /dev/vda failed"
cut -d' ' -f1 /proc/uptime >/vhw/mounted_uptime
case "$PC_MODE" in
    write)
        # Until the host kills qemu; returning at all is a failure (the worker said why on $OUT).
        "$PC_WORKER" powercut /state/kiosk /vhw/report "$PC_SEQ" >$OUT 2>&1
        say "the writer exited with status $?"
        finish 1 ;;
    check)
        "$PC_WORKER" powercut-check /state/kiosk /vhw/report >$OUT 2>&1
        rc=$?
        umount /state || rc=1
        finish $rc ;;
    *) die "unknown PC_MODE '$PC_MODE'" ;;
esac
