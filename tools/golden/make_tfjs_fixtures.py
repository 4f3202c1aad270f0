#!/usr/bin/env python3
"""Writes the small TF.js Layers fixtures that the NeuralNet tests load.

It builds, with tf_keras and seeded random weights (biases and BatchNormalization
gamma/beta/moving_mean/moving_variance randomised too, so no layer is an identity, and
keras_small's ReLU6 layers clip at 6 for part of the fixture input), two
tiny models, converts them with tensorflowjs' Keras converter and stores Keras' own output
beside them:

  Tests/NeuralNetTests/Fixtures/keras_small/
      model.json, group1-shard1of1.bin   functional model, input [1,17,17,3]:
        input_1 -> ZeroPadding2D(((0,1),(0,1))) -> conv1 (Conv2D 8, 3x3, stride 2, valid,
        no bias) -> conv1_bn -> conv1_relu (ReLU 6) -> conv_dw_1 (DepthwiseConv2D 3x3,
        same, no bias) -> conv_dw_1_bn -> conv_dw_1_relu -> conv_pw_1 (Conv2D 16, 1x1, no
        bias) -> conv_pw_1_bn -> conv_pw_1_relu -> proj (Conv2D 16, 1x1, bias)
        -> add(proj, conv_pw_1_relu) -> conv_dw_2 (DepthwiseConv2D 3x3, stride 2, same,
        bias; 8x8 -> 4x4, TF pads bottom/right only) -> conv_dw_2_relu (Activation relu)
        -> global_average_pooling2d -> reshape_1 (1,1,16) -> dropout (0.1)
        -> conv_preds (Conv2D 10, 1x1, same, bias) -> reshape_2 (10,)
        -> act_softmax (Activation softmax)
      input.npy                          float32 [1,17,17,3], seeded uniform [-1, 1]
      expected.npy                       float32 [1,10], Keras output at batch 1
      expected_conv_pw_1_relu.npy        float32 [1,8,8,16], that layer's output
  Tests/NeuralNetTests/Fixtures/keras_small_sharded/
      the same model and weights written with 1024-byte shards (several shard files, at
      least one weight straddling a shard boundary); use keras_small's .npy files with it
  Tests/NeuralNetTests/Fixtures/keras_sequential/
      model.json, group1-shard1of1.bin   Sequential: dense (Dense 5, relu, input (12,))
                                         -> dense_1 (Dense 3, softmax)
      input.npy, expected.npy            float32 [1,12] and [1,3]

Everything is float32, little-endian, numpy .npy v1.0; total well under 100 KB. Re-running
the script rewrites the same files (same seeds).

How to run (a throw-away venv outside the repo, made by bench/setup-venv.sh, which pins
tensorflow-cpu 2.21.0, tf_keras 2.21.0, tensorflowjs 4.22.0 (--no-deps), numpy 2.4.6,
h5py 3.14.0, on CPython 3.11):

  bash bench/setup-venv.sh
  /opt/gp-venv/bin/python tools/golden/make_tfjs_fixtures.py [--out DIR]

--out defaults to Tests/NeuralNetTests/Fixtures of the repo holding this script.
"""
import argparse
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tf_keras
from tf_keras import layers

SEED_SMALL = 17
SEED_SEQUENTIAL = 12
SHARD_BYTES = 1024

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO, "Tests", "NeuralNetTests", "Fixtures")
sys.path.insert(0, os.path.join(REPO, "bench"))
from tfjs_saver import load_tfjs_keras_saver  # noqa: E402


def randomise(model, rng, gamma_lo=0.5, gamma_hi=1.5):
    """Seeded values for what Keras initialises to constants: biases ~ U(-0.5, 0.5);
    BN gamma ~ U(gamma_lo, gamma_hi), moving_variance ~ U(0.5, 1.5), beta and moving_mean
    ~ U(-0.5, 0.5). Kernels keep their seeded glorot-uniform values."""
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([
                rng.uniform(gamma_lo, gamma_hi, gamma.shape).astype(np.float32),
                rng.uniform(-0.5, 0.5, beta.shape).astype(np.float32),
                rng.uniform(-0.5, 0.5, mean.shape).astype(np.float32),
                rng.uniform(0.5, 1.5, var.shape).astype(np.float32),
            ])
        else:
            for w in layer.weights:
                if w.name.split("/")[-1].startswith("bias"):
                    w.assign(rng.uniform(-0.5, 0.5, w.shape).astype(np.float32))


def build_small():
    tf_keras.backend.clear_session()
    tf_keras.utils.set_random_seed(SEED_SMALL)
    relu6 = lambda name: layers.ReLU(6.0, name=name)
    inp = layers.Input((17, 17, 3))  # named input_1 after clear_session()
    x = layers.ZeroPadding2D(((0, 1), (0, 1)), name="conv1_pad")(inp)
    x = layers.Conv2D(8, 3, strides=2, padding="valid", use_bias=False, name="conv1")(x)
    x = layers.BatchNormalization(name="conv1_bn")(x)
    x = relu6("conv1_relu")(x)
    x = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="conv_dw_1")(x)
    x = layers.BatchNormalization(name="conv_dw_1_bn")(x)
    x = relu6("conv_dw_1_relu")(x)
    x = layers.Conv2D(16, 1, use_bias=False, name="conv_pw_1")(x)
    x = layers.BatchNormalization(name="conv_pw_1_bn")(x)
    pw = relu6("conv_pw_1_relu")(x)
    p = layers.Conv2D(16, 1, name="proj")(pw)
    x = layers.Add(name="add")([p, pw])
    x = layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=True,
                               name="conv_dw_2")(x)
    x = layers.Activation("relu", name="conv_dw_2_relu")(x)
    x = layers.GlobalAveragePooling2D(name="global_average_pooling2d")(x)
    x = layers.Reshape((1, 1, 16), name="reshape_1")(x)
    x = layers.Dropout(0.1, name="dropout")(x)
    x = layers.Conv2D(10, 1, padding="same", name="conv_preds")(x)
    x = layers.Reshape((10,), name="reshape_2")(x)
    out = layers.Activation("softmax", name="act_softmax")(x)
    model = tf_keras.Model(inp, out, name="keras_small")
    # gamma ~ U(3, 9): large enough that every ReLU6 clips at 6 somewhere and the plain
    # ReLU after conv_dw_2 goes past 6 (checked in check_activations).
    randomise(model, np.random.default_rng(SEED_SMALL), gamma_lo=3.0, gamma_hi=9.0)
    return model


def build_sequential():
    tf_keras.backend.clear_session()
    tf_keras.utils.set_random_seed(SEED_SEQUENTIAL)
    model = tf_keras.Sequential([
        layers.Dense(5, activation="relu", input_shape=(12,)),
        layers.Dense(3, activation="softmax"),
    ], name="keras_sequential")
    randomise(model, np.random.default_rng(SEED_SEQUENTIAL))
    return model


def seeded_input(shape, seed):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def predict(model, x):
    return model(x, training=False).numpy().astype(np.float32)


def check_tfjs_dir(d, min_shards=1, expect_straddle=False):
    """Checks model.json's manifest against the shard files; returns the weight bytes."""
    with open(os.path.join(d, "model.json")) as f:
        mj = json.load(f)
    blob, n_shards, total, starts = b"", 0, 0, []
    for group in mj["weightsManifest"]:
        for path in group["paths"]:
            with open(os.path.join(d, path), "rb") as f:
                blob += f.read()
            n_shards += 1
        for w in group["weights"]:
            assert w["dtype"] == "float32" and "quantization" not in w, w
            n = 4 * int(np.prod(w["shape"], dtype=np.int64))
            starts.append((w["name"], total, total + n))
            total += n
    assert total == len(blob), (d, total, len(blob))
    assert n_shards >= min_shards, (d, n_shards)
    if expect_straddle:
        straddle = [nm for nm, a, b in starts if a // SHARD_BYTES != (b - 1) // SHARD_BYTES]
        assert straddle, "no weight crosses a shard boundary"
        print(f"  {d}: {n_shards} shards; weights crossing a boundary: {straddle}")
    return blob


def check_activations(model, x):
    """The fixture must tell ReLU6 from ReLU: asserts clipping happens where it should."""
    names = ["conv1_relu", "conv_dw_1_relu", "conv_pw_1_relu", "conv_dw_2_relu"]
    sub = tf_keras.Model(model.input, [model.get_layer(n).output for n in names])
    outs = [o.numpy() for o in sub(x, training=False)]
    for n, o in zip(names, outs):
        print(f"  {n}: zero {np.mean(o == 0):.2f}, at 6 {np.mean(o == 6):.2f}, max {o.max():.2f}")
    for o in outs[:3]:
        assert np.any(o == 0) and np.any(o == 6)
    assert outs[3].max() > 6


def write_model(save_keras_model, model, d, **kw):
    if os.path.isdir(d):
        shutil.rmtree(d)
    save_keras_model(model, d, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="fixtures directory (default %(default)s)")
    a = ap.parse_args()
    save_keras_model = load_tfjs_keras_saver()

    # keras_small (+ sharded copy)
    model = build_small()
    d = os.path.join(a.out, "keras_small")
    ds = os.path.join(a.out, "keras_small_sharded")
    write_model(save_keras_model, model, d)
    write_model(save_keras_model, model, ds, weight_shard_size_bytes=SHARD_BYTES)
    x = seeded_input((1, 17, 17, 3), SEED_SMALL)
    check_activations(model, x)
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "expected.npy"), predict(model, x))
    mid = tf_keras.Model(model.input, model.get_layer("conv_pw_1_relu").output)
    np.save(os.path.join(d, "expected_conv_pw_1_relu.npy"), predict(mid, x))
    assert check_tfjs_dir(d) == check_tfjs_dir(ds, min_shards=2, expect_straddle=True)

    # keras_sequential
    model = build_sequential()
    d = os.path.join(a.out, "keras_sequential")
    write_model(save_keras_model, model, d)
    x = seeded_input((1, 12), SEED_SEQUENTIAL)
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "expected.npy"), predict(model, x))
    check_tfjs_dir(d)

    total = 0
    for name in ("keras_small", "keras_small_sharded", "keras_sequential"):
        sub = os.path.join(a.out, name)
        files = sorted(os.listdir(sub))
        size = sum(os.path.getsize(os.path.join(sub, f)) for f in files)
        total += size
        print(f"{sub}: {size} bytes: {', '.join(files)}")
    print(f"total {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
