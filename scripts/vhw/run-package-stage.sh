#!/bin/bash
# The package stage of `make test` (after `make deb`): checks the Debian packages as a site uses
# them. On the host: lintian on both packages (no error allowed; every warning must be listed in
# docs/PACKAGING.md, "lintian"), and the aidee-sim package's own binary and models, unpacked (not
# installed), serving the API on 127.0.0.1. Then one VM with systemd as PID 1, a writable /usr
# and no /opt (no Swift toolchain), where scripts/vhw/tests/package.sh installs, configures,
# reloads, upgrades and purges kiosk-agent (see that script).
# Knobs: VHW_PACKAGE_TIMEOUT=900 (the VM), KIOSK_DEB_DIR=.build/deb, and run-in-vm.sh's.
# KIOSK_SKIP_VM=1 skips the VM part loudly (refused in CI), like run-hw-stage.sh.
# Exit status: 0 all passed; 1 something failed or could not run.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$VHW_PROJECT" || exit 1
T0=$(date +%s)
DEBS=${KIOSK_DEB_DIR:-$VHW_PROJECT/.build/deb}
STAGE=$VHW_PROJECT/.build/package-stage
rm -rf "$STAGE"; mkdir -p "$STAGE/results"
P=0 F=0 S=0
pass() { P=$((P + 1)); echo "ok   - package: $*"; }
fail() { F=$((F + 1)); echo "FAIL - package: $*"; }
finish() {
    local vp=0 vf=0 vs=0 name p f s
    while read -r name p f s; do vp=$((vp + p)); vf=$((vf + f)); vs=$((vs + s)); done < <(cat "$STAGE"/results/* 2>/dev/null)
    echo "package stage: $(( $(date +%s) - T0 ))s"
    echo "package: $((P + vp)) passed, $((F + vf)) failed, $((S + vs)) skipped"
    [ $((F + vf)) -eq 0 ]
    exit
}

VERSION=$(sed -n 's/^ *package static let packageVersion = "\(.*\)"$/\1/p' Sources/BuildInfo/BuildInfo.swift)
ARCH=$(dpkg --print-architecture)
AGENT=$DEBS/kiosk-agent_${VERSION}_$ARCH.deb SIM=$DEBS/aidee-sim_${VERSION}_$ARCH.deb
for d in "$AGENT" "$SIM"; do
    [ -s "$d" ] || { fail "no $d: run make deb first"; finish; }
done
scripts/setup-deps.sh package >&2 || { fail "lintian/dpkg-dev missing: run scripts/setup-deps.sh package as root"; finish; }

# ---- lintian: no errors; each warning tag documented ----
# PKG_LINTIAN=0 leaves lintian out (a quicker rerun of the VM part while debugging it); said.
[ "${PKG_LINTIAN:-1}" = 0 ] && echo "note - package: lintian not run (PKG_LINTIAN=0)"
for d in "$AGENT" "$SIM"; do
    [ "${PKG_LINTIAN:-1}" = 0 ] && break
    n=$(basename "$d")
    lintian --tag-display-limit 0 "$d" >"$STAGE/lintian-$n.txt" 2>&1
    errors=$(grep -c '^E:' "$STAGE/lintian-$n.txt")
    [ "$errors" = 0 ] && pass "lintian $n: no errors" || { fail "lintian $n: $errors errors"; grep '^E:' "$STAGE/lintian-$n.txt" | sed 's/^/    | /'; }
    undocumented=
    for tag in $(sed -n 's/^W: [^:]*: \([a-z0-9-]*\).*/\1/p' "$STAGE/lintian-$n.txt" | sort -u); do
        grep -q -- "\`$tag\`" docs/PACKAGING.md || undocumented="$undocumented $tag"
    done
    [ -z "$undocumented" ] && pass "lintian $n: $(grep -c '^W:' "$STAGE/lintian-$n.txt") warnings, each documented in docs/PACKAGING.md" ||
        fail "lintian $n: warnings not explained in docs/PACKAGING.md:$undocumented"
done

# ---- an upgrade: the same package with a higher version (only the version differs) ----
UP=$STAGE/upgrade
mkdir -p "$UP/root"
dpkg-deb -R "$AGENT" "$UP/root"
UPVERSION=$VERSION+upgradetest1
sed -i "s/^Version: .*/Version: $UPVERSION/" "$UP/root/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip -z9 --build "$UP/root" "$STAGE/kiosk-agent_${UPVERSION}_$ARCH.deb" >/dev/null &&
    dpkg --compare-versions "$UPVERSION" gt "$VERSION" && pass "upgrade package $UPVERSION built" || fail "could not build the upgrade package"
rm -rf "$UP"

# ---- aidee-sim from its package, on the host; kioskctl from the agent's package enrols a face ----
X=$STAGE/unpacked
dpkg-deb -x "$SIM" "$X" && dpkg-deb -x "$AGENT" "$X" || { fail "cannot unpack the packages"; finish; }
SIM_PID=
stop_simulator() { [ -n "$SIM_PID" ] && { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=; }; }
trap stop_simulator EXIT
trap 'exit 130' INT TERM
A=$STAGE/aidee; mkdir -p "$A"; chmod 700 "$A"
pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$X/usr/bin/aidee-sim" --host 127.0.0.1 --port 0 --account "kiosk:$pw" --project 1:Door --warm-up \
    --models "$X/usr/share/aidee-sim/models" --log-level notice >"$A/stdout" 2>"$A/server.log" &
SIM_PID=$!
line=
for _ in $(seq 600); do
    line=$(grep -m1 'listening on' "$A/stdout" 2>/dev/null) && break
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
done
SIM_PORT=$(printf '%s' "$line" | sed -n 's#.*http://127\.0\.0\.1:\([0-9]*\)/.*#\1#p')
[ -n "$SIM_PORT" ] && pass "aidee-sim from its package serves on 127.0.0.1:$SIM_PORT with its packaged models" ||
    { fail "aidee-sim from its package did not start: $(tail -n 3 "$A/server.log" | tr '\n' ' ')"; finish; }
url=http://127.0.0.1:$SIM_PORT ctl=$X/usr/bin/kioskctl
issue() { # the password on stdin: never on the command line
    printf '%s\n' "$pw" | "$ctl" api key issue --url "$url" --username kiosk --password-stdin --save "$A/credentials" >/dev/null
}
issue &&
user=$("$ctl" api users create --url "$url" --project 1 --credentials "$A/credentials" --status APPROVED --json |
       sed -n 's/.*"id":\([0-9]*\).*/\1/p') && [ -n "$user" ] &&
# dlib's descriptor on a loaded 2-core host took more than kioskctl's default 15 s once.
"$ctl" api faces add --url "$url" --project 1 --credentials "$A/credentials" --user "$user" --timeout 180 \
    --image .assets/faces/images/facerec/obama.jpg >/dev/null &&
    pass "packaged kioskctl issued a key and enrolled obama.jpg (user $user)" || { fail "enrolment with the packaged kioskctl failed"; finish; }

# ---- camera frames: obama2.jpg on a 4:3 grey canvas scaled to 320x240, and an empty scene ----
# The face is about half the frame's height, centred: the quality gate wants the face box plus a
# 10 % margin inside the picture (FaceQualityScorer, not_in_frame), which a plain 4:3 cut of the
# portrait (face 207 of 240 rows) never met, so no check-in could start.
FR=$STAGE/frames; mkdir -p "$FR"
djpeg -pnm .assets/faces/images/facerec/obama2.jpg >"$FR/src.ppm" && python3 - "$FR" <<'PY' && cjpeg -quality 90 "$FR/face.ppm" >"$FR/face.jpg" && cjpeg -quality 90 "$FR/empty.ppm" >"$FR/empty.jpg" && pass "camera frames made" || fail "could not make the camera frames"
import sys
d = sys.argv[1]
raw = open(d + "/src.ppm", "rb").read()
parts = raw.split(b"\n", 3)  # P6, "W H", 255, pixels (djpeg writes exactly this header)
w, h = map(int, parts[1].split()); px = parts[3]
# The face is rows 229-634 of the 626x1200 portrait: a canvas twice its height (rows 26-836),
# 4:3 wide, the portrait in the middle, grey at the sides.
top, ch, W, H = 26, 810, 320, 240
cw = ch * 4 // 3
pad = (cw - w) // 2
grey = bytes([90, 110, 120])
out = bytearray()
for y in range(H):
    sy = top + y * ch // H
    row = px[sy * w * 3:(sy + 1) * w * 3]
    for x in range(W):
        sx = x * cw // W - pad
        out += row[sx * 3:sx * 3 + 3] if 0 <= sx < w else grey
open(d + "/face.ppm", "wb").write(b"P6\n%d %d\n255\n" % (W, H) + bytes(out))
open(d + "/empty.ppm", "wb").write(b"P6\n%d %d\n255\n" % (W, H) + bytes([90, 110, 120]) * (W * H))
PY

# ---- the VM ----
SKIP_BY=
[ "${KIOSK_SKIP_VM:-0}" = 1 ] && SKIP_BY=KIOSK_SKIP_VM
if [ -n "$SKIP_BY" ] && [ "${CI:-}" != true ]; then
    echo "!!! PACKAGE STAGE: the install/upgrade/purge checks in the VM were SKIPPED by $SKIP_BY=1"
    S=$((S + 1)); finish
fi
scripts/vhw/setup.sh >/dev/null || { fail "the VM set-up failed: scripts/vhw/setup.sh"; finish; }
echo "---- booting one VM (systemd, writable /usr, no /opt) for the package checks ----"
VHW_INIT=systemd VHW_NO_OPT=${VHW_NO_OPT:-1} VHW_WRITABLE_USR=1 VHW_TIMING=1 VHW_TIMEOUT=${VHW_PACKAGE_TIMEOUT:-900} \
VHW_GUESTFWD=8080:$SIM_PORT \
VHW_PASS_ENV="${VHW_PASS_ENV:-} VHW_RESULTS PKG_AGENT PKG_UPGRADE PKG_VERSION PKG_UPVERSION PKG_CREDENTIALS PKG_FRAMES PKG_STAGE" \
VHW_RESULTS=$STAGE/results PKG_AGENT=$AGENT PKG_UPGRADE=$STAGE/kiosk-agent_${UPVERSION}_$ARCH.deb \
PKG_VERSION=$VERSION PKG_UPVERSION=$UPVERSION PKG_CREDENTIALS=$A/credentials PKG_FRAMES=$FR PKG_STAGE=$STAGE \
    scripts/vhw/run-in-vm.sh scripts/vhw/tests/package.sh 2>&1 | tee "$STAGE/vm.log"
vmrc=${PIPESTATUS[0]}
[ -s "$STAGE/results/package_vm" ] || fail "the VM checks did not finish (status $vmrc; logs in .build/vhw-logs)"
stop_simulator
finish
