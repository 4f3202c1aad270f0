#!/usr/bin/env python3
"""Per-frame convert + crop + resize + normalise: gesturepad vs OpenCV, same machine, same run.

OpenCV (opencv-python-headless, 1 thread) does for a 640x480 frame what `gesturepad bench capture`
times: colour conversion to RGB (YUYV via COLOR_YUV2RGB_YUYV; I420 via COLOR_YUV2RGB_I420; MJPEG via
imdecode, where gesturepad uses libv4lconvert), centre
crop to a square, resize to 224x224 (INTER_LINEAR = 2x2 taps, and INTER_AREA, the antialiased
one closer to gesturepad's Pillow-weighted filter), then x/127.5 - 1 in float32. Blocks are
interleaved over several rounds; medians of per-round medians are printed with ratios.

    python3 -m venv /opt/gp-cv && /opt/gp-cv/bin/pip install opencv-python-headless==5.0.0.93 numpy   # once
    /opt/gp-cv/bin/python bench/capture_peers.py [--rounds 5] [--runs 200] [--gesturepad PATH]
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import numpy as np
import cv2

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_GP = os.path.join(HERE, "..", ".build", "release", "gesturepad")


def test_card(width, height):
    """The same card as Capture's TestPattern: R, G gradients, B checkerboard."""
    x = np.arange(width)[None, :].repeat(height, 0)
    y = np.arange(height)[:, None].repeat(width, 1)
    r = (x * 255) // max(width - 1, 1)
    g = (y * 255) // max(height - 1, 1)
    b = np.where(((x // 3 + y // 5) % 2) == 0, 230, 20)
    return np.stack([r, g, b], -1).astype(np.uint8)


def to_yuyv(rgb):
    yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV).astype(np.float32)
    h, w, _ = yuv.shape
    out = np.empty((h, w * 2), np.uint8)
    out[:, 0::2] = yuv[:, :, 0]
    out[:, 1::4] = ((yuv[:, 0::2, 1] + yuv[:, 1::2, 1]) / 2).round()
    out[:, 3::4] = ((yuv[:, 0::2, 2] + yuv[:, 1::2, 2]) / 2).round()
    return out.reshape(h, w, 2)


def opencv_pipeline(frame, code, interpolation):
    if code == "jpeg":
        rgb = cv2.cvtColor(cv2.imdecode(frame, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    else:
        rgb = cv2.cvtColor(frame, code) if code is not None else frame
    h, w = rgb.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    crop = rgb[y0:y0 + side, x0:x0 + side]
    small = cv2.resize(crop, (224, 224), interpolation=interpolation)
    return small.astype(np.float32) * np.float32(1 / 127.5) - np.float32(1)


def time_block(fn, runs):
    for _ in range(10):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--gesturepad", default=DEFAULT_GP)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    rgb = test_card(640, 480)
    yuyv = to_yuyv(rgb)
    i420 = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
    cases = {
        "yuyv": (yuyv, cv2.COLOR_YUV2RGB_YUYV),
        "rgb24": (rgb, None),
        "yuv420": (i420, cv2.COLOR_YUV2RGB_I420),
        "mjpeg": (cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])[1], "jpeg"),
    }
    results = {}
    for _ in range(args.rounds):
        for name, (frame, code) in cases.items():
            for label, interpolation in (("linear", cv2.INTER_LINEAR), ("area", cv2.INTER_AREA)):
                results.setdefault((name, "opencv " + label), []).append(
                    time_block(lambda: opencv_pipeline(frame, code, interpolation), args.runs))
        report = json.loads(subprocess.run([args.gesturepad, "bench", "capture", "--runs", str(args.runs), "--json"],
                                           check=True, capture_output=True, text=True).stdout)
        for entry in report["entries"]:
            results.setdefault((entry["format"], "gesturepad"), []).append(entry["median_ms"])
    print(f"640x480 -> 224x224x3 float, 1 thread, {args.rounds} rounds x {args.runs} frames (median of medians, ms)")
    for name in cases:
        ours = statistics.median(results[(name, "gesturepad")])
        linear = statistics.median(results[(name, "opencv linear")])
        area = statistics.median(results[(name, "opencv area")])
        print(f"{name:7s} gesturepad {ours:.3f}  opencv INTER_LINEAR {linear:.3f} (ratio {ours / linear:.2f})"
              f"  INTER_AREA {area:.3f} (ratio {ours / area:.2f})")


if __name__ == "__main__":
    main()
