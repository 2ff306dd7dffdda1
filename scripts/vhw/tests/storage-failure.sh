#!/bin/bash
# A failing state card under the running queue writer. Runs INSIDE the power-cut VM
# (scripts/vhw/powercut.sh --storage, PC_MODE=storage), as root, with the state disk /dev/vda
# behind a device-mapper device so its table can be swapped under the mounted file system.
#   1. the card fails writes with EIO (dm-flakey error_writes): ext4 aborts its journal and the
#      kernel remounts it read-only (errors=remount-ro); the writer says once that the queue is
#      unavailable, acknowledges nothing while it is, and keeps running.
#   2. the card comes back (healthy table): the writer has let go of the file, so the file system
#      can be unmounted, checked (e2fsck) and mounted again; the SAME writer reopens it by itself
#      and queues again. (An aborted ext4 refuses `mount -o remount,rw`: a new mount is the way.)
#   3. a state directory read-only at start: the storage error is reported, no crash.
#   4. every check-in acknowledged before the failure is still queued; integrity_check ok.
# Prints "ok - …" / "FAIL - …" and "storage-failure: P passed, F failed, 0 skipped".
set -u
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
bad() { echo "FAIL - $*"; fail=$((fail + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
W=$PC_WORKER LOG=/tmp/writer.log DEV=/dev/mapper/kiosk-state
SECTORS=$(blockdev --getsz /dev/vda)
dm() { dmsetup --noudevsync "$@"; }
# --noflush: a flush would go to the failing table and fail the suspend.
table() { dm suspend --noflush kiosk-state && dm load kiosk-state --table "$1" && dm resume kiosk-state; }
wait_for() { # PATTERN SECONDS [FILE]
    local i
    for i in $(seq $(($2 * 10))); do grep -q -- "$1" "${3:-$LOG}" && return 0; sleep 0.1; done
    return 1
}
count() { grep -c -- "$1" "${2:-$LOG}"; }
finish() { echo "storage-failure: $pass passed, $fail failed, 0 skipped"; exit $((fail > 0)); }

[ -e /sys/module/dm_mod ] && [ -e /sys/module/dm_flakey ] || { bad "device-mapper modules (dm-mod, dm-flakey) not loaded"; finish; }
dm create kiosk-state --table "0 $SECTORS linear /dev/vda 0" && dm mknodes kiosk-state ||
    { bad "dmsetup create kiosk-state failed"; finish; }
mount -t ext4 -o "$PC_MOUNT_OPTS" "$DEV" /state || { bad "mount $DEV failed"; finish; }

# ---- 1. the card fails writes with EIO ----
"$W" storage /state/kiosk 1000000 >"$LOG" 2>&1 &
WPID=$!
wait_for '^READY' 60 && wait_for '^A ' 30
check "the writer queues on a healthy card" '[ "$(count "^A ")" -gt 0 ]'
table "0 $SECTORS flakey /dev/vda 0 0 3600 1 error_writes" || bad "dm-flakey error_writes table not loaded"
wait_for '^U ' 30
check "EIO: the queue reports itself unavailable" '[ "$(count "^U ")" = 1 ]'
grep -m1 '^U ' "$LOG" | cut -c1-400
# ext4 aborts its journal when its next commit fails (within its 5 s commit interval): from then
# on it refuses every write; errors=remount-ro also flags it read-only at its next reported error.
for _ in $(seq 150); do dmesg | grep -qE 'Aborting journal|Remounting filesystem read-only' && break; sleep 0.1; done
dmesg | grep -E 'Remounting filesystem read-only|Aborting journal|Detected aborted journal' | head -n 2 | sed 's/^/  kernel: /'
check "EIO: the kernel aborted the ext4 journal (the card failed under the file system)" \
    'dmesg | grep -qE "Aborting journal|Remounting filesystem read-only"'
acked=$(count '^A ')
sleep 3
check "EIO: said once (30 attempts in 3 s); nothing acknowledged; the writer keeps running" \
    '[ "$(count "^U ")" = 1 ] && [ "$(count "^A ")" = "$acked" ] && kill -0 $WPID'

# ---- 2. the card comes back: healthy table, e2fsck, mounted again; the same writer resumes ----
table "0 $SECTORS linear /dev/vda 0" || bad "linear table not restored"
unmounted=0
for _ in $(seq 20); do umount /state 2>/dev/null && { unmounted=1; break; }; sleep 0.5; done
check "the queue let go of the failed file system (umount works with the writer running)" '[ $unmounted = 1 ]'
e2fsck -fy "$DEV" >/tmp/fsck.log 2>&1; frc=$?
check "e2fsck after the failure: fixed or clean (status $frc)" '[ $frc -le 1 ]'
mount -t ext4 -o "$PC_MOUNT_OPTS" "$DEV" /state || bad "mount after e2fsck failed"
wait_for '^W' 30
check "mounted again: the queue works again without a restart" '[ "$(count "^W")" = 1 ] && kill -0 $WPID'
sleep 1
check "mounted again: acknowledged again" '[ "$(count "^A ")" -gt "$acked" ]'
check "no other error" '! grep -q "^E " "$LOG"'
kill $WPID; wait $WPID 2>/dev/null

# ---- 3. a read-only state directory at start ----
mount -o remount,ro /state || bad "mount -o remount,ro /state failed"
"$W" storage /state/kiosk 2000000 >/tmp/start.log 2>&1 &
SPID=$!
wait_for '^E open\|^U ' 60 /tmp/start.log
head -c 400 /tmp/start.log; echo
# kioskd opens the queue the same way and starts degraded on this error (KioskAgent.openQueue).
check "read-only at start: a storage error, reported, not a crash" \
    'grep -q "^E open: outbox: the storage of\|^U " /tmp/start.log && ! grep -q "Fatal\|Crash" /tmp/start.log'
kill $SPID 2>/dev/null; wait $SPID 2>/dev/null
mount -o remount,rw /state || bad "mount -o remount,rw /state failed"

# ---- 4. nothing acknowledged was lost ----
"$W" powercut-check /state/kiosk /tmp/report >/tmp/check.log 2>&1
check "afterwards: the database opens as it was (not moved aside)" 'grep -qx "open ok" /tmp/report'
check "afterwards: integrity_check ok" 'grep -qx "integrity ok" /tmp/report'
missing=$(awk '$1=="A"{print $3}' "$LOG" | sort -u | comm -23 - <(awk '$1=="Q"{print $2}' /tmp/report | sort -u) | wc -l)
check "afterwards: every acknowledged check-in is still queued ($missing missing)" '[ "$missing" = 0 ]'
umount /state
finish
