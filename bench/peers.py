#!/usr/bin/env python3
"""Times gesturepad's embedding forward pass against LiteRT and onnxruntime.

Uses the models written by bench/make_models.py (<models-dir>/<name>/{tfjs/, model.tflite,
model.onnx, input.npy, expected.npy, info.json}): the random-weight v1_025, v1_100, v2_100,
plus v1_real and v2_real (the installed pretrained MobileNets cut at their gesturepad.json
embedding layer, conv_pw_13_relu and block_15_add; input: the chelsea photo) when their
directories exist. Each model is cut at the "layer" of its info.json for every engine.
Engines, all single-threaded by default:

  litert      ai_edge_litert Interpreter, num_threads=N (XNNPACK delegate is the default)
  onnxruntime CPUExecutionProvider, intra_op=N, inter_op=1, sequential, all graph opts
  gesturepad  subprocess `<gp> bench embed --model <dir>/tfjs --layer <layer> --input
              <dir>/input.npy --threads N --runs R --json` (the same input as the peers: gesturepad's
              zero skipping makes its time depend on the input), which prints one JSON object with at least
              median_ms, p10_ms, p90_ms, gflops. Several builds or settings can run in the
              same rounds: `--gesturepad LABEL=PATH` (repeatable; engine "gp:LABEL") and
              `--gp-env LABEL:VAR=VALUE` (repeatable), e.g. an AVX2 build with the OpenBLAS
              and the packed Swift GEMM side by side:
                --gesturepad avx2-blas=.build-haswell/release/gesturepad
                --gp-env avx2-blas:GESTUREPAD_GEMM=openblas
                --gp-env avx2-blas:OPENBLAS_CORETYPE=Haswell
              and `--gp-arg LABEL:ARG` (repeatable) adds ARG to that engine's `bench embed`, e.g. the
              same binary with another fusion budget: --gesturepad auto=BIN --gesturepad k128=BIN
                --gp-arg k128:--fusion=kib=128

Methodology (docs MODELS.md section 6): every round runs one block per (model, engine) in a
freshly shuffled order; a block is a few warm-up runs then --runs timed runs (a gesturepad
block is one process doing --runs runs). Reported per (model, engine): the median of the
per-round medians and the median of the per-round p10s. Ratios are gesturepad / peer on
those medians (> 1 means gesturepad is slower).

Run in the venv made by bench/setup-venv.sh:

  /opt/gp-venv/bin/python bench/peers.py [--runs 30] [--rounds 5] [--threads 1] [--idle-ms 33]
      [--models-dir /tmp/gp-bench/models] [--gesturepad PATH] [--json OUT]

`--idle-ms 33` sleeps before every timed run of every engine, as the live loop idles between frames at
30 fps (on a shared VM host every engine then runs slower; back to back hides that).
"""
import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

MODEL_NAMES = ["v1_025", "v1_100", "v2_100"]
REAL_NAMES = ["v1_real", "v2_real", "v1_025_real"]  # included by default when <models-dir>/<name>/ exists
DEFAULT_GP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "gesturepad")
WARMUP = 5


def pct(xs, q):
    return float(np.percentile(np.asarray(xs, dtype=np.float64), q))


class LiteRT:
    name = "litert"

    def __init__(self, d, threads):
        from ai_edge_litert.interpreter import Interpreter
        self.it = Interpreter(model_path=os.path.join(d, "model.tflite"), num_threads=threads)
        self.it.allocate_tensors()
        self.inp = self.it.get_input_details()[0]["index"]
        self.out = self.it.get_output_details()[0]["index"]

    def __call__(self, x):
        self.it.set_tensor(self.inp, x)
        self.it.invoke()
        return self.it.get_tensor(self.out)


class OnnxRuntime:
    name = "onnxruntime"

    def __init__(self, d, threads):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.sess = ort.InferenceSession(os.path.join(d, "model.onnx"), so,
                                         providers=["CPUExecutionProvider"])
        self.inp = self.sess.get_inputs()[0].name

    def __call__(self, x):
        return self.sess.run(None, {self.inp: x})[0]


def time_block(fn, x, runs, idle_ms=0.0):
    for _ in range(WARMUP):
        fn(x)
    ts = []
    for _ in range(runs):
        if idle_ms > 0:
            time.sleep(idle_ms / 1e3)
        t0 = time.perf_counter()
        fn(x)
        ts.append((time.perf_counter() - t0) * 1e3)
    return {"median_ms": statistics.median(ts), "p10_ms": pct(ts, 10), "p90_ms": pct(ts, 90)}


def gp_block(gp, d, layer, threads, runs, timeout, env=None, args=(), idle_ms=0.0):
    cmd = [gp, "bench", "embed", "--model", os.path.join(d, "tfjs"), "--layer", layer,
           "--input", os.path.join(d, "input.npy"),
           "--threads", str(threads), "--runs", str(runs), "--json", *args]
    if idle_ms > 0:
        cmd += ["--idle-ms", str(idle_ms)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=None if env is None else {**os.environ, **env})
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"{' '.join(cmd)}: {e}"
    if p.returncode != 0:
        return None, f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()[-500:]}"
    try:
        r = json.loads(p.stdout)
        for k in ("median_ms", "p10_ms", "p90_ms"):
            float(r[k])
        return r, None
    except (ValueError, KeyError, TypeError) as e:
        return None, f"{' '.join(cmd)}: bad JSON ({e}): {p.stdout.strip()[:300]}"


def versions():
    v = {"python": platform.python_version(), "machine": platform.machine()}
    try:
        import onnxruntime
        v["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    try:
        from importlib.metadata import version
        v["ai-edge-litert"] = version("ai-edge-litert")
    except Exception:
        pass
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    v["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    v["nproc"] = os.cpu_count()
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-dir", default="/tmp/gp-bench/models")
    ap.add_argument("--models", default=None,
                    help="comma-separated model directory names (default: "
                    + ",".join(MODEL_NAMES) + ", plus " + ",".join(REAL_NAMES)
                    + " where present)")
    ap.add_argument("--runs", type=int, default=30, help="timed runs per block")
    ap.add_argument("--rounds", type=int, default=5, help="shuffled rounds")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--idle-ms", type=float, default=0.0,
                    help="sleep this long before every timed run, every engine (the live loop's gap "
                         "between frames: 33 at 30 fps); 0 = back to back")
    ap.add_argument("--gesturepad", action="append", metavar="[LABEL=]PATH",
                    help="gesturepad binary (repeatable with labels; default " + DEFAULT_GP + ")")
    ap.add_argument("--gp-arg", action="append", default=[], metavar="LABEL:ARG",
                    help="extra `bench embed` argument for one --gesturepad label (repeatable)")
    ap.add_argument("--gp-env", action="append", default=[], metavar="LABEL:VAR=VALUE",
                    help="environment variable for one labelled gesturepad (repeatable)")
    ap.add_argument("--no-gesturepad", action="store_true", help="time the peers only")
    ap.add_argument("--gp-timeout", type=float, default=600, help="seconds per gesturepad run")
    ap.add_argument("--seed", type=int, default=0, help="seed of the block shuffle")
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON here")
    a = ap.parse_args()

    if a.models is None:
        names = MODEL_NAMES + [n for n in REAL_NAMES
                               if os.path.isfile(os.path.join(a.models_dir, n, "info.json"))]
    else:
        names = [n for n in a.models.split(",") if n]
    models = {}
    for n in names:
        d = os.path.join(a.models_dir, n)
        try:
            with open(os.path.join(d, "info.json")) as f:
                info = json.load(f)
        except OSError:
            sys.exit(f"{d}/info.json missing: run bench/make_models.py --out {a.models_dir}")
        x = np.load(os.path.join(d, "input.npy"))
        models[n] = {"dir": d, "layer": info["layer"], "x": x,
                     "expected": np.load(os.path.join(d, "expected.npy"))}

    engines = {}  # (model, engine) -> callable
    for n, m in models.items():
        for cls in (LiteRT, OnnxRuntime):
            e = cls(m["dir"], a.threads)
            diff = float(np.max(np.abs(e(m["x"]) - m["expected"])))
            print(f"{n:11s} {cls.name:12s} max|out-expected| = {diff:.3g}")
            engines[(n, cls.name)] = e

    # Engine name -> (binary, extra environment, extra arguments). One unlabelled binary is the engine
    # "gesturepad".
    gps = {}
    for spec in a.gesturepad or [DEFAULT_GP]:
        label, sep, path = spec.partition("=")
        if not sep:
            label, path = "", spec
        gps["gp:" + label if label else "gesturepad"] = (path, {}, [])
    for spec in a.gp_env:
        label, sep, assignment = spec.partition(":")
        var, sep2, value = assignment.partition("=")
        if not (sep and sep2 and var) or "gp:" + label not in gps:
            sys.exit(f"--gp-env {spec}: expected LABEL:VAR=VALUE with LABEL one of the --gesturepad labels")
        gps["gp:" + label][1][var] = value
    for spec in a.gp_arg:
        label, sep, argument = spec.partition(":")
        if not (sep and argument) or "gp:" + label not in gps:
            sys.exit(f"--gp-arg {spec}: expected LABEL:ARG with LABEL one of the --gesturepad labels")
        gps["gp:" + label][2].append(argument)
    notes = []
    if a.no_gesturepad:
        gps = {}
    for eng, (path, env, args) in list(gps.items()):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            notes.append(f"NOTE: {eng}: binary not found at {path} "
                         "(build it with `make release`, or pass --gesturepad PATH); skipped")
            del gps[eng]
            continue
        # One probe run, so a broken command is reported once rather than every round.
        _, err = gp_block(path, models[names[0]]["dir"], models[names[0]]["layer"],
                          a.threads, 1, a.gp_timeout, env, args)
        if err:
            notes.append(f"NOTE: {eng}: bench failed, skipped: {err}")
            del gps[eng]
    for n in notes:
        print(n)

    blocks = list(engines.keys())
    blocks += [(n, eng) for eng in gps for n in names]
    per_round = {k: [] for k in blocks}
    gp_extra = {}
    rng = random.Random(a.seed)
    for r in range(a.rounds):
        order = blocks[:]
        rng.shuffle(order)
        for k in order:
            n, eng = k
            if eng in gps:
                res, err = gp_block(gps[eng][0], models[n]["dir"], models[n]["layer"],
                                    a.threads, a.runs, a.gp_timeout, gps[eng][1], gps[eng][2],
                                    a.idle_ms)
                if err:
                    print(f"NOTE: round {r + 1}: {err}")
                    continue
                gp_extra[k] = res
                per_round[k].append({key: float(res[key])
                                     for key in ("median_ms", "p10_ms", "p90_ms")})
            else:
                per_round[k].append(time_block(engines[k], models[n]["x"], a.runs, a.idle_ms))
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr, flush=True)

    results = []
    summary = {}
    for k in blocks:
        rs = per_round[k]
        if not rs:
            continue
        s = {"model": k[0], "engine": k[1],
             "median_ms": statistics.median(x["median_ms"] for x in rs),
             "p10_ms": statistics.median(x["p10_ms"] for x in rs),
             "p90_ms": statistics.median(x["p90_ms"] for x in rs),
             "round_medians_ms": [round(x["median_ms"], 4) for x in rs]}
        if k in gp_extra:
            s["gesturepad_json"] = gp_extra[k]
        results.append(s)
        summary[k] = s

    print()
    print(f"threads={a.threads} runs/block={a.runs} rounds={a.rounds} idle_ms={a.idle_ms}  "
          "(median of round medians; p10 = median of round p10s)")
    width = max([12] + [len(eng) for eng in gps])
    hdr = f"{'model':11s} {'engine':{width}s} {'median ms':>10s} {'p10 ms':>9s} {'gp/LiteRT':>10s} {'gp/ORT':>8s}"
    print(hdr)
    print("-" * len(hdr))
    for n in names:
        for eng in ["litert", "onnxruntime"] + list(gps):
            s = summary.get((n, eng))
            if not s:
                continue
            r1 = r2 = extra = ""
            if eng in gps:
                r1 = f"{s['median_ms'] / summary[(n, 'litert')]['median_ms']:.2f}"
                r2 = f"{s['median_ms'] / summary[(n, 'onnxruntime')]['median_ms']:.2f}"
                s["ratio_vs_litert"] = float(r1)
                s["ratio_vs_onnxruntime"] = float(r2)
                info = s.get("gesturepad_json", {})
                extra = "".join(f"  {key}={info[key]}" for key in ("gflops", "gemm", "target_cpu", "blas")
                                if key in info)
            print(f"{n:11s} {eng:{width}s} {s['median_ms']:10.3f} {s['p10_ms']:9.3f} "
                  f"{r1:>10s} {r2:>8s}{extra}".rstrip())
        for eng in gps:
            if (n, eng) not in summary:
                print(f"{n:11s} {eng:{width}s} {'n/a':>10s}")
    for n in notes:
        print(n)

    if a.json:
        out = {"meta": {"threads": a.threads, "runs": a.runs, "rounds": a.rounds, "idle_ms": a.idle_ms,
                        "models_dir": os.path.abspath(a.models_dir),
                        "gesturepad": {eng: {"path": path, "env": env} for eng, (path, env) in gps.items()},
                        "notes": notes, "versions": versions(),
                        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
               "results": results}
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
