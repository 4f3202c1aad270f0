"""Scenario 7 — the camera shared through v4l2loopback while gestures run (issue 19), on the real kernel.

vivid is the real camera (static 75 % colour bars, on-screen text off, so every frame it sends is the same bytes);
the share is the v4l2loopback device `gesturepad share setup --apply` configures (video_nr=10, card_label
"gesturepad camera", exclusive_caps=1 — what Chrome needs; a reader sees capture once the daemon has written).
While `gesturepad daemon --share /dev/video10` recognises vivid's bars as "up" and holds KEY_UP, an independent
reader (v4l2-ctl --stream-mmap) captures from the share: its rate is compared with the rate the daemon writes at
(the camera's) and with the recognition rate, and its frames' checksums with frames read from vivid directly.
Unplug: vivid's disconnect control while this script holds a handle on vivid (vivid stays disconnected until
its last handle closes), so the camera is really gone until the handle is closed: the share keeps its format and
serves the still "camera unavailable" frame; closing the handle replugs it and both the share and the keys
resume. Nothing asserts tight timing (TCG): every wait is for a state, bounded.

Called from scenarios.py with that module (`env`) for its helpers: gesturepad, Daemon, write_config, check, note,
WATCHER, capture_capable, v4l2_ctl, ARTEFACTS, RUN, wait_held, daemon_checks.
"""
import hashlib
import os
import re
import subprocess
import time

from evdev import ecodes

from gpvm import V4L2_CAP_VIDEO_OUTPUT, device_capabilities, video_device, wait_until

WIDTH, HEIGHT, FPS = 320, 180, 15
FRAME_BYTES = WIDTH * HEIGHT * 2  # YUYV
SHARE_NUMBER = 10
SHARE = f"/dev/video{SHARE_NUMBER}"


def frame_checksums(path):
    """MD5 of every whole YUYV frame in a raw stream file."""
    with open(path, "rb") as file:
        data = file.read()
    return [hashlib.md5(data[i:i + FRAME_BYTES]).hexdigest() for i in range(0, len(data) - FRAME_BYTES + 1, FRAME_BYTES)]


def read_share(env, name, count, timeout=120):
    """An independent reader: v4l2-ctl streams `count` frames from the share (mmap); returns (checksums, fps, detail).
    fps is v4l2-ctl's own figure (it prints the rate once a second) or, when it printed none, frames / wall time."""
    path = f"{env.ARTEFACTS}/{name}.raw"
    start = time.monotonic()
    result = env.v4l2_ctl("-d", SHARE, "--verbose", "--stream-mmap", "--stream-count", str(count), "--stream-to",
                          path, timeout=timeout)
    elapsed = time.monotonic() - start
    sums = frame_checksums(path) if os.path.exists(path) else []
    # v4l2-ctl's own "N fps" counts from its first dequeue, so the frames v4l2loopback had buffered inflate it. The rate
    # here comes from the buffers' sequence numbers and timestamps (--verbose prints "seq: N … ts: S"): the frames
    # after the first 5, over the time between them — the rate at which the reader got consecutive frames.
    buffers = [(int(seq), float(ts)) for seq, ts in
               re.findall(r"seq:\s*(\d+).*?ts:\s*([\d.]+)", result.stdout + result.stderr)]
    steady = buffers[5:]
    if len(steady) >= 2 and steady[-1][1] > steady[0][1]:
        fps = (len(steady) - 1) / (steady[-1][1] - steady[0][1])
        gaps = sum(1 for a, b in zip(steady, steady[1:]) if b[0] != a[0] + 1)
        rate_text = f"{fps:.1f} fps from buffer timestamps, {gaps} sequence gaps"
    else:
        fps = len(sums) / elapsed if elapsed > 0 else 0.0
        rate_text = f"{fps:.1f} fps frames / wall time (no buffer lines parsed)"
    detail = f"exit {result.returncode}, {len(sums)} frames in {elapsed:.1f} s, {rate_text}"
    if result.returncode != 0:
        detail += f": {(result.stderr.strip().splitlines() or [''])[-1][:120]}"
    return sums, fps, detail


def thread_cpu_seconds(pid):
    """CPU seconds (user + system) per kernel thread name of a process."""
    seconds = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as file:
                name = file.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[name] = seconds.get(name, 0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def share_status(daemon):
    return ((daemon.status() or {}).get("share")) or {}


def run(env, vivid):
    check, note = env.check, env.note

    # 1. The set-up command writes the module options; a reload of v4l2loopback creates the share device.
    code, out, err = env.gesturepad("share", "setup", "--video-number", str(SHARE_NUMBER))
    printed = "options v4l2loopback devices=1 video_nr=10 card_label=\"gesturepad camera\" exclusive_caps=1" in out
    code_apply, out_apply, err_apply = env.gesturepad("share", "setup", "--apply", "--video-number", str(SHARE_NUMBER))
    try:
        written = open("/etc/modprobe.d/gesturepad-share.conf").read()
        loads = open("/etc/modules-load.d/gesturepad-share.conf").read()
    except OSError as error:
        written, loads = "", str(error)
    check("share/setup-prints-and-applies",
          code == 0 and printed and code_apply == 0 and 'card_label="gesturepad camera" exclusive_caps=1' in written
          and "\nv4l2loopback\n" in loads,
          f"print exit {code} (line present {printed}), --apply exit {code_apply}: "
          f"{out_apply.strip()[-160:] or err_apply.strip()[-160:]}")
    for attempt in range(50):
        if subprocess.run(["modprobe", "-r", "v4l2loopback"], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    subprocess.run(["modprobe", "v4l2loopback"], check=True)  # options from /etc/modprobe.d only
    share = wait_until(lambda: video_device("gesturepad camera", required=False), 10)
    check("share/module-options-give-the-device", share == SHARE, f"'gesturepad camera' is {share}")

    code, listing, err = env.gesturepad("devices")
    share_block = next((block for block in listing.split("\n\n") if block.startswith(SHARE)), "")
    vivid_block = next((block for block in listing.split("\n\n") if block.startswith(vivid)), "")
    check("share/devices-marks-the-loopback", "v4l2loopback" in share_block and "v4l2loopback" not in vivid_block,
          (share_block.replace("\n", " | ")[:200] or f"{SHARE} not listed: {listing[:200]}"))

    # 2. The camera: vivid's bars without on-screen text — every frame the same bytes — and a head trained here.
    env.v4l2_ctl("-d", vivid, "-c", "test_pattern=0", "-c", "osd_text_mode=2")
    data = "/run/gesturepad-test/share-data"
    os.makedirs(data, exist_ok=True)
    common = ["--model", env.RUN["model"], "--labels", "up,idle", "--data-dir", data]
    bars, noise = f"{env.ARTEFACTS}/share-bars.y4m", f"{env.ARTEFACTS}/share-noise.y4m"
    env.gesturepad("record-video", bars, "--source", vivid, "--size", f"{WIDTH}x{HEIGHT}", "--fps", "5", "--seconds", "3")
    env.v4l2_ctl("-d", vivid, "-c", "test_pattern=17")  # noise
    env.gesturepad("record-video", noise, "--source", vivid, "--size", f"{WIDTH}x{HEIGHT}", "--fps", "5", "--seconds", "3")
    env.v4l2_ctl("-d", vivid, "-c", "test_pattern=0")
    env.gesturepad("samples", "add", "up", "--source", bars, "--rate", "5", *common)
    env.gesturepad("samples", "add", "idle", "--source", noise, "--rate", "5", *common)
    code, out, err = env.gesturepad("train", *common, "--epochs", "30", "--learning-rate", "0.001")
    check("share/vivid-head-trained", code == 0, (out.strip().splitlines() or [err.strip()[-200:]])[-1])
    reference_path = f"{env.ARTEFACTS}/share-vivid-reference.raw"
    env.v4l2_ctl("-d", vivid, f"--set-fmt-video=width={WIDTH},height={HEIGHT},pixelformat=YUYV",
                 "--stream-mmap", "--stream-count", "5", "--stream-to", reference_path)
    reference = set(frame_checksums(reference_path))
    note(f"vivid reference: {len(reference)} distinct checksum(s) in 5 frames: {sorted(reference)}")

    config = env.write_config(f"{env.ARTEFACTS}/share.toml", camera__device=vivid, camera__width=WIDTH,
                              camera__height=HEIGHT, camera__fps=FPS, labels__order=["up"], daemon__data_directory=data)

    # 3. Refusals: the share must be a loopback, and not the camera.
    def refused(name, share_argument, camera=None):
        arguments = ["daemon", "--config", config, "--socket", f"/run/gesturepad-test/{name}.sock",
                     "--share", share_argument]
        if camera:
            arguments += ["--source", camera]
        code, out, err = env.gesturepad(*arguments, timeout=300, check_exit=False)
        return code, (err.strip().splitlines() or [out.strip()])[-1][:220]

    code, said = refused("share-not-loopback", vivid, camera=env.RUN["up_clip"])
    check("share/refuses-a-camera-as-share", code != 0 and "is not a v4l2loopback device" in said and vivid in said,
          f"exit {code}: {said}")
    code, said = refused("share-not-a-node", "/dev/null", camera=env.RUN["up_clip"])
    check("share/refuses-a-non-video-node", code != 0 and "not video4linux" in said, f"exit {code}: {said}")
    code, said = refused("share-is-camera", SHARE, camera=SHARE)
    check("share/refuses-the-camera-itself", code != 0 and "is the camera" in said, f"exit {code}: {said}")

    # 4. The daemon shares while it recognises and presses keys.
    # (--share on the command line; the [camera] share keys are covered by the unit tests)
    daemon = _start_sharing_daemon(env, config)
    held = env.wait_held(ecodes.KEY_UP, 300, daemon)
    capturing = wait_until(lambda: env.capture_capable(SHARE), 60, interval=0.2)
    check("share/daemon-presses-keys-and-feeds-share", held and capturing,
          f"KEY_UP held {bool(held)}, {SHARE} offers capture {bool(capturing)}")
    cpu_before = thread_cpu_seconds(daemon.process.pid)
    full_before = daemon.status() or {}
    time_before = time.monotonic()
    sums, reader_fps, detail = read_share(env, "share-live", 90)
    full = daemon.status() or {}
    window = time.monotonic() - time_before
    cpu_after = thread_cpu_seconds(daemon.process.pid)
    status_before, status_after = full_before.get("share") or {}, full.get("share") or {}
    # Frames the daemon wrote between the two status snapshots, over the daemon's own uptime between them.
    uptime = full.get("uptimeSeconds", 0) - full_before.get("uptimeSeconds", 0)
    written_fps = ((status_after.get("framesWritten", 0) - status_before.get("framesWritten", 0)) / uptime
                   if uptime > 0 else 0.0)
    recognition_fps = full.get("fps", 0.0)
    still_held = env.WATCHER.held(ecodes.KEY_UP, present=True)
    matching = [s for s in sums if s in reference]
    check("share/reader-gets-camera-frames-unmodified",
          len(sums) >= 60 and len(matching) == len(sums) and len(reference) == 1,
          f"{len(matching)}/{len(sums)} frames equal vivid's own ({detail})")
    check("share/reader-rate-is-the-camera-rate",
          0.75 * written_fps <= reader_fps <= 1.25 * FPS and written_fps > 0 and reader_fps > 3 * recognition_fps,
          f"reader {reader_fps:.1f} fps, daemon writes {written_fps:.1f} fps (share status: "
          f"{status_after.get('fps') or 0:.1f} fps), camera asked {FPS} fps, recognition {recognition_fps:.1f} fps; "
          f"KEY_UP still held {still_held}")
    threads = {name: cpu_after.get(name, 0) - cpu_before.get(name, 0) for name in cpu_after}
    note("daemon CPU per thread over the live read "
         f"({window:.1f} s): " + ", ".join(f"{name} {seconds / window * 100:.1f} %" for name, seconds in
                                          sorted(threads.items(), key=lambda item: -item[1]) if seconds > 0))
    code, text, _ = env.gesturepad("status", "--socket", daemon.socket, check_exit=False)
    check("share/status-shows-sharing",
          status_after.get("device") == SHARE and status_after.get("state") == "live"
          and "readers" not in status_after and "share" in text and "not reported" in text,
          f"{status_after}; text: {' | '.join(line for line in text.splitlines() if line.startswith('share'))}")

    # 5. Unplug: vivid disconnected while this script holds a handle (it stays gone until the handle closes).
    holder = os.open(vivid, os.O_RDWR | os.O_NONBLOCK)
    lines_before = len(daemon.text().splitlines())
    env.v4l2_ctl("-d", vivid, "-c", "disconnect=1")
    lost = daemon.wait_logged_state("camera-lost", 60, after=lines_before)
    still_state = wait_until(lambda: share_status(daemon).get("state") == "camera unavailable (still frame)", 60,
                             interval=0.5)
    format_during = env.v4l2_ctl("-d", SHARE, "--get-fmt-video").stdout
    still_sums, still_fps, still_detail = read_share(env, "share-unplugged", 45)
    keys_up = not env.WATCHER.held(ecodes.KEY_UP)
    check("share/unplug-keeps-share-with-still-frame",
          lost is not None and still_state and len(still_sums) >= 10 and len(set(still_sums)) == 1
          and not (set(still_sums) & reference) and f"{WIDTH}/{HEIGHT}" in format_during.replace(" ", "")
          and "YUYV" in format_during and keys_up,
          f"camera-lost logged {lost is not None}, share state still {bool(still_state)}, {len(still_sums)} still "
          f"frames ({len(set(still_sums))} distinct, {still_fps:.1f} fps; {still_detail}), format kept "
          f"{'YUYV' in format_during}, keys released {keys_up}")

    # 6. Replug: closing the last handle brings vivid back; the daemon reopens it and both resume.
    lines_before = len(daemon.text().splitlines())
    os.close(holder)
    running = daemon.wait_logged_state("running", 120, after=lines_before)
    again = env.wait_held(ecodes.KEY_UP, 300, daemon)
    live = wait_until(lambda: share_status(daemon).get("state") == "live", 60, interval=0.5)
    back_sums, back_fps, back_detail = read_share(env, "share-replugged", 45)
    check("share/replug-resumes-share-and-keys",
          running is not None and again and live and back_sums and all(s in reference for s in back_sums[-5:]),
          f"running {running is not None}, KEY_UP again {bool(again)}, share live {bool(live)}, last frames equal "
          f"vivid's {sum(s in reference for s in back_sums[-5:])}/5 ({back_fps:.1f} fps; {back_detail})")

    status = daemon.status() or {}
    code, seconds = daemon.stop()
    offers_output = wait_until(lambda: _offers_output(SHARE), 10)
    check("share/daemon-stops-and-share-accepts-a-new-writer",
          code == 0 and not env.WATCHER.held(ecodes.KEY_UP) and offers_output,
          f"exit {code} in {seconds:.1f} s; {SHARE} offers output again {bool(offers_output)} (VIDIOC_STREAMON made "
          f"the daemon v4l2loopback's writer, so its close frees the device for the next start)")
    env.daemon_checks("share", daemon.text(), status)

    # Leave the module as the other scenarios expect it.
    for path in ("/etc/modprobe.d/gesturepad-share.conf", "/etc/modules-load.d/gesturepad-share.conf"):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    env.reset_loopback()


def _start_sharing_daemon(env, config):
    return env.Daemon("daemon-share", config, extra=("--share", SHARE))


def _offers_output(device):
    return bool(device_capabilities(device) & V4L2_CAP_VIDEO_OUTPUT)
