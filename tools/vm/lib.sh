# tools/vm/lib.sh — what system-test.sh and scenario-systemd.sh share (sourced, not run): finding the
# binary, the results folder, and the workspace both guests use, prepared on the host (fast) with the
# binary under test.

# vm_binary PATH|"" — the gesturepad binary to test (default: the debug build's), absolute; exits 2 if missing.
vm_binary() {
    local binary=$1 repository
    repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    [ -n "$binary" ] || binary="$(cd "$repository" && swift build --show-bin-path)/gesturepad"
    [ -x "$binary" ] || { echo "system-test: no gesturepad binary at $binary (make build first)" >&2; exit 2; }
    readlink -f "$binary"
}

# vm_output_dir KEEP PREFIX — KEEP emptied and created, or a new temp folder (the caller removes it); absolute.
vm_output_dir() {
    local keep=$1 prefix=$2 out
    if [ -n "$keep" ]; then
        out=$keep
        rm -rf "$out"
        mkdir -p "$out"
    else
        out=$(mktemp -d "/tmp/$prefix.XXXXXX")
    fi
    cd "$out" && pwd
}

# vm_write_session_truth FILE — the system tests' session timeline (each gesture held 6 s, idle between, 45 s),
# which `bench/pipeline_workspace.sh` renders too.
vm_write_session_truth() {
    cat >"$1" <<'EOF'
# system-test session: gestures held 6 s so ~1 fps recognition under TCG still presses each once
0 idle
5 up
11 idle
15 left
21 idle
25 right
31 idle
35 down
41 idle
EOF
}

# vm_prepare_workspace OUT BINARY MODEL — in OUT: xdg/ (MODEL imported from the fetched TF.js files), data/
# (samples of five photos standing in for the gestures, taken from a synthetic session, and a head trained on
# them) and up.y4m (3 s of "up" at 10 fps, looped by the guests' ffmpeg feeders).
vm_prepare_workspace() {
    local out=$1 binary=$2 model=$3 files second label
    files=${GESTUREPAD_TEST_FILES:-${XDG_CACHE_HOME:-$HOME/.cache}/gesturepad/files}
    [ -e "$files/$model/model.json" ] || { echo "system-test: $files/$model is missing (make fetch-models)" >&2; exit 2; }
    gp() { XDG_DATA_HOME="$out/xdg" XDG_CONFIG_HOME="$out/config" "$binary" "$@"; }
    local common=(--model "$model" --data-dir "$out/data")
    VM_PHOTOS=(--photo "up=$files/astronaut.png" --photo "down=$files/coffee.png" --photo "left=$files/chelsea.png"
               --photo "right=$files/rocket.jpg" --photo "idle=$files/motorcycle_left.png")
    gp model import "$files/$model" --name "$model" >/dev/null
    # Training material: every label held 4 s in one synthetic clip (10 fps), its stretches added as samples.
    printf '0 up\n4 down\n8 left\n12 right\n16 idle\n' >"$out/train.truth"
    gp simulate-session "$out/train.y4m" --truth "$out/train.truth" "${VM_PHOTOS[@]}" --seconds 20 --fps 10 --seed 11 >/dev/null
    second=0
    for label in up down left right idle; do
        gp samples add "$label" --source "$out/train.y4m" --from "$second" --to $((second + 4)) --rate 10 "${common[@]}" >/dev/null
        second=$((second + 4))
    done
    gp train "${common[@]}" --seed 3 | tail -1
    printf '0 up\n' >"$out/up.truth"
    gp simulate-session "$out/up.y4m" --truth "$out/up.truth" "${VM_PHOTOS[@]}" --seconds 3 --fps 10 --seed 31 >/dev/null
}
