#!/usr/bin/env bash
# tools/vm/boot.sh — boots the system-test VM (Debian's own kernel, the host's / over 9p read-only with
# a tmpfs overlay; see setup.sh and initramfs-init.sh) and waits until the guest powers off.
#
#   boot.sh [--init PATH] [--prepare PATH] [--out DIR] [--log FILE] [--timeout SECONDS] [--memory MB]
#           [--append "KERNEL ARGS"]
#
#   --init     PID 1 in the guest (a path on the host's filesystem; default tools/vm/guest-init.sh,
#              which loads the test modules and runs gp.script=… — see there)
#   --prepare  a script run (chrooted) in the new root before --init takes over
#   --out      a host folder the guest sees read-write at /gp-out (default: a new temp folder)
#   --log      the console log (default OUT/console.log); printed with the exit status on failure
#   --timeout  seconds before the VM is killed (default 600)
#   --append   extra kernel command-line words (e.g. gp.script=/abs/path/scenarios.sh)
#   --host-path a host folder the guest must see at the same path although it is under /tmp, which the
#              guest replaces with its own tmpfs (repeatable; the repository holding this script always is)
# The VM runs under qemu's TCG (all CPU features of `-cpu max`, 2 vCPUs with multi-threaded TCG).
# GESTUREPAD_VM_KVM=1 tries KVM first (it only helps where /dev/kvm really runs a stock kernel; the
# PVM-style /dev/kvm of some hosts hangs Debian's kernel, so it is off by default).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
init="$here/guest-init.sh" prepare="" out="" log="" timeout=600 memory=3072 append=""
hostpaths=$(cd "$here/../.." && pwd -P)
while [ $# -gt 0 ]; do
    case "$1" in
        --init) init=$2; shift 2 ;;
        --prepare) prepare=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --log) log=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --memory) memory=$2; shift 2 ;;
        --append) append="$append $2"; shift 2 ;;
        --host-path) hostpaths="$hostpaths,$(cd "$2" && pwd -P)"; shift 2 ;;
        *) echo "boot.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

cache=${GESTUREPAD_VM_CACHE:-$("$here/setup.sh" | tail -1)}
version=$(cat "$cache/version")
[ -n "$out" ] || out=$(mktemp -d /tmp/gp-vm.XXXXXX)
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -n "$log" ] || log="$out/console.log"

accel="-accel tcg,thread=multi,tb-size=512"
if [ "${GESTUREPAD_VM_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then accel="-accel kvm -accel tcg,thread=multi"; fi

cmdline="console=ttyS0,115200 panic=-1 quiet loglevel=4 rdinit=/init gp.init=$init gp.modules=$cache/root/lib/modules/$version"
[ -n "$prepare" ] && cmdline="$cmdline gp.prepare=$prepare"
cmdline="$cmdline gp.hostpaths=$hostpaths"
cmdline="$cmdline$append"

start=$(date +%s.%N)
status=0
# shellcheck disable=SC2086
timeout --foreground -k 5 "$timeout" qemu-system-x86_64 $accel -cpu max -smp 2 -m "$memory" \
    -nodefaults -no-user-config -display none -monitor none -serial stdio -no-reboot \
    -kernel "$cache/vmlinux" -initrd "$cache/initramfs.cpio.gz" -append "$cmdline" \
    -virtfs local,path=/,mount_tag=hostroot,readonly=on,security_model=none,multidevs=remap \
    -virtfs local,path="$out",mount_tag=gpout,security_model=none,multidevs=remap \
    -device virtio-rng-pci \
    </dev/null >"$log" 2>&1 || status=$?
elapsed=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
echo "vm: guest ran ${elapsed} s (qemu exit $status); console log $log" >&2
if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    echo "vm: TIMEOUT after $timeout s; console log follows" >&2
    cat "$log" >&2
fi
exit "$status"
