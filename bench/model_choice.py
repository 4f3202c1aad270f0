#!/usr/bin/env python3
"""Which embedding model should be the default? The recognition checks, run per installed model.

For each model and each scenario this drives the gesturepad CLI only (what a user would run):

1. training takes: `simulate-session` writes a short clip per label and take (camera jitter —
   shifts, zoom, exposure, noise — seeded per take), `samples add LABEL --source take.y4m` stores
   its frames as one take;
2. `eval --folds 5 --json`: k-fold accuracy with folds that keep each take whole;
3. `train`, then `eval --replay session.y4m --truth truth.txt --json`: a separate session clip
   (other seeds, a random timeline of all labels) replayed through the live pipeline and the
   decision filter, scored against its truth (frame accuracy after the settle time, missed
   gestures, false presses).

Scenarios (photos from `tools/fetch-models.py`, ~/.cache/gesturepad/files):
- `photos`: a different photo per label (the stand-in the unit tests use; easy).
- `poses`: one scene (astronaut.png) with the same object (a crop of chelsea.png, the "hand")
  pasted top / bottom / left / right of centre, and the bare scene as idle — the same person and
  background, only the hand's position differs, as with real gestures. Harder.
- `poses-small`: as `poses` with the object at half the size, closer to the centre.
- `poses-hard`: a small object (a tenth of the picture) moved by only 8 % of the picture, and idle is
  the object at the centre: the labels differ by a small shift of a small thing.

Needs Pillow for the `poses` pictures (`python3 -m venv /opt/gp-choice && /opt/gp-choice/bin/pip
install pillow==11.0.0 numpy`) and a release build:

    /opt/gp-choice/bin/python bench/model_choice.py [--gesturepad .build/release/gesturepad]
        [--models mobilenet_v1_0.25_224,mobilenet_v1_1.0_224,mobilenet_v2_1.0_224] [--takes 4]
        [--json results.json]

Prints one table (k-fold accuracy, replay settled-frame accuracy, missed gestures, false presses,
training time). Config and data live in a temporary directory; installed models are read from
$XDG_DATA_HOME/gesturepad/models as usual.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.expanduser(os.environ.get("GESTUREPAD_TEST_FILES", "~/.cache/gesturepad/files"))
LABELS = ["up", "down", "left", "right", "idle"]
MODELS = ["mobilenet_v1_0.25_224", "mobilenet_v1_1.0_224", "mobilenet_v2_1.0_224"]


def run(cmd, env):
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}\n{result.stderr}")
    return result.stdout


def pose_pictures(directory, scale, offset_fraction, idle_hand=False):
    """The scene with the 'hand' at four positions offset from the centre by `offset_fraction` of the picture,
    and as idle the bare scene (or, with `idle_hand`, the hand at the centre); returns label → path."""
    scene = Image.open(os.path.join(FILES, "astronaut.png")).convert("RGB").resize((480, 480))
    cat = Image.open(os.path.join(FILES, "chelsea.png")).convert("RGB")
    side = int(480 * scale)
    width, height = cat.size
    square = min(width, height)
    hand = cat.crop(((width - square) // 2, (height - square) // 2,
                     (width + square) // 2, (height + square) // 2)).resize((side, side))
    offset = int(480 * offset_fraction)
    centre = (480 - side) // 2
    positions = {"up": (centre, centre - offset), "down": (centre, centre + offset),
                 "left": (centre - offset, centre), "right": (centre + offset, centre)}
    if idle_hand:
        positions["idle"] = (centre, centre)
    paths = {}
    for label in LABELS:
        picture = scene.copy()
        if label in positions:
            picture.paste(hand, positions[label])
        path = os.path.join(directory, f"{label}.png")
        picture.save(path)
        paths[label] = path
    return paths


def photo_pictures():
    names = {"up": "astronaut.png", "down": "chelsea.png", "left": "coffee.png",
             "right": "motorcycle_left.png", "idle": "rocket.jpg"}
    return {label: os.path.join(FILES, name) for label, name in names.items()}


def session_truth(seconds, seed):
    """A random timeline: each label held 1.5–3.5 s, idle between most gestures."""
    rng = random.Random(seed)
    lines, t, previous = [], 0.0, None
    while t < seconds - 1:
        if previous != "idle" and rng.random() < 0.6:
            label = "idle"
        else:
            label = rng.choice([l for l in LABELS if l != previous])
        lines.append(f"{t:.2f} {label}")
        previous = label
        t += rng.uniform(1.5, 3.5)
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gesturepad", default=os.path.join(HERE, "..", ".build", "release", "gesturepad"))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--scenarios", default="photos,poses,poses-small,poses-hard")
    parser.add_argument("--takes", type=int, default=4, help="takes per label (2 s each, 5 samples/s)")
    parser.add_argument("--session-seconds", type=float, default=90)
    parser.add_argument("--layer", help="cut layer for every model (default: each model's own)")
    parser.add_argument("--seed", type=int, default=0, help="added to every camera-jitter and timeline seed")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--keep", help="keep the work directory here")
    args = parser.parse_args()

    gp = os.path.abspath(args.gesturepad)
    work = args.keep or tempfile.mkdtemp(prefix="gp-model-choice-")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "config"))
    os.makedirs(env["XDG_CONFIG_HOME"], exist_ok=True)
    labels = ",".join(LABELS)
    results = []
    for scenario in args.scenarios.split(","):
        directory = os.path.join(work, scenario)
        os.makedirs(directory, exist_ok=True)
        if scenario == "photos":
            pictures = photo_pictures()
        elif scenario == "poses":
            pictures = pose_pictures(directory, 0.34, 0.30)
        elif scenario == "poses-small":
            pictures = pose_pictures(directory, 0.17, 0.22)
        elif scenario == "poses-hard":
            pictures = pose_pictures(directory, 0.10, 0.08, idle_hand=True)
        else:
            sys.exit(f"unknown scenario {scenario}")
        photo_flags = [f"--photo={label}={path}" for label, path in pictures.items()]
        takes = []
        for index, label in enumerate(LABELS):
            for take in range(args.takes):
                clip = os.path.join(directory, f"take-{label}-{take}.y4m")
                truth = os.path.join(directory, f"take-{label}-{take}.txt")
                with open(truth, "w") as f:
                    f.write(f"0 {label}\n")
                run([gp, "simulate-session", clip, "--truth", truth, "--labels", labels, *photo_flags,
                     "--seconds", "2", "--fps", "15", "--seed", str(1000 + 100 * index + take + 10000 * args.seed)], env)
                takes.append((label, clip))
        session = os.path.join(directory, "session.y4m")
        session_truth_path = os.path.join(directory, "session.txt")
        with open(session_truth_path, "w") as f:
            f.write(session_truth(args.session_seconds, seed=7 + args.seed))
        run([gp, "simulate-session", session, "--truth", session_truth_path, "--labels", labels, *photo_flags,
             "--seconds", str(args.session_seconds), "--fps", "15", "--seed", str(99 + args.seed)], env)
        for model in args.models.split(","):
            data = os.path.join(directory, "data-" + model + ("@" + args.layer if args.layer else ""))
            common = ["--model", model, "--labels", labels, "--data-dir", data]
            if args.layer:
                common += ["--layer", args.layer]
            for label, clip in takes:
                run([gp, "samples", "add", label, "--source", clip, "--rate", "5", *common], env)
            folds = json.loads(run([gp, "eval", "--folds", "5", "--json", *common], env))
            started = time.monotonic()
            run([gp, "train", *common], env)
            train_seconds = time.monotonic() - started
            replay = json.loads(run([gp, "eval", "--replay", session, "--truth", session_truth_path,
                                     "--json", "--no-progress", *common], env))
            report = replay["report"]
            row = {
                "scenario": scenario, "seed": args.seed, "model": model, "layer": args.layer,
                "samples": sum(folds["samplesPerLabel"].values()),
                "kfold": folds["accuracy"],
                "replay_settled": report.get("settledFrameAccuracy"),
                "replay_frames": report.get("frameAccuracy"),
                "gestures": report["gestures"], "missed": report["missedGestures"],
                "false_presses": report["falsePresses"],
                "trigger_p50_ms": report.get("timeToTriggerP50Milliseconds"),
                "train_command_seconds": round(train_seconds, 2),
            }
            results.append(row)
            print(json.dumps(row), flush=True)

    print()
    print("| scenario | model | k-fold | replay (settled frames) | missed / gestures | false presses |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['scenario']} | `{r['model']}` | {100 * r['kfold']:.1f} % | "
              f"{100 * (r['replay_settled'] or 0):.1f} % | {r['missed']} / {r['gestures']} | {r['false_presses']} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(f"\nwork directory: {work}")


if __name__ == "__main__":
    main()
