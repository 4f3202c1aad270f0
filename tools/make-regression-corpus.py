#!/usr/bin/env python3
"""Writes the crafted-file regression corpus (issue 15): every crasher found by the fuzz campaign, made
small. Model cases are a tiny valid TF.js Layers model (or dense head) with one field changed; .npy cases
have wrapping shapes; TOML cases nest or run on far beyond gesturepad's limits. Each case lists the
entry point that must refuse it and the phrases its error must contain (cases.json); the tests
RegressionCorpusTests (NeuralNet), ConfigRegressionTests (Daemon) and CrashRegressionCLITests run them.
Run from the repository root: python3 tools/make-regression-corpus.py (output is deterministic)."""
import collections
import copy
import io
import json
import os
import pickle
import shutil
import struct
import sys
import types
import zipfile

NEURALNET = "Tests/NeuralNetTests/Regression"
DAEMON = "Tests/DaemonTests/Regression"


def layer(class_name, name, config, inbound):
    return {"class_name": class_name, "name": name, "config": dict(name=name, **config),
            "inbound_nodes": [[[inbound, 0, 0, {}]]] if inbound else []}


def tiny_model():
    """Input 8x8x3 → ZeroPadding2D → Conv2D 3x3/2 → BatchNormalization → ReLU6 → GAP → Dense softmax."""
    layers = [
        layer("InputLayer", "input", {"batch_input_shape": [None, 8, 8, 3]}, None),
        layer("ZeroPadding2D", "pad", {"padding": [[0, 1], [0, 1]]}, "input"),
        layer("Conv2D", "conv", {"filters": 2, "kernel_size": [3, 3], "strides": [2, 2], "padding": "valid",
                                 "use_bias": False, "activation": "linear"}, "pad"),
        layer("BatchNormalization", "bn", {"epsilon": 0.001}, "conv"),
        layer("ReLU", "relu", {"max_value": 6}, "bn"),
        layer("GlobalAveragePooling2D", "pool", {}, "relu"),
        layer("Dense", "dense", {"units": 2, "activation": "softmax", "use_bias": True}, "pool"),
    ]
    weights = [("conv/kernel", [3, 3, 3, 2]), ("bn/gamma", [2]), ("bn/beta", [2]), ("bn/moving_mean", [2]),
               ("bn/moving_variance", [2]), ("dense/kernel", [2, 2]), ("dense/bias", [2])]
    return layers, weights


def tiny_head():
    """A gesturepad head: Input [4] → Flatten → Dense(3, relu, bias) → Dense(2, softmax, no bias)."""
    layers = [
        layer("InputLayer", "head_input", {"batch_input_shape": [None, 4]}, None),
        layer("Flatten", "head_flatten", {}, "head_input"),
        layer("Dense", "head_hidden", {"units": 3, "activation": "relu", "use_bias": True}, "head_flatten"),
        layer("Dense", "head_output", {"units": 2, "activation": "softmax", "use_bias": False}, "head_hidden"),
    ]
    weights = [("head_hidden/kernel", [4, 3]), ("head_hidden/bias", [3]), ("head_output/kernel", [3, 2])]
    return layers, weights


def write_model(directory, layers, weights, paths=("group1-shard1of1.bin",), shard_bytes=None):
    os.makedirs(directory, exist_ok=True)
    count = 0
    for _, shape in weights:
        size = 1
        for dimension in shape:
            size *= dimension
        count += size
    document = {
        "format": "layers-model", "generatedBy": "tools/make-regression-corpus.py", "convertedBy": None,
        "modelTopology": {"class_name": "Model", "keras_version": "2.15.0", "config": {
            "name": "regression", "layers": layers, "input_layers": [[layers[0]["name"], 0, 0]],
            "output_layers": [[layers[-1]["name"], 0, 0]]}},
        "weightsManifest": [{"paths": list(paths), "weights": [
            {"name": name, "shape": shape, "dtype": "float32"} for name, shape in weights]}],
    }
    with open(os.path.join(directory, "model.json"), "w") as file:
        json.dump(document, file, indent=1)
        file.write("\n")
    # Small positive floats (variance must be > 0): value i = 0.01·(i mod 50 + 1).
    size = shard_bytes if shard_bytes is not None else 4 * count
    data = b"".join(struct.pack("<f", 0.01 * (i % 50 + 1)) for i in range(size // 4))
    with open(os.path.join(directory, "group1-shard1of1.bin"), "wb") as file:
        file.write(data)


def set_config(layers, name, key, value):
    for entry in layers:
        if entry["name"] == name:
            entry["config"][key] = value
            return layers
    raise KeyError(name)


def npy(path, descr, shape_text, data=b""):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as file:
        file.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data)


def torch_zip(path, corrupt=None):
    """A zip-format torch.save checkpoint (torch/serialization.py `_save`) of a 2-tensor state_dict, written
    with Python's own pickle (protocol 2, as torch.save) through stand-in `torch` globals. `corrupt` names a
    member whose first data byte is flipped after writing, leaving the recorded CRC-32 as it was."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*arguments):
        raise AssertionError("never called: only pickled")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    torch.FloatStorage, torch._utils, utils._rebuild_tensor_v2 = FloatStorage, utils, _rebuild_tensor_v2
    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    sys.modules.update({"torch": torch, "torch._utils": utils})

    class Storage:
        def __init__(self, key, count):
            self.key, self.count = key, count

    class Tensor:
        def __init__(self, storage, shape):
            self.storage, self.shape = storage, shape

        def __reduce__(self):
            strides = [1] * len(self.shape)  # contiguous
            for axis in range(len(self.shape) - 2, -1, -1):
                strides[axis] = strides[axis + 1] * self.shape[axis + 1]
            return (_rebuild_tensor_v2, (self.storage, 0, self.shape, tuple(strides), False, collections.OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, value):
            if isinstance(value, Storage):
                return ("storage", FloatStorage, value.key, "cpu", value.count)
            return None

    try:
        state = collections.OrderedDict([("weight", Tensor(Storage("0", 6), (2, 3))),
                                         ("bias", Tensor(Storage("1", 2), (2,)))])
        buffer = io.BytesIO()
        Pickler(buffer, protocol=2).dump(state)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    members = [("archive/data.pkl", buffer.getvalue()), ("archive/byteorder", b"little"),
               ("archive/data/0", struct.pack("<6f", 0.5, -1, 2, 0.25, 3, -0.5)),
               ("archive/data/1", struct.pack("<2f", 0.1, -0.1)), ("archive/version", b"3\n")]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            archive.writestr(info, data)
    if corrupt:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(corrupt)
        with open(path, "r+b") as file:
            file.seek(info.header_offset + 26)
            name_length, extra_length = struct.unpack("<HH", file.read(4))
            offset = info.header_offset + 30 + name_length + extra_length
            file.seek(offset)
            byte = file.read(1)[0]
            file.seek(offset)
            file.write(bytes([byte ^ 0x40]))


def main():
    for root in (NEURALNET, DAEMON):
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
    cases = []

    def model_case(name, entry, expect, mutate=None, head=False, **options):
        layers, weights = tiny_head() if head else tiny_model()
        layers, weights = copy.deepcopy(layers), copy.deepcopy(weights)
        if mutate:
            mutate(layers, weights)
        write_model(os.path.join(NEURALNET, name), layers, weights, **options)
        cases.append({"file": name, "entry": entry, "expect": expect})

    def shape(weight, new_shape):
        def mutate(layers, weights):
            for index, (name, _) in enumerate(weights):
                if name == weight:
                    weights[index] = (name, new_shape)
            # keep the shard at the real byte count: the wrapped product matched it before the fix
        return mutate

    # The control case: a valid model that must load (proves the corpus exercises the real reader).
    model_case("valid-model", "tfjs", [])
    model_case("valid-head", "head", [], head=True)
    # 1. Wrapping weight shapes: 4·2·(2^61+27) and 4·(2^62+54) both wrap to the kernel's real 216 bytes.
    real = 4 * (54 + 8 + 4 + 2)
    model_case("weight-shape-wraps-to-shard-size", "tfjs",
               ["model.json", "weightsManifest[0].weights[0] (conv/kernel).shape", "at most 2147483648 elements"],
               shape("conv/kernel", [2, 2305843009213693979]), shard_bytes=real)
    model_case("weight-shape-single-huge", "tfjs",
               ["model.json", "conv/kernel", "at most 2147483648 elements"],
               shape("conv/kernel", [4611686018427387958]), shard_bytes=real)
    model_case("head-weight-shape-wraps", "head",
               ["model.json", "head_hidden/kernel", "at most 2147483648 elements"],
               shape("head_hidden/kernel", [2, 2305843009213693958]), head=True, shard_bytes=4 * 21)
    # 3. Layer geometry.
    for name, padding in [("zeropadding-wraps-2pow32", [[4294967072, 0], [4294967072, 0]]),
                          ("zeropadding-2pow40", [[1099511627776, 0], [1099511627776, 0]]),
                          ("zeropadding-100000", [[100000, 1], [100000, 1]])]:
        model_case(name, "tfjs", ["layer pad", "padding", "0…65536"],
                   lambda layers, _, p=padding: set_config(layers, "pad", "padding", p))
    model_case("zeropadding-beyond-input", "tfjs", ["layer pad", "paddings of at most the input's height and width"],
               lambda layers, _: set_config(layers, "pad", "padding", [[9, 0], [0, 0]]))
    model_case("strides-2pow32", "tfjs", ["layer conv", "strides", "[1, 4294967296]", "1…65536"],
               lambda layers, _: set_config(layers, "conv", "strides", [1, 4294967296]))
    model_case("strides-beyond-input", "tfjs", ["layer conv", "strides of at most the input's height and width"],
               lambda layers, _: set_config(layers, "conv", "strides", [1, 10]))
    model_case("kernel-size-huge", "tfjs", ["layer conv", "kernel_size", "1…65536"],
               lambda layers, _: set_config(layers, "conv", "kernel_size", [3, 1099511627776]))
    model_case("filters-huge", "tfjs", ["layer conv", "filters", "1…1048576"],
               lambda layers, _: set_config(layers, "conv", "filters", 1099511627776))
    model_case("dense-units-huge", "tfjs", ["layer dense", "units", "1…1048576"],
               lambda layers, _: set_config(layers, "dense", "units", 4294967296))
    model_case("epsilon-huge", "tfjs", ["layer bn", "epsilon", "4600000000000000000", "(0, 1]"],
               lambda layers, _: set_config(layers, "bn", "epsilon", 4.6e18))
    model_case("epsilon-negative", "tfjs", ["layer bn", "epsilon", "-1", "(0, 1]"],
               lambda layers, _: set_config(layers, "bn", "epsilon", -1))
    model_case("relu-max-value-list", "tfjs", ["layer relu", "max_value", "[1.5, 2]"],
               lambda layers, _: set_config(layers, "relu", "max_value", [1.5, 2]))
    model_case("input-shape-2pow32", "tfjs", ["layer input", "batch_input_shape", "1…2147483648"],
               lambda layers, _: set_config(layers, "input", "batch_input_shape", [None, 4294967296, 8, 3]))
    model_case("input-too-many-elements", "tfjs", ["layer input", "output shape [65536, 65536, 3]", "2147483648 elements"],
               lambda layers, _: set_config(layers, "input", "batch_input_shape", [None, 65536, 65536, 3]))
    # 11. Manifest paths leaving the model directory.
    model_case("manifest-path-parent", "tfjs", ["model.json", "weightsManifest paths", "../../etc/passwd"],
               paths=("../../etc/passwd",))
    model_case("manifest-path-absolute", "tfjs", ["model.json", "weightsManifest paths", "/etc/passwd"],
               paths=("/etc/passwd",))
    # 2. Wrapping .npy shapes: 4·(2^62·4) wraps to 0 data bytes; uint8 2^63+150528 (the product).
    npy(os.path.join(NEURALNET, "npy-shape-wraps-to-zero.npy"), "<f4", "(4611686018427387904, 4)")
    cases.append({"file": "npy-shape-wraps-to-zero.npy", "entry": "npy",
                  "expect": ["npy-shape-wraps-to-zero.npy", "(4611686018427387904, 4)", "2147483648 elements"]})
    npy(os.path.join(NEURALNET, "npy-issue-shape.npy"), "<f4", "(1, 288230376151711968, 224, 3)", bytes(4 * 8))
    cases.append({"file": "npy-issue-shape.npy", "entry": "npy",
                  "expect": ["npy-issue-shape.npy", "(1, 288230376151711968, 224, 3)", "2147483648 elements"]})
    # 13. A zip .pth with a flipped bit in a storage (and one in data.pkl): the CRC-32 must catch it.
    torch_zip(os.path.join(NEURALNET, "valid-checkpoint.pth"))
    cases.append({"file": "valid-checkpoint.pth", "entry": "pth", "expect": []})
    for name, member in [("pth-storage-crc-mismatch.pth", "archive/data/0"),
                         ("pth-pickle-crc-mismatch.pth", "archive/data.pkl")]:
        torch_zip(os.path.join(NEURALNET, name), corrupt=member)
        cases.append({"file": name, "entry": "pth", "expect": [name, member, "CRC-32", "corrupt"]})
    with open(os.path.join(NEURALNET, "cases.json"), "w") as file:
        json.dump(cases, file, indent=1)
        file.write("\n")

    # 5. TOML nesting and line length (config check, daemon start and SIGHUP read these).
    toml_cases = []
    with open(os.path.join(DAEMON, "deep-array.toml"), "w") as file:
        file.write("# 15,000 nested arrays\n[recognition]\nthreshold = " + "[" * 15000 + "]" * 15000 + "\n")
    toml_cases.append({"file": "deep-array.toml", "expect": ["deep-array.toml:3:", "deeper than 64 levels"]})
    with open(os.path.join(DAEMON, "deep-inline-table.toml"), "w") as file:
        file.write("# 7,000 nested inline tables\nkeys = " + "{a=" * 7000 + "1" + "}" * 7000 + "\n")
    toml_cases.append({"file": "deep-inline-table.toml", "expect": ["deep-inline-table.toml:2:", "deeper than 64 levels"]})
    with open(os.path.join(DAEMON, "deep-dotted-key.toml"), "w") as file:
        file.write("# 10,000-part dotted key\n" + ".".join(["a"] * 10000) + " = 1\n")
    toml_cases.append({"file": "deep-dotted-key.toml", "expect": ["deep-dotted-key.toml:2:", "more than 64 parts"]})
    with open(os.path.join(DAEMON, "long-line.toml"), "w") as file:
        file.write("# a 70,000-character line\n[recognition]\nthreshold = \"" + "x" * 70000 + "\"\n")
    toml_cases.append({"file": "long-line.toml", "expect": ["long-line.toml:3:", "longer than 65536 characters"]})
    with open(os.path.join(DAEMON, "cases.json"), "w") as file:
        json.dump(toml_cases, file, indent=1)
        file.write("\n")


if __name__ == "__main__":
    main()
