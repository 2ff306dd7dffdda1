#!/usr/bin/python3
"""Reference YuNet (2023mar) detector through OpenCV's Python binding, for `kiosk-bench detection`.

OpenCV 4.6's cv2.FaceDetectorYN cannot load the 2023mar model, so this runs the network with
cv2.dnn and decodes its 12 outputs by hand, exactly as the Swift detector's C++ shim does:
BGR input without mean or scale, padded to a multiple of 32; score = sqrt(cls * obj);
centre = (cell + offset) * stride; size = exp(log-size) * stride; then NMS.

Input frames are raw BGR files written by the Swift benchmark (FILE:WIDTH:HEIGHT), so both
sides time the very same pixels. Prints one JSON object on stdout.

Run with Debian's interpreter (/usr/bin/python3, which has python3-opencv), not a pyenv one.
"""
import argparse
import json
import sys
import time

import cv2
import numpy as np

STRIDES = (8, 16, 32)
DIVISOR = 32
OUTPUTS = [f"{kind}_{s}" for kind in ("cls", "obj", "bbox", "kps") for s in STRIDES]


def detect(net, bgr, score_threshold, nms_threshold, top_k):
    h, w = bgr.shape[:2]
    pad_w = ((w - 1) // DIVISOR + 1) * DIVISOR
    pad_h = ((h - 1) // DIVISOR + 1) * DIVISOR
    padded = bgr
    if pad_w != w or pad_h != h:
        padded = cv2.copyMakeBorder(bgr, 0, pad_h - h, 0, pad_w - w, cv2.BORDER_CONSTANT, value=0)
    net.setInput(cv2.dnn.blobFromImage(padded))
    outs = net.forward(OUTPUTS)
    boxes, scores, marks = [], [], []
    for i, stride in enumerate(STRIDES):
        cols, rows = pad_w // stride, pad_h // stride
        cls = np.clip(outs[i].reshape(-1), 0, 1)
        obj = np.clip(outs[3 + i].reshape(-1), 0, 1)
        score = np.sqrt(cls * obj)
        keep = np.nonzero(score >= score_threshold)[0]
        if keep.size == 0:
            continue
        bbox = outs[6 + i].reshape(-1, 4)[keep]
        kps = outs[9 + i].reshape(-1, 10)[keep]
        c = (keep % cols).astype(np.float32)
        r = (keep // cols).astype(np.float32)
        cx = (c + bbox[:, 0]) * stride
        cy = (r + bbox[:, 1]) * stride
        bw = np.exp(bbox[:, 2]) * stride
        bh = np.exp(bbox[:, 3]) * stride
        boxes.append(np.stack([cx - bw / 2, cy - bh / 2, bw, bh], axis=1))
        scores.append(score[keep])
        lm = kps.copy()
        lm[:, 0::2] = (lm[:, 0::2] + c[:, None]) * stride
        lm[:, 1::2] = (lm[:, 1::2] + r[:, None]) * stride
        marks.append(lm)
    if not boxes:
        return []
    boxes = np.concatenate(boxes)
    scores = np.concatenate(scores)
    marks = np.concatenate(marks)
    # Suppress over every candidate, then keep the top_k best faces (as the Swift shim does;
    # NMSBoxes' own top_k would cut candidate cells before suppression).
    idx = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), score_threshold, nms_threshold)
    idx = np.array(idx).reshape(-1)[:top_k] if top_k > 0 else np.array(idx).reshape(-1)
    return [[*map(float, boxes[k]), float(scores[k]), *map(float, marks[k])] for k in idx]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per frame (after one warm-up)")
    ap.add_argument("--score", type=float, default=0.6)
    ap.add_argument("--nms", type=float, default=0.3)
    ap.add_argument("--top-k", type=int, default=16)
    ap.add_argument("frames", nargs="*", help="FILE:WIDTH:HEIGHT raw BGR frames")
    args = ap.parse_args()

    cv2.setNumThreads(args.threads)
    net = cv2.dnn.readNetFromONNX(args.model)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)

    results = []
    for spec in args.frames:
        path, w, h = spec.rsplit(":", 2)
        w, h = int(w), int(h)
        bgr = np.fromfile(path, dtype=np.uint8).reshape(h, w, 3)
        faces = detect(net, bgr, args.score, args.nms, args.top_k)  # warm-up, also the answer
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            detect(net, bgr, args.score, args.nms, args.top_k)
            times.append((time.perf_counter() - t0) * 1000)
        results.append({"file": path, "width": w, "height": h, "ms": times, "faces": faces})
    json.dump({"opencv": cv2.__version__, "threads": cv2.getNumThreads(), "frames": results}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
