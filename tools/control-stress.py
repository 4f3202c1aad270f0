#!/usr/bin/python3
"""Stress the daemon's control socket with the real binary (issue 15, items 6 and 10). Host or VM guest;
standard library only. Each scenario starts `gesturepad daemon --dry-run` on a flat looping Y4M clip with a
socket in a fresh private directory (needs the installed MobileNet v1), prints one line per run and a
closing `N passed, N failed` line, and exits non-zero if any run failed.

  sigterm-connects  threads hammer connect+status while SIGTERM arrives; the daemon must exit 0 (not
                    SIGILL in SwiftNIO) and log "all keys released". --runs 30
  idle-clients      RLIMIT_NOFILE --nofile (1024) for the daemon, --count (1000) idle connections: `status`
                    must still answer (quickly), the daemon must not spin a core (CPU over 5 s) and must
                    refuse with {"error": ...too many clients...} rather than run out of descriptors
  quick-connects    --count (100) non-blocking connects in one burst: none may fail with EAGAIN (backlog)
  bare-cr           a request line ended by a bare "\\r" (and "\\r\\n") gets a reply

Example: tools/control-stress.py --binary .build/debug/gesturepad sigterm-connects --runs 30
"""
import argparse
import errno
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def write_clip(path, width=64, height=48, frames=30):
    """A flat grey-blue 4:2:0 clip at 15 fps."""
    with open(path, "wb") as clip:
        clip.write(f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420jpeg\n".encode())
        frame = bytes([100]) * (width * height) + bytes([160]) * (width * height // 4) + bytes([120]) * (
            width * height // 4)
        for _ in range(frames):
            clip.write(b"FRAME\n" + frame)


class Daemon:
    """`gesturepad daemon --dry-run` in a private temp directory; `ready()` waits for the socket to answer."""

    def __init__(self, binary, nofile=None):
        self.directory = tempfile.mkdtemp(prefix="gpstress.")
        self.socket_path = os.path.join(self.directory, "control.sock")
        clip = os.path.join(self.directory, "loop.y4m")
        write_clip(clip)
        environment = dict(os.environ, XDG_CONFIG_HOME=os.path.join(self.directory, "config"))
        environment.pop("NOTIFY_SOCKET", None)
        self.log_path = os.path.join(self.directory, "daemon.log")
        self.log = open(self.log_path, "wb")

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.process = subprocess.Popen(
            [binary, "daemon", "--source", clip, "--dry-run", "--data-dir", os.path.join(self.directory, "data"),
             "--socket", self.socket_path],
            env=environment, stdout=subprocess.DEVNULL, stderr=self.log, preexec_fn=limit)

    def ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if request(self.socket_path, {"cmd": "status"}, timeout=5).get("ok"):
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def stop(self, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        log = open(self.log_path, errors="replace").read()
        shutil.rmtree(self.directory, ignore_errors=True)
        return self.process.returncode, log

    def cpu_seconds(self):
        fields = open(f"/proc/{self.process.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def nio_cpu_seconds(self):
        """CPU of the threads serving the socket: SwiftNIO's (NIO-…) and Swift's pool (…default-qos); the pipeline
        thread's embedding is not counted."""
        total = 0
        for task in os.listdir(f"/proc/{self.process.pid}/task"):
            try:
                text = open(f"/proc/{self.process.pid}/task/{task}/stat").read()
            except OSError:
                continue
            name = text[text.index("(") + 1:text.rindex(")")]
            if name.startswith("NIO-") or name.endswith("default-qos"):
                fields = text.rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def open_descriptors(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))


def request(path, body, timeout=10, terminator=b"\n"):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        connection.connect(path)
        connection.sendall(json.dumps(body).encode() + terminator if isinstance(body, dict) else body)
        return json.loads(read_line(connection))


def read_line(connection):
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n")[0]


def crash_summary(log):
    """The fatal-error and crashed-thread lines of a Swift backtrace, or the log's tail."""
    lines = [line.strip() for line in log.splitlines()
             if "Fatal error" in line or "crashed" in line or "NIOAsyncWriter" in line]
    return " | ".join(lines[:4]) or "log tail: " + " | ".join(log.strip().splitlines()[-6:])


def sigterm_connects(arguments):
    passed = failed = 0
    for run in range(arguments.runs):
        daemon = Daemon(arguments.binary)
        if not daemon.ready():
            code, log = daemon.stop()
            print(f"run {run + 1}: FAIL daemon never answered (exit {code})\n{log[-2000:]}")
            failed += 1
            continue
        stop = threading.Event()
        connects = [0]

        def hammer():
            while not stop.is_set():
                try:
                    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                        connection.settimeout(2)
                        connection.connect(daemon.socket_path)
                        connects[0] += 1
                        connection.sendall(b'{"cmd":"status"}\n')
                except OSError:
                    pass

        threads = [threading.Thread(target=hammer) for _ in range(arguments.threads)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        code, log = daemon.stop()
        elapsed = time.monotonic() - started
        stop.set()
        for thread in threads:
            thread.join()
        released = "all keys released" in log
        ok = code == 0 and released
        passed += ok
        failed += not ok
        crash = f" (signal {-code}: {signal.Signals(-code).name})" if code < 0 else ""
        print(f"run {run + 1}: {'PASS' if ok else 'FAIL'} exit {code}{crash}, keys released logged: {released}, "
              f"{connects[0]} connects, stop took {elapsed:.2f} s", flush=True)
        if not ok:
            print("  " + crash_summary(log))
    return passed, failed


def idle_clients(arguments):
    daemon = Daemon(arguments.binary, nofile=arguments.nofile)
    if not daemon.ready():
        print("FAIL daemon never answered:\n" + daemon.stop()[1][-2000:])
        return 0, 1
    wanted = min(arguments.count, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 64)
    before = daemon.open_descriptors()
    connections, refusals, errors = [], 0, {}
    for _ in range(wanted):  # non-blocking connects, retried while the backlog is full (EAGAIN) for up to 2 s
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.setblocking(False)
        deadline = time.monotonic() + 2
        while True:
            try:
                connection.connect(daemon.socket_path)
                connections.append(connection)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.002)
                    continue
                errors["EAGAIN for 2 s"] = errors.get("EAGAIN for 2 s", 0) + 1
            except OSError as error:
                name = errno.errorcode.get(error.errno, str(error))
                errors[name] = errors.get(name, 0) + 1
            connection.close()
            break
    time.sleep(1)
    for connection in connections:  # a refused or evicted connection has a one-line reply waiting
        try:
            line = connection.recv(4096)
            if b"too_many_clients" in line or b"idle_closed" in line:
                refusals += 1
        except BlockingIOError:
            pass
        except OSError:
            pass
    cpu_start, nio_start = daemon.cpu_seconds(), daemon.nio_cpu_seconds()
    time.sleep(5)
    cpu, nio_cpu = daemon.cpu_seconds() - cpu_start, daemon.nio_cpu_seconds() - nio_start
    started = time.monotonic()
    try:
        status_ok = request(daemon.socket_path, {"cmd": "status"}, timeout=20).get("ok", False)
    except (OSError, ValueError) as error:
        status_ok = False
        print(f"status failed: {error}")
    status_seconds = time.monotonic() - started
    descriptors = daemon.open_descriptors()
    for connection in connections:
        connection.close()
    code, log = daemon.stop()
    checks = {
        "status answered": status_ok and status_seconds < 10,
        "no core spun (socket threads' CPU < 1 s of 5 s)": nio_cpu < 1,
        "exit 0 with keys released": code == 0 and "all keys released" in log,
    }
    print(f"{len(connections)} idle connections ({errors or 'no connect errors'}), {refusals} closed with "
          f"too_many_clients/idle_closed, daemon fds {before} → {descriptors} (limit {arguments.nofile}), CPU in 5 s: {cpu:.2f} s "
          f"(socket threads {nio_cpu:.2f} s), status {'ok' if status_ok else 'FAILED'} in {status_seconds:.3f} s, exit {code}")
    if code != 0:
        print("  " + crash_summary(log))
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'} {name}")
    return sum(checks.values()), len(checks) - sum(checks.values())


def quick_connects(arguments):
    daemon = Daemon(arguments.binary)
    if not daemon.ready():
        print("FAIL daemon never answered")
        daemon.stop()
        return 0, 1
    sockets, again, other = [], 0, 0
    for _ in range(arguments.count):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.setblocking(False)
        try:
            connection.connect(daemon.socket_path)
        except BlockingIOError:
            again += 1
        except OSError:
            other += 1
        sockets.append(connection)
    for connection in sockets:
        connection.close()
    code, _ = daemon.stop()
    print(f"{arguments.count} non-blocking connects in a burst: {again} EAGAIN, {other} other errors; exit {code}")
    ok = again == 0 and other == 0 and code == 0
    print(f"{'PASS' if ok else 'FAIL'} quick connects")
    return int(ok), int(not ok)


def bare_cr(arguments):
    daemon = Daemon(arguments.binary)
    if not daemon.ready():
        daemon.stop()
        return 0, 1
    passed = failed = 0
    for terminator in (b"\r", b"\r\n", b"\n"):
        try:
            reply = request(daemon.socket_path, {"cmd": "status"}, timeout=5, terminator=terminator)
            ok = reply.get("ok") is True
        except (OSError, ValueError) as error:
            reply, ok = str(error), False
        print(f"{'PASS' if ok else 'FAIL'} status ended by {terminator!r}: {str(reply)[:80]}")
        passed += ok
        failed += not ok
    try:
        reply = request(daemon.socket_path, b"\r", timeout=5)
        ok = reply.get("ok") is False
    except (OSError, ValueError) as error:
        reply, ok = str(error), False
    print(f"{'PASS' if ok else 'FAIL'} a lone \\r gets an error reply: {str(reply)[:100]}")
    passed += ok
    failed += not ok
    daemon.stop()
    return passed, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("scenario", choices=["sigterm-connects", "idle-clients", "quick-connects", "bare-cr"])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--count", type=int)
    parser.add_argument("--nofile", type=int, default=1024)
    arguments = parser.parse_args()
    if arguments.count is None:
        arguments.count = 1000 if arguments.scenario == "idle-clients" else 100
    scenario = {"sigterm-connects": sigterm_connects, "idle-clients": idle_clients,
                "quick-connects": quick_connects, "bare-cr": bare_cr}[arguments.scenario]
    passed, failed = scenario(arguments)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
