#!/usr/bin/env python3
"""kernel_audit.py: reads a release binary's machine code for missed inlining in the numeric kernels.

Usage: python3 tools/kernel_audit.py BINARY [--all]

For every loop (a backward jump) of a NeuralNet or Capture function that contains an FMA, it lists the calls
the loop makes to small functions (fewer than 60 instructions: helpers such as a clamp-and-store), calls anywhere
in those functions to the stdlib's generic SIMD loads and stores (`loadUnaligned`, `storeBytes`), and, for
innermost FMA loops, the vector moves to and from the stack (register spills; `--all` lists every one). A call
like that in a kernel means the Swift optimiser left a helper out of line and spilled the accumulators around
it, which can cost as much as the loop's own work. The binary need not run here: the AVX-512 build
(`GESTUREPAD_TARGET_CPU=skylake-avx512 swift build -c release --build-path /tmp/avx512-build`) can be audited on
an AVX2-only machine. Exits 1 when it finds such a call. Session 12 found them in both builds (bench/README.md,
"Auditing a build without its CPU").

Hand-written: objdump gives the instructions; nothing reads loops and call targets out of them for us.
"""
import collections
import re
import subprocess
import sys

SMALL = 60  # instructions: a callee this short belongs inlined in a kernel loop
VECTOR = re.compile(r"%[xyz]mm\d+")
STACK = re.compile(r"\(%r[sb]p\)|\(%r[sb]p,")
JUMP = re.compile(r"j\w+\s+([0-9a-f]+)")
CALL = re.compile(r"call\s+[0-9a-f]+\s+<(.*)>")


def functions(binary):
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary], capture_output=True, text=True,
                          check=True).stdout
    result = collections.OrderedDict()
    current = None
    for line in text.splitlines():
        header = re.match(r"^([0-9a-f]+) <(.*)>:$", line)
        if header:
            current = header.group(2)
            result[current] = []
        elif current and "\t" in line:
            address, instruction = line.split("\t", 1)
            address = address.strip().rstrip(":")
            if re.fullmatch(r"[0-9a-f]+", address):
                result[current].append((int(address, 16), instruction.strip()))
    return result


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary, show_all = sys.argv[1], "--all" in sys.argv[2:]
    table = functions(binary)
    sizes = {name: len(body) for name, body in table.items()}
    kernels = {name: body for name, body in table.items() if re.search(r"9NeuralNet|7Capture", name)}
    findings, spills = set(), set()
    for name, body in kernels.items():
        jumps = [(a, int(m.group(1), 16)) for a, i in body if (m := JUMP.match(i))]
        first = body[0][0] if body else 0
        for address, target in jumps:
            if not first <= target < address:
                continue  # not a loop's back edge
            loop = [i for (a, i) in body if target <= a <= address]
            if not any("vfmadd" in i for i in loop):
                continue
            for i in loop:
                call = CALL.match(i)
                # Runtime and libc entry points (`@plt`) are not missed inlining; nor is the prefetch shim.
                if call and sizes.get(call.group(1), SMALL) < SMALL and not call.group(1).endswith("@plt") \
                        and "prefetch" not in call.group(1):
                    findings.add((name, call.group(1)))
            # Innermost: no other back edge inside this loop.
            inner = not any(target <= t < a < address for a, t in jumps)
            moves = sum(1 for i in loop if VECTOR.search(i) and STACK.search(i))
            if inner and moves and len(loop) < 200:
                spills.add((name, len(loop), sum("vfmadd" in i for i in loop), moves))
    # Anywhere in a kernel (an epilogue after its loop too): a stdlib vector load or store left as a call.
    for name, body in kernels.items():
        for _, instruction in body:
            call = CALL.match(instruction)
            if call and re.search(r"(loadUnaligned|storeBytes|load14fromByteOffset).*SIMD", call.group(1)):
                findings.add((name, call.group(1)))
    for name, callee in sorted(findings):
        print(f"call in an FMA loop: {name[:100]}\n    -> {callee[:100]}")
    for name, length, fmas, moves in sorted(spills):
        if show_all or moves * 4 >= fmas:
            print(f"spills in an innermost FMA loop: {name[:100]}: {length} instructions, {fmas} FMAs, {moves} "
                  "vector stack moves")
    print(f"{len(kernels)} kernel functions read; {len(findings)} calls to small functions inside FMA loops")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
