#!/bin/sh
# Install the Debian packages the project builds and tests with, only those missing.
# Idempotent and quick when all are present (one dpkg-query, no network).
#   scripts/setup-deps.sh [build|vm|package|bench|all]   (default: all)
set -eu

BUILD="pkg-config libv4l-dev libturbojpeg0-dev libpng-dev libcurl4-openssl-dev libgpiod-dev libsqlite3-dev
libopencv-dnn-dev libopencv-imgproc-dev libopencv-core-dev libdlib-dev libblas-dev liblapack-dev"
TOOLS="v4l-utils gpiod libjpeg-turbo-progs"
# The virtual-hardware stage (scripts/vhw): qemu, busybox for the initramfs, what builds gpio-sim and
# v4l2loopback out of tree, and the tools and systemd the guest borrows from the host read-only.
VM="qemu-system-x86 busybox-static kmod cpio xz-utils gcc make libc6-dev libelf-dev v4l-utils gpiod systemd udev"
# Packaging (make deb) and its checks: dpkg-shlibdeps, lintian.
PACKAGE="dpkg-dev lintian"
# Reference implementations the benchmarks compare against.
BENCH="python3-opencv"

case "${1:-all}" in
    build) want="$BUILD $TOOLS" ;;
    vm) want="$VM" ;;
    package) want="$PACKAGE" ;;
    bench) want="$BENCH" ;;
    all) want="$BUILD $TOOLS $VM $PACKAGE $BENCH" ;;
    *) echo "usage: $0 [build|vm|package|bench|all]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages:$missing" >&2
    echo "setup: run as root, or: sudo apt-get install$missing" >&2
    exit 1
fi
echo "setup: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# An old or empty package list makes installs fail with 'Unable to locate package'.
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
