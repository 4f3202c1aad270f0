"""The TF.js Layers saver of tensorflowjs, imported without the rest of tensorflowjs.

Shared by bench/make_models.py and tools/golden/make_tfjs_fixtures.py (venv: bench/setup-venv.sh).
"""
import importlib.util
import os
import sys
import types


def load_tfjs_keras_saver():
    """Returns tensorflowjs.converters.keras_h5_conversion.save_keras_model.

    tensorflowjs/converters/__init__.py imports every converter, and with them
    tensorflow_decision_forests, tensorflow_hub and jax, none of which the Keras path uses
    (and TF-DF does not load against TF 2.21). Register a bare package object for
    tensorflowjs.converters so only the submodules we ask for are imported.
    """
    if "tensorflowjs.converters" not in sys.modules:
        spec = importlib.util.find_spec("tensorflowjs")
        if spec is None:
            raise SystemExit("tensorflowjs is not installed: run bench/setup-venv.sh")
        pkg = types.ModuleType("tensorflowjs.converters")
        pkg.__path__ = [os.path.join(os.path.dirname(spec.origin), "converters")]
        sys.modules["tensorflowjs.converters"] = pkg
    from tensorflowjs.converters.keras_h5_conversion import save_keras_model
    return save_keras_model
