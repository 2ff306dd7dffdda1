# shellcheck shell=bash
# Shared by the vhw scripts (sourced, not run). Bash.
# Where the harness keeps what it builds: OUTSIDE the clone, so a fresh clone on the same machine
# (CI) reuses the kernel, the out-of-tree modules and the initramfs instead of rebuilding them.
VHW_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VHW_PROJECT=$(cd "$VHW_SCRIPTS/../.." && pwd)
VHW_CACHE=${VHW_CACHE:-${KIOSK_CACHE:-$HOME/.cache/kiosk-agent}/vhw}
# Bump when setup.sh changes what it produces: a different value rebuilds the kernel folder.
VHW_SETUP_REV=2

# The kernel the harness boots: VHW_KVER if pinned, else what Debian's linux-image-amd64 points to
# (so a kernel security update rebuilds the cache), else the newest kernel already prepared
# (apt lists missing or apt unusable: keep working offline).
vhw_kver() {
    if [ -n "${VHW_KVER:-}" ]; then echo "$VHW_KVER"; return; fi
    local k
    k=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/{sub("linux-image-","",$2); print $2; exit}')
    if [ -z "$k" ]; then
        k=$(ls -d "$VHW_CACHE"/*-amd64 2>/dev/null | xargs -rn1 basename | sort -V | tail -n1)
    fi
    echo "$k"
}

# The folder of one prepared kernel; "ready" inside it is written last by setup.sh.
vhw_kdir() { echo "$VHW_CACHE/$1"; }
vhw_ready() { grep -qx "rev=$VHW_SETUP_REV" "$(vhw_kdir "$1")/ready" 2>/dev/null; }

vhw_log() { echo "vhw: $*" >&2; }
