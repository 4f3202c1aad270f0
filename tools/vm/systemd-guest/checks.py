#!/usr/bin/python3
"""System-test scenario 4 (systemd), inside the VM booted with systemd as PID 1 (prepare.sh set it up;
the unit gp-systemd-checks.service runs this as root once multi-user.target is reached). Argument: the
run description /gp-out/systemd/run.json written by tools/vm/scenario-systemd.sh.

gesturepad is installed as the README tells a user — the udev rules, the uinput group (no seat in a
VM), `loginctl enable-linger`, `make install-user-files` run by the user (binary, unit, config) — and
driven with `runuser -u USER -- systemctl --user …`:
  hardening   a copy of the unit with ExecStart= replaced by probe.py: each sandbox line refuses what
              it should (things an ordinary user may do outside it); the daemon's needs stay reachable;
              systemd-run probes show what a user unit silently does not enforce
  start       READY within the start timeout; `systemctl --user status` shows the STATUS= line
  reach       camera (frames), /dev/uinput (the keyboard by name under /dev/input, a key held), data
              (model + head), control socket (`gesturepad status`) — from inside the sandbox
  reload      `systemctl --user reload`: logged, keys released first, same process, still running
  watchdog    the pipeline thread stopped by ptrace (hang-thread.py): the watchdog kills the service
              and systemd restarts it; then the whole process stopped (SIGSTOP): the same
  stop        `systemctl --user stop` while a key is held: key-up in the evdev stream, clean exit
Each check prints `gp-result: PASS|FAIL systemd/<check> — detail`; then `gp-summary: N passed, M failed`.
The journal goes to /gp-out/systemd/journal.txt. Timeouts are generous (TCG runs ~1 frame/s).
"""
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time

from evdev import ecodes

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest"))
import gpvm  # noqa: E402  (tools/vm/guest/gpvm.py: what every scenario shares)
from gpvm import DEVICE_NAME, KeyboardWatcher, Results  # noqa: E402

RUN = json.load(open(sys.argv[1]))
HERE = os.path.dirname(os.path.abspath(__file__))
# probe.py runs inside the unit's sandbox, whose PrivateTmp= hides the host's /tmp (where a CI clone of the
# repository may live): it is copied to a read-only place every sandbox sees.
PROBE = "/usr/local/lib/gesturepad-system-test/probe.py"
REPOSITORY = RUN["repository"]
OUT = RUN["out"]
USER = RUN["user"]
ACCOUNT = pwd.getpwnam(USER)
UID, HOME = ACCOUNT.pw_uid, ACCOUNT.pw_dir
RUNTIME = f"/run/user/{UID}"
UNIT = "gesturepad.service"
STARTED = time.monotonic()


CONSOLE = open("/dev/console", "w")


def report(line):
    """To the journal (stdout) and, unprefixed, to the console the host reads."""
    print(line, flush=True)
    CONSOLE.write(line + "\n")
    CONSOLE.flush()


RESULTS = Results(prefix="systemd/", write=report, started=STARTED)
check, note = RESULTS.check, RESULTS.note


def wait_until(condition, timeout, interval=0.5):
    return gpvm.wait_until(condition, timeout, interval)


def video_device(card):
    return gpvm.video_device(card, required=False)


def Feeder(clip, device):
    """ffmpeg writing a looping clip into v4l2loopback in real time."""
    return gpvm.Feeder(clip, device, f"{OUT}/ffmpeg.log", loop=True)


def run(arguments, timeout=300, **options):
    """Runs a command as root; returns the CompletedProcess (stdout+stderr as text)."""
    try:
        return subprocess.run(arguments, capture_output=True, text=True, timeout=timeout, **options)
    except subprocess.TimeoutExpired as error:
        return subprocess.CompletedProcess(arguments, 124, error.stdout or "", f"timeout after {timeout} s")


def as_user(arguments, timeout=300):
    """Runs a command as the test user with the environment of a login (XDG_RUNTIME_DIR, the user bus).
    setpriv rather than `runuser -u`: the same user, groups and environment for systemctl --user, without a
    PAM session per call (1-3 s each under TCG)."""
    return run(["setpriv", f"--reuid={UID}", f"--regid={ACCOUNT.pw_gid}", "--init-groups", "--reset-env", "--",
                "env", f"XDG_RUNTIME_DIR={RUNTIME}", f"DBUS_SESSION_BUS_ADDRESS=unix:path={RUNTIME}/bus",
                f"PATH={HOME}/.local/bin:/usr/bin:/bin", *arguments], timeout=timeout, cwd=HOME)


def systemctl(*arguments, timeout=300):
    return as_user(["systemctl", "--user", *arguments], timeout=timeout)


def unit_properties(*names):
    output = systemctl("show", UNIT, "-p", ",".join(names)).stdout
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def journal(unit=UNIT, since=None):
    """The unit's messages (the daemon's output and the user manager's lines about it), monotonic stamps."""
    # Explicit matches: `--user-unit` would also match _UID= of the caller (root).
    arguments = ["journalctl", "--no-pager", "-o", "short-monotonic", f"_SYSTEMD_USER_UNIT={unit}", "+", f"USER_UNIT={unit}"]
    if since is not None:
        arguments += ["--since", since]
    return run(arguments, timeout=120).stdout


def daemon_status():
    """`gesturepad status --json` over the control socket, as the user; the result object or None."""
    result = as_user([f"{HOME}/.local/bin/gesturepad", "status", "--json"], timeout=90)
    if result.returncode != 0:
        return None
    try:
        reply = json.loads(result.stdout)
    except json.JSONDecodeError:
        return None
    return reply.get("result", reply)


# MARK: evdev

# MARK: steps

def boot_facts():
    reached = run(["systemctl", "show", "-p", "ActiveEnterTimestampMonotonic", "--value", "multi-user.target"]).stdout.strip()
    failed_units = run(["systemctl", "--failed", "--plain", "--no-legend"]).stdout.strip()
    note(f"multi-user.target reached {int(reached or 0) / 1e6:.1f} s after the kernel started; failed system units: "
         + (failed_units.replace("\n", "; ") or "none"))


def install_as_the_readme_says(camera):
    """The README's steps: the udev rules (uaccess; the uinput group for a machine without a seat), linger,
    `make install-user-files` as the user, with the user's config and data (as `make models` + training left it).
    prepare.sh already made the group, added the user and enabled linger before boot (what `groupadd`, `usermod`
    and an earlier `loginctl enable-linger` leave behind), so that the user manager starts during boot, with the
    group, instead of taking 20-40 s of TCG time here; `loginctl enable-linger` runs again below (idempotent)."""
    rules = "/etc/udev/rules.d"
    run(["install", "-m644", f"{REPOSITORY}/systemd/70-gesturepad-uinput.rules", rules])
    run(["install", "-m644", f"{REPOSITORY}/systemd/71-gesturepad-uinput-group.rules", rules])
    steps = [run(["modprobe", "uinput"]), run(["udevadm", "control", "--reload"]),
             run(["udevadm", "trigger", "--name-match=uinput"]), run(["udevadm", "settle", "--timeout=60"])]
    stat = os.stat("/dev/uinput")
    group = run(["stat", "-c", "%G", "/dev/uinput"]).stdout.strip()
    tags = run(["udevadm", "info", "--query=property", "--name=/dev/uinput"]).stdout
    check("install/udev-rule", all(step.returncode == 0 for step in steps) and group == "uinput"
          and stat.st_mode & 0o777 == 0o660 and "uaccess" in tags,
          f"/dev/uinput {oct(stat.st_mode & 0o777)} root:{group}, "
          f"{'uaccess tag set' if 'uaccess' in tags else 'no uaccess tag'} (no seat here: the group grants it)")

    # The user's config (their own edit of Config/gesturepad.toml) and data (`make models`, samples, a head).
    config_directory = f"{HOME}/.config/gesturepad"
    data_directory = f"{HOME}/.local/share/gesturepad"
    os.makedirs(config_directory, exist_ok=True)
    with open(f"{config_directory}/config.toml", "w") as file:
        file.write(RUN["config"].replace("@CAMERA@", camera))
    shutil.copytree(f"{OUT}/data", data_directory, dirs_exist_ok=True)
    run(["chown", "-R", f"{USER}:{USER}", f"{HOME}/.config", f"{HOME}/.local"])

    linger = run(["loginctl", "enable-linger", USER])
    manager = wait_until(lambda: run(["systemctl", "is-active", f"user@{UID}.service"]).stdout.strip() == "active"
                         and os.path.exists(f"{RUNTIME}/systemd/private"), timeout=240, interval=1)
    lingering = run(["loginctl", "show-user", USER, "-p", "Linger", "--value"]).stdout.strip()
    groups = run(["sh", "-c", f"grep -E '^Groups:' /proc/$(systemctl show -p MainPID --value user@{UID}.service)/status"]).stdout
    check("install/linger", linger.returncode == 0 and lingering == "yes" and bool(manager),
          f"Linger={lingering}, user@{UID}.service {'active' if manager else 'not active'} at "
          f"{time.monotonic() - STARTED:.0f} s; manager {' '.join(groups.split())} (video, uinput, own)")
    install = as_user(["make", "--no-print-directory", "-C", REPOSITORY, "install-user-files",
                       f"GESTUREPAD_INSTALL_BINARY={RUN['binary']}"], timeout=120)
    note("make install-user-files: " + (install.stdout + install.stderr).strip().replace("\n", " | "))
    installed = [f"{HOME}/.local/bin/gesturepad", f"{HOME}/.config/systemd/user/{UNIT}", f"{config_directory}/config.toml"]
    listed = systemctl("list-unit-files", UNIT, "--no-legend").stdout.strip()
    check("install/make-install-user-files", install.returncode == 0 and all(os.path.exists(p) for p in installed)
          and UNIT in listed, f"exit {install.returncode}; unit known to the user manager: {listed or 'no'}")


def hardening(camera):
    """The unit's sandbox, line by line, with probe.py as ExecStart= of an exact copy of the unit."""
    unit_text = open(f"{HOME}/.config/systemd/user/{UNIT}").read()
    os.makedirs(os.path.dirname(PROBE), exist_ok=True)
    shutil.copyfile(f"{HERE}/probe.py", PROBE)
    os.chmod(PROBE, 0o755)
    probe_output = f"{HOME}/.local/share/gesturepad/probe.json"
    lines = []
    for line in unit_text.splitlines():
        key = line.split("=", 1)[0]
        if key in ("Type", "NotifyAccess", "ExecReload", "WatchdogSec", "Restart", "RestartSec", "WantedBy"):
            continue
        if key == "ExecStart":
            line = f"ExecStart=/usr/bin/python3 {PROBE} full {probe_output} {camera}"
        lines.append(line)
    lines.insert(lines.index("[Service]") + 1, "Type=oneshot")
    with open(f"{HOME}/.config/systemd/user/gesturepad-probe.service", "w") as file:
        file.write("\n".join(lines) + "\n")
    with open("/tmp/gp-probe-outside", "w") as file:  # PrivateTmp: must stay invisible inside
        file.write("outside\n")
    for directory in ["/run/gp-probe", "/var/lib/gp-probe"]:  # world-writable: only ProtectSystem= can refuse
        os.makedirs(directory, exist_ok=True)
        os.chmod(directory, 0o1777)
    systemctl("daemon-reload")
    # The user manager's debug log says which sandbox steps it skipped or could not apply (and why).
    systemctl("log-level", "debug")
    started = systemctl("start", "gesturepad-probe.service", timeout=180)
    systemctl("log-level", "info")
    skipped = [line.split(": ", 1)[-1] for line in journal("gesturepad-probe.service").splitlines()
               if re.search(r"remount|ignoring|not supported|Failed to", line)]
    note("user manager while setting up the probe's sandbox: " + (" | ".join(skipped) or "nothing skipped"))
    if started.returncode != 0 or not os.path.exists(probe_output):
        check("hardening/probe-unit", False, f"exit {started.returncode}: {started.stderr.strip()}\n"
              + journal("gesturepad-probe.service")[-3000:])
        return
    report = json.load(open(probe_output))
    for name, result in report["checks"].items():
        check(f"hardening/{name}", result["ok"], result["detail"])
    for line in report.get("information", []):
        note(line)
    manager_pid = run(["systemctl", "show", "-p", "MainPID", "--value", f"user@{UID}.service"]).stdout.strip()
    differ = []
    for kind, inode in report["namespaces"].items():
        outside = os.readlink(f"/proc/{manager_pid}/ns/{kind}")
        if outside != inode:
            differ.append(kind)
    check("hardening/namespaces", {"user", "mnt", "net", "uts"} <= set(differ),
          f"own namespaces (vs the user manager): {', '.join(differ)} — PrivateUsers, the file-system options, "
          "PrivateNetwork, ProtectHostname")
    os.unlink(f"{HOME}/.config/systemd/user/gesturepad-probe.service")
    systemctl("daemon-reload")

    # What a user unit does not enforce (why the unit carries PrivateUsers=yes and no DevicePolicy=): small
    # oneshot units (like `systemd-run --user -p …`, without waiting for the user bus), started together.
    probe = f"/usr/bin/python3 {PROBE}"
    facts = {
        "device": (["DevicePolicy=closed", "DeviceAllow=/dev/null rw"], "open /dev/uinput"),
        "home": (["ProtectHome=read-only"], f"write {HOME}/.gp-fact-plain"),
        "home-userns": (["ProtectHome=read-only", "PrivateUsers=yes"], f"write {HOME}/.gp-fact-userns"),
    }
    for name, (properties, command) in facts.items():
        with open(f"{HOME}/.config/systemd/user/gp-fact-{name}.service", "w") as file:
            file.write("[Service]\nType=oneshot\n" + "".join(p + "\n" for p in properties) + f"ExecStart={probe} {command}\n")
    systemctl("daemon-reload")
    systemctl("start", *[f"gp-fact-{name}.service" for name in facts], timeout=180)

    def fact(name):
        result = as_user(["systemctl", "--user", "show", f"gp-fact-{name}.service", "-p", "ExecMainStatus", "--value"]).stdout.strip()
        lines = [line.split(": ", 1)[-1] for line in journal(f"gp-fact-{name}.service").splitlines()
                 if re.search(r"(open|write) /", line)]
        return result == "0", (lines[-1] if lines else "no output")
    opened, detail = fact("device")
    check("fact/DevicePolicy-not-enforced-in-user-units", opened, f"DevicePolicy=closed DeviceAllow=/dev/null, yet {detail}")
    (plain, plain_detail), (sandboxed, sandboxed_detail) = fact("home"), fact("home-userns")
    check("fact/ProtectHome-needs-PrivateUsers", plain and not sandboxed,
          f"without PrivateUsers: {plain_detail}; with: {sandboxed_detail}")
    for name in facts:
        os.unlink(f"{HOME}/.config/systemd/user/gp-fact-{name}.service")
    systemctl("daemon-reload")
    security = as_user(["systemd-analyze", "security", "--offline=true", "--user", UNIT, "--no-pager"], timeout=120)
    with open(f"{OUT}/security.txt", "w") as file:
        file.write(security.stdout + security.stderr)
    overall = [line for line in security.stdout.splitlines() if "Overall exposure level" in line]
    note("systemd-analyze --user security: " + (overall[0].strip() if overall else security.stderr.strip()[-300:]))


def start_and_reach(watcher):
    began = time.monotonic()
    started = systemctl("start", UNIT, timeout=200)
    elapsed = time.monotonic() - began
    properties = unit_properties("ActiveState", "SubState", "StatusText", "MainPID", "TimeoutStartUSec", "NRestarts")
    check("start/ready", started.returncode == 0 and properties.get("ActiveState") == "active"
          and properties.get("SubState") == "running",
          f"`systemctl --user start` returned after {elapsed:.1f} s (start timeout {properties.get('TimeoutStartUSec')}), "
          f"{properties.get('ActiveState')}/{properties.get('SubState')} {started.stderr.strip()}")
    if started.returncode != 0:
        note(journal()[-4000:])
        return False

    def status_line():
        text = systemctl("status", UNIT, "--no-pager", "--lines=0").stdout
        match = re.search(r"^\s*Status: \"(.*)\"$", text, re.MULTILINE)
        return match.group(1) if match and "fps" in match.group(1) else None
    line = wait_until(status_line, timeout=60, interval=2)
    check("start/status-line", bool(line), f"systemctl --user status: Status: \"{line}\"")

    status = wait_until(lambda: (lambda s: s if s and s.get("state") == "running"
                                 and (s.get("counters") or {}).get("predictions", 0) > 0 else None)(daemon_status()),
                        timeout=180, interval=2)
    check("reach/socket-camera-data", bool(status),
          f"gesturepad status over {RUNTIME}/gesturepad/control.sock: state {status.get('state')}, "
          f"source {status.get('source')}, model {status.get('model')}, head v{status.get('headVersion')}, "
          f"fps {status.get('fps', 0):.2f}, counters {status.get('counters')}" if status else "no running status with predictions")
    held = wait_until(lambda: watcher.held(ecodes.KEY_UP, present=True), timeout=180, interval=0.5)
    _, appearances = watcher.snapshot()
    keys = [ecodes.KEY[code] for code in appearances[-1]["keys"]] if appearances else []
    check("reach/uinput-key-held", bool(held),
          f"'{DEVICE_NAME}' at {appearances[-1]['path'] if appearances else '—'} (keys {keys}): "
          + ("KEY_UP down while the clip holds 'up'" if held else "KEY_UP never went down"))
    return True


def reload_check(watcher):
    before = unit_properties("MainPID")["MainPID"]
    count = journal().count("configuration reloaded")
    events_before = len(watcher.snapshot()[0])
    reloaded = systemctl("reload", UNIT, timeout=120)
    logged = wait_until(lambda: journal().count("configuration reloaded") > count, timeout=60, interval=1)
    after = unit_properties("MainPID", "ActiveState", "SubState")
    events, _ = watcher.snapshot()
    released = any(code == ecodes.KEY_UP and value == 0 for _, code, value, _ in events[events_before:])
    check("reload", reloaded.returncode == 0 and bool(logged) and after["MainPID"] == before
          and after["ActiveState"] == "active" and released,
          f"exit {reloaded.returncode}, 'configuration reloaded' logged: {bool(logged)}, same PID {before}: "
          f"{after['MainPID'] == before}, {after['ActiveState']}/{after['SubState']}, KEY_UP released first: {released}")


def watchdog_check(name, hang):
    """Hangs the service with `hang(pid)`; expects the watchdog to kill it and systemd to restart it."""
    before = unit_properties("MainPID", "NRestarts")
    timeouts_before = journal().count("Watchdog timeout")
    began = time.monotonic()
    helper = hang(int(before["MainPID"]))

    def restarted():
        now = unit_properties("MainPID", "NRestarts", "ActiveState", "SubState")
        return now if (now["NRestarts"] != before["NRestarts"] and now["ActiveState"] == "active"
                       and now["SubState"] == "running") else None
    after = wait_until(restarted, timeout=240, interval=1)
    elapsed = time.monotonic() - began
    if helper:
        try:
            helper.wait(30)
        except subprocess.TimeoutExpired:
            helper.kill()
        note(f"{name}: hang-thread.py: {helper.stdout.read().strip()} {helper.stderr.read().strip()}")
    text = journal()
    fired = text.count("Watchdog timeout") > timeouts_before
    check(f"watchdog/{name}", bool(after) and fired,
          f"PID {before['MainPID']} → {after['MainPID'] if after else '?'}, restarts {before['NRestarts']} → "
          f"{after['NRestarts'] if after else '?'}, 'Watchdog timeout' logged: {fired}, ready again after {elapsed:.0f} s")
    return bool(after)


def stop_check(watcher):
    held = wait_until(lambda: watcher.held(ecodes.KEY_UP, present=True), timeout=180, interval=0.5)
    _, appearances = watcher.snapshot()
    index = len(appearances) - 1
    if not held:
        check("stop/releases-keys", False, "KEY_UP was never held after the restarts; nothing to release")
        return
    began = time.monotonic()
    stopped = systemctl("stop", UNIT, timeout=120)
    elapsed = time.monotonic() - began
    wait_until(lambda: watcher.snapshot()[1][index]["vanished"] is not None, timeout=30, interval=0.2)
    events, appearances = watcher.snapshot()
    mine = [(value) for _, code, value, event_index in events if event_index == index and code == ecodes.KEY_UP]
    properties = unit_properties("ActiveState", "Result", "ExecMainStatus")
    text = journal()
    check("stop/releases-keys", stopped.returncode == 0 and mine and mine[-1] == 0
          and properties["ActiveState"] == "inactive" and properties["Result"] == "success",
          f"KEY_UP events on the device: {mine} (last must be 0 = up, sent before the device went away), "
          f"stop took {elapsed:.1f} s, {properties['ActiveState']}, result {properties['Result']}, "
          f"exit {properties['ExecMainStatus']}, 'all keys released' logged: {'all keys released' in text}")


def main():
    print("gp-scenario: 4 systemd", flush=True)
    boot_facts()
    for module in ["uinput", "evdev", "v4l2loopback"]:
        if not os.path.exists(f"/sys/module/{module}"):
            note(f"module {module} not loaded by systemd-modules-load: {run(['modprobe', module]).stderr.strip()}")
    camera = video_device(RUN["camera_card"])
    check("boot/camera", camera is not None, f"v4l2loopback '{RUN['camera_card']}' at {camera}")
    if camera is None:
        return
    feeder = Feeder(RUN["clip"], camera)
    watcher = KeyboardWatcher(note)
    watcher.start()
    install_as_the_readme_says(camera)
    hardening(camera)
    if start_and_reach(watcher):
        reload_check(watcher)
        # The pipeline thread alone stops; the watchdog task and the socket carry on.
        if watchdog_check("pipeline-thread-hung", lambda pid: subprocess.Popen(
                ["/usr/bin/python3", f"{HERE}/hang-thread.py", str(pid), "gp-pipeline", "200"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)):
            # The whole process stops: no pings at all.
            watchdog_check("process-stopped", lambda pid: os.kill(pid, signal.SIGSTOP))
        stop_check(watcher)
    feeder.stop()


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # a broken step is a failure, never a silent end
        import traceback
        traceback.print_exc()
        check("script", False, f"{type(error).__name__}: {error}")
    finally:
        with open(f"{OUT}/journal.txt", "w") as file:
            file.write(run(["journalctl", "--no-pager", "-o", "short-monotonic", "-b"], timeout=120).stdout)
        report(f"gp-summary: {RESULTS.passed} passed, {RESULTS.failed} failed ({time.monotonic() - STARTED:.0f} s in the guest)")
