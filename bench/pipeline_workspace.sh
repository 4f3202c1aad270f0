#!/usr/bin/env bash
# bench/pipeline_workspace.sh BINARY OUT [MODEL] — the material of `gesturepad bench pipeline` with a trained head,
# repeatable: the system tests' workspace (tools/vm/lib.sh vm_prepare_workspace: MODEL imported from the fetched
# TF.js files, samples of five photos from a synthetic clip, a head trained on them) and the system tests' session
# (idle / up / left / right / down held in turn) rendered at 320x240 and at 640x480, 5 fps for 45 s (270 frames; `bench pipeline` paces the loop at its own --fps).
# Then, e.g.:
#   XDG_DATA_HOME=OUT/xdg BINARY bench pipeline --model MODEL --data-dir OUT/data --source OUT/session-640x480.y4m \
#       --fps 30 --seconds 20
set -euo pipefail
binary=$(readlink -f "$1")
out=$2
model=${3:-mobilenet_v1_0.25_224}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tools/vm/lib.sh
source "$here/../tools/vm/lib.sh"
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
vm_prepare_workspace "$out" "$binary" "$model"
vm_write_session_truth "$out/session.truth"
for size in 320x240 640x480; do
    XDG_DATA_HOME="$out/xdg" XDG_CONFIG_HOME="$out/config" "$binary" simulate-session "$out/session-$size.y4m" \
        --truth "$out/session.truth" "${VM_PHOTOS[@]}" --seconds 45 --fps 5 --size "$size" --seed 21 >/dev/null
done
echo "bench pipeline workspace in $out: xdg/ (models), data/ (samples, head), session-320x240.y4m, session-640x480.y4m"
