#!/bin/bash
# Builds the Debian packages (`make deb`):
#   kiosk-agent_<version>_<arch>.deb  kioskd, kioskctl, the YuNet model, unit, sysusers, tmpfiles,
#                                     udev rule, /etc/kiosk-agent/kioskd.yaml (conffile), man
#                                     pages, completions, docs
#   aidee-sim_<version>_<arch>.deb    the API simulator and its models (not for terminals)
# into OUTDIR (default .build/deb). Release build linked with --static-swift-stdlib, so the target
# needs no Swift runtime; Depends comes from dpkg-shlibdeps on the binaries themselves.
# KIOSK_DEB_CONFIG=debug makes the same packages from a static *debug* build instead, into
# .build/deb-debug: what `make test` checks the packaging on (about 10 minutes where
# the release build takes 27 on the 2-core builder; docs/PACKAGING.md, "CI and status"). Never
# ship those: they are slower and not what the README's performance table measured.
# The version is BuildInfo.packageVersion (Sources/BuildInfo/BuildInfo.swift), the only place it
# is written; the git commit and compiler are stamped into the binaries (Sources/CBuildInfo).
#   packaging/build-deb.sh [OUTDIR]
# Knobs: SWIFT=swift  KIOSK_DEB_VERSION=<override, e.g. 0.1.0+test1 for an upgrade test>
#        KIOSK_DEB_SCRATCH=.build-deb (its own build folder: no wait on .build's lock, and no
#        other release build ever sees the stamp)
#        KIOSK_DEB_SKIP_BUILD=1 (package the binaries already in the build folder)
#        KIOSK_DEB_CONFIG=release|debug (debug: scratch .build-deb-debug, OUTDIR .build/deb-debug)
# Needs: dpkg-dev (dpkg-shlibdeps), the assets (scripts/fetch-assets.sh).
set -euo pipefail
umask 022
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
CONFIG=${KIOSK_DEB_CONFIG:-release}
case "$CONFIG" in
    release) OUT=${1:-$TOP/.build/deb} SCRATCH=${KIOSK_DEB_SCRATCH:-$TOP/.build-deb} ;;
    debug) OUT=${1:-$TOP/.build/deb-debug} SCRATCH=${KIOSK_DEB_SCRATCH:-$TOP/.build-deb-debug} ;;
    *) echo "deb: KIOSK_DEB_CONFIG is '$CONFIG': release (what terminals get) or debug (the CI check)" >&2; exit 2 ;;
esac
SWIFT=${SWIFT:-swift}
say() { echo "deb: $*" >&2; }

VERSION=${KIOSK_DEB_VERSION:-$(sed -n 's/^ *package static let packageVersion = "\(.*\)"$/\1/p' Sources/BuildInfo/BuildInfo.swift)}
[ -n "$VERSION" ] || { say "no packageVersion in Sources/BuildInfo/BuildInfo.swift"; exit 1; }
ARCH=$(dpkg --print-architecture)
command -v dpkg-shlibdeps >/dev/null || { say "dpkg-shlibdeps is missing: scripts/setup-deps.sh package (as root)"; exit 1; }
ASSETS=${KIOSK_ASSETS:-$TOP/.assets}
MODELS=$ASSETS/models
YUNET=face_detection_yunet_2023mar.onnx
for f in $YUNET shape_predictor_5_face_landmarks.dat dlib_face_recognition_resnet_model_v1.dat; do
    [ -s "$MODELS/$f" ] || { say "$MODELS/$f is missing: run scripts/fetch-assets.sh"; exit 1; }
done
# The model kioskd checks at start must be the one packed.
want=$(sed -n 's/^ *package static let expectedSHA256 = "\([0-9a-f]*\)"$/\1/p' Sources/FaceDetection/YuNetModelIntegrity.swift)
have=$(sha256sum "$MODELS/$YUNET" | cut -d' ' -f1)
[ "$want" = "$have" ] || { say "$MODELS/$YUNET has sha256 $have, kioskd expects $want"; exit 1; }

# Reproducible: every timestamp is the commit's.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH
COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[ "$COMMIT" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && COMMIT=$COMMIT-dirty

# ---- the build (release unless KIOSK_DEB_CONFIG=debug), stamped ----
PRODUCTS="kioskd kioskctl aidee-sim"
# The static link goes through lld (shipped with the toolchain: /opt/swift/usr/bin/ld.lld), not
# the system's default gold. gold resolves static archives strictly left to right, and the line
# Swift 6.3 hands it for --static-swift-stdlib has Foundation's archives in an order that only
# works while nothing late on the line needs an earlier archive: the release objects happen to
# (kioskd, kioskctl and aidee-sim relinked with gold on 2026-12-07: all three link), but debug
# objects keep references the optimiser drops, and gold stops with "undefined reference":
# swift_udat_applyPattern (libFoundationInternationalization.a needs lib_FoundationICU.a) and
# kCFBooleanTrue, CFNumberGetType (OpenAPIRuntime needs CoreFoundation). lld searches every
# archive on the line whatever the order, so neither a code change nor KIOSK_DEB_CONFIG=debug
# can break the link.
LINK_FLAGS=(-Xswiftc -use-ld=lld)
BIN=$($SWIFT build -c "$CONFIG" --scratch-path "$SCRATCH" --show-bin-path)
if [ "${KIOSK_DEB_SKIP_BUILD:-0}" != 1 ]; then
    STAMP=$TOP/.build/build-info/kiosk_build_info.h
    mkdir -p "$(dirname "$STAMP")"
    c() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"; }
    sv=$($SWIFT --version 2>/dev/null | grep -m1 -i 'swift version' || echo unknown)
    printf '#define KIOSK_BUILD_COMMIT %s\n#define KIOSK_BUILD_SWIFT %s\n#define KIOSK_BUILD_PACKAGE_VERSION %s\n' \
        "$(c "$COMMIT")" "$(c "$sv")" "$(c "$VERSION")" >"$STAMP.new"
    cmp -s "$STAMP.new" "$STAMP" 2>/dev/null && rm "$STAMP.new" || mv "$STAMP.new" "$STAMP"
    # Removed again afterwards, so any other release build (make bench) is a development build;
    # the compiler's dependency file then rebuilds buildinfo.c without it.
    trap 'rm -f "$STAMP"' EXIT
    # The header did not exist at the last release build, so nothing tracks it yet: make sure
    # buildinfo.c is compiled again (its mtime only; git sees no change).
    touch Sources/CBuildInfo/buildinfo.c
    t0=$(date +%s)
    for p in $PRODUCTS; do
        say "swift build -c $CONFIG --static-swift-stdlib ${LINK_FLAGS[*]} --scratch-path ${SCRATCH#"$TOP"/} --product $p"
        $SWIFT build -c "$CONFIG" --static-swift-stdlib "${LINK_FLAGS[@]}" --scratch-path "$SCRATCH" --product "$p"
    done
    say "$CONFIG build: $(( $(date +%s) - t0 )) s"
    rm -f "$STAMP"
fi
for p in $PRODUCTS; do [ -x "$BIN/$p" ] || { say "no $BIN/$p"; exit 1; }; done
# A packaged build names its version and commit; refuse to pack a development build.
"$BIN/kioskd" --version | head -1 | grep -qF "kioskd $VERSION (commit $COMMIT)" ||
    { say "kioskd --version says '$("$BIN/kioskd" --version | head -1)', expected version $VERSION commit $COMMIT"; exit 1; }

W=$OUT/work
rm -rf "$W"; mkdir -p "$W" "$OUT"

# Man pages and completions, from the ArgumentParser definitions of the release binaries.
DOCS=$W/cli
mkdir -p "$DOCS/man" "$DOCS/completions"
gen_cli_docs() { # BINARY
    local b=$1 n; n=$(basename "$1")
    # bash-completion sources the file: no #! line (lintian: bash-completion-with-hashbang).
    "$b" --generate-completion-script bash | sed '1{/^#!/d}' >"$DOCS/completions/$n.bash"
    "$b" --generate-completion-script zsh >"$DOCS/completions/_$n"
    "$b" --generate-completion-script fish >"$DOCS/completions/$n.fish"
    "$TOP/packaging/man-page.sh" "$b" "$VERSION" >"$DOCS/man/$n.1"
}
for p in kioskd kioskctl aidee-sim; do gen_cli_docs "$BIN/$p"; done

changelog() { # PACKAGE > gzipped changelog
    local date; date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
    printf '%s (%s) unstable; urgency=medium\n\n  * Built from commit %s; the history is the git log.\n\n -- %s  %s\n' \
        "$1" "$VERSION" "$COMMIT" "$MAINTAINER" "$date" | gzip -9n
}
MAINTAINER="kiosk-agent maintainers <maintainers@users.noreply.r-seed-8bce9ad4.example>"

# Depends from what the binaries link: dpkg-shlibdeps reads the packages' shlibs/symbols files.
shlibdeps() { # ROOT BINARY...
    local root=$1 t; shift
    t=$(mktemp -d)
    mkdir -p "$t/debian"
    printf 'Source: kiosk-agent\n\nPackage: x\nArchitecture: any\n' >"$t/debian/control"
    (cd "$t" && dpkg-shlibdeps -O -e"$@" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
    rm -rf "$t"
}

pack() { # ROOT PACKAGE DEPENDS DESCRIPTION-FILE
    local root=$1 pkg=$2 deps=$3 size
    find "$root" -type d -exec chmod 755 {} +
    # md5sums of everything but conffiles.
    (cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' | LC_ALL=C sort | sed 's#^\./##' | xargs -d '\n' md5sum) >"$root/DEBIAN/md5sums"
    chmod 644 "$root/DEBIAN/md5sums"
    size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
    {
        echo "Package: $pkg"
        echo "Version: $VERSION"
        echo "Architecture: $ARCH"
        echo "Maintainer: $MAINTAINER"
        echo "Installed-Size: $size"
        echo "Depends: $deps"
        echo "Section: misc"
        echo "Priority: optional"
        echo "Homepage: https://github.com/kiosk-agent/kiosk-agent"
        cat "$4"
    } >"$root/DEBIAN/control"
    find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    # gzip: xz took minutes on the ~100 MB of static binaries on a loaded 2-core builder, and
    # every dpkg reads gzip.
    dpkg-deb --root-owner-group -Zgzip -z9 --build "$root" "$OUT/${pkg}_${VERSION}_${ARCH}.deb" >/dev/null
    say "built $OUT/${pkg}_${VERSION}_${ARCH}.deb ($(du -k "$OUT/${pkg}_${VERSION}_${ARCH}.deb" | cut -f1) kB)"
}

# ---- kiosk-agent ----
R=$W/kiosk-agent
mkdir -p "$R/DEBIAN"
for p in kioskd kioskctl; do
    install -D -m 755 "$BIN/$p" "$R/usr/bin/$p"
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$R/usr/bin/$p"
    install -D -m 644 "$DOCS/man/$p.1" "$R/usr/share/man/man1/$p.1" && gzip -9n "$R/usr/share/man/man1/$p.1"
    install -D -m 644 "$DOCS/completions/$p.bash" "$R/usr/share/bash-completion/completions/$p"
    install -D -m 644 "$DOCS/completions/_$p" "$R/usr/share/zsh/vendor-completions/_$p"
    install -D -m 644 "$DOCS/completions/$p.fish" "$R/usr/share/fish/vendor_completions.d/$p.fish"
done
install -D -m 644 systemd/kioskd.service "$R/usr/lib/systemd/system/kioskd.service"
install -D -m 644 systemd/kiosk-agent.sysusers.conf "$R/usr/lib/sysusers.d/kiosk-agent.conf"
install -D -m 644 systemd/kiosk-agent.tmpfiles.conf "$R/usr/lib/tmpfiles.d/kiosk-agent.conf"
install -D -m 644 systemd/60-kiosk-agent-gpio.rules "$R/usr/lib/udev/rules.d/60-kiosk-agent-gpio.rules"
install -D -m 644 config/kioskd.yaml "$R/etc/kiosk-agent/kioskd.yaml"
install -D -m 644 "$MODELS/$YUNET" "$R/usr/share/kiosk-agent/models/$YUNET"
install -D -m 644 packaging/licenses/face_detection_yunet_2023mar.LICENSE "$R/usr/share/kiosk-agent/models/face_detection_yunet_2023mar.LICENSE"
D=$R/usr/share/doc/kiosk-agent
install -D -m 644 packaging/kiosk-agent/copyright "$D/copyright"
install -m 644 README.md docs/*.md "$D/"
install -d "$D/hardware" && install -m 644 hardware/*.md "$D/hardware/"
changelog kiosk-agent >"$D/changelog.gz"
install -m 755 packaging/kiosk-agent/postinst packaging/kiosk-agent/prerm packaging/kiosk-agent/postrm "$R/DEBIAN/"
echo /etc/kiosk-agent/kioskd.yaml >"$R/DEBIAN/conffiles"
install -D -m 644 packaging/kiosk-agent/lintian-overrides "$R/usr/share/lintian/overrides/kiosk-agent"
deps=$(shlibdeps "$R" "$R/usr/bin/kioskd" "$R/usr/bin/kioskctl")
[ -n "$deps" ] || { say "dpkg-shlibdeps found no dependencies for kioskd"; exit 1; }
pack "$R" kiosk-agent "$deps, systemd (>= 247), init-system-helpers (>= 1.54~), passwd" packaging/kiosk-agent/description

# ---- aidee-sim ----
R=$W/aidee-sim
mkdir -p "$R/DEBIAN"
install -D -m 755 "$BIN/aidee-sim" "$R/usr/bin/aidee-sim"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$R/usr/bin/aidee-sim"
install -D -m 644 "$DOCS/man/aidee-sim.1" "$R/usr/share/man/man1/aidee-sim.1" && gzip -9n "$R/usr/share/man/man1/aidee-sim.1"
install -D -m 644 "$DOCS/completions/aidee-sim.bash" "$R/usr/share/bash-completion/completions/aidee-sim"
for f in $YUNET shape_predictor_5_face_landmarks.dat dlib_face_recognition_resnet_model_v1.dat; do
    install -D -m 644 "$MODELS/$f" "$R/usr/share/aidee-sim/models/$f"
done
D=$R/usr/share/doc/aidee-sim
install -D -m 644 packaging/aidee-sim/copyright "$D/copyright"
install -m 644 docs/SIMULATOR.md docs/API.md "$D/"
changelog aidee-sim >"$D/changelog.gz"
install -D -m 644 packaging/aidee-sim/lintian-overrides "$R/usr/share/lintian/overrides/aidee-sim"
deps=$(shlibdeps "$R" "$R/usr/bin/aidee-sim")
pack "$R" aidee-sim "$deps" packaging/aidee-sim/description
