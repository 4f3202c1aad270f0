#!/usr/bin/env bash
# tools/vm/setup.sh — everything the system-test VM needs, idempotent (a second run only checks).
#
#   1. apt: qemu-system-x86, busybox-static, cpio, kmod, v4l-utils, ffmpeg, python3-evdev, xz-utils and the
#      headers of the kernel that Debian's linux-image-amd64 meta package currently depends on.
#   2. That kernel's image package is downloaded (apt-get download) and unpacked into the cache, not
#      installed: nothing touches the host's /boot or /lib/modules. Its bzImage is decompressed to the
#      uncompressed vmlinux (qemu boots it through the PVH entry, ~10 s faster under TCG).
#   3. v4l2loopback's source comes from the v4l2loopback-dkms package (also only downloaded and unpacked)
#      and is built against the headers with plain kbuild (`make -C /usr/src/linux-headers-VER M=…`):
#      no dkms, nothing installed into the host kernel. depmod indexes the unpacked module tree.
#   4. A busybox-static initramfs (tools/vm/initramfs-init.sh as /init plus the virtio, 9p and overlay
#      modules it needs to mount the host's / read-only).
#
# Everything lands in $GESTUREPAD_VM_CACHE (default ~/.cache/gesturepad/vm/<kernel version>/); the last
# line printed is that directory. Root or sudo is needed for apt only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive

log() { echo "vm-setup: $*" >&2; }

# apt-cache depends needs package lists; refresh them once when they are missing.
kernel_package=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1 || true)
if [ -z "$kernel_package" ]; then
    log "refreshing apt package lists"
    $sudo apt-get update -qq
    kernel_package=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
fi
[ -n "$kernel_package" ] || { log "apt knows no linux-image-amd64 dependency; is this Debian 12 with main enabled?"; exit 1; }
version=${kernel_package#linux-image-}           # e.g. 6.1.0-57-amd64

# The systemd scenario boots the host's own systemd as the guest's PID 1: systemd, udev, the user bus and
# logind's PAM module must be installed on the host (make: the guest installs with `make install-user-files`).
packages="qemu-system-x86 busybox-static cpio kmod v4l-utils ffmpeg python3-evdev xz-utils linux-headers-$version"
packages="$packages systemd udev dbus-user-session libpam-systemd make"
missing=""
for package in $packages; do dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"; done
if [ -n "$missing" ]; then
    log "installing$missing"
    $sudo apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 $missing >/dev/null \
        || { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 $missing >/dev/null; } \
        || { log "could not install$missing; run: sudo apt-get install$missing"; exit 1; }
fi

cache=${GESTUREPAD_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gesturepad/vm/$version}
mkdir -p "$cache"
root="$cache/root"                               # the unpacked packages
modules="$root/lib/modules/$version"

# 2. The kernel image package, unpacked.
if [ ! -e "$cache/.image-unpacked" ]; then
    log "downloading and unpacking $kernel_package (not installed)"
    rm -rf "$cache/debs" "$root"
    mkdir -p "$cache/debs" "$root"
    (cd "$cache/debs" && apt-get download -q "$kernel_package" v4l2loopback-dkms 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
    for deb in "$cache"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
    [ -d "$modules/kernel" ] || { log "no modules in $kernel_package"; exit 1; }
    touch "$cache/.image-unpacked"
fi

if [ ! -s "$cache/vmlinux" ]; then
    log "decompressing the kernel to vmlinux"
    python3 - "$root/boot/vmlinuz-$version" "$cache/vmlinux.tmp" <<'EOF'
# A bzImage carries its kernel as one compressed stream after a setup header; Debian 12 uses xz.
import lzma, sys
data = open(sys.argv[1], "rb").read()
start = data.find(b"\xfd7zXZ\x00")
if start < 0:
    sys.exit(f"{sys.argv[1]}: no xz stream found (kernel compressed another way?)")
decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
kernel = decompressor.decompress(data[start:])
if not kernel.startswith(b"\x7fELF"):
    sys.exit(f"{sys.argv[1]}: the xz stream at {start} is not an ELF kernel")
open(sys.argv[2], "wb").write(kernel)
EOF
    mv "$cache/vmlinux.tmp" "$cache/vmlinux"
fi

# 3. v4l2loopback from source against the matching headers.
if [ ! -e "$modules/extra/v4l2loopback.ko" ]; then
    source_dir=$(ls -d "$root"/usr/src/v4l2loopback-* | head -1)
    log "building $(basename "$source_dir") for $version"
    rm -rf "$cache/v4l2loopback-build"
    cp -r "$source_dir" "$cache/v4l2loopback-build"
    make -s -C "/usr/src/linux-headers-$version" M="$cache/v4l2loopback-build" modules >"$cache/v4l2loopback-build.log" 2>&1 \
        || { cat "$cache/v4l2loopback-build.log" >&2; log "v4l2loopback did not build"; exit 1; }
    mkdir -p "$modules/extra"
    cp "$cache/v4l2loopback-build/v4l2loopback.ko" "$modules/extra/"
    rm -f "$modules/modules.dep"
fi
# The ctl tool (v4l2loopback-ctl is a C program in 0.12); built once beside the module.
if [ ! -x "$cache/bin/v4l2loopback-ctl" ] && [ -e "$cache/v4l2loopback-build/utils/v4l2loopback-ctl.c" ]; then
    mkdir -p "$cache/bin"
    gcc -O2 -I"$cache/v4l2loopback-build" -o "$cache/bin/v4l2loopback-ctl" "$cache/v4l2loopback-build/utils/v4l2loopback-ctl.c" \
        >/dev/null 2>&1 || log "v4l2loopback-ctl did not build (sysfs is used instead)"
fi
[ -s "$modules/modules.dep" ] || depmod -b "$root" "$version"

# 4. The initramfs: busybox + the modules that mount the host's root.
initramfs="$cache/initramfs.cpio.gz"
if [ ! -s "$initramfs" ] || [ "$here/initramfs-init.sh" -nt "$initramfs" ]; then
    log "building the initramfs"
    staging=$(mktemp -d)
    trap 'rm -rf "$staging"' EXIT
    mkdir -p "$staging"/{bin,dev,proc,sys,newroot,lower,upper,modules}
    cp /bin/busybox "$staging/bin/busybox"
    cp "$here/initramfs-init.sh" "$staging/init"
    chmod 755 "$staging/init"
    : >"$staging/modules/order"
    for module in virtio_pci 9pnet_virtio 9p overlay; do
        modprobe -d "$root" -S "$version" --show-depends "$module" | awk '$1 == "insmod" { print $2 }' | while read -r path; do
            name=$(basename "$path")
            if ! grep -qx "$name" "$staging/modules/order"; then
                cp "$path" "$staging/modules/$name"
                echo "$name" >>"$staging/modules/order"
            fi
        done
    done
    (cd "$staging" && find . | cpio -o -H newc --quiet | gzip -1 >"$initramfs.tmp")
    mv "$initramfs.tmp" "$initramfs"
fi

echo "$version" >"$cache/version"
echo "$cache"
