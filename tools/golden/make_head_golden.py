#!/usr/bin/env python3
"""Writes the dense-head golden files that Tests/NeuralNetTests/HeadGoldenTests.swift compares with.

A tiny head exactly like gesturepad's DenseHead (TF.js webcam-transfer-learning's):
Input [2,2,3] -> Flatten -> Dense(5, relu, bias) -> Dense(3, softmax, no bias), fixed seeded
weights, and a fixed batch of 6 samples (features ~ U(-1, 1), labels 0,1,2,2,1,0).

  Tests/NeuralNetTests/Golden/head_tiny.json
      features [6*12], labels [6], initial weights (kernel1 [12*5], bias1 [5], kernel2 [5*3]),
      probabilities [6*3] (tf_keras forward), loss (tf_keras CategoricalCrossentropy, mean over
      the batch), gradients of the loss w.r.t. kernel1, bias1, kernel2 and the input features
      (tf.GradientTape), and the weights after 3 Adam steps on that batch.
  Tests/NeuralNetTests/Golden/head_tiny_tfjs/
      the initial head as tensorflowjs 4.22 writes a Sequential tf_keras model
      (model.json + group1-shard1of1.bin): gesturepad must load it and predict `probabilities`.

Adam: tf_keras' Adam puts epsilon outside the *uncorrected* sqrt(v) (lr_t = lr*sqrt(1-b2^t)/(1-b1^t),
theta -= lr_t*m/(sqrt(v)+eps)); TF.js (and gesturepad) put it outside the bias-corrected sqrt(v_hat).
The two are the same update with eps_tfjs = eps_keras/sqrt(1-b2^t). With eps = 1e-12 on both sides and
gradients of size >= 1e-4 (checked below) the difference is < 1e-7 of the step, far below the test
tolerance; the script also runs the TF.js variant in numpy (float64) and asserts it matches tf_keras.

How to run (venv of bench/setup-venv.sh: tf_keras 2.21, tensorflowjs 4.22):
  /opt/gp-venv/bin/python tools/golden/make_head_golden.py [--out DIR]
  /opt/gp-venv/bin/python tools/golden/make_head_golden.py --check HEAD_DIR
The second form loads a head directory gesturepad saved from head_tiny.json's initial weights
(`GESTUREPAD_HEAD_EXPORT=DIR swift test --skip-build --filter HeadModelTests`) with tensorflowjs'
Keras loader and checks it predicts head_tiny.json's probabilities. Re-running rewrites the same files.
"""
import argparse
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
import tf_keras
from tf_keras import layers

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO, "Tests", "NeuralNetTests", "Golden")
sys.path.insert(0, os.path.join(REPO, "bench"))
from tfjs_saver import load_tfjs_keras_saver  # noqa: E402

SEED = 2024
INPUT_SHAPE = (2, 2, 3)
HIDDEN = 5
CLASSES = 3
LABELS = [0, 1, 2, 2, 1, 0]
LEARNING_RATE = 0.01
EPSILON = 1e-12
STEPS = 3


def build(kernel1, bias1, kernel2):
    tf_keras.backend.clear_session()
    model = tf_keras.Sequential([
        layers.Flatten(input_shape=INPUT_SHAPE, name="flatten"),
        layers.Dense(HIDDEN, activation="relu", use_bias=True, name="dense"),
        layers.Dense(CLASSES, activation="softmax", use_bias=False, name="dense_1"),
    ], name="head_tiny")
    model.set_weights([kernel1, bias1, kernel2])
    return model


def loss_and_gradients(model, x, y):
    loss_fn = tf_keras.losses.CategoricalCrossentropy()
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        probabilities = model(x, training=True)
        loss = loss_fn(y, probabilities)
    grads = tape.gradient(loss, model.trainable_variables + [x])
    return probabilities.numpy(), float(loss.numpy()), [g.numpy() for g in grads]


def tfjs_adam(params, grad_fn, steps, lr, b1=0.9, b2=0.999, eps=EPSILON):
    """TF.js AdamOptimizer.applyGradients in float64 (eps outside sqrt of bias-corrected v)."""
    params = [p.astype(np.float64) for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    acc1, acc2 = b1, b2
    for _ in range(steps):
        grads = [g.astype(np.float64) for g in grad_fn([p.astype(np.float32) for p in params])]
        for i, g in enumerate(grads):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            params[i] = params[i] - lr * (m[i] / (1 - acc1)) / (np.sqrt(v[i] / (1 - acc2)) + eps)
        acc1 *= b1
        acc2 *= b2
    return params


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


def make(out):
    rng = np.random.default_rng(SEED)
    d = int(np.prod(INPUT_SHAPE))
    x = rng.uniform(-1, 1, (len(LABELS),) + INPUT_SHAPE).astype(np.float32)
    y = np.eye(CLASSES, dtype=np.float32)[LABELS]
    # TF.js-like initial weights (varianceScaling fanIn ~ N(0, 1/fan_in)), bias non-zero so it matters.
    kernel1 = (rng.standard_normal((d, HIDDEN)) / np.sqrt(d)).astype(np.float32)
    bias1 = rng.uniform(-0.2, 0.2, (HIDDEN,)).astype(np.float32)
    kernel2 = (rng.standard_normal((HIDDEN, CLASSES)) / np.sqrt(HIDDEN)).astype(np.float32)

    model = build(kernel1, bias1, kernel2)
    probabilities, loss, grads = loss_and_gradients(model, x, y)
    # Independent check of the loss: mean -log softmax from numpy.
    h = np.maximum(x.reshape(len(LABELS), d) @ kernel1 + bias1, 0)
    z = (h @ kernel2).astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert abs(-log_p[np.arange(len(LABELS)), LABELS].mean() - loss) < 1e-6, loss
    nonzero = np.concatenate([np.abs(g).reshape(-1) for g in grads[:3]])
    nonzero = nonzero[nonzero > 0]
    assert nonzero.min() >= 1e-4, f"a gradient is {nonzero.min()}: Keras/TF.js Adam would differ"

    # 3 Adam steps with tf_keras, recomputing the gradients on the same batch each step.
    optimizer = tf_keras.optimizers.Adam(learning_rate=LEARNING_RATE, beta_1=0.9, beta_2=0.999, epsilon=EPSILON)
    for _ in range(STEPS):
        _, _, step_grads = loss_and_gradients(model, x, y)
        optimizer.apply_gradients(zip([tf.constant(g) for g in step_grads[:3]], model.trainable_variables))
    after = [w.numpy() for w in model.trainable_variables]

    def grad_fn(params):
        m = build(*params)
        return loss_and_gradients(m, x, y)[2][:3]

    reference = tfjs_adam([kernel1, bias1, kernel2], grad_fn, STEPS, LEARNING_RATE)
    worst = max(float(np.abs(a - b).max()) for a, b in zip(after, reference))
    assert worst < 1e-6, f"tf_keras vs TF.js-variant Adam differ by {worst}"
    print(f"tf_keras Adam vs TF.js variant (numpy float64): max |difference| {worst:.2e}")

    golden = {
        "inputShape": list(INPUT_SHAPE), "hiddenUnits": HIDDEN, "classes": CLASSES,
        "features": flat(x), "labels": LABELS,
        "kernel1": flat(kernel1), "bias1": flat(bias1), "kernel2": flat(kernel2),
        "probabilities": flat(probabilities), "loss": loss,
        "gradKernel1": flat(grads[0]), "gradBias1": flat(grads[1]), "gradKernel2": flat(grads[2]),
        "gradFeatures": flat(grads[3]),
        "learningRate": LEARNING_RATE, "epsilon": EPSILON, "adamSteps": STEPS,
        "afterKernel1": flat(after[0]), "afterBias1": flat(after[1]), "afterKernel2": flat(after[2]),
        "generatedBy": "tools/golden/make_head_golden.py (tf_keras %s, tensorflow %s)" % (
            tf_keras.__version__, tf.__version__),
    }
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "head_tiny.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")

    tfjs_dir = os.path.join(out, "head_tiny_tfjs")
    shutil.rmtree(tfjs_dir, ignore_errors=True)
    load_tfjs_keras_saver()(build(kernel1, bias1, kernel2), tfjs_dir)
    print(f"wrote {out}/head_tiny.json and {tfjs_dir}/")


def check(head_dir, out):
    with open(os.path.join(out, "head_tiny.json")) as f:
        golden = json.load(f)
    load_tfjs_keras_saver()
    from tensorflowjs.converters import keras_tfjs_loader
    tf_keras.backend.clear_session()
    model = keras_tfjs_loader.load_keras_model(os.path.join(head_dir, "model.json"))
    x = np.array(golden["features"], dtype=np.float32).reshape((-1,) + tuple(golden["inputShape"]))
    got = model.predict(x, verbose=0).reshape(-1)
    worst = float(np.abs(got - np.array(golden["probabilities"], dtype=np.float32)).max())
    print(f"{head_dir}: loaded by tensorflowjs {type(model).__name__} "
          f"({' -> '.join(l.__class__.__name__ for l in model.layers)}); max |probability difference| {worst:.2e}")
    assert worst < 1e-6, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--check", metavar="HEAD_DIR")
    args = parser.parse_args()
    if args.check:
        check(args.check, args.out)
    else:
        make(args.out)


if __name__ == "__main__":
    main()
