"""What every system-test scenario inside the VM shares: PASS/FAIL reporting, waiting, finding a video device
by its sysfs name, following the gesturepad virtual keyboard through evdev, and feeding a clip into
v4l2loopback with ffmpeg. Used by tools/vm/guest/scenarios.py (scenarios 1–3, 5) and
tools/vm/systemd-guest/checks.py (scenario 4); stdlib + Debian's python3-evdev only.

Nothing here asserts tight timing: qemu's TCG runs the embedder at a few frames per second at best.
"""
import errno
import fcntl
import os
import signal
import struct
import subprocess
import threading
import time

import evdev
from evdev import ecodes

DEVICE_NAME = "gesturepad virtual keyboard"
EVIOCSCLOCKID = 0x400445A0  # _IOW('E', 0xa0, int)
KEY_LABELS = {ecodes.KEY_UP: "up", ecodes.KEY_DOWN: "down", ecodes.KEY_LEFT: "left", ecodes.KEY_RIGHT: "right"}


class Results:
    """Counts checks and prints one line per check, `gp-result: PASS|FAIL <prefix><name> — detail`, through
    `write` (print by default; scenario 4 also copies each line to the console the host reads)."""

    def __init__(self, prefix="", write=None, started=None):
        self.prefix = prefix
        self.write = write or (lambda line: print(line, flush=True))
        self.started = started
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        self.write(f"gp-result: {'PASS' if ok else 'FAIL'} {self.prefix}{name}" + (f" — {detail}" if detail else ""))
        return ok

    def note(self, text):
        stamp = f"[{time.monotonic() - self.started:6.1f} s] " if self.started is not None else ""
        self.write(f"gp-note: {stamp}" + " | ".join(str(text).strip().splitlines()))

    def summary(self):
        self.write(f"gp-summary: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def wait_until(condition, timeout, interval=0.1):
    """Polls `condition` until it returns something true or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


VIDIOC_QUERYCAP = 0x80685600  # _IOR('V', 0, struct v4l2_capability), 104 bytes
V4L2_CAP_VIDEO_CAPTURE = 0x1
V4L2_CAP_VIDEO_OUTPUT = 0x2


def device_capabilities(device):
    """The node's V4L2 device_caps from a direct VIDIOC_QUERYCAP (cheap enough to poll every few milliseconds), or 0
    when it cannot be opened or queried."""
    try:
        descriptor = os.open(device, os.O_RDWR | os.O_NONBLOCK)
    except OSError:
        return 0
    try:
        capability = fcntl.ioctl(descriptor, VIDIOC_QUERYCAP, bytes(104))
    except OSError:
        return 0
    finally:
        os.close(descriptor)
    return struct.unpack_from("<I", capability, 88)[0]


def video_device(card, required=True):
    """The /dev/videoN whose sysfs name starts with `card` (vivid's is vivid-000-vid-cap); None or an error."""
    names = {}
    for name in sorted(os.listdir("/sys/class/video4linux")):
        with open(f"/sys/class/video4linux/{name}/name") as file:
            names[name] = file.read().strip()
            if names[name].startswith(card):
                return f"/dev/{name}"
    if required:
        raise RuntimeError(f"no video device named {card}: {names}")
    return None


class KeyboardWatcher(threading.Thread):
    """Follows every appearance of the gesturepad virtual keyboard (found by name under /dev/input), records its
    key capabilities (EVIOCGBIT) and every key event with its kernel timestamp (EVIOCSCLOCKID set to
    CLOCK_MONOTONIC, so event times compare with time.monotonic() and V4L2 buffer timestamps):
    events are (monotonic seconds, code, value, appearance index)."""

    def __init__(self, note=print):
        super().__init__(daemon=True)
        self.note = note
        self.lock = threading.Lock()
        self.appearances = []  # one dict per appearance: path, keys, appeared, vanished
        self.events = []
        self.following = set()

    def run(self):
        # Nodes that are another device, by (path, inode): event nodes are reused, so a path seen as another keyboard
        # (scenario 6's test keyboard) may be the gesturepad keyboard's later; a new node under the path has a new
        # inode and is looked at again.
        others = set()
        while True:
            try:
                paths = evdev.list_devices()
            except OSError:  # a node vanished between its listing and its stat
                time.sleep(0.05)
                continue
            for path in paths:
                try:
                    identity = (path, os.stat(path).st_ino)
                except OSError:
                    continue
                with self.lock:
                    if path in self.following or identity in others:
                        continue
                try:
                    device = evdev.InputDevice(path)
                except OSError:
                    continue
                if device.name == DEVICE_NAME:
                    with self.lock:
                        self.following.add(path)
                    threading.Thread(target=self.follow, args=(device,), daemon=True).start()
                else:
                    others.add(identity)
                    device.close()
            listed = set(paths)
            others = {identity for identity in others if identity[0] in listed}
            time.sleep(0.02)

    def follow(self, device):
        fcntl.ioctl(device.fd, EVIOCSCLOCKID, struct.pack("i", time.CLOCK_MONOTONIC))
        keys = sorted(device.capabilities().get(ecodes.EV_KEY, []))
        with self.lock:
            index = len(self.appearances)
            self.appearances.append({"path": device.path, "keys": keys, "appeared": time.monotonic(), "vanished": None})
        try:
            for event in device.read_loop():
                if event.type == ecodes.EV_KEY:
                    with self.lock:
                        self.events.append((event.sec + event.usec / 1e6, event.code, event.value, index))
        except OSError as error:
            if error.errno != errno.ENODEV:
                self.note(f"evdev read of {device.path}: {error}")
        try:
            device.close()
        except OSError:
            pass
        with self.lock:
            self.appearances[index]["vanished"] = time.monotonic()
            self.following.discard(device.path)

    def snapshot(self):
        with self.lock:
            return list(self.events), [dict(appearance) for appearance in self.appearances]

    def held(self, code, appearance=None, present=False):
        """Whether the last event for `code` on the latest (or the given) appearance says down; with `present`, the
        device must also still exist (a vanished device's keys are released by the kernel, not by us)."""
        events, appearances = self.snapshot()
        if not appearances:
            return False
        index = len(appearances) - 1 if appearance is None else appearance
        state = 0
        for _, event_code, value, event_index in events:
            if event_code == code and event_index == index:
                state = value
        return state != 0 and (not present or appearances[index]["vanished"] is None)


class Feeder:
    """ffmpeg writing a clip into v4l2loopback in real time (-re), optionally looped; its output in `log`."""

    def __init__(self, clip, device, log, loop=False):
        arguments = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re"]
        if loop:
            arguments += ["-stream_loop", "-1"]
        arguments += ["-i", clip, "-f", "v4l2", "-pix_fmt", "yuyv422", device]
        self.log = open(log, "w")
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
