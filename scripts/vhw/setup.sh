#!/bin/bash
# Prepares the virtual-hardware harness: a Debian kernel to boot under qemu, plus the two modules
# Debian does not ship built (gpio-sim, v4l2loopback), compiled out of tree for that exact kernel.
#   scripts/vhw/setup.sh            # idempotent; ~2 s when ready (package checks, no network)
#   VHW_KVER=6.1.0-57-amd64 scripts/vhw/setup.sh   # pin a kernel instead of linux-image-amd64's
# Everything comes from Debian packages (apt-get download, never installed on the host) and lands in
# ${KIOSK_CACHE:-~/.cache/kiosk-agent}/vhw/<kernel version>/, outside the clone. A new kernel version
# (Debian security update) gets a new folder and the old one is removed once the new one is ready.
# Exit status: 0 ready; 1 failed (the message says which step and what to do).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Bounded time for each step that can hang or run long (slow mirror, busy CPU).
DL_TIMEOUT=${VHW_DOWNLOAD_TIMEOUT:-900}
BUILD_TIMEOUT=${VHW_BUILD_TIMEOUT:-900}

fail() { vhw_log "setup FAILED: $*"; exit 1; }

"$VHW_PROJECT/scripts/setup-deps.sh" vm || fail "Debian packages for the VM group are missing (see above)"

KVER=$(vhw_kver)
[ -n "$KVER" ] || fail "cannot tell which kernel to use: run 'apt-get update' (or set VHW_KVER=6.1.0-NN-amd64)"
# The exact Debian upload of that kernel: a new upload with the same ABI (a security fix) also
# rebuilds, so the VM runs what the mirror ships.
IMGVER=$(apt-cache policy "linux-image-$KVER" 2>/dev/null | awk '/Candidate:/{print $2}')
[ "$IMGVER" = "(none)" ] && IMGVER=
up_to_date() {
    vhw_ready "$KVER" || return 1
    # Offline (apt knows no candidate): what is prepared is good enough.
    [ -z "$IMGVER" ] || grep -qx "upload=$IMGVER" "$(vhw_kdir "$KVER")/ready"
}
if up_to_date; then exit 0; fi

case "$KVER" in *-amd64) ;; *) fail "kernel '$KVER' is not a Debian amd64 flavour (expected e.g. 6.1.0-57-amd64)";; esac
ABI=${KVER%-amd64}   # 6.1.0-57
SER=${KVER%%.0-*}    # 6.1
KD=$(vhw_kdir "$KVER")
mkdir -p "$VHW_CACHE/debs" "$KD"

# One setup at a time per cache (a developer's make test and CI can overlap on one machine).
exec 9>"$VHW_CACHE/.setup.lock"
flock -w "$DL_TIMEOUT" 9 || fail "another setup holds $VHW_CACHE/.setup.lock for over ${DL_TIMEOUT}s"
if up_to_date; then exit 0; fi
T0=$(date +%s)
vhw_log "preparing kernel $KVER in $KD (first time: ~250 MB of downloads, about a minute of builds)"

# ---- 1. the Debian packages of that exact upload (linux-source must match the image's headers) ----
[ -n "$IMGVER" ] ||
    fail "apt knows no linux-image-$KVER: run 'apt-get update', or pin VHW_KVER to an available version"
cd "$VHW_CACHE/debs"
want=()
for p in "linux-image-$KVER" "linux-headers-$KVER" "linux-headers-$ABI-common" "linux-kbuild-$SER" "linux-source-$SER"; do
    ls "${p}_${IMGVER}_"*.deb >/dev/null 2>&1 || want+=("$p=$IMGVER")
done
ls v4l2loopback-dkms_*.deb >/dev/null 2>&1 || want+=(v4l2loopback-dkms)
if [ ${#want[@]} -gt 0 ]; then
    vhw_log "downloading ${want[*]}"
    # Sandbox user root: the cache folder need not be readable by apt's _apt user.
    timeout "$DL_TIMEOUT" apt-get download -q -o APT::Sandbox::User=root "${want[@]}" >/dev/null ||
        fail "apt-get download ${want[*]} failed or took over ${DL_TIMEOUT}s: check the Debian mirror, run 'apt-get update', retry"
fi
deb() { ls "$VHW_CACHE/debs/${1}_"*.deb 2>/dev/null | sort -V | tail -n1; }

# ---- 2. kernel image and headers, unpacked (not installed) ----
rm -rf "$KD/kernel" "$KD/hdr" "$KD/build"
mkdir -p "$KD/kernel" "$KD/hdr" "$KD/build"
dpkg -x "$(deb "linux-image-$KVER")" "$KD/kernel"
for p in "linux-headers-$KVER" "linux-headers-$ABI-common" "linux-kbuild-$SER"; do
    dpkg -x "$(deb "$p")" "$KD/hdr"
done
HDR=$KD/hdr/usr/src/linux-headers-$KVER
# The flavour's Makefile includes the common headers by absolute path: point it into the cache.
sed -i "s#/usr/src/linux-headers-$ABI-common#$KD/hdr/usr/src/linux-headers-$ABI-common#" "$HDR/Makefile"

# The uncompressed ELF vmlinux boots directly (PVH entry): no real-mode setup, no xz
# decompression in the guest; worth about a second per boot under software emulation.
VMLINUZ=$KD/kernel/boot/vmlinuz-$KVER
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$VMLINUZ" | head -n1 | cut -d: -f1 || true)
if [ -n "$off" ]; then
    tail -c +"$((off + 1))" "$VMLINUZ" | xz -dc --single-stream >"$KD/kernel/boot/vmlinux-$KVER" 2>/dev/null || true
    if [ "$(head -c4 "$KD/kernel/boot/vmlinux-$KVER" | od -An -tx1 | tr -d ' ')" != 7f454c46 ]; then
        vhw_log "could not extract an ELF vmlinux; the VM will boot the compressed bzImage (slower)"
        rm -f "$KD/kernel/boot/vmlinux-$KVER"
    fi
fi

# ---- 3. gpio-sim, out of tree ----
# Debian leaves CONFIG_GPIO_SIM and CONFIG_IRQ_SIM unset. Build gpio-sim.c from the matching
# linux-source with irq_sim.c linked into the same module. irq_sim.c calls irq_to_desc(), which is
# not exported to modules; generic_handle_irq() is exported and runs the same flow handler.
M=$KD/build/gpio-sim
mkdir -p "$M"
dpkg-deb --fsys-tarfile "$(deb "linux-source-$SER")" | tar -xO "./usr/src/linux-source-$SER.tar.xz" |
    xz -dc | tar -x -C "$KD/build" --strip-components=1 \
        "linux-source-$SER/drivers/gpio/gpio-sim.c" "linux-source-$SER/drivers/gpio/gpiolib.h" \
        "linux-source-$SER/kernel/irq/irq_sim.c" ||
    fail "could not extract gpio-sim sources from $(deb "linux-source-$SER")"
cp "$KD/build/drivers/gpio/gpio-sim.c" "$M/gpio-sim-main.c"
cp "$KD/build/drivers/gpio/gpiolib.h" "$KD/build/kernel/irq/irq_sim.c" "$M/"
sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$M/irq_sim.c"
grep -q 'generic_handle_irq(irqnum)' "$M/irq_sim.c" ||
    fail "irq_sim.c of $KVER changed shape: update the patch in scripts/vhw/setup.sh"
printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-main.o irq_sim.o\n' >"$M/Makefile"
mk() { timeout "$BUILD_TIMEOUT" nice -n 10 make -s -C "$HDR" M="$1" modules >"$1/build.log" 2>&1 ||
    { tail -n 30 "$1/build.log" >&2; fail "building $(basename "$1") for $KVER failed or took over ${BUILD_TIMEOUT}s (log: $1/build.log)"; }; }
mk "$M"

# ---- 4. v4l2loopback (Debian's DKMS source), to feed our own frames to a V4L2 capture device ----
L=$KD/build/v4l2loopback
mkdir -p "$KD/build/pkg"
dpkg -x "$(deb v4l2loopback-dkms)" "$KD/build/pkg"
cp -r "$KD/build/pkg/usr/src/"v4l2loopback-*/ "$L"
mk "$L"

mkdir -p "$KD/kernel/lib/modules/$KVER/extra"
cp "$M/gpio-sim.ko" "$L/v4l2loopback.ko" "$KD/kernel/lib/modules/$KVER/extra/"
depmod -b "$KD/kernel" "$KVER"
# Keep only what the VM needs: the sources and headers are not needed after the build.
rm -rf "$KD/build" "$KD/hdr"

printf 'rev=%s\nupload=%s\n' "$VHW_SETUP_REV" "$IMGVER" >"$KD/ready"
# A new kernel replaced an older one: drop the old folders and packages (about 400 MB each).
for d in "$VHW_CACHE"/*-amd64; do
    [ "$d" = "$KD" ] || rm -rf "$d"
done
find "$VHW_CACHE/debs" -name '*.deb' ! -name "*_${IMGVER}_*" ! -name 'v4l2loopback-dkms_*' -delete
vhw_log "kernel $KVER ready in $(( $(date +%s) - T0 )) s"
