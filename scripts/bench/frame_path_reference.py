#!/usr/bin/python3
"""Reference per-frame path in Python/OpenCV for `kiosk-bench all`: decode at half scale + YuNet.

The same steps as the agent's per-frame path up to detection, on the same MJPEG-like JPEG
files: cv2.imdecode(IMREAD_REDUCED_COLOR_2) (libjpeg's scaled decode, as TurboJPEG's in the
agent) and YuNet 2023mar decoded by hand (yunet_reference.detect, the same decoding as the
agent's C++ shim). The agent also scores quality and runs selection; those are not here.

Prints one JSON object on stdout: per file, the timed runs in milliseconds and the faces.
Run with Debian's interpreter (/usr/bin/python3, which has python3-opencv).
"""
import argparse
import json
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from yunet_reference import detect  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per frame (after one warm-up)")
    ap.add_argument("--score", type=float, default=0.7)
    ap.add_argument("--nms", type=float, default=0.3)
    ap.add_argument("--top-k", type=int, default=16)
    ap.add_argument("frames", nargs="*", help="JPEG files")
    args = ap.parse_args()

    cv2.setNumThreads(args.threads)
    net = cv2.dnn.readNetFromONNX(args.model)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)

    def path_once(data):
        image = cv2.imdecode(data, cv2.IMREAD_REDUCED_COLOR_2)
        return detect(net, image, args.score, args.nms, args.top_k)

    results = []
    for path in args.frames:
        # In memory first, as the agent gets an MJPEG frame's bytes from the camera.
        data = np.frombuffer(open(path, "rb").read(), dtype=np.uint8)
        faces = path_once(data)  # warm-up, and the answer
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            path_once(data)
            times.append((time.perf_counter() - t0) * 1000)
        results.append({"file": path, "ms": times, "faces": len(faces)})
    json.dump({"opencv": cv2.__version__, "threads": cv2.getNumThreads(), "frames": results}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
