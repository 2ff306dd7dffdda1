#!/usr/bin/env python3
"""Reference face detections through OpenCV's own cv2.FaceDetectorYN, for the accuracy test
(Tests/FaceDetectionTests/YuNetFaceDetectorTests.swift) and `kiosk-bench detection`.

The project's detector decodes YuNet itself (OpenCV 4.6's FaceDetectorYN cannot run the 2023mar
model); this script asks an independent implementation, OpenCV 4.10's FaceDetectorYN, the same
question with the same policy, so the test can say "at least as good as OpenCV":

  - input size: the image shrunk (never enlarged) to fit within --fit WxH keeping the aspect
    ratio, sizes rounded half away from zero, bilinear resize (as YuNetFaceDetector.InputSize
    .fitWithin and the C++ shim do); --fit 0 = the image's own size;
  - --score and --nms as given; every face after NMS (top_k 5000: FaceDetectorYN applies top_k
    before suppression, so a small one would drop faces of group photos);
  - boxes mapped back to the image's pixels; faces narrower than --min-width image pixels
    dropped (the Swift detector's minimumFaceSize).

Run it with the pinned interpreter that scripts/setup-reference.sh prepares:
  $KIOSK_CACHE/reference-venv/bin/python scripts/bench/facedetectoryn_reference.py \
      --model .assets/models/face_detection_yunet_2023mar.onnx --fit 320x320 IMAGE...
Prints one JSON object: {"opencv": version, "images": {path: {"width", "height",
"input": [w, h], "faces": [[x, y, w, h, score], ...]}}}, best score first.
"""
import argparse
import json
import math
import sys

try:
    import cv2
except ImportError:
    sys.exit("facedetectoryn_reference: no cv2 in this interpreter; run scripts/setup-reference.sh "
             "and use $KIOSK_CACHE/reference-venv/bin/python")


def fit_size(width, height, fit):
    if fit is None:
        return width, height
    scale = min(1.0, fit[0] / width, fit[1] / height)
    if scale >= 1.0:
        return width, height
    # Swift's .rounded() is half away from zero; Python's round() is half to even.
    return max(1, math.floor(width * scale + 0.5)), max(1, math.floor(height * scale + 0.5))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--fit", default="320x320", help="WxH, or 0 for the image's own size")
    parser.add_argument("--score", type=float, default=0.7)
    parser.add_argument("--nms", type=float, default=0.3)
    parser.add_argument("--min-width", type=float, default=20.0)
    parser.add_argument("images", nargs="+")
    args = parser.parse_args()
    fit = None if args.fit in ("0", "native") else tuple(int(v) for v in args.fit.lower().split("x"))
    if tuple(int(v) for v in cv2.__version__.split(".")[:2]) < (4, 8):
        sys.exit(f"facedetectoryn_reference: OpenCV {cv2.__version__} cannot run the 2023mar model; "
                 "run scripts/setup-reference.sh")
    cv2.setNumThreads(1)
    detector = None
    result = {"opencv": cv2.__version__, "images": {}}
    for path in args.images:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            sys.exit(f"facedetectoryn_reference: cannot read {path}; run scripts/fetch-assets.sh")
        height, width = image.shape[:2]
        in_w, in_h = fit_size(width, height, fit)
        small = image if (in_w, in_h) == (width, height) else cv2.resize(image, (in_w, in_h), interpolation=cv2.INTER_LINEAR)
        if detector is None:
            detector = cv2.FaceDetectorYN.create(args.model, "", (in_w, in_h), args.score, args.nms, 5000)
        detector.setInputSize((in_w, in_h))
        _, found = detector.detect(small)
        sx, sy = width / in_w, height / in_h
        faces = []
        for f in ([] if found is None else found):
            box = [float(f[0]) * sx, float(f[1]) * sy, float(f[2]) * sx, float(f[3]) * sy]
            if box[2] < args.min_width:
                continue
            faces.append([round(v, 2) for v in box] + [round(float(f[14]), 4)])
        faces.sort(key=lambda f: -f[4])
        result["images"][path] = {"width": width, "height": height, "input": [in_w, in_h], "faces": faces}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
