#!/usr/bin/env python3
"""Builds the MobileNet feature extractors (random-weight and installed) for bench/peers.py.

For each model (224x224x3 input, include_top=False, pooling=None, seeded random weights
with randomised BatchNormalization statistics so BN is not an identity) it writes
<out>/<name>/:

  tfjs/            TF.js Layers model (model.json + shards), what gesturepad loads
  model.tflite     float32 TFLite model (for LiteRT)
  model.onnx       opset-17 ONNX model, NHWC input [1,224,224,3] (for onnxruntime)
  input.npy        seeded uniform [-1, 1] input, float32 [1,224,224,3]
  expected.npy     Keras output at batch 1, float32
  info.json        name, output layer, shapes, conversion max |diff| vs Keras

  name     architecture                   output layer      output shape
  v1_025   MobileNet v1, alpha 0.25       conv_pw_13_relu   [1,7,7,256]
  v1_100   MobileNet v1, alpha 1.0        conv_pw_13_relu   [1,7,7,1024]
  v2_100   MobileNetV2,  alpha 1.0        out_relu          [1,7,7,1280]

Run in the venv made by bench/setup-venv.sh (tensorflow-cpu 2.21.0, tf_keras 2.21.0,
tensorflowjs 4.22.0, tf2onnx 1.17.0, onnx 1.23.2, onnxruntime 1.31.1, ai-edge-litert 2.3.0):

  /opt/gp-venv/bin/python bench/make_models.py [--out /tmp/gp-bench/models] [--only v1_025]
      [--installed NAME[:LAYER]] [--no-installed]

With neither --only nor --installed it builds all three random models and both installed
ones; with either, just what is listed.

Fails (exit 1) if the TFLite or ONNX output differs from Keras by more than --tol.

Installed pretrained models (--installed NAME[:LAYER], repeatable; default
mobilenet_v1_1.0_224 and mobilenet_v2_1.0_224 from $XDG_DATA_HOME/gesturepad/models, layer
default: "embeddingLayer" of the model's gesturepad.json). These are TF.js Layers files
written by gesturepad's own writer, so loading them with tensorflowjs' Keras loader
(keras_tfjs_loader.load_keras_model, the reference reader) is itself a compatibility check
of that writer. Each is written to <out>/<short>/ (v1_real, v2_real for the two defaults,
v1_025_real for mobilenet_v1_0.25_224;
<short>_<LAYER> when LAYER is not the gesturepad.json one):

  tfjs/            a copy of the installed directory (model.json, shards, gesturepad.json)
  model.tflite, model.onnx   the Keras model cut at LAYER (Model(inputs, layer.output))
  input.npy        chelsea.png (gesturepad's fetched photo, $XDG_CACHE_HOME/gesturepad/
                   files/) centre square crop -> Pillow BILINEAR 224, normalised as the
                   model's gesturepad.json says (x/127.5-1 or ImageNet mean/std). Without
                   Pillow: the committed Tests/NeuralNetTests/Golden/chelsea_224_u8.npy
                   (made exactly that way); without either: seeded uniform [-1, 1].
  expected.npy     Keras output of the cut model
  info.json        as above plus "writer_compat" (what the strict load reported) and
                   max |diff| vs Keras of TFLite, ONNX and `gesturepad embed`

and the output of the full loaded model is compared with the golden TensorFlow / PyTorch
probabilities in Tests/NeuralNetTests/Golden/ when the input is the golden chelsea image.
The strict load is tried first; if tf_keras rejects gesturepad's model.json the error is
printed verbatim (WRITER-COMPAT lines), each layer config is deserialised alone to name the
layer(s) and field(s) at fault, and the model is then loaded from an in-memory copy with just
those fields dropped (never the files on disk) so the rest still runs. Exit status 2 then
(after everything else is written), unless --allow-writer-quirks. Tolerance for these
models is relative: max |diff| <= --tol * max(1, max |Keras output|).

  /opt/gp-venv/bin/python bench/make_models.py --installed mobilenet_v1_1.0_224 \
      --installed mobilenet_v2_1.0_224:block_15_add
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfjs_saver import load_tfjs_keras_saver  # noqa: E402
import tensorflow as tf
import tf_keras

MODELS = {
    # name: (builder, alpha, output layer)
    "v1_025": ("MobileNet", 0.25, "conv_pw_13_relu"),
    "v1_100": ("MobileNet", 1.0, "conv_pw_13_relu"),
    "v2_100": ("MobileNetV2", 1.0, "out_relu"),
}
SEEDS = {"v1_025": 1025, "v1_100": 1100, "v2_100": 2100}
INPUT_SEED = 7

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_GP = os.path.join(REPO, ".build", "release", "gesturepad")
GOLDEN = os.path.join(REPO, "Tests", "NeuralNetTests", "Golden")
DEFAULT_INSTALLED = ["mobilenet_v1_1.0_224", "mobilenet_v2_1.0_224"]
SHORT_NAMES = {"mobilenet_v1_1.0_224": "v1_real", "mobilenet_v2_1.0_224": "v2_real",
               "mobilenet_v1_0.25_224": "v1_025_real"}
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def randomise_batchnorm(model, rng):
    """Seeded BN statistics: gamma, variance ~ U(0.5, 1.5); beta, mean ~ U(-0.1, 0.1)."""
    n = 0
    for layer in model.layers:
        if isinstance(layer, tf_keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([
                rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                rng.uniform(-0.1, 0.1, beta.shape).astype(np.float32),
                rng.uniform(-0.1, 0.1, mean.shape).astype(np.float32),
                rng.uniform(0.5, 1.5, var.shape).astype(np.float32),
            ])
            n += 1
    return n


def build(name):
    builder, alpha, out_layer = MODELS[name]
    tf_keras.backend.clear_session()
    tf_keras.utils.set_random_seed(SEEDS[name])
    model = getattr(tf_keras.applications, builder)(
        input_shape=(224, 224, 3), alpha=alpha, include_top=False,
        weights=None, pooling=None)
    assert model.layers[-1].name == out_layer, model.layers[-1].name
    nbn = randomise_batchnorm(model, np.random.default_rng(SEEDS[name]))
    return model, out_layer, nbn


def to_tflite(model, path, size=224):
    # tf.saved_model.save + from_saved_model: a plain float32 graph, BN/ReLU6/padding fused.
    with tempfile.TemporaryDirectory() as d:
        sm = os.path.join(d, "saved_model")
        spec = tf.TensorSpec([1, size, size, 3], tf.float32, name="input")
        fn = tf.function(lambda x: model(x, training=False), input_signature=[spec])
        tf.saved_model.save(model, sm, signatures=fn.get_concrete_function())
        conv = tf.lite.TFLiteConverter.from_saved_model(sm)
        conv.optimizations = []
        data = conv.convert()
    with open(path, "wb") as f:
        f.write(data)


def run_tflite(path, x):
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=path, num_threads=1)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"]).copy()


def to_onnx(model, path, size=224):
    import tf2onnx
    spec = (tf.TensorSpec([1, size, size, 3], tf.float32, name="input"),)
    fn = tf.function(lambda x: model(x, training=False), input_signature=spec)
    tf2onnx.convert.from_function(fn, input_signature=spec, opset=17, output_path=path)


def run_onnx(path, x):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def make(name, out_root, tol):
    save_keras_model = load_tfjs_keras_saver()
    out = os.path.join(out_root, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    model, out_layer, nbn = build(name)

    x = np.random.default_rng(INPUT_SEED).uniform(-1, 1, (1, 224, 224, 3)).astype(np.float32)
    y = model(x, training=False).numpy().astype(np.float32)
    np.save(os.path.join(out, "input.npy"), x)
    np.save(os.path.join(out, "expected.npy"), y)

    save_keras_model(model, os.path.join(out, "tfjs"))
    to_tflite(model, os.path.join(out, "model.tflite"))
    to_onnx(model, os.path.join(out, "model.onnx"))

    d_tfl = float(np.max(np.abs(run_tflite(os.path.join(out, "model.tflite"), x) - y)))
    d_onnx = float(np.max(np.abs(run_onnx(os.path.join(out, "model.onnx"), x) - y)))
    info = {
        "name": name, "builder": MODELS[name][0], "alpha": MODELS[name][1],
        "layer": out_layer, "input_shape": list(x.shape), "output_shape": list(y.shape),
        "seed": SEEDS[name], "input_seed": INPUT_SEED, "batchnorm_layers": nbn,
        "params": int(model.count_params()),
        "output_stats": {"mean": float(y.mean()), "std": float(y.std()),
                         "max": float(y.max()), "frac_zero": float(np.mean(y == 0)),
                         "frac_six": float(np.mean(y == 6))},
        "max_abs_diff": {"tflite": d_tfl, "onnx": d_onnx},
        "versions": {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__},
    }
    with open(os.path.join(out, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
    s = info["output_stats"]
    print(f"{name}: {out_layer} {tuple(y.shape)} params={info['params']} "
          f"out mean={s['mean']:.4f} std={s['std']:.4f} max={s['max']:.3f} "
          f"zero={s['frac_zero']:.2f} six={s['frac_six']:.2f}")
    print(f"{name}: max|TFLite-Keras|={d_tfl:.3g}  max|ONNX-Keras|={d_onnx:.3g}", flush=True)
    return d_tfl <= tol and d_onnx <= tol


# ---------------------------------------------------------------- installed pretrained models

def installed_root():
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "gesturepad", "models")


def photo_path(name="chelsea.png"):
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "gesturepad", "files", name)


def tfjs_loader():
    """tensorflowjs.converters.keras_tfjs_loader and read_weights, imported without TF-DF/jax
    (load_tfjs_keras_saver registers the bare tensorflowjs.converters package)."""
    load_tfjs_keras_saver()
    from tensorflowjs.converters import keras_tfjs_loader
    from tensorflowjs import read_weights
    return keras_tfjs_loader, read_weights


def short_error(e):
    """The informative lines of a tf_keras deserialisation error, verbatim."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return f"{type(e).__name__}: " + " | ".join(lines)


def diagnose_layers(topology):
    """Deserialises each layer config of a functional topology alone. Returns
    [(layer name, class, error, [unrecognised keys])] for the layers tf_keras rejects."""
    import re
    bad = []
    for layer in topology["config"]["layers"]:
        try:
            tf_keras.layers.deserialize({"class_name": layer["class_name"],
                                         "config": dict(layer["config"])})
        except Exception as e:  # noqa: BLE001 - report whatever tf_keras raises
            keys = []
            m = re.search(r"Unrecognized keyword arguments: \[([^\]]*)\]", str(e))
            if m:
                keys = [k.strip().strip("'\"") for k in m.group(1).split(",") if k.strip()]
            bad.append((layer["name"], layer["class_name"], short_error(e), keys))
    return bad


def load_installed(src):
    """Loads an installed gesturepad TF.js Layers model with tensorflowjs' Keras loader.

    Returns (model, issues): issues is empty when the strict load (the files as they are)
    worked; otherwise it describes what failed and the model comes from an in-memory copy of
    model.json with only the rejected fields removed."""
    loader, read_weights = tfjs_loader()
    path = os.path.join(src, "model.json")
    issues = []
    tf_keras.backend.clear_session()
    try:
        model = loader.load_keras_model(path)
    except Exception as e:  # noqa: BLE001
        issues.append({"what": "strict load failed",
                       "call": f"keras_tfjs_loader.load_keras_model({path!r})",
                       "error": short_error(e)})
        with open(path) as f:
            cfg = json.load(f)
        topo = cfg["modelTopology"]
        topo = topo.get("model_config", topo)
        bad = diagnose_layers(topo)
        if not bad:
            raise  # not a per-layer problem: nothing safe to work around
        by_name = {layer["name"]: layer for layer in topo["config"]["layers"]}
        for name, cls, err, keys in bad:
            issues.append({"what": "layer config rejected", "layer": name, "class": cls,
                           "fields": keys, "error": err})
            if not keys:
                raise RuntimeError(f"{src}: layer {name} ({cls}) rejected: {err}") from e
            for k in keys:
                by_name[name]["config"].pop(k, None)
        tf_keras.backend.clear_session()
        weights = read_weights.read_weights(cfg["weightsManifest"], src, flatten=True)
        model = loader._deserialize_keras_model(topo, weight_entries=weights)
        issues.append({"what": "workaround",
                       "detail": "loaded from an in-memory copy of model.json without "
                       + ", ".join(f"{n}.config.{k}" for n, _, _, ks in bad for k in ks)
                       + " (files on disk untouched)"})
    # The loader silently ignores manifest entries no layer asks for: check the other way too.
    with open(path) as f:
        manifest = json.load(f)["weightsManifest"]
    listed = [w["name"] for group in manifest for w in group["weights"]]
    used = {loader.keras_h5_conversion.normalize_weight_name(w.name) for w in model.weights}
    unused = [n for n in listed if n not in used]
    if unused or len(listed) != len(set(listed)):
        issues.append({"what": "weights manifest", "unused_entries": unused[:20],
                       "duplicates": len(listed) - len(set(listed))})
    return model, issues


def photo_input(size):
    """(uint8 [size,size,3] RGB, description) of chelsea, or (None, reason)."""
    png = photo_path()
    try:
        from PIL import Image
        import PIL
    except ImportError:
        Image = None
    if Image is not None and os.path.isfile(png):
        img = Image.open(png)
        img.load()
        img = img.convert("RGB")
        w, h = img.size
        side = min(w, h)
        top, left = (h - side) // 2, (w - side) // 2
        img = img.crop((left, top, left + side, top + side)).resize((size, size), Image.BILINEAR)
        return np.asarray(img, dtype=np.uint8), (f"{png}: centre crop {side} -> Pillow "
                                                 f"{PIL.__version__} BILINEAR {size}")
    golden = os.path.join(GOLDEN, "chelsea_224_u8.npy")
    if size == 224 and os.path.isfile(golden):
        x = np.load(golden, allow_pickle=False)
        why = "Pillow not importable" if Image is None else f"{png} missing"
        return x, (f"{os.path.relpath(golden, REPO)} (chelsea.png centre crop -> Pillow "
                   f"BILINEAR 224, committed; {why})")
    return None, "no Pillow+chelsea.png and no golden chelsea_224_u8.npy"


def normalise(x_u8, how):
    x = x_u8.astype(np.float32)
    if how == "x/127.5-1":
        x = x / np.float32(127.5) - np.float32(1)
    elif how == "imagenet-mean-std":
        x = (x / np.float32(255) - np.asarray(IMAGENET_MEAN, np.float32)) \
            / np.asarray(IMAGENET_STD, np.float32)
    else:
        raise ValueError(f"unknown normalization {how!r}")
    return x[None].astype(np.float32)


def golden_check(meta, is_chelsea):
    """The TF / PyTorch golden probabilities of chelsea for this model (to compare with the
    full, uncut model). Returns a dict or None when not applicable."""
    if not is_chelsea:
        return None
    arch = meta.get("architecture", "")
    gname = {"mobilenet_v1": "mobilenet_v1_1.0_chelsea.json",
             "mobilenet_v2": "mobilenet_v2_1.0_chelsea.json"}.get(arch)
    if not gname or meta.get("widthMultiplier") != 1 or meta.get("inputSize") != 224:
        return None
    path = os.path.join(GOLDEN, gname)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        g = json.load(f)
    return {"golden": os.path.relpath(path, REPO), "framework": g["framework"],
            "golden_top5": [t["index"] for t in g["top5"]],
            "probs_ref": np.asarray(g["probabilities"], np.float64)}


def run_gesturepad_embed(gp, model_dir, layer, x_path):
    if not (os.path.isfile(gp) and os.access(gp, os.X_OK)):
        return None, f"gesturepad binary not found at {gp} (make release)"
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out.npy")
        cmd = [gp, "embed", "--model", model_dir, "--layer", layer, "--threads", "1",
               "--input", x_path, "--output", out]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            return None, f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()[-500:]}"
        return np.load(out), " ".join(cmd)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_installed(spec, root, out_root, tol, gp):
    """spec: NAME[:LAYER]. Returns (within tolerance, writer compatible)."""
    name, _, layer = spec.partition(":")
    src = os.path.join(root, name)
    with open(os.path.join(src, "gesturepad.json")) as f:
        meta = json.load(f)
    layer = layer or meta["embeddingLayer"]
    short = SHORT_NAMES.get(name, name)
    if layer != meta["embeddingLayer"]:
        short = f"{short}_{layer}"
    size = int(meta.get("inputSize", 224))
    out = os.path.join(out_root, short)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)

    full, issues = load_installed(src)
    for it in issues:
        print(f"{short}: WRITER-COMPAT {json.dumps(it)}", flush=True)
    if not issues:
        print(f"{short}: keras_tfjs_loader.load_keras_model loaded {src}/model.json as is "
              f"({len(full.layers)} layers, {full.count_params()} params)")
    model = tf_keras.Model(full.inputs, full.get_layer(layer).output, name=f"{name}_{layer}")

    x_u8, desc = photo_input(size)
    if x_u8 is not None:
        x = normalise(x_u8, meta["normalization"])
    else:
        x = np.random.default_rng(INPUT_SEED).uniform(-1, 1, (1, size, size, 3)).astype(np.float32)
        desc = f"seeded uniform [-1, 1], seed {INPUT_SEED} ({desc})"
    print(f"{short}: input {desc}; normalization {meta['normalization']}")
    y = model(x, training=False).numpy().astype(np.float32)
    np.save(os.path.join(out, "input.npy"), x)
    np.save(os.path.join(out, "expected.npy"), y)

    gold = golden_check(meta, x_u8 is not None)
    if gold is not None:
        p = full(x, training=False).numpy().astype(np.float64).reshape(-1)
        top5 = [int(i) for i in np.argsort(-p)[:5]]
        gold["max_abs_diff_probabilities"] = float(np.max(np.abs(p - gold.pop("probs_ref"))))
        gold["keras_top5"] = top5
        print(f"{short}: full model vs golden {gold['framework']} probabilities: "
              f"max|Δ|={gold['max_abs_diff_probabilities']:.3g}; top5 keras {top5} "
              f"golden {gold['golden_top5']}")

    shutil.copytree(src, os.path.join(out, "tfjs"))
    to_tflite(model, os.path.join(out, "model.tflite"), size)
    to_onnx(model, os.path.join(out, "model.onnx"), size)
    d_tfl = float(np.max(np.abs(run_tflite(os.path.join(out, "model.tflite"), x) - y)))
    d_onnx = float(np.max(np.abs(run_onnx(os.path.join(out, "model.onnx"), x) - y)))
    y_gp, gp_cmd = run_gesturepad_embed(gp, os.path.join(out, "tfjs"), layer,
                                        os.path.join(out, "input.npy"))
    d_gp = None
    if y_gp is None:
        print(f"{short}: NOTE: gesturepad embed not compared: {gp_cmd}")
    elif y_gp.shape != y.shape:
        print(f"{short}: gesturepad embed output shape {y_gp.shape} != Keras {y.shape}")
    else:
        d_gp = float(np.max(np.abs(y_gp.astype(np.float32) - y)))

    scale = max(1.0, float(np.max(np.abs(y))))
    info = {
        "name": short, "installed": name, "source_dir": src, "layer": layer,
        "architecture": meta.get("architecture"), "normalization": meta["normalization"],
        "model_json_sha256": sha256(os.path.join(src, "model.json")),
        "input": desc, "input_shape": list(x.shape), "output_shape": list(y.shape),
        "params_cut": int(model.count_params()), "params_full": int(full.count_params()),
        "writer_compat": issues, "golden": gold,
        "output_stats": {"mean": float(y.mean()), "std": float(y.std()),
                         "max": float(y.max()), "min": float(y.min()),
                         "frac_zero": float(np.mean(y == 0))},
        "max_abs_diff": {"tflite": d_tfl, "onnx": d_onnx, "gesturepad": d_gp},
        "gesturepad_embed": gp_cmd if y_gp is not None else None,
        "tolerance_abs": tol * scale,
        "versions": {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__},
    }
    with open(os.path.join(out, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
    s = info["output_stats"]
    print(f"{short}: {layer} {tuple(y.shape)} params(cut)={info['params_cut']} "
          f"out mean={s['mean']:.4f} std={s['std']:.4f} min={s['min']:.3f} max={s['max']:.3f} "
          f"zero={s['frac_zero']:.2f}")
    gp_txt = "n/a" if d_gp is None else f"{d_gp:.3g}"
    print(f"{short}: max|TFLite-Keras|={d_tfl:.3g}  max|ONNX-Keras|={d_onnx:.3g}  "
          f"max|gesturepad-Keras|={gp_txt}  (max|Keras|={scale:.3g})", flush=True)
    if y_gp is not None:
        print(f"{short}:   {gp_cmd}")
    return d_tfl <= tol * scale and d_onnx <= tol * scale, not issues


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/gp-bench/models")
    ap.add_argument("--only", action="append", choices=sorted(MODELS),
                    help="build only this random model (repeatable)")
    ap.add_argument("--installed", action="append", metavar="NAME[:LAYER]",
                    help="export this installed gesturepad model cut at LAYER (default: its "
                    "gesturepad.json embeddingLayer); repeatable; default "
                    + " and ".join(DEFAULT_INSTALLED))
    ap.add_argument("--no-installed", action="store_true",
                    help="skip the installed models")
    ap.add_argument("--models-root", default=installed_root(),
                    help="installed models (default $XDG_DATA_HOME/gesturepad/models)")
    ap.add_argument("--gesturepad", default=DEFAULT_GP, metavar="PATH",
                    help="binary for the `gesturepad embed` comparison of installed models")
    ap.add_argument("--allow-writer-quirks", action="store_true",
                    help="exit 0 even if tf_keras rejected gesturepad's model.json as written")
    ap.add_argument("--tol", type=float, default=1e-4,
                    help="max allowed |TFLite-Keras| and |ONNX-Keras| (default 1e-4; for "
                    "installed models times max(1, max |Keras output|))")
    a = ap.parse_args()
    # Nothing selected: everything. --only / --installed: just what is listed.
    random_names = a.only or ([] if a.installed else list(MODELS))
    installed = [] if a.no_installed else (a.installed or ([] if a.only else DEFAULT_INSTALLED))
    ok = compatible = True
    for name in random_names:
        ok &= make(name, a.out, a.tol)
    for spec in installed:
        o, c = make_installed(spec, a.models_root, a.out, a.tol, a.gesturepad)
        ok &= o
        compatible &= c
    if not ok:
        print("FAILED: a converted model differs from Keras by more than the tolerance")
        return 1
    if not compatible:
        print("WRITER-COMPAT: tf_keras/tensorflowjs did not load gesturepad's model.json as "
              "written (see WRITER-COMPAT lines); outputs were made from a corrected in-memory "
              "copy")
        return 0 if a.allow_writer_quirks else 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
