#!/usr/bin/python3
"""Hangs one thread of a running process for real, the way a driver call that never returns or a
deadlock would: PTRACE_SEIZE + PTRACE_INTERRUPT on that thread only (the other threads — the
daemon's watchdog task, its control socket — keep running), then keeps it stopped until the thread is
gone (the process was killed) or the timeout passes (then it detaches, and the thread runs on).
Signals for the stopped thread stay pending, as for a thread stuck in the kernel; SIGKILL still ends it.

    hang-thread.py PID THREAD-NAME [TIMEOUT-SECONDS]

THREAD-NAME is matched against /proc/PID/task/*/comm (the kernel keeps 15 bytes of a thread's name).
Prints `stopped thread TID (NAME) of PID` once the thread is stopped, `thread TID gone` or `timeout`.
Needs CAP_SYS_PTRACE over the target (root) — used by checks.py for the watchdog check.
"""
import ctypes
import os
import sys
import time

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def ptrace(request, tid):
    if libc.ptrace(request, tid, None, None) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"ptrace({request:#x}, {tid}): {os.strerror(code)}")


def find_thread(pid, name):
    for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as file:
                if file.read().strip() == name[:15]:
                    return int(tid)
        except OSError:
            continue
    return None


def main():
    pid, name = int(sys.argv[1]), sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 300
    tid = find_thread(pid, name)
    if tid is None:
        names = []
        for entry in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{entry}/comm") as file:
                names.append(file.read().strip())
        sys.exit(f"hang-thread: no thread named {name!r} in {pid}; threads: {sorted(set(names))}")
    ptrace(PTRACE_SEIZE, tid)
    ptrace(PTRACE_INTERRUPT, tid)
    _, status = os.waitpid(tid, WALL)
    if not os.WIFSTOPPED(status):
        sys.exit(f"hang-thread: thread {tid} did not stop (status {status:#x})")
    print(f"stopped thread {tid} ({name}) of {pid}", flush=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            waited, status = os.waitpid(tid, WALL | os.WNOHANG)
        except ChildProcessError:
            print(f"thread {tid} gone", flush=True)
            return
        if waited == tid and (os.WIFEXITED(status) or os.WIFSIGNALED(status)):
            print(f"thread {tid} gone", flush=True)
            return
        # A stop for a signal leaves the thread stopped: the signal stays pending, as in a stuck kernel call.
        if not os.path.exists(f"/proc/{pid}/task/{tid}"):
            print(f"thread {tid} gone", flush=True)
            return
        time.sleep(0.2)
    print("timeout; detaching", flush=True)
    libc.ptrace(PTRACE_DETACH, tid, None, None)


if __name__ == "__main__":
    main()
