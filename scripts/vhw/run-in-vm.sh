#!/bin/bash
# scripts/vhw/run-in-vm.sh CMD [ARGS...]
#
# Boots a throw-away VM (Debian's kernel under qemu: KVM when the CPU can, software emulation
# otherwise) with real kernel devices, runs CMD inside it and exits with CMD's status.
#   vivid         V4L2 test-pattern camera                  $VHW_VIDEO_DEV     (/dev/video0)
#   v4l2loopback  V4L2 camera fed by a test's own frames    $VHW_LOOPBACK_DEV  (/dev/video10)
#   gpio-sim      GPIO chip "kiosk-gpio", 8 named lines     $VHW_GPIOCHIP      (/dev/gpiochipN)
# The project folder is shared read-write at the same path; host /usr, /etc, /opt read-only (so the
# host's tools, libraries and /opt/swift work). CMD runs as root with bash in the current folder
# (or the project root when run from outside it). Full variable list: docs/TESTING.md.
#
# Knobs (environment):
#   VHW_TIMEOUT=300     wall-clock limit for boot + CMD + power-off, seconds
#   VHW_ACCEL=auto      auto | kvm | tcg
#   VHW_MEM=2048 VHW_SMP (kvm: 2, tcg: 1) VHW_CPU (kvm: host, tcg: qemu64)
#   VHW_INIT=           "systemd": systemd is PID 1 and runs CMD as vhw-cmd.service
#   VHW_SYSTEMD_LOG=notice VHW_SYSTEMD_LOG_TARGET=journal-or-kmsg   (systemd mode)
#   VHW_WD=<project>    host folder shared read-write (empty: none)
#   VHW_GUESTFWD="GUESTPORT:HOSTPORT"  a virtio NIC on qemu's user network (restrict=on: nothing
#                       leaves qemu) whose only reachable address, 10.0.2.100:GUESTPORT, is the host's
#                       127.0.0.1:HOSTPORT; the guest is 10.0.2.15/24 on eth0. Unset: no NIC.
#   VHW_VIVID_ARGS="n_devs=1 node_types=0x1"
#   VHW_LOOPBACK_NR=10  VHW_LOOPBACK_ARGS="card_label=kiosk-loopback exclusive_caps=1"
#   VHW_GPIO_LABEL=kiosk-gpio VHW_GPIO_NUM_LINES=8
#   VHW_GPIO_NAMES="door-relay led-green led-red buzzer door-sensor exit-button tamper spare"
#   VHW_PASS_ENV="A B"  host variables to pass into the guest (CI and KIOSK_* always pass)
#   VHW_NO_OPT=1        do not share /opt (proves a binary needs no Swift toolchain)
#   VHW_WRITABLE_USR=1  /usr and /var/lib/dpkg: the host's under a tmpfs overlay, so packages
#                       can be installed in the guest (scripts/vhw/run-package-stage.sh)
#   VHW_VERBOSE=1       print the guest console and kernel log even on success
#   VHW_TIMING=1        print boot and run timings
#   VHW_TIMING_FILE=F   write "vm_wall SECONDS" and "vm_done GUEST-UPTIME" to F (the stage's summary)
#   VHW_LOGS=<project>/.build/vhw-logs   where logs of a failed run are kept (the newest 20)
#   VHW_APPEND="loglevel=7"   extra kernel command line (e.g. a chattier console to debug a hang)
# Exit status: CMD's; 124 the VM was killed after VHW_TIMEOUT; 125 VM or setup failure.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ $# -eq 0 ]; then sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; fi

TIMEOUT=${VHW_TIMEOUT:-300}
ACCEL=${VHW_ACCEL:-auto}
WD=${VHW_WD-$VHW_PROJECT}
LOGS=${VHW_LOGS:-$VHW_PROJECT/.build/vhw-logs}
case "$PWD/" in "$WD"/*) CWD=$PWD ;; *) CWD=${WD:-/} ;; esac

KVER=$(vhw_kver)
if [ -z "$KVER" ] || ! vhw_ready "$KVER"; then
    vhw_log "the VM kernel${KVER:+ $KVER} is not prepared: run scripts/vhw/setup.sh"; exit 125
fi
KROOT=$(vhw_kdir "$KVER")/kernel
MODDIR=$KROOT/lib/modules/$KVER
if [ -s "$KROOT/boot/vmlinux-$KVER" ]; then KERNEL=$KROOT/boot/vmlinux-$KVER; else KERNEL=$KROOT/boot/vmlinuz-$KVER; fi
command -v qemu-system-x86_64 >/dev/null || { vhw_log "qemu-system-x86_64 is not installed: run scripts/setup-deps.sh vm"; exit 125; }
[ -x /usr/bin/busybox ] || { vhw_log "/usr/bin/busybox is missing: run scripts/setup-deps.sh vm"; exit 125; }

# ---------- initramfs: busybox, guest-init.sh, modules; cached, keyed by its inputs ----------
# Modules that the kernel needs before the 9p mounts and for the devices, with their dependencies
# resolved by modprobe on the host (builtin ones are skipped).
# virtio_net: the optional NIC (VHW_GUESTFWD); loaded always, it costs milliseconds without one.
MODS="virtio_pci virtio_rng virtio_net 9p 9pnet_virtio overlay configfs vivid v4l2loopback gpio-sim"
key=$( { echo "$KVER $MODS"; cat "$VHW_SCRIPTS/guest-init.sh" /usr/bin/busybox "$MODDIR/modules.dep"; cat "$MODDIR"/extra/*.ko; } | sha256sum | cut -c1-16)
INITRD=$(vhw_kdir "$KVER")/initramfs-$key.cpio.gz
if [ ! -s "$INITRD" ]; then
    b=$(mktemp -d "$(vhw_kdir "$KVER")/initramfs.XXXXXX") || exit 125
    mkdir -p "$b/vhw-bb" "$b/vhw-mod"
    cp /usr/bin/busybox "$b/vhw-bb/busybox"
    for a in $(/usr/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$b/vhw-bb/$a"; done
    cp "$VHW_SCRIPTS/guest-init.sh" "$b/init"; chmod 755 "$b/init"
    for m in $MODS; do
        modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" || { vhw_log "no module $m for $KVER"; rm -rf "$b"; exit 125; }
    done | awk '$1=="insmod"{print $2}' | awk '!seen[$0]++' | while read -r ko; do
        n=$(basename "$ko")
        cp "$ko" "$b/vhw-mod/$n"
        # The three device modules take parameters: guest-init.sh loads them itself.
        case "$n" in vivid.ko|gpio-sim.ko|v4l2loopback.ko) ;; *) echo "$n" >>"$b/vhw-mod/order" ;; esac
    done
    rm -f "$(vhw_kdir "$KVER")"/initramfs-*.cpio.gz
    (cd "$b" && find . -mindepth 1 | cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp" && mv "$INITRD.tmp" "$INITRD"
    rm -rf "$b"
fi

# ---------- the per-run folder, shared with the guest as /vhw ----------
RUN=$(mktemp -d "${TMPDIR:-/tmp}/vhw-run.XXXXXX") || exit 125
QPID=
cleanup() { [ -n "$QPID" ] && kill "$QPID" 2>/dev/null; rm -rf "$RUN"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

q() { printf '%q' "$1"; }
# The command inside gets less time than the VM, so a hung command is reported by the guest
# (status 124 from timeout, kernel log kept) rather than by killing the VM.
CMD_TIMEOUT=$((TIMEOUT > 90 ? TIMEOUT - 45 : TIMEOUT * 2 / 3))
{
    echo "VHW_WD=$(q "$WD")"
    echo "VHW_CWD=$(q "$CWD")"
    echo "VHW_PROJECT=$(q "$VHW_PROJECT")"
    echo "VHW_CMD_TIMEOUT=$CMD_TIMEOUT"
    echo "VHW_HAVE_OPT=$([ -d /opt ] && [ "${VHW_NO_OPT:-0}" != 1 ] && echo 1 || echo 0)"
    echo "VHW_WRITABLE_USR=$(q "${VHW_WRITABLE_USR:-0}")"
    echo "VHW_INIT=$(q "${VHW_INIT:-}")"
    echo "VHW_VIVID_ARGS=$(q "${VHW_VIVID_ARGS:-n_devs=1 node_types=0x1}")"
    echo "VHW_LOOPBACK_NR=$(q "${VHW_LOOPBACK_NR:-10}")"
    echo "VHW_LOOPBACK_ARGS=$(q "${VHW_LOOPBACK_ARGS:-card_label=kiosk-loopback exclusive_caps=1}")"
    echo "VHW_GPIO_LABEL=$(q "${VHW_GPIO_LABEL:-kiosk-gpio}")"
    echo "VHW_GPIO_NUM_LINES=$(q "${VHW_GPIO_NUM_LINES:-8}")"
    echo "VHW_GPIO_NAMES=$(q "${VHW_GPIO_NAMES:-door-relay led-green led-red buzzer door-sensor exit-button tamper spare}")"
    echo "VHW_SYSTEMD_LOG=$(q "${VHW_SYSTEMD_LOG:-notice}")"
    # systemd's own messages go to the journal (tests read them there; kept as journal.log).
    echo "VHW_SYSTEMD_LOG_TARGET=$(q "${VHW_SYSTEMD_LOG_TARGET:-journal-or-kmsg}")"
} >"$RUN/config"
for v in CI ${VHW_PASS_ENV:-} $(compgen -e | grep '^KIOSK_' || true); do
    [ -n "${!v+x}" ] && echo "export $v=$(q "${!v}")"
done >"$RUN/passenv"
printf '%q ' "$@" >"$RUN/cmd"; echo >>"$RUN/cmd"
: >"$RUN/out.log"

if [ "$ACCEL" = auto ]; then
    # A usable /dev/kvm is not enough: without vmx/svm (e.g. nested software virtualisation) a
    # stock kernel hangs early in boot, so fall back to TCG then.
    if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; else ACCEL=tcg; fi
fi
# TCG: one vCPU with the plain qemu64 model boots faster than more vCPUs or -cpu max, and leaves
# the second host core to the other work on the machine.
case "$ACCEL" in
    kvm) ACCEL_OPTS=(-accel kvm -cpu "${VHW_CPU:-host}"); SMP=${VHW_SMP:-2} ;;
    tcg) ACCEL_OPTS=(-accel tcg,thread=multi -cpu "${VHW_CPU:-qemu64}"); SMP=${VHW_SMP:-1} ;;
    *) vhw_log "VHW_ACCEL must be auto, kvm or tcg"; exit 2 ;;
esac

share() { echo "local,path=$1,mount_tag=$2,security_model=none,multidevs=remap${3:+,$3}"; }
SHARES=(-virtfs "$(share "$RUN" vhwrun)" -virtfs "$(share /usr usr readonly=on)" -virtfs "$(share /etc etc readonly=on)")
[ -d /opt ] && [ "${VHW_NO_OPT:-0}" != 1 ] && SHARES+=(-virtfs "$(share /opt opt readonly=on)")
[ "${VHW_WRITABLE_USR:-0}" = 1 ] && SHARES+=(-virtfs "$(share /var/lib/dpkg dpkg readonly=on)")
[ -n "$WD" ] && SHARES+=(-virtfs "$(share "$WD" wd)")

# Network: only towards one service on the host's loopback. restrict=on isolates the guest (no
# route out of qemu, no host ports opened); the guestfwd rule is the one exception, mapping the
# guest address 10.0.2.100:GUESTPORT to 127.0.0.1:HOSTPORT on the host. Every guest connection
# gets its own host connection ("cmd:" runs busybox nc per connection; a "tcp:" chardev would be
# opened once at qemu's start and serve a single connection for the whole run).
NET=()
if [ -n "${VHW_GUESTFWD:-}" ]; then
    gport=${VHW_GUESTFWD%%:*} hport=${VHW_GUESTFWD##*:}
    case "$gport$hport" in *[!0-9]*|"") vhw_log "VHW_GUESTFWD must be GUESTPORT:HOSTPORT, got '$VHW_GUESTFWD'"; exit 2 ;; esac
    NET=(-netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:$gport-cmd:/usr/bin/busybox nc 127.0.0.1 $hport"
         -device virtio-net-pci,netdev=n0)
fi

START=$(date +%s.%N)
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 \
    "${ACCEL_OPTS[@]}" -m "${VHW_MEM:-2048}" -smp "$SMP" \
    -nodefaults -no-user-config -display none -vga none -monitor none -no-reboot \
    -serial "file:$RUN/console.log" -serial "file:$RUN/out.log" \
    -device virtio-rng-pci -kernel "$KERNEL" -initrd "$INITRD" \
    -append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=3 tsc=reliable net.ifnames=0 ${VHW_APPEND:-}" \
    "${SHARES[@]}" "${NET[@]}" </dev/null >"$RUN/qemu.log" 2>&1 &
QPID=$!
# Stream the command's output while it runs.
tail -n +1 -s 0.2 -F --pid="$QPID" "$RUN/out.log" 2>/dev/null
wait "$QPID"; qrc=$?
QPID=
END=$(date +%s.%N)

if [ -s "$RUN/rc" ]; then
    rc=$(cat "$RUN/rc")
    [ "$rc" = 124 ] && vhw_log "the command inside the VM was stopped after ${CMD_TIMEOUT}s (VHW_TIMEOUT=$TIMEOUT)"
elif [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
    rc=124; vhw_log "the VM hung and was killed after ${TIMEOUT}s (VHW_TIMEOUT)"
else
    rc=125; vhw_log "the VM stopped without a result (qemu exit status $qrc)"
fi
elapsed=$(awk "BEGIN{printf \"%.1f\", $END - $START}")
if [ -n "${VHW_TIMING_FILE:-}" ]; then
    printf 'vm_wall %s\nvm_done %s\n' "$elapsed" "$(cat "$RUN/done_uptime" 2>/dev/null || echo 0)" >"$VHW_TIMING_FILE"
fi
if [ -n "${VHW_TIMING:-}" ]; then
    vhw_log "timing: accel=$ACCEL wall=${elapsed}s devices-ready=$(cat "$RUN/ready_uptime" 2>/dev/null)s command-done=$(cat "$RUN/done_uptime" 2>/dev/null)s (guest uptime)"
fi
if [ "$rc" != 0 ] || [ "${VHW_VERBOSE:-0}" = 1 ]; then
    # Keep what explains a failure: the console (boot messages, guest-init errors), the kernel log
    # at all levels, systemd's journal in systemd mode, qemu's own messages.
    if [ "$rc" != 0 ]; then
        keep="$LOGS/$(date +%Y%m%d-%H%M%S)-$$"
        mkdir -p "$keep" && cp "$RUN"/{console.log,out.log,qemu.log,dmesg.log,journal.log,cmd} "$keep/" 2>/dev/null
        vhw_log "exit status $rc after ${elapsed}s ($ACCEL); logs kept in $keep"
        # Keep the 20 newest failures only.
        ls -dt "$LOGS"/*/ 2>/dev/null | tail -n +21 | xargs -r rm -rf
    fi
    echo "----- guest console (last 40 lines) -----" >&2; tail -n 40 "$RUN/console.log" >&2
    if [ -s "$RUN/dmesg.log" ]; then echo "----- guest kernel log (last 40 lines) -----" >&2; tail -n 40 "$RUN/dmesg.log" >&2; fi
    if [ -s "$RUN/journal.log" ]; then echo "----- guest journal, systemd mode (last 40 lines) -----" >&2; tail -n 40 "$RUN/journal.log" >&2; fi
    if [ -s "$RUN/qemu.log" ]; then echo "----- qemu -----" >&2; cat "$RUN/qemu.log" >&2; fi
fi
exit "$rc"
