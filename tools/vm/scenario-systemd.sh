#!/usr/bin/env bash
# tools/vm/scenario-systemd.sh — system-test scenario 4: gesturepad as a systemd user service under a
# real systemd (PID 1 in the VM) and a real user manager, installed as the README tells a user.
#
#   scenario-systemd.sh [--binary PATH] [--prepared DIR] [--keep DIR] [--timeout SECONDS]
#
#   --binary    gesturepad built for the guest's CPU (GESTUREPAD_TARGET_CPU=haswell or lower; default:
#               `swift build --show-bin-path`/gesturepad)
#   --prepared  the output folder of system-test.sh (its imported MobileNet v1 0.25, samples, trained head
#               and the looping "up" clip) — reused, and the VM's /gp-out is that folder; without it this
#               script prepares the same workspace itself (model import, simulate-session, samples, train)
#   --keep      where the results go (default: a temp folder, removed at the end)
# Host side: the systemd packages the guest needs (the VM runs the host's own /usr), the user's data
# folder (models + samples + heads, as `make models` and training leave ~/.local/share/gesturepad), a
# config, run.json. Then boot.sh --init /lib/systemd/systemd --prepare systemd-guest/prepare.sh; the
# guest runs systemd-guest/checks.py and powers off. Prints every gp-result line, the guest's journal
# on failure, and `N passed, M failed` (exit 1 on failures).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repository=$(cd "$here/../.." && pwd)
binary="" prepared="" keep="" timeout=720
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary=$2; shift 2 ;;
        --prepared) prepared=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        *) echo "scenario-systemd.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
start=$(date +%s)
. "$here/lib.sh"
binary=$(vm_binary "$binary")

# setup.sh installs what the guest needs from the host (systemd, udev, dbus-user-session, libpam-systemd).
cache=${GESTUREPAD_VM_CACHE:-$("$here/setup.sh" | tail -1)}
export GESTUREPAD_VM_CACHE=$cache
results=$(vm_output_dir "$keep" gp-systemd)
[ -n "$keep" ] || trap 'rm -rf "$results"' EXIT
model=mobilenet_v1_0.25_224

if [ -z "$prepared" ]; then
    # The same workspace as system-test.sh (lib.sh): photos stand in for the gestures, "up" held in a looping clip.
    prepared=$results/prepared
    mkdir -p "$prepared"
    echo "scenario-systemd: preparing the workspace on the host"
    vm_prepare_workspace "$prepared" "$binary" "$model"
fi
prepared=$(cd "$prepared" && pwd)

# What the guest sees: $prepared at /gp-out, this scenario's folder at /gp-out/systemd.
guest=$prepared/systemd
rm -rf "$guest"
mkdir -p "$guest/data"
# ~/.local/share/gesturepad as `make models` and training leave it: models/, samples.sqlite, heads/.
cp -a "$prepared/xdg/gesturepad/models" "$guest/data/"
cp -a "$prepared/data/." "$guest/data/"
chmod -R a+rX "$guest"
python3 - "$guest/run.json" "$binary" "$repository" "$model" <<'EOF'
import json, sys
path, binary, repository, model = sys.argv[1:]
json.dump({
    "binary": binary, "repository": repository, "user": "gpuser", "out": "/gp-out/systemd",
    "clip": "/gp-out/up.y4m", "camera_card": "gesturepad-loopback",
    # The user's config: the loopback camera, the small model; TCG embeds about one frame a second, so
    # the filter must not call every frame stale (500 ms by default).
    "config": "\n".join([
        "[camera]", 'device = "@CAMERA@"', "width = 320", "height = 240", "",
        "[model]", f'name = "{model}"', "",
        "[filter]", "stale_ms = 10000", "",
        "[daemon]", 'log_level = "info"', ""]),
}, open(path, "w"), indent=2)
EOF

echo "scenario-systemd: booting the VM with systemd as PID 1 (kernel $(cat "$cache/version"), qemu TCG)"
status=0
"$here/boot.sh" --host-path "$(dirname "$binary")" --init /lib/systemd/systemd --prepare "$here/systemd-guest/prepare.sh" --out "$prepared" \
    --log "$results/console.log" --timeout "$timeout" \
    --append "systemd.unit=multi-user.target systemd.show_status=error" || status=$?
[ "$results" = "$guest" ] || cp -a "$guest/." "$results/" 2>/dev/null || true
log="$results/console.log"
grep -E '^gp-(result|note|scenario|summary)' "$log" || true
passed=$(grep -c '^gp-result: PASS' "$log" || true)
failed=$(grep -c '^gp-result: FAIL' "$log" || true)
if ! grep -q '^gp-summary:' "$log"; then
    echo "scenario-systemd: the guest did not finish (qemu exit $status)"
    failed=$((failed + 1))
fi
if [ "$failed" -gt 0 ]; then
    echo "---- guest console (last 60 lines) ----"
    grep -vE '^gp-(result|note)' "$log" | tail -60
    if [ -s "$results/journal.txt" ]; then
        echo "---- guest journal: gesturepad and the user manager (last 150 lines) ----"
        grep -E 'gesturepad|systemd\[[0-9]+\]: (gesturepad|Watchdog)|user@|udev' "$results/journal.txt" | tail -150
    fi
    [ -n "$keep" ] || echo "(run with --keep DIR to keep the artefacts)"
fi
echo "scenario-systemd: wall time $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
