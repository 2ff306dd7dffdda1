#!/bin/bash
# scripts/vhw/powercut.sh [CUTS]
#
# Power cuts under the offline queue and the event journal. The guest's state directory is on a
# virtio disk (a raw image file here on the host, ext4 made by the host's mkfs.ext4 with Debian's
# defaults, mounted in the guest with $VHW_POWERCUT_MOUNT_OPTS). In each boot the writer
# (outbox-crash-worker powercut: check-ins and journal events at full speed, a delivering drainer,
# prunes and checkpoints) prints every acknowledged item on the second serial port; this script
# kills qemu with SIGKILL (no shutdown, no sync) at a random moment of the writing, during a WAL
# checkpoint or during a journal prune (in turn), boots again on the same image and checks:
# every acknowledged check-in is queued or was delivered, every acknowledged journal event newer
# than the oldest kept is kept, PRAGMA integrity_check is ok, the file was never moved aside as
# corrupt, nothing was dropped, and the writer starts normally. A last boot only checks, unmounts
# cleanly, and the image then passes `e2fsck -fn` on the host.
#
# Prints cuts, acknowledged, lost (must be 0), duplicates (delivered again after a cut between the
# delivery and its commit), recovery time from qemu's start to READY, and the cycle time; the last
# line is "power-cut: P passed, F failed, 0 skipped" (one per cut). Exit 0 when nothing was lost.
# Knobs: VHW_POWERCUT_CUTS=30 (or the argument), VHW_POWERCUT_SEED (bash RANDOM seed),
#        VHW_POWERCUT_IMAGE (keep the image there; default a temporary file),
#        VHW_POWERCUT_MOUNT_OPTS=errors=remount-ro, VHW_POWERCUT_CACHE=writeback (qemu drive cache),
#        VHW_POWERCUT_MAX_WRITE=4 (seconds of writing before a random cut), VHW_POWERCUT_RESULTS
#        (write "power-cut P F 0 (...)" there for run-hw-stage.sh), VHW_ACCEL, VHW_MEM=512,
#        VHW_POWERCUT_WORKER=.build/debug/outbox-crash-worker (absolute path), VHW_POWERCUT_KEEP=1
#        (keep the run folder), VHW_POWERCUT_BOOT_TIMEOUT=120 (a hung boot is killed and fails).
# With --storage instead: one boot running scripts/vhw/tests/storage-failure.sh (a failing card).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$VHW_PROJECT" || exit 1

STORAGE=0
if [ "${1:-}" = --storage ]; then STORAGE=1; shift; fi
CUTS=${1:-${VHW_POWERCUT_CUTS:-30}}
case "$CUTS" in ''|*[!0-9]*) vhw_log "CUTS must be a number, got '$CUTS'"; exit 2 ;; esac
[ -n "${VHW_POWERCUT_SEED:-}" ] && RANDOM=$VHW_POWERCUT_SEED
MOUNT_OPTS=${VHW_POWERCUT_MOUNT_OPTS:-errors=remount-ro}
CACHE=${VHW_POWERCUT_CACHE:-writeback}
MAX_WRITE_MS=$(( ${VHW_POWERCUT_MAX_WRITE:-4} * 1000 ))
WORKER=${VHW_POWERCUT_WORKER:-$VHW_PROJECT/.build/debug/outbox-crash-worker}
BOOT_TIMEOUT=${VHW_POWERCUT_BOOT_TIMEOUT:-120}

fail_setup() { vhw_log "power-cut stage: $*"; echo "power-cut: 0 passed, 1 failed, 0 skipped"
    [ -n "${VHW_POWERCUT_RESULTS:-}" ] && echo "power-cut 0 1 0 (did not run: $*)" >"$VHW_POWERCUT_RESULTS"; exit 1; }
[ -x "$WORKER" ] || fail_setup "no worker at $WORKER (swift build --build-tests builds it)"
command -v mkfs.ext4 >/dev/null && command -v e2fsck >/dev/null || scripts/setup-deps.sh vm >&2
command -v mkfs.ext4 >/dev/null || fail_setup "mkfs.ext4 is missing (e2fsprogs): scripts/setup-deps.sh vm"
command -v qemu-system-x86_64 >/dev/null || fail_setup "qemu is missing: scripts/setup-deps.sh vm"
KVER=$(vhw_kver)
{ [ -n "$KVER" ] && vhw_ready "$KVER"; } || fail_setup "the VM kernel is not prepared: run scripts/vhw/setup.sh"
KROOT=$(vhw_kdir "$KVER")/kernel
if [ -s "$KROOT/boot/vmlinux-$KVER" ]; then KERNEL=$KROOT/boot/vmlinux-$KVER; else KERNEL=$KROOT/boot/vmlinuz-$KVER; fi

# ---- initramfs: busybox, powercut-init.sh, modules (cached, keyed by its inputs) ----
MODS="virtio_pci virtio_rng virtio_blk 9p 9pnet_virtio ext4 dm-mod dm-flakey"
MODDIR=$KROOT/lib/modules/$KVER
key=$( { echo "$KVER $MODS"; cat "$VHW_SCRIPTS/powercut-init.sh" /usr/bin/busybox "$MODDIR/modules.dep"; } | sha256sum | cut -c1-16)
INITRD=$(vhw_kdir "$KVER")/powercut-initramfs-$key.cpio.gz
if [ ! -s "$INITRD" ]; then
    b=$(mktemp -d "$(vhw_kdir "$KVER")/pc-initramfs.XXXXXX") || exit 1
    mkdir -p "$b/vhw-bb" "$b/vhw-mod"
    cp /usr/bin/busybox "$b/vhw-bb/busybox"
    for a in $(/usr/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$b/vhw-bb/$a"; done
    cp "$VHW_SCRIPTS/powercut-init.sh" "$b/init"; chmod 755 "$b/init"
    for m in $MODS; do
        modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" || { rm -rf "$b"; fail_setup "no module $m for $KVER"; }
    done | awk '$1=="insmod"{print $2}' | awk '!seen[$0]++' | while read -r ko; do
        cp "$ko" "$b/vhw-mod/"; basename "$ko" >>"$b/vhw-mod/order"
    done
    rm -f "$(vhw_kdir "$KVER")"/powercut-initramfs-*.cpio.gz
    (cd "$b" && find . -mindepth 1 | cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp" && mv "$INITRD.tmp" "$INITRD"
    rm -rf "$b"
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/vhw-powercut.XXXXXX") || exit 1
QPID=
cleanup() { [ -n "$QPID" ] && kill -9 "$QPID" 2>/dev/null; [ "${VHW_POWERCUT_KEEP:-0}" = 1 ] || rm -rf "$RUN"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
IMG=${VHW_POWERCUT_IMAGE:-$RUN/state.img}
rm -f "$IMG"
truncate -s 256M "$IMG"
# The host's mke2fs.conf (Debian's defaults: 4 KiB blocks, journal, extents, metadata_csum);
# inode tables and journal written now, so no lazy-init thread writes in the background of a boot.
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 -L kiosk-state "$IMG" || fail_setup "mkfs.ext4 failed"

ACCEL=${VHW_ACCEL:-auto}
if [ "$ACCEL" = auto ]; then
    if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; else ACCEL=tcg; fi
fi
case "$ACCEL" in
    kvm) ACCEL_OPTS=(-accel kvm -cpu host) ;;
    *) ACCEL_OPTS=(-accel tcg,thread=multi -cpu qemu64) ;;
esac
share() { echo "local,path=$1,mount_tag=$2,security_model=none,multidevs=remap${3:+,$3}"; }
SHARES=(-virtfs "$(share "$RUN/share" vhwrun)" -virtfs "$(share /usr usr readonly=on)"
        -virtfs "$(share "$VHW_PROJECT" wd readonly=on)")
[ -d /opt ] && SHARES+=(-virtfs "$(share /opt opt readonly=on)")
mkdir -p "$RUN/share"

now() { date +%s.%N; }
secs() { awk "BEGIN{printf \"%.1f\", $2 - $1}"; }

# boot MODE SEQ TRIGGER: one boot; TRIGGER is none (wait for the guest to power off), time:MS
# (kill MS after READY), or a line prefix ("C " checkpoint, "P " prune) to kill on. Leaves
# $RUN/serial.log, $RUN/share/report, and "start ready end" (host clock) in $RUN/times.
boot() {
    local mode=$1 seq=$2 trigger=$3
    rm -f "$RUN/share/"{report,rc,config} "$RUN/serial.log" "$RUN/console.log" "$RUN/ready_at"
    : >"$RUN/serial.log"
    cat >"$RUN/share/config" <<EOF
PC_MODE=$mode
PC_SEQ=$seq
PC_PROJECT=$(printf '%q' "$VHW_PROJECT")
PC_WORKER=$(printf '%q' "$WORKER")
PC_MOUNT_OPTS=$(printf '%q' "$MOUNT_OPTS")
PC_HAVE_OPT=$([ -d /opt ] && echo 1 || echo 0)
EOF
    local t0; t0=$(now)
    qemu-system-x86_64 "${ACCEL_OPTS[@]}" -m "${VHW_MEM:-512}" -smp 1 \
        -nodefaults -no-user-config -display none -vga none -monitor none -no-reboot \
        -serial "file:$RUN/console.log" -serial "file:$RUN/serial.log" \
        -device virtio-rng-pci -kernel "$KERNEL" -initrd "$INITRD" \
        -append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=3 tsc=reliable" \
        -drive "file=$IMG,format=raw,if=virtio,cache=$CACHE" \
        "${SHARES[@]}" </dev/null >"$RUN/qemu.log" 2>&1 &
    QPID=$!
    local qpid=$QPID
    # A hung guest is killed after BOOT_TIMEOUT; the guard ends by itself with qemu (and holds no
    # output open: a pipe reading this script's output is not kept waiting).
    ( for _ in $(seq $((BOOT_TIMEOUT * 10))); do kill -0 "$qpid" 2>/dev/null || exit 0; sleep 0.1; done
      kill -9 "$qpid" ) >/dev/null 2>&1 &
    local guard=$!
    tail -n +1 -s 0.05 -F --pid="$qpid" "$RUN/serial.log" 2>/dev/null | while IFS= read -r line; do
        case "$line" in
            READY*)
                now >"$RUN/ready_at"
                case "$trigger" in time:*) ( sleep "$(awk "BEGIN{print ${trigger#time:}/1000}")"; kill -9 "$qpid" ) >/dev/null 2>&1 & ;; esac ;;
        esac
        case "$trigger" in
            "C "|"P ") case "$line" in "$trigger"*)
                # Up to 30 ms later, so cuts spread over the operation rather than its first write.
                sleep "0.0$((RANDOM % 30 + 10))" 2>/dev/null; kill -9 "$qpid" 2>/dev/null ;; esac ;;
        esac
    done
    wait "$qpid" 2>/dev/null
    QPID=
    wait "$guard" 2>/dev/null
    echo "$t0 $(cat "$RUN/ready_at" 2>/dev/null || echo -) $(now)" >"$RUN/times"
}

# Complete lines only: the line being sent when the power went may be cut short.
complete_lines() { if [ -n "$(tail -c1 "$1")" ]; then sed '$d' "$1"; else cat "$1"; fi; }

A=$RUN/acked J=$RUN/jacked D=$RUN/delivered
: >"$A"; : >"$J"; : >"$D"
passed=0 failed=0 kinds_enqueue=0 kinds_ckpt=0 kinds_prune=0 inside_ckpt=0 inside_prune=0 missed=0
recovery=() guest_ready=() cycle=()
problems=()

# verify CUT: the report of the boot after cut CUT against everything acknowledged so far.
verify() {
    local cut=$1 R=$RUN/share/report bad=()
    if [ ! -s "$R" ]; then bad+=("no report (the writer did not start: see $RUN/serial.log)")
    else
        grep -qx 'open ok' "$R" || bad+=("$(grep -m1 '^open' "$R")")
        grep -qx 'integrity ok' "$R" || bad+=("$(grep -m1 '^integrity' "$R" || echo 'integrity: no result')")
        grep -qx 'dropped 0' "$R" || bad+=("$(grep -m1 '^dropped' "$R")")
        local lost
        lost=$(awk 'FILENAME==ARGV[1] {if ($1=="Q") have[$2]=1; next}
                    FILENAME==ARGV[2] {have[$1]=1; next}
                    !($2 in have) {n++} END {print n+0}' "$R" "$D" "$A")
        [ "$lost" = 0 ] || bad+=("$lost acknowledged check-ins neither queued nor delivered")
        local jlost
        jlost=$(awk 'FILENAME==ARGV[1] {if ($1=="J") {have[$2]=1; if (min=="" || $2+0 < min) min=$2+0}; next}
                     min=="" || $1+0 > min { if (!($1 in have)) n++ } END {print n+0}' "$R" "$J")
        [ "$jlost" = 0 ] || bad+=("$jlost acknowledged journal events lost")
        [ "$lost" -gt "$LOST_CHECKINS" ] && LOST_CHECKINS=$lost
        [ "$jlost" -gt "$LOST_JOURNAL" ] && LOST_JOURNAL=$jlost
    fi
    if [ ${#bad[@]} = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); problems+=("cut $cut: ${bad[*]}"); echo "  cut $cut: FAILED: ${bad[*]}"; fi
}

if [ $STORAGE = 1 ]; then
    # The failing-card test: one boot, the disk behind device-mapper (tests/storage-failure.sh).
    T0=$(now)
    BOOT_TIMEOUT=${VHW_POWERCUT_BOOT_TIMEOUT:-300}
    boot storage 0 none 2>>"$RUN/boot.err"
    cat "$RUN/serial.log"
    line=$(grep -E '^storage-failure: [0-9]+ passed' "$RUN/serial.log" | tail -n 1)
    read -r p f < <(printf '%s\n' "$line" | sed -n 's/^storage-failure: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p')
    [ -n "${p:-}" ] || { p=0 f=1; echo "storage-failure: no result; guest console:"; tail -n 20 "$RUN/console.log"; }
    [ "$(cat "$RUN/share/rc" 2>/dev/null)" = 0 ] || [ "$f" -gt 0 ] || f=1
    echo "storage-failure: $p passed, $f failed, 0 skipped (${ELAPSED:-$(secs "$T0" "$(now)")}s)"
    [ -n "${VHW_POWERCUT_RESULTS:-}" ] && echo "storage-failure $p $f 0" >"$VHW_POWERCUT_RESULTS"
    [ "$f" = 0 ]; exit
fi

T0=$(now)
echo "power-cut stage: $CUTS cuts, accel=$ACCEL, image $(du -h --apparent-size "$IMG" | cut -f1) ext4 (-o $MOUNT_OPTS), drive cache=$CACHE"
LOST_CHECKINS=0 LOST_JOURNAL=0
for cut in $(seq 1 "$CUTS"); do
    case $((cut % 3)) in
        1) trigger="time:$(( 300 + RANDOM * MAX_WRITE_MS / 32768 ))"; kind=enqueue; kinds_enqueue=$((kinds_enqueue + 1)) ;;
        2) trigger="C "; kind=checkpoint; kinds_ckpt=$((kinds_ckpt + 1)) ;;
        0) trigger="P "; kind=prune; kinds_prune=$((kinds_prune + 1)) ;;
    esac
    boot write $((cut * 1000000)) "$trigger" 2>>"$RUN/boot.err"
    read -r t0 tready tend <"$RUN/times"
    cycle+=("$(secs "$t0" "$tend")")
    r='?'; [ "$tready" != - ] && { r=$(secs "$t0" "$tready"); recovery+=("$r"); }
    [ -s "$RUN/share/report" ] && guest_ready+=("$(awk '$1=="ready_uptime"{print $2}' "$RUN/share/report")")
    # The report of this boot describes the state the PREVIOUS cut left.
    if [ "$cut" -gt 1 ]; then verify $((cut - 1)); fi
    lines=$RUN/lines; complete_lines "$RUN/serial.log" >"$lines"
    awk '$1=="A"{print $2, $3}' "$lines" >>"$A"
    awk '$1=="J"{print $2}' "$lines" >>"$J"
    awk '$1=="D"{print $2}' "$lines" >>"$D"
    if grep -q '^E ' "$lines"; then failed=$((failed + 1)); problems+=("cut $cut: $(grep -m1 '^E ' "$lines")"); fi
    [ -s "$RUN/share/rc" ] && { problems+=("cut $cut: the guest stopped by itself (status $(cat "$RUN/share/rc")): $(tail -n 3 "$RUN/console.log" | tr '\n' ' ')"); failed=$((failed + 1)); }
    if [ "$kind" != enqueue ]; then
        # Inside: the operation's start line came and its end line did not.
        mark=${trigger% }; last=$(awk -v m="$mark" -v e="$(echo "$mark" | tr CP cp)" '$1==m{s=$2} $1==e && $2==s{s=""} END{print (s=="" ? "no" : "yes")}' "$lines")
        grep -q "^$mark " "$lines" || { missed=$((missed + 1)); last=missed; }
        [ "$last" = yes ] && { [ "$kind" = checkpoint ] && inside_ckpt=$((inside_ckpt + 1)) || inside_prune=$((inside_prune + 1)); }
    fi
    printf '  cut %3d %-10s %4d acked  ready %5ss  cycle %5ss%s\n' "$cut" "$kind" "$(grep -c '^A ' "$lines")" \
        "$r" "${cycle[-1]}" "$([ "$kind" != enqueue ] && echo "  inside: $last")"
done
boot check 0 none 2>>"$RUN/boot.err"
read -r t0 tready tend <"$RUN/times"
verify "$CUTS"
[ "$(cat "$RUN/share/rc" 2>/dev/null)" = 0 ] || { failed=$((failed + 1)); problems+=("last boot: the check or the clean unmount failed: $(tail -n 3 "$RUN/serial.log" | tr '\n' ' ')"); }
fsck_out=$(e2fsck -fn "$IMG" 2>&1); fsck_rc=$?
[ $fsck_rc = 0 ] || { failed=$((failed + 1)); problems+=("e2fsck -fn: status $fsck_rc: $(echo "$fsck_out" | tail -n 3 | tr '\n' ' ')"); }

stats() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -n | awk '{v[++n]=$1} END{if (!n) {print "-"; exit} printf "median %.1f s, max %.1f s", v[int((n+1)/2)], v[n]}'; }
acked=$(wc -l <"$A") jacked=$(wc -l <"$J") delivered=$(sort -u "$D" | wc -l)
dups=$(sort "$D" | uniq -d | wc -l) extra=$(( $(wc -l <"$D") - delivered ))
queued=$(grep -c '^Q ' "$RUN/share/report" 2>/dev/null)
ELAPSED=$(secs "$T0" "$(now)")
echo
echo "power-cut stage: $CUTS cuts in ${ELAPSED}s ($kinds_enqueue while writing, $kinds_ckpt at a checkpoint [$inside_ckpt inside it], $kinds_prune at a journal prune [$inside_prune inside it]$([ $missed -gt 0 ] && echo ", $missed without their marker"))"
echo "  acknowledged: $acked check-ins, $jacked journal events; delivered $delivered, $queued still queued"
echo "  lost: $LOST_CHECKINS check-ins, $LOST_JOURNAL journal events (the worst check after any cut); duplicates: $dups check-ins delivered twice ($extra extra deliveries)"
echo "  integrity_check: $([ $failed = 0 ] && echo "ok after every cut" || echo "see the failures"); e2fsck -fn after the last clean unmount: $([ $fsck_rc = 0 ] && echo clean || echo "status $fsck_rc")"
echo "  recovery, qemu start to READY (host clock): $(stats "${recovery[@]}"); guest uptime at READY: $(stats "${guest_ready[@]}")"
echo "  cycle, boot + writing + cut: $(stats "${cycle[@]}")"
# One delivery is in flight at a time: a cut can repeat at most one check-in.
[ "$extra" -le "$CUTS" ] || { failed=$((failed + 1)); problems+=("$extra extra deliveries for $CUTS cuts: more than one per cut"); }
for p in "${problems[@]}"; do echo "  FAIL: $p"; done
echo "power-cut: $passed passed, $failed failed, 0 skipped"
if [ -n "${VHW_POWERCUT_RESULTS:-}" ]; then
    echo "power-cut $passed $failed 0 ($CUTS cuts, $acked + $jacked acknowledged, $((LOST_CHECKINS + LOST_JOURNAL)) lost, $dups duplicates)" >"$VHW_POWERCUT_RESULTS"
fi
[ $failed = 0 ]
