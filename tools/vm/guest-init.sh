#!/bin/bash
# PID 1 of the system-test VM (after initramfs-init.sh built the overlay root): mounts what a Linux
# userland expects, loads the modules the tests need — uinput, evdev, vivid (the kernel's virtual test
# camera) and v4l2loopback (built by setup.sh) — then runs the script named by gp.script= on the
# kernel command line with its gp.args=, and powers the VM off. Markers on the console:
#   gp-guest: modules loaded: …          the modules are in and /dev/uinput, /dev/video* exist
#   gp-guest: script exit N              the script's exit status
# gp.vivid= / gp.loopback= override the module options (commas for spaces, e.g.
# gp.loopback=devices=2,exclusive_caps=1).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
mount -t devpts -o gid=5,mode=620 devpts /dev/pts 2>/dev/null || { mkdir -p /dev/pts && mount -t devpts devpts /dev/pts; }
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd 2>/dev/null
hostname gesturepad-vm

script="" args="" vivid_options="n_devs=1 node_types=0x1 num_inputs=1 input_types=0x0" loopback_options="devices=1 exclusive_caps=1 card_label=gesturepad-loopback"
for word in $(cat /proc/cmdline); do
    case "$word" in
        gp.script=*) script=${word#gp.script=} ;;
        gp.args=*) args=${word#gp.args=}; args=${args//,/ } ;;
        gp.vivid=*) vivid_options=${word#gp.vivid=}; vivid_options=${vivid_options//,/ } ;;
        gp.loopback=*) loopback_options=${word#gp.loopback=}; loopback_options=${loopback_options//,/ } ;;
    esac
done

finish() {
    echo "gp-guest: script exit $1"
    sync
    echo o >/proc/sysrq-trigger
    while :; do :; done  # the power-off takes effect within moments; PID 1 must not exit
}

# udev is not running: device nodes come from devtmpfs (root-only, which the tests run as).
# shellcheck disable=SC2086
if ! { modprobe uinput && modprobe evdev && modprobe vivid $vivid_options && modprobe v4l2loopback $loopback_options; }; then
    echo "gp-guest: FAILED to load the modules"
    finish 99
fi
echo "gp-guest: [$(cut -d" " -f1 /proc/uptime) s] modules loaded: $(cut -d' ' -f1 /proc/modules | grep -E '^(uinput|evdev|vivid|v4l2loopback)$' | tr '\n' ' ')"
echo "gp-guest: kernel $(uname -r), cpu flags: $(grep -m1 -o -wE 'avx2|fma|bmi2|movbe|f16c|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "gp-guest: devices: $(ls /dev/uinput /dev/video* 2>&1 | tr '\n' ' ')"

if [ -z "$script" ]; then
    echo "gp-guest: no gp.script= given"
    finish 0
fi
# shellcheck disable=SC2086
"$script" $args </dev/null
finish $?
