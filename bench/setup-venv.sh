#!/usr/bin/env bash
# Creates (or tops up) the throw-away Python venv used by bench/make_models.py,
# bench/peers.py and tools/golden/make_tfjs_fixtures.py. Idempotent: re-running
# it on an existing venv only installs what is missing or at the wrong version.
#
#   bash bench/setup-venv.sh            # venv at /opt/gp-venv
#   GP_BENCH_VENV=/tmp/v bash bench/setup-venv.sh
#   GP_BENCH_PYTHON=python3.12 bash bench/setup-venv.sh
#
# The venv lives outside the repo; nothing here is needed to build or test gesturepad.
# Only PyPI is used (~700 MB download, ~2 GB on disk).
#
# Pins (verified together on Debian 12, CPython 3.11, x86_64):
#   tensorflow-cpu 2.21.0 + tf_keras 2.21.0   Keras 2 API (what the TF.js converter expects)
#   tensorflowjs 4.22.0                        only its Keras -> TF.js Layers converter is used
#   onnxruntime 1.31.1, tf2onnx 1.17.0, onnx 1.23.2
#   ai-edge-litert 2.3.0                       LiteRT interpreter (XNNPACK by default)
#   numpy 2.4.6, protobuf 7.36.2, h5py 3.14.0
#
# Why --no-deps for two packages:
#   * tf_keras declares `tensorflow` (the full GPU-capable wheel), which would be pulled
#     in beside tensorflow-cpu. tensorflow-cpu provides the same `tensorflow` module.
#   * tensorflowjs declares jax, jaxlib, flax, tensorflow-decision-forests and
#     tensorflow-hub (pip backtracks through many jax versions), and its
#     converters/__init__.py imports them all. TF-DF's newest wheel (1.11/1.12) is built
#     for an older TF and fails to load against TF 2.21 (undefined symbol in
#     inference.so). The Keras converter (tensorflowjs.converters.keras_h5_conversion)
#     needs none of them: our scripts import that module directly, without running
#     converters/__init__.py (see load_tfjs_keras_saver() in the scripts).
set -euo pipefail

VENV="${GP_BENCH_VENV:-/opt/gp-venv}"
PY="${GP_BENCH_PYTHON:-python3}"

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "creating venv $VENV with $($PY --version 2>&1)"
  # Debian's system python needs `apt-get install python3-venv` for this.
  "$PY" -m venv "$VENV"
fi

PIP=("$VENV/bin/pip" --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip

"${PIP[@]}" install \
  tensorflow-cpu==2.21.0 \
  onnxruntime==1.31.1 \
  tf2onnx==1.17.0 \
  onnx==1.23.2 \
  ai-edge-litert==2.3.0 \
  numpy==2.4.6 \
  protobuf==7.36.2 \
  h5py==3.14.0 \
  six

"${PIP[@]}" install --no-deps \
  tf_keras==2.21.0 \
  tensorflowjs==4.22.0

# Smoke test: every import the scripts use.
TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python" - <<'EOF'
import importlib.util, os, sys, types
import numpy, tensorflow as tf, tf_keras, onnx, onnxruntime, tf2onnx
from ai_edge_litert.interpreter import Interpreter
spec = importlib.util.find_spec("tensorflowjs")
conv = types.ModuleType("tensorflowjs.converters")
conv.__path__ = [os.path.join(os.path.dirname(spec.origin), "converters")]
sys.modules["tensorflowjs.converters"] = conv
from tensorflowjs.converters.keras_h5_conversion import save_keras_model
print("venv ok: tensorflow %s, tf_keras %s, onnxruntime %s, tf2onnx %s, onnx %s, numpy %s"
      % (tf.__version__, tf_keras.__version__, onnxruntime.__version__,
         tf2onnx.__version__, onnx.__version__, numpy.__version__))
EOF
echo "use: $VENV/bin/python bench/make_models.py"
