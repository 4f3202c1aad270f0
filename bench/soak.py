#!/usr/bin/python3
"""Soak benchmark of the daemon (issue 15 item 12): does memory stay flat under load?

Starts the release daemon (dry run, no uinput) on a looped synthetic clip with its own temporary XDG
config/runtime dirs, data directory and socket; attaches N subscribers (what `gesturepad monitor` does) and
M clients that each, every K seconds, send the next of pause(+resume 1 s later) / resume / record / train /
reload, interleaved (client i starts at offset i*K/M with operation i); samples the daemon's VmRSS / VmHWM
(/proc/PID/status), open fds (/proc/PID/fd), threads, fps and the frame-to-key p95 (`status`) every few
seconds; prints a table and a verdict: the least-squares slope of RSS after warm-up, sampled between trainings (a
training's buffers grow with the stored samples, so its peak is reported, not judged), against --max-slope.

Recordings are labelled right: the clip (made by `gesturepad simulate-session` from the fetched photos)
shows one photo per label for `SEGMENT` seconds; the subscribers see the `running` state event that marks
each (re)opening of the clip, so a client records only the label on screen. Heads trained by the soak
therefore press keys and the frame-to-key latency has figures.

Speed figures are rough on a shared machine (other builds); memory figures are what this measures.

    make release
    nice /usr/bin/python3 bench/soak.py --minutes 5 --subscribers 4 --clients 4 --every 5
    # --model mobilenet_v1_0.25_224, --binary PATH, --keep (keep the temp dir + daemon log), --json FILE
Exit status: 0 flat, 3 growing (slope above --max-slope), 2 the daemon died or never became ready.
Python 3 standard library only.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LABELS = ["idle", "up", "down", "left", "right"]
PHOTOS = {"idle": "coffee.png", "up": "chelsea.png", "down": "rocket.jpg", "left": "astronaut.png",
          "right": "motorcycle_left.png"}
SEGMENT = 3.0  # seconds per label in the clip
OPERATIONS = ["record", "pause", "train", "reload", "resume"]


def request(path, command, timeout, **fields):
    """One request on a fresh connection (like the CLI); returns the reply object."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        connection.connect(path)
        connection.sendall((json.dumps(dict(v=1, cmd=command, **fields)) + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionError("closed without a reply")
            data += chunk
        return json.loads(data)


def proc_status(pid):
    """VmRSS, VmHWM (MB), threads and open fds of `pid`, or None once it has gone."""
    try:
        fields = {}
        with open(f"/proc/{pid}/status") as file:
            for line in file:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError):
        return None
    kilobytes = lambda key: int(fields[key].split()[0]) / 1024
    return {"rss": kilobytes("VmRSS"), "hwm": kilobytes("VmHWM"), "threads": int(fields["Threads"]), "fds": fds}


def slope_per_minute(points):
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    denominator = sum((t - mean_t) ** 2 for t, _ in points)
    if denominator == 0:
        return 0.0
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / denominator


class Soak:
    def __init__(self, options):
        self.options = options
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.clip_started = None  # monotonic time of the last `running … recognising <clip>` state event
        self.events = {}  # event kind → count, over all subscribers
        self.keys_down = 0
        self.training = False  # between a `training started` event and its `finished`/`failed`
        self.subscriber_ends = []  # why subscriber connections ended early
        self.results = {}  # operation → {"ok": n, code: n}
        self.durations = {}  # operation → [seconds]
        self.messages = {}  # (operation, outcome, first 40 characters of the message) → (count, message)

    # MARK: set-up

    def prepare(self):
        options = self.options
        self.directory = tempfile.mkdtemp(prefix="gp-soak-")
        os.chmod(self.directory, 0o700)
        self.runtime = os.path.join(self.directory, "run")
        os.makedirs(self.runtime, mode=0o700)
        self.socket_path = os.path.join(self.runtime, "control.sock")
        self.data = os.path.join(self.directory, "data")
        config_dir = os.path.join(self.directory, "config", "gesturepad")
        os.makedirs(config_dir)
        with open(os.path.join(config_dir, "config.toml"), "w") as file:
            file.write(f'[model]\nname = "{options.model}"\n\n[labels]\norder = {json.dumps(LABELS[1:])}\n'
                       f'idle = true\n\n[daemon]\ndry_run = true\nlog_level = "info"\n')
        self.environment = dict(os.environ, XDG_CONFIG_HOME=os.path.join(self.directory, "config"),
                                XDG_RUNTIME_DIR=self.runtime)
        for assignment in options.daemon_env:
            key, _, value = assignment.partition("=")
            self.environment[key] = value
        self.environment.pop("NOTIFY_SOCKET", None)
        self.environment.pop("WATCHDOG_USEC", None)
        # The clip: one fetched photo per label, SEGMENT seconds each, jittered like a hand-held camera.
        files = options.files
        missing = [name for name in PHOTOS.values() if not os.path.exists(os.path.join(files, name))]
        if missing:
            sys.exit(f"soak: photos {missing} missing from {files}; run `make fetch-models` (or pass --files)")
        truth = os.path.join(self.directory, "clip.truth")
        with open(truth, "w") as file:
            for index, label in enumerate(LABELS):
                file.write(f"{index * SEGMENT:g} {label}\n")
        self.clip = os.path.join(self.directory, "clip.y4m")
        arguments = [options.binary, "simulate-session", self.clip, "--truth", truth,
                     "--seconds", f"{SEGMENT * len(LABELS):g}", "--fps", "15", "--size", "320x240",
                     "--labels", ",".join(LABELS)]
        for label, name in PHOTOS.items():
            arguments += ["--photo", f"{label}={os.path.join(files, name)}"]
        subprocess.run(arguments, check=True, env=self.environment, stdout=subprocess.DEVNULL)

    def start_daemon(self):
        self.log = open(os.path.join(self.directory, "daemon.log"), "w")
        self.daemon = subprocess.Popen(
            [self.options.binary, "daemon", "--source", self.clip, "--dry-run", "--data-dir", self.data,
             "--socket", self.socket_path],
            env=self.environment, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                return False
            try:
                status = request(self.socket_path, "status", 5)
                if status.get("ok") and status["result"]["state"] == "running":
                    return True
            except (OSError, ValueError):
                pass
            time.sleep(0.25)
        return False

    # MARK: load

    def subscriber(self, index):
        """Reads events as `gesturepad monitor --json` does, for the whole run; reconnects if dropped."""
        while not self.stop.is_set():
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                    connection.settimeout(1.0)
                    connection.connect(self.socket_path)
                    connection.sendall(b'{"v":1,"cmd":"subscribe"}\n')
                    buffer = b""
                    while not self.stop.is_set():
                        try:
                            chunk = connection.recv(65536)
                        except socket.timeout:
                            continue
                        if not chunk:
                            with self.lock:
                                self.subscriber_ends.append(f"subscriber {index}: closed by the daemon")
                            break
                        buffer += chunk
                        *lines, buffer = buffer.split(b"\n")
                        for line in lines:
                            self.handle_event(index, line)
            except OSError as error:
                with self.lock:
                    self.subscriber_ends.append(f"subscriber {index}: {error}")
                time.sleep(1)

    def handle_event(self, index, line):
        try:
            event = json.loads(line)
        except ValueError:
            return
        kind = event.get("event", "reply")
        with self.lock:
            self.events[kind] = self.events.get(kind, 0) + 1
            if index == 0 and kind == "training" and event.get("phase") in ("started", "finished", "failed"):
                self.training = event.get("phase") == "started"
            if kind == "key" and event.get("action") == "down":
                self.keys_down += 1
            # Every subscriber sees the same event; the first one to report it sets the clip's start.
            if (index == 0 and kind == "state" and event.get("state") == "running"
                    and (event.get("reason") or "").startswith("recognising /")):
                self.clip_started = time.monotonic()

    def label_on_screen(self):
        """(label, seconds left in its segment) of the clip now, or None when not known."""
        with self.lock:
            started = self.clip_started
        if started is None:
            return None
        position = (time.monotonic() - started) % (SEGMENT * len(LABELS))
        return LABELS[int(position // SEGMENT)], SEGMENT - position % SEGMENT

    def note(self, operation, outcome, seconds, message=None):
        with self.lock:
            if message:
                key = (operation, outcome, message[:40])
                count, _ = self.messages.get(key, (0, message))
                self.messages[key] = (count + 1, message)
            counts = self.results.setdefault(operation, {})
            counts[outcome] = counts.get(outcome, 0) + 1
            self.durations.setdefault(operation, []).append(seconds)

    def perform(self, operation):
        options = self.options
        start = time.monotonic()
        fields, timeout = {}, 30
        if operation == "record":
            # Wait (≤ one clip) until a segment has enough left for the recording plus a margin.
            deadline = time.monotonic() + SEGMENT * len(LABELS)
            while time.monotonic() < deadline and not self.stop.is_set():
                shown = self.label_on_screen()
                if shown and shown[1] >= options.record_seconds + 0.6 and shown[1] <= SEGMENT - 0.3:
                    break
                time.sleep(0.05)
            shown = self.label_on_screen()
            fields = {"label": shown[0] if shown else "idle", "seconds": options.record_seconds}
            timeout = options.record_seconds + 60
        elif operation == "train":
            timeout = 600
        try:
            reply = request(self.socket_path, operation, timeout, **fields)
            outcome, message = ("ok", None) if reply.get("ok") else (reply.get("code", "failed"), reply.get("error"))
        except socket.timeout:
            outcome, message = "timeout", f"no reply in {timeout:g} s"
        except (OSError, ValueError) as error:
            outcome, message = type(error).__name__, str(error)
        self.note(operation, outcome, time.monotonic() - start, message)
        if operation == "pause":  # pause and resume come as a pair: a paused daemon measures nothing
            self.stop.wait(1.0)
            self.perform("resume")

    def client(self, index):
        options = self.options
        next_time = time.monotonic() + index * options.every / options.clients
        operation = index % len(OPERATIONS)
        while not self.stop.wait(max(0.0, next_time - time.monotonic())):
            self.perform(OPERATIONS[operation])
            operation = (operation + 1) % len(OPERATIONS)
            next_time = max(next_time + options.every, time.monotonic())

    # MARK: measurement

    def sample(self, began):
        with self.lock:
            training = self.training
        memory = proc_status(self.daemon.pid)
        if memory is None:
            return None
        with self.lock:
            training = training or self.training
        row = dict(memory, training=training, t=time.monotonic() - began, fps=None, f2k_p95=None, total_p95=None, samples=None,
                   head=None, state="?", subs=None)
        try:
            status = request(self.socket_path, "status", 10)["result"]
            latency = status.get("latency", {})
            row.update(fps=status.get("fps"), samples=sum(status.get("samples", {}).values()),
                       head=status.get("headVersion"), state=status.get("state"), subs=status.get("subscribers"),
                       f2k_p95=latency.get("frame_to_key", {}).get("p95Milliseconds"),
                       total_p95=latency.get("total", {}).get("p95Milliseconds"))
        except (OSError, ValueError, KeyError) as error:
            row["state"] = f"status failed: {type(error).__name__}"
        return row

    def run(self):
        options = self.options
        self.prepare()
        print(f"soak: {options.binary}, model {options.model}, {options.minutes:g} min, "
              f"{options.subscribers} subscribers, {options.clients} clients every {options.every:g} s; "
              f"temp {self.directory}", flush=True)
        if not self.start_daemon():
            print(f"soak: the daemon did not become ready (exit {self.daemon.poll()}); log:\n"
                  + open(self.log.name).read()[-3000:])
            return 2
        began = time.monotonic()
        rows = []
        first = self.sample(began)
        rows.append(first)
        threads = [threading.Thread(target=self.subscriber, args=(i,), daemon=True)
                   for i in range(options.subscribers)]
        threads += [threading.Thread(target=self.client, args=(i,), daemon=True) for i in range(options.clients)]
        for thread in threads:
            thread.start()
        header = f"{'t s':>6} {'RSS MB':>7} {'HWM MB':>7} {'fds':>4} {'thr':>4} {'fps':>5} {'f2k p95':>8} " \
                 f"{'tot p95':>8} {'samples':>7} {'head':>4} {'subs':>4} {'trn':>3} state"
        print(header, flush=True)
        self.print_row(first)
        end = began + options.minutes * 60
        died = False
        while time.monotonic() < end:
            time.sleep(min(options.sample_seconds, max(0.0, end - time.monotonic())))
            row = self.sample(began)
            if row is None:
                died = True
                break
            rows.append(row)
            self.print_row(row)
        self.stop.set()
        time.sleep(0.5)  # requests still in flight (a training, a recording) meet the SIGTERM below
        last = self.sample(began)
        if last:
            rows.append(last)
        exit_code, stop_seconds = self.stop_daemon()
        return self.verdict(rows, died, exit_code, stop_seconds)

    @staticmethod
    def print_row(row):
        number = lambda value, width, digits=1: f"{value:>{width}.{digits}f}" if value is not None else " " * (
            width - 1) + "-"
        print(f"{row['t']:>6.0f} {row['rss']:>7.1f} {row['hwm']:>7.1f} {row['fds']:>4} {row['threads']:>4} "
              f"{number(row['fps'], 5)} {number(row['f2k_p95'], 8)} {number(row['total_p95'], 8)} "
              f"{row['samples'] if row['samples'] is not None else '-':>7} "
              f"{row['head'] if row['head'] is not None else '-':>4} "
              f"{row['subs'] if row['subs'] is not None else '-':>4} {'yes' if row['training'] else '':>3} "
              f"{row['state']}", flush=True)

    def stop_daemon(self):
        if self.daemon.poll() is not None:
            return self.daemon.returncode, 0.0
        start = time.monotonic()
        self.daemon.send_signal(signal.SIGTERM)
        try:
            self.daemon.wait(30)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
            return "killed after 30 s", time.monotonic() - start
        return self.daemon.returncode, time.monotonic() - start

    def verdict(self, rows, died, exit_code, stop_seconds):
        options = self.options
        warm = [row for row in rows if row["t"] >= options.warmup_seconds]
        after_warmup = warm[0] if warm else rows[-1]
        rss_slope = slope_per_minute([(row["t"], row["rss"]) for row in warm])
        # Between trainings: a training's buffers grow with the stored samples, so its RSS is no leak sign.
        idle = [row for row in warm if not row["training"]]
        idle_slope = slope_per_minute([(row["t"], row["rss"]) for row in idle])
        idle_rss = sorted(row["rss"] for row in idle)
        fd_slope = slope_per_minute([(row["t"], row["fds"]) for row in warm])
        print("\noperations (outcome: count, median s):")
        for operation in sorted(self.results):
            durations = sorted(self.durations[operation])
            counts = ", ".join(f"{key} {value}" for key, value in sorted(self.results[operation].items()))
            print(f"  {operation:<7} {counts}; median {durations[len(durations) // 2]:.2f} s, "
                  f"max {durations[-1]:.2f} s")
        for (operation, outcome, _), (count, message) in sorted(self.messages.items()):
            print(f"  {operation} {outcome} ×{count}: {message[:150]}")
        print(f"events seen by {options.subscribers} subscribers: "
              + ", ".join(f"{key} {value}" for key, value in sorted(self.events.items()))
              + f"; key downs {self.keys_down}")
        if self.subscriber_ends:
            print(f"subscriber connections ended early: {len(self.subscriber_ends)} "
                  f"(first: {self.subscriber_ends[0]})")
        print(f"SIGTERM → exit {exit_code} in {stop_seconds:.2f} s")
        start = rows[0]
        end = rows[-1]
        summary = {
            "rss_start_mb": round(start["rss"], 1), "rss_after_warmup_mb": round(after_warmup["rss"], 1),
            "rss_end_mb": round(end["rss"], 1), "hwm_end_mb": round(end["hwm"], 1),
            "rss_slope_mb_per_min": round(rss_slope, 2), "idle_rss_slope_mb_per_min": round(idle_slope, 2),
            "idle_rss_median_mb": round(idle_rss[len(idle_rss) // 2], 1) if idle_rss else None, "fd_slope_per_min": round(fd_slope, 2),
            "fds_start": start["fds"], "fds_end": end["fds"], "samples_end": end["samples"],
            "warmup_seconds": options.warmup_seconds, "minutes": options.minutes, "exit": exit_code,
        }
        print(f"RSS start {start['rss']:.1f} MB, after warm-up ({after_warmup['t']:.0f} s) "
              f"{after_warmup['rss']:.1f} MB, end {end['rss']:.1f} MB, high-water {end['hwm']:.1f} MB; "
              f"slope after warm-up {rss_slope:+.2f} MB/min; fds {start['fds']} → {end['fds']} ({fd_slope:+.2f}/min)")
        if idle_rss:
            print(f"between trainings ({len(idle)} of {len(warm)} samples after warm-up): RSS {idle_rss[0]:.1f}–"
                  f"{idle_rss[-1]:.1f} MB, median {idle_rss[len(idle_rss) // 2]:.1f} MB, slope {idle_slope:+.2f} MB/min "
                  f"(limit {options.max_slope:g})")
        if died:
            verdict, code = "DAEMON DIED", 2
        elif idle_slope > options.max_slope or fd_slope > 1:
            verdict, code = "GROWING", 3
        else:
            verdict, code = "FLAT", 0
        print(f"verdict: {verdict}")
        if options.json:
            with open(options.json, "w") as file:
                json.dump(dict(summary, verdict=verdict, rows=rows, operations=self.results, events=self.events),
                          file, indent=1)
        if options.keep:
            print(f"kept {self.directory} (daemon.log, data/)")
        else:
            shutil.rmtree(self.directory, ignore_errors=True)
        return code


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--subscribers", type=int, default=4, help="event subscribers (monitor)")
    parser.add_argument("--clients", type=int, default=4, help="clients sending commands")
    parser.add_argument("--every", type=float, default=5, help="seconds between one client's commands")
    parser.add_argument("--model", default="mobilenet_v1_1.0_224")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "gesturepad"))
    parser.add_argument("--files", default=os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gesturepad", "files"),
        help="the fetched photos (make fetch-models)")
    parser.add_argument("--record-seconds", type=float, default=1.0)
    parser.add_argument("--sample-seconds", type=float, default=5, help="seconds between samples")
    parser.add_argument("--warmup-seconds", type=float, default=60)
    parser.add_argument("--max-slope", type=float, default=1.0, help="MB/min of RSS growth still called flat")
    parser.add_argument("--daemon-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for the daemon, e.g. GLIBC_TUNABLES=glibc.malloc.arena_max=2")
    parser.add_argument("--json", help="write the rows and the summary here")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (daemon log, data)")
    options = parser.parse_args()
    if not os.access(options.binary, os.X_OK):
        sys.exit(f"soak: no binary at {options.binary}; run `make release` (or pass --binary)")
    if options.clients < 1 or options.subscribers < 0 or options.every <= 0 or options.minutes <= 0:
        sys.exit("soak: --clients ≥ 1, --subscribers ≥ 0, --every > 0 and --minutes > 0")
    sys.exit(Soak(options).run())


if __name__ == "__main__":
    main()
