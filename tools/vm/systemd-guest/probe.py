#!/usr/bin/python3
"""Hardening probe for the system test (tools/vm/systemd-guest/checks.py). Runs as the service's user
inside a copy of gesturepad.service whose ExecStart= is this script (every sandbox line unchanged) and
tries, for each hardening line, something that line must refuse — chosen so that an ordinary user
*outside* the sandbox is allowed to do it, so a refusal proves the line is enforced — plus what the
daemon needs (camera, /dev/uinput, its data directory, its runtime directory).

    probe.py full OUTPUT.json CAMERA     all checks → {check: {"ok": bool, "detail": str}} + namespaces
    probe.py open PATH                   exit 0 if PATH opens read-write (systemd-run probes)
    probe.py write PATH                  exit 0 if PATH can be created (and removes it again)

Linux x86-64 only (syscall numbers and structure layouts below are x86-64's).
"""
import ctypes
import errno
import json
import mmap
import os
import socket
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SYS_PIDFD_GETFD = 438
SYS_ADJTIMEX = 159
CLONE_NEWUSER = 0x10000000
PER_LINUX32 = 0x0008
QUERY_PERSONALITY = 0xFFFFFFFF


def error_text(code):
    return f"{errno.errorcode.get(code, code)} ({os.strerror(code)})"


def try_open(path, flags=os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC):
    """(opened, detail)."""
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        return False, f"open {path}: {error_text(error.errno)}"
    os.close(descriptor)
    return True, f"open {path}: ok"


def try_create(path):
    """(created, errno or 0): creates and removes `path`."""
    try:
        with open(path, "w") as file:
            file.write("probe\n")
    except OSError as error:
        return False, error.errno
    os.unlink(path)
    return True, 0


def mounts():
    """Mount point → options (mount options + super options) from /proc/self/mountinfo; the last mount wins."""
    table = {}
    with open("/proc/self/mountinfo") as file:
        for line in file:
            fields = line.split()
            separator = fields.index("-")
            table[fields[4]] = set(fields[5].split(",")) | set(fields[separator + 3].split(","))
    return table


def status_field(name):
    with open("/proc/self/status") as file:
        for line in file:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return None


def full(output, camera):
    results = {}

    def record(name, ok, detail):
        results[name] = {"ok": bool(ok), "detail": detail}

    home = os.path.expanduser("~")
    uid = os.getuid()
    runtime = os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{uid}")
    data = f"{home}/.local/share/gesturepad"
    table = mounts()

    # What the daemon needs.
    record("reach/camera", *try_open(camera))
    record("reach/uinput", *try_open("/dev/uinput"))
    created, code = try_create(f"{data}/.probe")
    record("reach/data-directory", created, f"write {data}: " + ("ok" if created else error_text(code)))
    created, code = try_create(f"{runtime}/gesturepad/.probe")
    mode = oct(os.stat(f"{runtime}/gesturepad").st_mode & 0o777) if os.path.isdir(f"{runtime}/gesturepad") else "missing"
    record("reach/runtime-directory", created and mode == "0o700",
           f"write {runtime}/gesturepad: " + ("ok" if created else error_text(code)) + f", mode {mode}")

    # Identity and process flags.
    record("NoNewPrivileges=yes", status_field("NoNewPrivs") == "1", f"NoNewPrivs: {status_field('NoNewPrivs')}")
    with open("/proc/self/uid_map") as file:
        uid_map = " ".join(file.read().split())
    record("PrivateUsers=yes", uid_map != "0 0 4294967295", f"uid_map: {uid_map}")
    umask = os.umask(0o077)
    os.umask(umask)
    record("UMask=0077", umask == 0o077, f"umask {oct(umask)}")

    # File system.
    outside = "/tmp/gp-probe-outside"
    created, code = try_create("/tmp/.gp-probe-inside")
    record("PrivateTmp=yes", not os.path.exists(outside) and created,
           f"{outside} (made outside) visible: {os.path.exists(outside)}; /tmp writable: {created}")
    # checks.py makes /var/lib/gp-probe (on the root file system) and /run/gp-probe world-writable (1777):
    # covered neither by ProtectHome= nor by PrivateTmp=, so only ProtectSystem= can refuse a write there.
    created, code = try_create("/var/lib/gp-probe/.probe")
    record("ProtectSystem=strict", not created and code == errno.EROFS,
           "write /var/lib/gp-probe (world-writable outside the sandbox): " + ("ok" if created else error_text(code))
           + f"; / mounted {'ro' if 'ro' in table.get('/', set()) else 'rw'}")
    created, code = try_create("/run/gp-probe/.probe")
    run_mounts = {point: sorted(options & {"ro", "rw"} - ({"rw"} if "ro" in options else set()))
                  for point, options in table.items() if point in ("/run", "/run/lock", "/run/user")}
    information = ["ProtectSystem=strict below /run: write /run/gp-probe: " + ("ok" if created else error_text(code))
                   + f"; mounts {run_mounts}"]
    created, code = try_create(f"{home}/.gp-probe")
    record("ProtectHome=read-only", not created and code == errno.EROFS,
           f"write {home}: " + ("ok" if created else error_text(code)))
    created, code = try_create(f"{data}/.gp-probe")
    record("ReadWritePaths=%h/.local/share/gesturepad", created, f"write {data}: " + ("ok" if created else error_text(code)))
    record("ProtectKernelTunables=yes", "ro" in table.get("/proc/sys", set()) and "ro" in table.get("/sys", set()),
           f"/proc/sys {sorted(table.get('/proc/sys', {'(not a mount)'}) & {'ro', 'rw', '(not a mount)'})}, "
           f"/sys {sorted(table.get('/sys', set()) & {'ro', 'rw'})}")
    try:
        os.listdir("/usr/lib/modules")
        modules_detail, modules_hidden = "listing /usr/lib/modules: ok", False
    except OSError as error:
        modules_detail, modules_hidden = f"listing /usr/lib/modules: {error_text(error.errno)}", True
    record("ProtectKernelModules=yes", modules_hidden, modules_detail)
    record("ProtectKernelLogs=yes", "/dev/kmsg" in table and "/proc/kmsg" in table,
           f"/dev/kmsg over-mounted: {'/dev/kmsg' in table}, /proc/kmsg over-mounted: {'/proc/kmsg' in table}")
    cgroup = table.get("/sys/fs/cgroup", set())
    record("ProtectControlGroups=yes", "ro" in cgroup, f"/sys/fs/cgroup {sorted(cgroup & {'ro', 'rw'})}")

    # Network.
    for family, name in [(socket.AF_INET, "AF_INET"), (socket.AF_INET6, "AF_INET6"), (socket.AF_NETLINK, "AF_NETLINK")]:
        try:
            socket.socket(family, socket.SOCK_DGRAM).close()
            results.setdefault("_families", []).append(f"{name}: ok")
        except OSError as error:
            results.setdefault("_families", []).append(f"{name}: {error_text(error.errno)}")
    families = results.pop("_families")
    unix_ok = True
    try:
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
    except OSError:
        unix_ok = False
    record("RestrictAddressFamilies=AF_UNIX", unix_ok and all("EAFNOSUPPORT" in f for f in families),
           "; ".join(families) + f"; AF_UNIX: {'ok' if unix_ok else 'refused'}")
    with open("/proc/net/dev") as file:
        interfaces = sorted(line.split(":")[0].strip() for line in file.readlines()[2:])
    record("PrivateNetwork=yes", interfaces == ["lo"], f"interfaces: {interfaces} (namespace compared by checks.py)")

    # Seccomp filters: each call below succeeds for an ordinary user.
    buffer = ctypes.create_string_buffer(64)
    if libc.unshare(CLONE_NEWUSER) == 0:
        record("RestrictNamespaces=yes", False, "unshare(CLONE_NEWUSER): ok")
    else:
        record("RestrictNamespaces=yes", ctypes.get_errno() == errno.EPERM, f"unshare(CLONE_NEWUSER): {error_text(ctypes.get_errno())}")
    if libc.personality(ctypes.c_ulong(PER_LINUX32)) == -1:
        record("LockPersonality=yes", True, f"personality(PER_LINUX32): {error_text(ctypes.get_errno())}")
    else:
        libc.personality(ctypes.c_ulong(0))
        record("LockPersonality=yes", False, "personality(PER_LINUX32): ok")
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    address = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        record("MemoryDenyWriteExecute=yes", True, f"mmap(PROT_WRITE|PROT_EXEC): {error_text(ctypes.get_errno())}")
    else:
        libc.munmap(ctypes.c_void_p(address), 4096)
        record("MemoryDenyWriteExecute=yes", False, "mmap(PROT_WRITE|PROT_EXEC): ok")
    suid = f"{data}/.gp-probe-suid"
    with open(suid, "w"):
        pass
    try:
        os.chmod(suid, 0o4755)
        record("RestrictSUIDSGID=yes", False, "chmod u+s on an own file: ok")
    except OSError as error:
        record("RestrictSUIDSGID=yes", error.errno == errno.EPERM, f"chmod u+s on an own file: {error_text(error.errno)}")
    os.unlink(suid)

    class TimeX(ctypes.Structure):  # struct timex is 208 bytes on x86-64; modes = 0 only reads the clock state
        _fields_ = [("modes", ctypes.c_uint), ("rest", ctypes.c_byte * 204)]
    timex = TimeX()
    if libc.syscall(SYS_ADJTIMEX, ctypes.byref(timex)) >= 0:
        record("ProtectClock=yes", False, "adjtimex (read only): ok")
    else:
        record("ProtectClock=yes", ctypes.get_errno() == errno.EPERM, f"adjtimex (read only): {error_text(ctypes.get_errno())}")

    # pidfd_getfd (@debug, outside @system-service) with an invalid pidfd: the kernel answers EBADF; the filter EPERM.
    libc.syscall(SYS_PIDFD_GETFD, -1, 0, 0)
    code = ctypes.get_errno()
    record("SystemCallFilter=@system-service", code == errno.EPERM,
           f"pidfd_getfd(-1) (@debug): {error_text(code)} — the kernel itself would say EBADF; EPERM is "
           "SystemCallErrorNumber=")
    seccomp = f"Seccomp: {status_field('Seccomp')}, filters: {status_field('Seccomp_filters')}"
    record("RestrictRealtime=yes / SystemCallArchitectures=native", status_field("Seccomp") == "2",
           f"not separately observable by an unprivileged user (no RLIMIT_RTPRIO, no 32-bit code here); {seccomp}")
    del buffer

    namespaces = {name: os.readlink(f"/proc/self/ns/{name}") for name in ["user", "mnt", "net", "uts", "ipc"]}
    with open(output, "w") as file:
        json.dump({"checks": results, "information": information, "namespaces": namespaces, "pid": os.getpid()},
                  file, indent=1)


def main():
    mode = sys.argv[1]
    if mode == "full":
        full(sys.argv[2], sys.argv[3])
    elif mode == "open":
        opened, detail = try_open(sys.argv[2])
        print(detail)
        sys.exit(0 if opened else 1)
    elif mode == "write":
        created, code = try_create(sys.argv[2])
        print(f"write {sys.argv[2]}: " + ("ok" if created else error_text(code)))
        sys.exit(0 if created else 1)
    else:
        sys.exit(f"probe.py: unknown mode {mode}")


if __name__ == "__main__":
    main()
