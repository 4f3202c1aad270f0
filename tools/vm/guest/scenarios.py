#!/usr/bin/python3
"""The system-test scenarios, run inside the VM (tools/vm/guest-init.sh runs this as gp.script) against
the real kernel: vivid (the kernel's virtual test camera), v4l2loopback fed by ffmpeg, real /dev/uinput
and evdev. Argument: the run description /gp-out/run.json written by tools/vm/system-test.sh (binary,
workspace, clips, truth). Each check prints one line `gp-result: PASS|FAIL <scenario>/<check> — detail`;
artefacts (daemon logs, key logs, recordings) go to /gp-out/artefacts. Nothing here asserts tight
timing: qemu's TCG runs the embedder at a few frames per second at best.

Uses /usr/bin/python3 with Debian's python3-evdev (EVIOCGBIT via capabilities(), EVIOCSCLOCKID set to
CLOCK_MONOTONIC so event times compare with time.monotonic() and V4L2 buffer timestamps).
"""
import errno
import fcntl
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time

import evdev
from evdev import ecodes

RUN = json.load(open(sys.argv[1]))
BINARY = RUN["binary"]
ARTEFACTS = RUN["artefacts"]
os.makedirs(ARTEFACTS, exist_ok=True)
DEVICE_NAME = "gesturepad virtual keyboard"
EVIOCSCLOCKID = 0x400445A0  # _IOW('E', 0xa0, int)
KEY_LABELS = {ecodes.KEY_UP: "up", ecodes.KEY_DOWN: "down", ecodes.KEY_LEFT: "left", ecodes.KEY_RIGHT: "right"}
ENVIRONMENT = dict(os.environ, XDG_DATA_HOME=RUN["xdg_data_home"], XDG_RUNTIME_DIR="/run/gesturepad-test",
                   XDG_CONFIG_HOME="/run/gesturepad-test/config")
os.makedirs("/run/gesturepad-test", mode=0o700, exist_ok=True)
# The host-trained workspace, copied off the 9p share: SQLite's WAL mode needs shared-memory mmap of its -shm
# file, which the 9p mount refuses ("disk I/O error"), so the sample store must live on a local filesystem.
DATA = "/run/gesturepad-test/data"
subprocess.run(["cp", "-a", RUN["data"], DATA], check=True)

passed = failed = 0


def check(name, ok, detail=""):
    """One PASS/FAIL line."""
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(f"gp-result: {'PASS' if ok else 'FAIL'} {name}" + (f" — {detail}" if detail else ""), flush=True)
    return ok


def note(text):
    print(f"gp-note: {text}", flush=True)


def gesturepad(*arguments, timeout=300, check_exit=True):
    """Runs the gesturepad CLI; returns (exit status, stdout, stderr)."""
    process = subprocess.run([BINARY, *arguments], capture_output=True, text=True, timeout=timeout, env=ENVIRONMENT)
    if check_exit and process.returncode != 0:
        note(f"gesturepad {' '.join(arguments)} exited {process.returncode}: {process.stderr.strip()[-800:]}")
    return process.returncode, process.stdout, process.stderr


def video_device(card):
    """The /dev/videoN whose sysfs name starts with `card` (vivid's is vivid-000-vid-cap)."""
    names = {}
    for name in sorted(os.listdir("/sys/class/video4linux")):
        with open(f"/sys/class/video4linux/{name}/name") as file:
            names[name] = file.read().strip()
            if names[name].startswith(card):
                return f"/dev/{name}"
    raise RuntimeError(f"no video device named {card}: {names}")


def v4l2_ctl(*arguments, timeout=60):
    return subprocess.run(["v4l2-ctl", *arguments], capture_output=True, text=True, timeout=timeout)


def wait_until(condition, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


# MARK: evdev

class KeyboardWatcher(threading.Thread):
    """Finds the gesturepad virtual keyboard by name under /dev/input (each time it appears), records
    its key capabilities (EVIOCGBIT) and every key event with its kernel timestamp (CLOCK_MONOTONIC)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.lock = threading.Lock()
        self.devices = []  # one dict per appearance: path, capabilities, appeared, vanished
        self.events = []  # (monotonic seconds, code, value, appearance index)
        self.stop_requested = False

    def run(self):
        seen = set()
        while not self.stop_requested:
            for path in evdev.list_devices():
                if path in seen:
                    continue
                try:
                    device = evdev.InputDevice(path)
                except OSError:
                    continue
                if device.name != DEVICE_NAME:
                    seen.add(path)
                    device.close()
                    continue
                seen.add(path)
                self.follow(device)
                seen.discard(path)
            time.sleep(0.02)

    def follow(self, device):
        fcntl.ioctl(device.fd, EVIOCSCLOCKID, struct.pack("i", time.CLOCK_MONOTONIC))
        keys = sorted(device.capabilities().get(ecodes.EV_KEY, []))
        with self.lock:
            index = len(self.devices)
            self.devices.append({"path": device.path, "keys": keys, "appeared": time.monotonic(), "vanished": None})
        try:
            for event in device.read_loop():
                if event.type == ecodes.EV_KEY:
                    with self.lock:
                        self.events.append((event.sec + event.usec / 1e6, event.code, event.value, index))
        except OSError as error:
            if error.errno != errno.ENODEV:
                note(f"evdev read of {device.path}: {error}")
        with self.lock:
            self.devices[index]["vanished"] = time.monotonic()
        try:
            device.close()
        except OSError:
            pass

    def snapshot(self):
        with self.lock:
            return list(self.events), [dict(d) for d in self.devices]

    def held(self, code):
        """Whether `code` is down according to the recorded events."""
        events, _ = self.snapshot()
        state = 0
        for _, event_code, value, _ in events:
            if event_code == code:
                state = value
        return state != 0


WATCHER = KeyboardWatcher()
WATCHER.start()


# MARK: daemon

class Daemon:
    """`gesturepad daemon` (not dry-run) with a config file, its stderr in a file."""

    def __init__(self, name, config, source=None):
        self.name = name
        self.socket = f"/run/gesturepad-test/{name}.sock"
        self.log_path = f"{ARTEFACTS}/{name}.log"
        arguments = [BINARY, "daemon", "--config", config, "--socket", self.socket]
        if source:
            arguments += ["--source", source]
        self.log = open(self.log_path, "w")
        self.started = time.monotonic()
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=subprocess.STDOUT, env=ENVIRONMENT)

    def status(self):
        code, out, _ = gesturepad("status", "--json", "--socket", self.socket, check_exit=False, timeout=60)
        if code != 0:
            return None
        try:
            reply = json.loads(out)  # {"v":1,"ok":true,"cmd":"status","result":{…}}
        except json.JSONDecodeError:
            return None
        return reply.get("result") if reply.get("ok") else None

    def wait_state(self, states, timeout):
        """Waits until status reports one of `states`; returns the status (or None)."""
        result = {}

        def reached():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}: {self.text().strip()[-400:]}")
            status = self.status()
            if status and status.get("state") in states:
                result["status"] = status
                return True
            return False

        wait_until(reached, timeout, interval=0.3)
        return result.get("status")

    def text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as file:
            return file.read()

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends `sig`; returns (exit status, seconds to exit)."""
        start = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
            note(f"{self.name} did not exit within {timeout} s of {signal.Signals(sig).name}; killed")
        self.log.close()
        return code, time.monotonic() - start


def write_config(path, **values):
    """A daemon config: the run's workspace plus `values` ([section] key = value, given as section_key=...)."""
    sections = {}
    for key, value in {**RUN["config"], **values}.items():
        section, name = key.split("__", 1)
        sections.setdefault(section, []).append(f"{name} = {json.dumps(value)}")
    with open(path, "w") as file:
        for section, lines in sections.items():
            file.write(f"[{section}]\n" + "\n".join(lines) + "\n\n")
    return path


class Feeder:
    """ffmpeg writing a clip into v4l2loopback in real time (-re), optionally looped."""

    def __init__(self, clip, device, loop=False, name="ffmpeg"):
        arguments = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re"]
        if loop:
            arguments += ["-stream_loop", "-1"]
        arguments += ["-i", clip, "-f", "v4l2", "-pix_fmt", "yuyv422", device]
        self.log = open(f"{ARTEFACTS}/{name}.log", "w")
        self.started = time.monotonic()
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def capture_capable(device):
    """Whether a v4l2loopback device currently offers capture (a producer is attached: exclusive_caps)."""
    output = v4l2_ctl("-d", device, "--info").stdout
    return "Video Capture" in output.split("Device Caps", 1)[-1]


# MARK: Y4M and colour bars

def read_y4m_frame(path, index=0):
    """Frame `index` of a Y4M file as (width, height, chroma, Y, U, V planes as bytes)."""
    with open(path, "rb") as file:
        header = file.readline().decode().split()
        width = int(next(w[1:] for w in header if w.startswith("W")))
        height = int(next(w[1:] for w in header if w.startswith("H")))
        chroma = next((w[1:] for w in header if w.startswith("C")), "420jpeg")
        chroma_width, chroma_height = ((width + 1) // 2, (height + 1) // 2) if chroma.startswith("420") else (width, height)
        frame_size = width * height + 2 * chroma_width * chroma_height
        for _ in range(index + 1):
            marker = file.readline()
            if not marker.startswith(b"FRAME"):
                raise ValueError(f"{path}: no frame {index}")
            data = file.read(frame_size)
        y = data[:width * height]
        u = data[width * height:width * height + chroma_width * chroma_height]
        v = data[width * height + chroma_width * chroma_height:]
        return width, height, chroma, (y, u, v), (chroma_width, chroma_height)


VIVID_BARS = [("white", (191, 191, 191)), ("yellow", (191, 191, 0)), ("cyan", (0, 191, 191)), ("green", (0, 191, 0)),
              ("magenta", (191, 0, 191)), ("red", (191, 0, 0)), ("blue", (0, 0, 191)), ("black", (0, 0, 0))]


def bar_colours(path):
    """The colour name nearest to the centre of each of vivid's 8 vertical bars, on the row at 60 % height
    (below the OSD text), averaged over a small window; YCbCr → RGB with BT.601 full range as the file says (Y4M
    written by gesturepad is full range)."""
    width, height, chroma, (y, u, v), (chroma_width, chroma_height) = read_y4m_frame(path, index=2)
    horizontal = width // chroma_width
    vertical = height // chroma_height
    names = []
    for bar in range(8):
        totals = [0.0, 0.0, 0.0]
        count = 0
        for dy in range(-4, 5, 2):
            for dx in range(-4, 5, 2):
                x = int((bar + 0.5) * width / 8) + dx
                row = int(height * 0.6) + dy
                luma = y[row * width + x]
                cb = u[(row // vertical) * chroma_width + x // horizontal] - 128
                cr = v[(row // vertical) * chroma_width + x // horizontal] - 128
                rgb = (luma + 1.402 * cr, luma - 0.344136 * cb - 0.714136 * cr, luma + 1.772 * cb)
                totals = [t + c for t, c in zip(totals, rgb)]
                count += 1
        mean = [t / count for t in totals]
        name = min(VIVID_BARS, key=lambda bar: sum((a - b) ** 2 for a, b in zip(mean, bar[1])))[0]
        names.append(name)
    return names


# MARK: scenario 1 — cameras

def scenario_cameras(vivid, loopback):
    feeder = Feeder(RUN["idle_clip"], loopback, loop=True, name="ffmpeg-devices")
    wait_until(lambda: capture_capable(loopback), 60, interval=0.3)
    code, listing, _ = gesturepad("devices")
    with open(f"{ARTEFACTS}/devices.txt", "w") as file:
        file.write(listing)
    feeder.stop()
    check("cameras/devices-exit", code == 0, f"exit {code}")
    blocks = listing.split("\n\n")
    vivid_block = next((b for b in blocks if vivid in b and "vivid" in b), "")
    loop_block = next((b for b in blocks if loopback in b), "")
    # Every format vivid's driver lists (v4l2-ctl, straight ioctls) appears in gesturepad's listing, with sizes and rates.
    formats = [f.replace(" ", "") for f in re.findall(r"\[\d+\]: '([^']+)'", v4l2_ctl("-d", vivid, "--list-formats").stdout)]
    missing = [fourcc for fourcc in formats if fourcc not in vivid_block]
    check("cameras/devices-lists-vivid", bool(vivid_block) and formats and not missing,
          f"vivid formats {len(formats)}, missing from listing: {missing}" if vivid_block else "vivid not listed")
    sizes = ["320x180", "640x360", "640x480", "1280x720", "1920x1080"]
    shown = [s for s in sizes if s in vivid_block.replace("×", "x")]
    check("cameras/devices-vivid-sizes-rates", len(shown) == len(sizes) and re.search(r"\b30(\.0+)? ?fps|\b30\b", vivid_block),
          f"sizes shown {shown}")
    check("cameras/devices-lists-loopback", bool(loop_block) and "YUYV" in loop_block and "320" in loop_block,
          loop_block.strip().splitlines()[0] if loop_block else "gesturepad-loopback not listed (producer attached)")

    # record-video in several formats: frames must show vivid's 75 % colour bars in order.
    expected = [name for name, _ in VIVID_BARS]
    for pixel_format, fourcc in [("yuyv", "YUYV"), ("rgb24", "RGB3"), ("yuv420", "YU12")]:
        output = f"{ARTEFACTS}/vivid-{pixel_format}.y4m"
        code, out, err = gesturepad("record-video", output, "--source", vivid, "--size", "640x480", "--fps", "30",
                                    "--seconds", "0.2", "--format", pixel_format)
        negotiated = next((line for line in out.splitlines() if line.startswith("camera:")), "")
        if code != 0 or not os.path.exists(output):
            check(f"cameras/record-{pixel_format}", False, f"exit {code}: {err.strip()[-300:]}")
            continue
        colours = bar_colours(output)
        check(f"cameras/record-{pixel_format}", colours == expected and fourcc in negotiated and "converted" not in negotiated,
              f"{negotiated}; bars {colours}")

    # A size the camera cannot give: it picks one it has and says so.
    output = f"{ARTEFACTS}/vivid-odd-size.y4m"
    code, out, err = gesturepad("record-video", output, "--source", vivid, "--size", "1000x700", "--fps", "30",
                                "--seconds", "0.1")
    negotiated = next((line for line in out.splitlines() if line.startswith("camera:")), "")
    size = None
    if code == 0 and os.path.exists(output):
        width, height, *_ = read_y4m_frame(output, index=0)
        size = f"{width}x{height}"
    check("cameras/unsupported-size-negotiated", size in sizes and f"asked 1000×700" in negotiated
          and size.replace("x", "×") in negotiated, f"file {size}; {negotiated or err.strip()[-300:]}")


# MARK: scenario 2 — camera → keys

def key_log(events, origin, appearance=None):
    """`SECONDS down|up LABEL` lines (seconds from `origin`) for the mapped keys."""
    lines = []
    for seconds, code, value, index in events:
        if appearance is not None and index != appearance:
            continue
        if code in KEY_LABELS and value in (0, 1):
            lines.append(f"{seconds - origin:.3f} {'down' if value == 1 else 'up'} {KEY_LABELS[code]}")
    return "".join(line + "\n" for line in lines)


def percentile(values, p):
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * p // 100)))
    return ordered[int(rank) - 1]


def scenario_keys(loopback):
    config = write_config(f"{ARTEFACTS}/keys.toml", camera__device=loopback)
    events_before = len(WATCHER.snapshot()[0])
    # The daemon first: the loopback has no producer yet, so it waits for the camera (camera-lost, retrying).
    daemon = Daemon("daemon-keys", config)
    waiting = daemon.wait_state({"camera-lost", "starting", "running"}, 240)
    check("keys/daemon-up-before-camera", waiting is not None and waiting["state"] == "camera-lost",
          f"state {waiting and waiting['state']}")
    feeder = Feeder(RUN["session_clip"], loopback, name="ffmpeg-session")
    origin = feeder.started
    running = wait_until(lambda: (s := daemon.status()) and s["state"] == "running" and s, 60, interval=0.2)
    if running:
        note(f"daemon running {time.monotonic() - origin:.1f} s after ffmpeg started")
    feeder.process.wait(RUN["session_seconds"] + 120)
    ended = time.monotonic()
    feeder.stop()
    time.sleep(1.5)
    status = daemon.status() or {}
    with open(f"{ARTEFACTS}/daemon-keys-status.json", "w") as file:
        json.dump(status, file, indent=2)
    code, seconds = daemon.stop()
    events, devices = WATCHER.snapshot()
    events = events[events_before:]
    text = daemon.text()
    appearance = len(devices) - 1
    log = key_log(events, origin)
    with open(f"{ARTEFACTS}/session.keys", "w") as file:
        file.write(log)

    check("keys/device-found-by-name", devices and devices[-1]["path"].startswith("/dev/input/event"),
          devices[-1]["path"] if devices else "no input device named " + DEVICE_NAME)
    mapped = sorted(KEY_LABELS)
    check("keys/eviocgbit-only-mapped-keys", devices and devices[-1]["keys"] == mapped,
          f"advertised {[ecodes.KEY.get(k, k) for k in devices[-1]['keys']] if devices else None}")
    # Same scorer as `eval --replay`: gesturepad eval --keys.
    code_eval, out, err = gesturepad("eval", "--keys", f"{ARTEFACTS}/session.keys", "--truth", RUN["session_truth"],
                                     "--duration", str(RUN["session_seconds"]), "--json")
    report = json.loads(out) if code_eval == 0 else {}
    with open(f"{ARTEFACTS}/session-score.json", "w") as file:
        file.write(out or err)
    check("keys/follow-truth", report.get("gestures", 0) >= 4 and report.get("missedGestures") == 0
          and report.get("falsePresses") == 0,
          f"gestures {report.get('gestures')}, missed {report.get('missedGestures')}, false {report.get('falsePresses')}, "
          f"time to trigger p50 {report.get('timeToTriggerP50Milliseconds')} ms" if report else err.strip()[-300:])
    downs = {}
    unmatched = []
    for seconds_, code_, value, _ in events:
        if value == 1:
            downs[code_] = downs.get(code_, 0) + 1
        elif value == 0:
            if downs.get(code_, 0) == 0:
                unmatched.append(code_)
            else:
                downs[code_] -= 1
    still_down = [ecodes.KEY.get(c, c) for c, n in downs.items() if n]
    check("keys/every-down-has-up", not still_down and not unmatched and events,
          f"{sum(1 for e in events if e[2] == 1)} downs; still down {still_down}; ups without down {unmatched}")
    # Frame-to-key latency from kernel timestamps: the key's evdev time minus the V4L2 buffer time of the frame that
    # decided it (the daemon logs "frame captured at S s" on its key lines, CLOCK_MONOTONIC like the evdev clock).
    frame_times = [float(t) for t in re.findall(r"key down \S+ \(.*?\), frame captured at ([0-9.]+) s", text)]
    key_downs = [e[0] for e in events if e[2] == 1]
    if frame_times and len(frame_times) == len(key_downs):
        latencies = [(key - frame) * 1000 for key, frame in zip(key_downs, frame_times)]
        note(f"frame-to-key latency (evdev − V4L2 buffer timestamp): p50 {percentile(latencies, 50):.1f} ms, "
             f"p95 {percentile(latencies, 95):.1f} ms over {len(latencies)} presses")
        check("keys/latency-measured", all(0 < value < 30000 for value in latencies), f"{[round(v) for v in latencies]} ms")
    else:
        check("keys/latency-measured", False, f"{len(frame_times)} 'frame captured at' key lines in the daemon log, {len(key_downs)} evdev downs")
    check("keys/sigterm-exit-0", code == 0, f"exit {code} after {seconds:.1f} s")
    daemon_checks("keys", text, status, frames_written=RUN["session_frames"])


def daemon_checks(scenario, text, status, frames_written=None):
    """The issue's daemon findings, checked on a real kernel (they need the fixes from wt/daemonfix)."""
    dequeue_errors = text.count("error dequeuing buf")
    check(f"{scenario}/no-libv4l2-dequeue-noise", dequeue_errors == 0, f"{dequeue_errors} 'error dequeuing buf' lines")
    opened = [line for line in text.splitlines() if "camera opened" in line]
    check(f"{scenario}/negotiated-format-logged", bool(opened) and re.search(r"\d+×\d+ \S+ at", opened[0]) is not None,
          opened[0][-160:] if opened else "no 'camera opened' line with size, format and rate")
    lines = text.splitlines()
    stopping = next((i for i, line in enumerate(lines) if "state stopping" in line), None)
    after = [line for line in lines[stopping + 1:] if "state running" in line] if stopping is not None else []
    check(f"{scenario}/shutdown-log-order", stopping is not None and not after and "all keys released" in text,
          "after 'stopping': " + (after[0][-120:] if after else "no 'running'") if stopping is not None else "no 'state stopping' line")
    counters = status.get("counters", {})
    captured, processed = counters.get("framesCaptured", 0), counters.get("framesProcessed")
    dropped = counters.get("framesDropped", 0)
    consistent = processed is not None and captured >= processed and dropped == captured - processed
    plausible = frames_written is None or captured >= 0.5 * frames_written
    check(f"{scenario}/status-counters", consistent and plausible and captured > 0,
          f"captured {captured}, processed {processed}, dropped {dropped}, frames written by ffmpeg {frames_written}")


# MARK: scenario 3 — faults

def wait_held(code, timeout, daemon=None):
    def held():
        if daemon and daemon.process.poll() is not None:
            raise RuntimeError(f"{daemon.name} exited {daemon.process.returncode}: {daemon.text().strip()[-400:]}")
        return WATCHER.held(code)
    return wait_until(held, timeout, interval=0.1)


def scenario_faults(vivid, loopback):
    config = write_config(f"{ARTEFACTS}/faults.toml", camera__device=loopback)
    feeder = Feeder(RUN["up_clip"], loopback, loop=True, name="ffmpeg-hold")
    wait_until(lambda: capture_capable(loopback), 60, interval=0.3)

    # SIGTERM while KEY_UP is held: the key-up is in the evdev stream before the device goes.
    daemon = Daemon("daemon-sigterm", config)
    held = wait_held(ecodes.KEY_UP, 240, daemon)
    status = daemon.status() or {}
    code, seconds = daemon.stop(signal.SIGTERM)
    events, devices = WATCHER.snapshot()
    released = held and not WATCHER.held(ecodes.KEY_UP)
    check("faults/sigterm-while-held-releases", held and released and code == 0,
          f"held {bool(held)}, released {released}, exit {code} in {seconds:.1f} s")
    daemon_checks("faults-sigterm", daemon.text(), status)
    dropped = status.get("counters", {}).get("framesDropped", 0)
    check("faults/frames-dropped-counted", dropped > 0,
          f"{dropped} dropped of {status.get('counters', {}).get('framesCaptured')} captured (clip at "
          f"{RUN['up_fps']} fps, TCG processes fewer)")

    # kill -9 while held: the process cannot release, the kernel does — uinput's device is unregistered when its
    # file is closed at exit, and the input core sends a release for every key still down before the device goes.
    wait_until(lambda: not os.path.exists(daemon.socket), 5)
    daemon = Daemon("daemon-kill9", config)
    held = wait_held(ecodes.KEY_UP, 240, daemon)
    before = len(WATCHER.snapshot()[0])
    code, seconds = daemon.stop(signal.SIGKILL)
    gone = wait_until(lambda: WATCHER.snapshot()[1][-1]["vanished"] is not None, 10)
    events, devices = WATCHER.snapshot()
    after = [e for e in events[before:] if e[1] == ecodes.KEY_UP]
    check("faults/kill9-kernel-releases-on-teardown", held and gone and after and after[-1][2] == 0,
          f"held {bool(held)}, device removed {bool(gone)}, KEY_UP events after kill: {[(round(e[0], 3), e[2]) for e in after]}")
    feeder.stop()
    try:
        os.unlink(daemon.socket)  # kill -9 leaves the socket behind; the next daemon would say so
    except FileNotFoundError:
        pass

    scenario_unplug_and_pause(vivid)


def scenario_unplug_and_pause(vivid):
    """vivid as the camera, with a head trained here on vivid's colour bars ("up") against its noise pattern (idle):
    the 'disconnect' control is a USB unplug (every call fails with ENODEV until the last file handle closes, then
    the device is back); pause must free the camera for another reader, resume must take it back."""
    data = "/run/gesturepad-test/vivid-data"
    os.makedirs(data, exist_ok=True)
    common = ["--model", RUN["model"], "--labels", "up,idle", "--data-dir", data]
    v4l2_ctl("-d", vivid, "-c", "test_pattern=0")
    bars, noise = f"{ARTEFACTS}/vivid-bars.y4m", f"{ARTEFACTS}/vivid-noise.y4m"
    gesturepad("record-video", bars, "--source", vivid, "--size", "320x180", "--fps", "5", "--seconds", "3")
    v4l2_ctl("-d", vivid, "-c", "test_pattern=17")  # Noise
    gesturepad("record-video", noise, "--source", vivid, "--size", "320x180", "--fps", "5", "--seconds", "3")
    v4l2_ctl("-d", vivid, "-c", "test_pattern=0")
    gesturepad("samples", "add", "up", "--source", bars, "--rate", "5", *common)
    gesturepad("samples", "add", "idle", "--source", noise, "--rate", "5", *common)
    code, out, err = gesturepad("train", *common, "--epochs", "30", "--learning-rate", "0.001")
    check("faults/vivid-head-trained-in-guest", code == 0, (out.strip().splitlines() or [err.strip()[-200:]])[-1])
    config = write_config(f"{ARTEFACTS}/vivid.toml", camera__device=vivid, camera__width=320, camera__height=180,
                          camera__fps=5, labels__order=["up"], daemon__data_directory=data)
    daemon = Daemon("daemon-vivid", config)
    held = wait_held(ecodes.KEY_UP, 240, daemon)
    check("faults/vivid-bars-hold-up", held, "KEY_UP held on vivid's colour bars" if held else "no KEY_UP press")

    # Unplug: vivid's disconnect control.
    disconnect = v4l2_ctl("-d", vivid, "-c", "disconnect=1")
    lost = daemon.wait_state({"camera-lost"}, 30)
    released = wait_until(lambda: not WATCHER.held(ecodes.KEY_UP), 10)
    check("faults/unplug-camera-lost-keys-released", lost is not None and released,
          f"ctl exit {disconnect.returncode}, state {lost and lost['state']}, keys released {bool(released)}")
    # vivid is back once the daemon closed it; frames must flow again within 2 s of that (plus a status round trip).
    back = wait_until(lambda: os.path.exists(vivid) and v4l2_ctl("-d", vivid, "--info").returncode == 0, 30, interval=0.05)
    returned = time.monotonic()
    start_frames = None

    def frames_again():
        nonlocal start_frames
        status = daemon.status()
        if not status:
            return False
        processed = status["counters"].get("framesProcessed", status["counters"]["framesCaptured"])
        if start_frames is None:
            start_frames = processed
            return False
        return status["state"] == "running" and processed > start_frames

    resumed = wait_until(frames_again, 60, interval=0.2)
    delay = time.monotonic() - returned
    check("faults/replug-frames-resume", back and resumed and delay <= 2 + 3,
          f"device back {bool(back)}, frames again after {delay:.1f} s (≤ 2 s + status round trips under TCG)")

    # Pause frees the camera for another reader; resume takes it back.
    busy = v4l2_ctl("-d", vivid, "--stream-mmap", "--stream-count", "2")
    code, _, err = gesturepad("pause", "--socket", daemon.socket)
    other = v4l2_ctl("-d", vivid, "--stream-mmap", "--stream-count", "2", "--stream-to", "/dev/null")
    check("faults/pause-frees-camera", code == 0 and busy.returncode != 0 and other.returncode == 0,
          f"other reader while running: exit {busy.returncode}; after pause: exit {other.returncode} {other.stderr.strip()[-120:]}")
    code, _, err = gesturepad("resume", "--socket", daemon.socket)
    running = daemon.wait_state({"running"}, 30)
    again = wait_held(ecodes.KEY_UP, 120, daemon)
    blocked = v4l2_ctl("-d", vivid, "--stream-mmap", "--stream-count", "2")
    check("faults/resume-takes-camera-back", code == 0 and running and again and blocked.returncode != 0,
          f"state {running and running['state']}, KEY_UP again {bool(again)}, other reader exit {blocked.returncode}")
    status = daemon.status() or {}
    code, seconds = daemon.stop()
    check("faults/vivid-daemon-sigterm", code == 0 and not WATCHER.held(ecodes.KEY_UP), f"exit {code} in {seconds:.1f} s")
    daemon_checks("faults-vivid", daemon.text(), status)


def main():
    vivid = video_device("vivid")
    loopback = video_device("gesturepad-loopback")
    note(f"vivid {vivid}, loopback {loopback}, binary {BINARY}")
    scenarios = {"1": ("cameras", lambda: scenario_cameras(vivid, loopback)),
                 "2": ("camera-to-keys", lambda: scenario_keys(loopback)),
                 "3": ("faults", lambda: scenario_faults(vivid, loopback))}
    for number in RUN["scenarios"]:
        name, function = scenarios[number]
        start = time.monotonic()
        print(f"gp-scenario: {number} {name} start", flush=True)
        try:
            function()
        except Exception as error:  # a broken scenario is a failure with its reason, never a hang
            import traceback
            traceback.print_exc()
            check(f"{name}/completed", False, f"{type(error).__name__}: {error}")
        print(f"gp-scenario: {number} {name} done in {time.monotonic() - start:.0f} s", flush=True)
    print(f"gp-summary: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
