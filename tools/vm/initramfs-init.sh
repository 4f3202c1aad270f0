#!/bin/busybox sh
# /init of the system-test VM's initramfs (busybox-static; built by tools/vm/setup.sh). It mounts the
# host's / (9p, read-only) under a tmpfs overlay, gives the new root its own /tmp and /run, the
# kernel's unpacked module tree at /lib/modules/<version> and the host's output folder at /gp-out,
# then hands over to the init named on the kernel command line:
#   gp.init=PATH    the program to exec as PID 1 in the new root (default /sbin/init)
#   gp.modules=DIR  host path of the unpacked /lib/modules/<version> (bind-mounted in the new root)
#   gp.prepare=PATH optional script run (chroot, before the hand-over) to adjust the new root
#   gp.hostpaths=P1,P2  host folders under /tmp that must stay visible (the repository and its build when
#                   the checkout lives in /tmp, as a CI clone may): kept from the overlay under the guest's /tmp
# Markers on the console: "gp-initramfs: ..." lines; a failure drops to poweroff with the reason.
/bin/busybox --install -s /bin
export PATH=/bin

fail() {
    echo "gp-initramfs: FAILED: $*"
    echo o >/proc/sysrq-trigger
    poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

for module in $(cat /modules/order); do
    insmod "/modules/$module" || fail "insmod $module"
done

init=/sbin/init modules="" prepare="" hostpaths=""
for word in $(cat /proc/cmdline); do
    case "$word" in
        gp.init=*) init=${word#gp.init=} ;;
        gp.modules=*) modules=${word#gp.modules=} ;;
        gp.prepare=*) prepare=${word#gp.prepare=} ;;
        gp.hostpaths=*) hostpaths=${word#gp.hostpaths=} ;;
    esac
done

mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || fail "mount 9p hostroot"
mount -t tmpfs -o mode=755,size=75% tmpfs /upper || fail "mount tmpfs"
mkdir -p /upper/data /upper/work
# The 9p share is one filesystem with remapped inode numbers (multidevs=remap): index=off and
# xino=off keep overlayfs from needing more than that.
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work,index=off,xino=off,redirect_dir=off,metacopy=off \
    overlay /newroot || fail "mount overlay"

# Guest-only state: its own /tmp and /run (never the host's), no container marker. Host folders under
# /tmp named in gp.hostpaths are held aside (bind mounts of the overlay's view, so writable like the rest
# of the root) and put back at the same path inside the guest's /tmp.
held=0
for path in $(echo "$hostpaths" | tr ',' ' '); do
    case "$path" in /tmp/?*) ;; *) continue ;; esac
    [ -d "/newroot$path" ] || fail "host path $path is not a folder"
    held=$((held + 1))
    mkdir -p "/held/$held"
    mount --bind "/newroot$path" "/held/$held" || fail "hold $path"
done
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
held=0
for path in $(echo "$hostpaths" | tr ',' ' '); do
    case "$path" in /tmp/?*) ;; *) continue ;; esac
    held=$((held + 1))
    mkdir -p "/newroot$path"
    mount --move "/held/$held" "/newroot$path" || fail "restore $path"
done
mount -t tmpfs -o mode=755 tmpfs /newroot/run
rm -f /newroot/.dockerenv
if [ -n "$modules" ]; then
    version=$(uname -r)
    mkdir -p "/newroot/lib/modules/$version"
    mount --bind "/lower$modules" "/newroot/lib/modules/$version" || fail "bind $modules"
fi
mkdir -p /newroot/gp-out
if grep -q gpout /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag 2>/dev/null; then
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 gpout /newroot/gp-out || fail "mount 9p gpout"
fi
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys

if [ -n "$prepare" ]; then
    chroot /newroot "$prepare" || fail "prepare script $prepare"
fi
echo "gp-initramfs: [$(cut -d" " -f1 /newroot/proc/uptime) s] root ready, exec $init"
exec switch_root /newroot "$init"
