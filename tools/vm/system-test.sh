#!/usr/bin/env bash
# tools/vm/system-test.sh — `make test-system`: gesturepad against a real Linux kernel in a VM.
#
#   system-test.sh [--binary PATH] [--scenarios 1,2,3,4,5,6,7] [--keep DIR] [--timeout SECONDS]
#
# 1. setup.sh (idempotent): apt packages, Debian's kernel + v4l2loopback unpacked/built into the cache.
# 2. On the host (fast): a temp XDG data home with the MobileNet v1 0.25 model imported from the
#    fetched TF.js files, a workspace with samples of five photos (up/down/left/right/idle) taken from a
#    synthetic session (`gesturepad simulate-session` + `samples add --source`) and a trained head; the
#    clips the guest feeds into v4l2loopback (a 2 fps session with its truth file, a looping "up").
# 3. Boots the VM (boot.sh) with tools/vm/guest/scenarios.py as the guest's script, then prints every
#    gp-result line, the guest log on failure, and a last line `N passed, M failed` (exit 1 on failures).
# 4. Scenario 4 (systemd) boots the VM again, with systemd as PID 1: scenario-systemd.sh, on the same workspace.
# The binary must run on the guest's CPU (qemu TCG: AVX2/FMA, no AVX-512): build it with
# GESTUREPAD_TARGET_CPU=haswell or lower (the Makefile does).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repository=$(cd "$here/../.." && pwd)
binary="" scenarios="1,2,3,4,5,6,7" keep="" timeout=1800
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary=$2; shift 2 ;;
        --scenarios) scenarios=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        *) echo "system-test.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
start=$(date +%s)
. "$here/lib.sh"
binary=$(vm_binary "$binary")
cache=$("$here/setup.sh" | tail -1)
export GESTUREPAD_VM_CACHE=$cache
out=$(vm_output_dir "$keep" gp-system)
[ -n "$keep" ] || trap 'rm -rf "$out"' EXIT
model=mobilenet_v1_0.25_224
gp() { XDG_DATA_HOME="$out/xdg" XDG_CONFIG_HOME="$out/config" "$binary" "$@"; }

echo "system-test: preparing the workspace on the host ($(basename "$binary"), model $model)"
vm_prepare_workspace "$out" "$binary" "$model"
photos=("${VM_PHOTOS[@]}")
# The session the guest plays through v4l2loopback at 2 fps: each gesture held 6 s, idle between.
vm_write_session_truth "$out/session.truth"
session_seconds=45 session_fps=2 up_fps=10
gp simulate-session "$out/session.y4m" --truth "$out/session.truth" "${photos[@]}" --seconds $session_seconds \
    --fps $session_fps --seed 21 >/dev/null
printf '0 idle\n' >"$out/idle.truth"
gp simulate-session "$out/idle.y4m" --truth "$out/idle.truth" "${photos[@]}" --seconds 2 --fps 5 --seed 41 >/dev/null
# Scenario 6's lens cover: "up" for 15 s, then the same frames made black for 6 s (a hand on the lens). The clip is
# full-range (C420jpeg): Y = 0 becomes video-range black (Y = 16) in the YUYV ffmpeg writes, what a covered webcam sends.
lens_bright=15 lens_dark=6
ffmpeg -hide_banner -loglevel error -nostdin -y -stream_loop 7 -i "$out/up.y4m" -filter_complex \
    "[0:v]split[a][b];[a]trim=duration=$lens_bright,setpts=PTS-STARTPTS[bright];[b]trim=duration=$lens_dark,setpts=PTS-STARTPTS,lutyuv=y=0:u=128:v=128[dark];[bright][dark]concat=n=2:v=1[out]" \
    -map "[out]" -pix_fmt yuv420p -f yuv4mpegpipe "$out/lens.y4m"

# What the guest sees: the output folder at /gp-out.
guest_scenarios=$(tr ',' '\n' <<<"$scenarios" | grep -E '^[1235-9]$' | paste -sd, - || true)  # 4 boots on its own
python3 - "$out/run.json" "$binary" "$guest_scenarios" "$model" $session_seconds $session_fps $up_fps \
    $lens_bright $lens_dark <<'EOF'
import json, sys
path, binary, scenarios, model, seconds, fps, up_fps, lens_bright, lens_dark = sys.argv[1:]
json.dump({
    "binary": binary, "scenarios": scenarios.split(","), "model": model,
    "xdg_data_home": "/gp-out/xdg", "data": "/gp-out/data", "artefacts": "/gp-out/artefacts",
    "session_clip": "/gp-out/session.y4m", "session_truth": "/gp-out/session.truth",
    "session_seconds": int(seconds), "session_frames": int(seconds) * int(fps),
    "up_clip": "/gp-out/up.y4m", "up_fps": int(up_fps), "idle_clip": "/gp-out/idle.y4m",
    "lens_clip": "/gp-out/lens.y4m", "lens_bright": int(lens_bright), "lens_period": int(lens_bright) + int(lens_dark),
    # Daemon config (section__key): the host-trained workspace, a 320x240 camera, default filter settings.
    "config": {"camera__width": 320, "camera__height": 240, "camera__fps": 30, "model__name": model,
               "daemon__data_directory": "/run/gesturepad-test/data", "daemon__log_level": "debug"},
}, open(path, "w"), indent=2)
EOF

passed=0 failed=0
if [ -n "$guest_scenarios" ]; then
echo "system-test: booting the VM (kernel $(cat "$cache/version"), qemu TCG) — scenarios $guest_scenarios"
status=0
"$here/boot.sh" --out "$out" --timeout "$timeout" --host-path "$(dirname "$binary")" \
    --append "gp.script=$here/guest/scenarios.py gp.args=/gp-out/run.json" || status=$?
log="$out/console.log"
grep -E '^gp-(result|note|scenario)' "$log" || true
passed=$(grep -c '^gp-result: PASS' "$log" || true)
failed=$(grep -c '^gp-result: FAIL' "$log" || true)
if ! grep -q '^gp-summary:' "$log"; then
    echo "system-test: the guest did not finish its scenarios (qemu exit $status)"
    failed=$((failed + 1))
fi
fi
if [ "$failed" -gt 0 ]; then
    echo "---- guest console log ----"
    grep -vE '^gp-(result|note)' "$log" | tail -150
    for file in "$out"/artefacts/daemon-*.log; do
        [ -e "$file" ] || continue
        echo "---- $(basename "$file") (last 40 lines) ----"
        tail -40 "$file"
    done
    [ -n "$keep" ] || echo "(run with --keep DIR to keep the artefacts)"
fi
if [[ ",$scenarios," == *,4,* ]]; then
    "$here/scenario-systemd.sh" --binary "$binary" --prepared "$out" --keep "$out/systemd-results" \
        | tee "$out/systemd.log" || true
    counts=$(tail -1 "$out/systemd.log")
    if [[ "$counts" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1])) failed=$((failed + BASH_REMATCH[2]))
    else
        failed=$((failed + 1))
    fi
fi
echo "system-test: wall time $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
