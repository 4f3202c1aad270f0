#!/usr/bin/env python3
"""Builds the three random-weight MobileNet feature extractors used by bench/peers.py.

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

Fails (exit 1) if the TFLite or ONNX output differs from Keras by more than --tol.
"""
import argparse
import json
import os
import shutil
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


def to_tflite(model, path):
    # tf.saved_model.save + from_saved_model: a plain float32 graph, BN/ReLU6/padding fused.
    with tempfile.TemporaryDirectory() as d:
        sm = os.path.join(d, "saved_model")
        spec = tf.TensorSpec([1, 224, 224, 3], tf.float32, name="input")
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


def to_onnx(model, path):
    import tf2onnx
    spec = (tf.TensorSpec([1, 224, 224, 3], tf.float32, name="input"),)
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/gp-bench/models")
    ap.add_argument("--only", action="append", choices=sorted(MODELS),
                    help="build only this model (repeatable)")
    ap.add_argument("--tol", type=float, default=1e-4,
                    help="max allowed |TFLite-Keras| and |ONNX-Keras| (default 1e-4)")
    a = ap.parse_args()
    ok = True
    for name in a.only or list(MODELS):
        ok &= make(name, a.out, a.tol)
    if not ok:
        print(f"FAILED: a converted model differs from Keras by more than {a.tol}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
