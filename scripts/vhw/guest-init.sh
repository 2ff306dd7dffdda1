#!/vhw-bb/sh
# PID 1 of the test VM, packed into the initramfs by run-in-vm.sh. Runs with busybox only until the
# host's /usr is mounted.
#  1. mounts: host /usr /opt read-only over 9p, host /etc read-only under a writable overlay; the per-run folder (/vhw) and the project
#     folder read-write over 9p (same path as on the host, so absolute paths in .build work).
#  2. devices: vivid (V4L2 test-pattern camera), v4l2loopback (camera fed by a test), gpio-sim
#     (a GPIO chip configured through configfs with the kiosk's line names).
#  3. runs /vhw/cmd with bash under a time limit, with the VHW_* variables (docs/TESTING.md);
#     its output goes to the second serial port, its status to /vhw/rc, the kernel log to
#     /vhw/dmesg.log; then powers off. With VHW_INIT=systemd, systemd becomes PID 1 and runs the
#     command as a service instead.
export PATH=/vhw-bb

say() { echo "[vhw-guest] $*" >/dev/console; }
# A setup failure still writes a status, so the host reports "VM setup failed" rather than a timeout.
die() {
    say "FATAL: $*"
    dmesg >/vhw/dmesg.log 2>/dev/null
    echo 125 >/vhw/rc.tmp 2>/dev/null && mv /vhw/rc.tmp /vhw/rc
    sync; poweroff -f; sleep 5; echo o >/proc/sysrq-trigger
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }

mkdir -p /proc /sys /dev /tmp /run /vhw /usr /etc /opt /root /var/tmp /var/log /mnt
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
T_KERNEL=$(uptime_s)

# Dependencies of the virtio/9p/video modules, in the order modprobe resolved them on the host.
while read -r ko; do
    [ -n "$ko" ] && { insmod "/vhw-mod/$ko" 2>/dev/console || die "insmod $ko failed"; }
done </vhw-mod/order

mount9p() { # tag dir options
    mkdir -p "$2"
    mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000,$3" "$1" "$2" || die "mount 9p $1 on $2 failed"
}
mount9p vhwrun /vhw rw,cache=none
. /vhw/config || die "cannot read /vhw/config"
if [ "${VHW_WRITABLE_USR:-0}" = 1 ]; then
    # Package installs (run-package-stage.sh): /usr and dpkg's database writable on tmpfs over
    # the host's, read-only; nothing reaches the host.
    overlay9p() { # tag dir
        mount9p "$1" "/vhw-$1-host" ro,cache=loose
        mkdir -p "/vhw-$1-rw" "$2" && mount -t tmpfs -o mode=755 "$1rw" "/vhw-$1-rw" && mkdir -p "/vhw-$1-rw/upper" "/vhw-$1-rw/work"
        mount -t overlay overlay -o "lowerdir=/vhw-$1-host,upperdir=/vhw-$1-rw/upper,workdir=/vhw-$1-rw/work" "$2" ||
            die "overlay mount of $2 failed"
    }
    overlay9p usr /usr
    overlay9p dpkg /var/lib/dpkg
else
    mount9p usr /usr ro,cache=loose
fi
# /etc: the host's, read-only, under a tmpfs overlay, so a test can install the project like a
# package would (sysusers, udev rules, /etc/kiosk-agent) without touching the host.
mount9p etc /vhw-etc-host ro,cache=loose
mkdir -p /vhw-etc-rw && mount -t tmpfs -o mode=755 etcrw /vhw-etc-rw && mkdir -p /vhw-etc-rw/upper /vhw-etc-rw/work
mount -t overlay overlay -o lowerdir=/vhw-etc-host,upperdir=/vhw-etc-rw/upper,workdir=/vhw-etc-rw/work /etc ||
    die "overlay mount of /etc failed"
[ "$VHW_HAVE_OPT" = 1 ] && mount9p opt /opt ro,cache=loose
ln -s usr/bin /bin; ln -s usr/sbin /sbin; ln -s usr/lib /lib; ln -s usr/lib64 /lib64
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs -o mode=755 run /run
mount -t tmpfs -o mode=1777 vartmp /var/tmp
# cache=mmap: the host sees the guest's writes (test logs, SQLite files) as they happen.
[ -n "$VHW_WD" ] && mount9p wd "$VHW_WD" rw,cache=mmap
mount -t configfs none /sys/kernel/config || die "mount configfs failed"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
hostname vhw-guest
ip link set lo up || die "cannot bring up the loopback interface"
# qemu's user network when run-in-vm.sh adds a NIC (VHW_GUESTFWD): static, since nothing else may
# be reached (no DHCP client needed); 10.0.2.100 is the host service. net.ifnames=0 on the kernel
# command line keeps the name eth0 when udev starts under systemd.
if [ -e /sys/class/net/eth0 ]; then
    ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up || die "cannot configure eth0 (10.0.2.15/24)"
fi

# ---- cameras ----
insmod /vhw-mod/vivid.ko $VHW_VIVID_ARGS 2>/dev/console || die "insmod vivid $VHW_VIVID_ARGS failed"
insmod /vhw-mod/v4l2loopback.ko video_nr=$VHW_LOOPBACK_NR $VHW_LOOPBACK_ARGS 2>/dev/console ||
    die "insmod v4l2loopback video_nr=$VHW_LOOPBACK_NR $VHW_LOOPBACK_ARGS failed"
i=0; while { [ ! -e /dev/video0 ] || [ ! -e /dev/video$VHW_LOOPBACK_NR ]; } && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
[ -e /dev/video0 ] || die "vivid loaded but /dev/video0 did not appear"
[ -e /dev/video$VHW_LOOPBACK_NR ] || die "v4l2loopback loaded but /dev/video$VHW_LOOPBACK_NR did not appear"

# ---- GPIO chip ----
insmod /vhw-mod/gpio-sim.ko 2>/dev/console || die "insmod gpio-sim failed"
G=/sys/kernel/config/gpio-sim/kiosk
mkdir "$G" "$G/bank0" || die "gpio-sim: mkdir in configfs failed"
echo "$VHW_GPIO_LABEL" >"$G/bank0/label"
echo "$VHW_GPIO_NUM_LINES" >"$G/bank0/num_lines"
i=0
for n in $VHW_GPIO_NAMES; do
    [ "$n" = - ] || { mkdir "$G/bank0/line$i" && echo "$n" >"$G/bank0/line$i/name"; } || die "gpio-sim: naming line $i failed"
    i=$((i+1))
done
echo 1 >"$G/live" || die "gpio-sim: enabling the chip failed"
GDEV=$(cat "$G/dev_name"); GCHIP=$(cat "$G/bank0/chip_name")
[ -e "/dev/$GCHIP" ] || die "gpio-sim is live but /dev/$GCHIP did not appear"

cat >/run/vhw.env <<ENV
export VHW_GUEST=1
export VHW_VIDEO_DEV=/dev/video0
export VHW_LOOPBACK_DEV=/dev/video$VHW_LOOPBACK_NR
export VHW_GPIOCHIP=/dev/$GCHIP
export VHW_GPIOCHIP_NAME=$GCHIP
export VHW_GPIOCHIP_LABEL=$VHW_GPIO_LABEL
export VHW_GPIO_SIM_SYSFS=/sys/devices/platform/$GDEV/$GCHIP
export VHW_GPIO_SIM_CONFIGFS=$G
export VHW_PROJECT=$VHW_PROJECT
export VHW_MODULES=/vhw-mod
export VHW_VIVID_ARGS="$VHW_VIVID_ARGS"
export VHW_LOOPBACK_NR=$VHW_LOOPBACK_NR
export VHW_LOOPBACK_ARGS="video_nr=$VHW_LOOPBACK_NR $VHW_LOOPBACK_ARGS"
ENV
cat /vhw/passenv >>/run/vhw.env 2>/dev/null
T_READY=$(uptime_s)
echo "$T_READY" >/vhw/ready_uptime
say "devices ready at ${T_READY}s (kernel up at ${T_KERNEL}s): /dev/video0, /dev/video$VHW_LOOPBACK_NR, /dev/$GCHIP"

OUT=/dev/ttyS1
stty -F $OUT raw -echo 2>/dev/null || OUT=/dev/console

if [ "$VHW_INIT" = systemd ]; then
    # systemd from the host's /usr becomes PID 1. Units go to /run/systemd/system (tmpfs); the
    # command runs as vhw-cmd.service in vhw.target, so nothing of the host's default.target starts.
    U=/run/systemd/system; mkdir -p $U
    # Units of the host's boot that only cost time here (each takes 1-5 s under TCG): time sync,
    # module loading for a different kernel, pseudo-filesystems and one-shot set-up the VM
    # does not need. udev and journald stay: device permissions and the journal are tested.
    for u in systemd-timesyncd.service systemd-modules-load.service systemd-sysusers.service \
             modprobe@dm_mod.service modprobe@efi_pstore.service modprobe@fuse.service \
             modprobe@drm.service modprobe@loop.service dev-hugepages.mount dev-mqueue.mount \
             sys-kernel-tracing.mount sys-kernel-debug.mount sys-fs-fuse-connections.mount \
             systemd-remount-fs.service systemd-random-seed.service systemd-pstore.service \
             systemd-binfmt.service proc-sys-fs-binfmt_misc.automount ldconfig.service \
             systemd-hwdb-update.service systemd-update-utmp.service systemd-journal-catalog-update.service \
             systemd-machine-id-commit.service systemd-firstboot.service; do
        ln -sf /dev/null "$U/$u"
    done
    cat >$U/vhw.target <<UNIT
[Unit]
Description=vhw test target
Requires=basic.target vhw-cmd.service
After=basic.target
AllowIsolate=yes
UNIT
    cat >$U/vhw-cmd.service <<UNIT
[Unit]
Description=vhw test command
After=basic.target
SuccessAction=poweroff-force
FailureAction=poweroff-force
[Service]
Type=exec
WorkingDirectory=-$VHW_CWD
Environment=HOME=/root TERM=dumb LANG=C.UTF-8
ExecStart=/usr/bin/timeout -k 3 $VHW_CMD_TIMEOUT /usr/bin/bash -c '. /run/vhw.env; . /vhw/cmd'
ExecStopPost=/usr/bin/bash -c 'cut -d" " -f1 /proc/uptime >/vhw/done_uptime; dmesg >/vhw/dmesg.log; journalctl -b --no-pager -o short-monotonic >/vhw/journal.log 2>&1; echo \$EXIT_STATUS >/vhw/rc.tmp; mv /vhw/rc.tmp /vhw/rc'
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=$OUT
TTYVTDisallocate=no
UNIT
    say "handing PID 1 to systemd"
    exec /usr/lib/systemd/systemd --unit=vhw.target --show-status=0 --log-target=$VHW_SYSTEMD_LOG_TARGET --log-level=$VHW_SYSTEMD_LOG
fi

cd "$VHW_CWD" 2>/dev/null || cd /
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root TERM=dumb LANG=C.UTF-8 USER=root \
    /usr/bin/timeout -k 3 "$VHW_CMD_TIMEOUT" /usr/bin/bash -c '. /run/vhw.env; . /vhw/cmd' \
    </dev/null >$OUT 2>&1
rc=$?
uptime_s >/vhw/done_uptime
dmesg >/vhw/dmesg.log
echo "$rc" >/vhw/rc.tmp && mv /vhw/rc.tmp /vhw/rc
say "command exited with status $rc"
sync
umount /vhw 2>/dev/null
poweroff -f
sleep 5; echo o >/proc/sysrq-trigger
