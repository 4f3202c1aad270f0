#!/bin/bash
# The --prepare script of system-test scenario 4 (tools/vm/scenario-systemd.sh): runs chrooted in the
# VM's new root (the host's / under a tmpfs overlay) before systemd starts as PID 1, and makes that
# root a plain Debian machine for the test:
#   - masks the units that make no sense in a diskless VM without network (the host's own services,
#     timers, gettys, first-boot and storage units) — fewer units also means a faster boot under TCG;
#   - loads uinput, evdev and v4l2loopback at boot (systemd-modules-load; /lib/modules/<version> is the
#     bind-mounted module tree of the VM's kernel);
#   - creates the test user (a member of "video" for the camera, as on a machine without a seat), the
#     uinput group with the user in it, and enables linger (see below);
#   - adds gp-systemd-checks.service, which runs checks.py once multi-user.target is reached and powers
#     the VM off when it ends (SuccessAction=/FailureAction=), whatever happens.
# The gesturepad installation itself is not done here: checks.py does it after boot, as a user would.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
here=$(cd "$(dirname "$0")" && pwd)
user=gpuser

for unit in avahi-daemon.service avahi-daemon.socket postgresql.service e2scrub_reap.service \
    getty.target getty@tty1.service serial-getty@ttyS0.service console-getty.service \
    systemd-timesyncd.service systemd-pstore.service systemd-firstboot.service systemd-repart.service \
    systemd-random-seed.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
    systemd-remount-fs.service systemd-networkd.service systemd-networkd.socket systemd-networkd-wait-online.service \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer man-db.timer \
    logrotate.timer systemd-tmpfiles-clean.timer cron.service rsyslog.service ssh.service \
    packagekit.service polkit.service ModemManager.service NetworkManager.service wpa_supplicant.service \
    bluetooth.service cups.service cups-browsed.service unattended-upgrades.service; do
    ln -sf /dev/null "/etc/systemd/system/$unit"
done
# User-level units the host enables for every user (gpg agents, debconf helper): not needed here.
for unit in dirmngr.socket gpg-agent.socket gpg-agent-browser.socket gpg-agent-extra.socket gpg-agent-ssh.socket \
    pk-debconf-helper.socket ssh-agent.service; do
    mkdir -p /etc/systemd/user
    ln -sf /dev/null "/etc/systemd/user/$unit"
done

printf 'uinput\nevdev\nv4l2loopback\n' >/etc/modules-load.d/gesturepad-vm.conf
echo 'options v4l2loopback devices=1 exclusive_caps=1 card_label=gesturepad-loopback' >/etc/modprobe.d/gesturepad-vm.conf

id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups video "$user"
# What the README's `groupadd --system uinput`, `usermod -aG uinput` and `loginctl enable-linger` leave
# behind, done before boot so that the user manager starts during boot, already in the group (a manager
# started before `usermod` lacks it until restarted). checks.py installs the udev rules and runs
# `loginctl enable-linger` again.
getent group uinput >/dev/null || groupadd --system uinput
usermod -aG uinput "$user"
mkdir -p /var/lib/systemd/linger
touch "/var/lib/systemd/linger/$user"

cat >/etc/systemd/system/gp-systemd-checks.service <<EOF
[Unit]
Description=gesturepad system test: scenario 4 (systemd)
After=multi-user.target
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
ExecStart=/usr/bin/python3 $here/checks.py /gp-out/systemd/run.json
StandardOutput=journal
StandardError=journal+console
TimeoutStartSec=infinity
EOF
mkdir -p /etc/systemd/system/multi-user.target.wants
ln -sf /etc/systemd/system/gp-systemd-checks.service /etc/systemd/system/multi-user.target.wants/
