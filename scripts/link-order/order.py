#!/usr/bin/env python3
"""Builds the linker symbol-ordering file from profiles of the agent (see scripts/link-order/generate).

usage: order.py callgrind BINARY PROFILE...          > fluxtel.order
       order.py faults BINARY ORDER PERF_DATA...      > fluxtel.order

callgrind: every function that ran in any callgrind profile (its fn= and cfn= lines, names not
    demangled) and that BINARY defines (libc's functions are not ours to place).
faults: ORDER plus every function of BINARY at which the running agent took a page fault on
    instruction fetch (`perf record -e page-faults -d`, read-ahead off: one fault per code page
    first executed). Callgrind's symbol reader drops some functions that do run (about 90 of
    ~4,800, e.g. MultiThreadedEventLoopGroup.init); each of them faults its page in, so a few rounds
    of this pick them up.

Output: one symbol per line, sorted by name so that regenerating gives a small diff. lld places
these functions first in .text; everything else follows.
"""
import bisect
import re
import subprocess
import sys


def defined(binary):
    """{name: (address, size)} of BINARY's functions."""
    out = subprocess.run(["nm", "--defined-only", "-S", binary], capture_output=True, text=True, check=True).stdout
    syms = {}
    for parts in (line.split() for line in out.splitlines()):
        if len(parts) == 4 and parts[2] in "tTwW":
            syms.setdefault(parts[3], (int(parts[0], 16), int(parts[1], 16)))
    return syms


def from_callgrind(profiles):
    names = set()
    for path in profiles:
        for line in open(path, errors="replace"):
            if line.startswith(("fn=", "cfn=")):
                name = line.split("=", 1)[1].strip()
                name = re.sub(r"^\(\d+\)\s*", "", name)  # callgrind's name compression, if on
                name = re.sub(r"'\d+$", "", name)        # its recursion-depth suffix
                names.add(name)
    return names


def load_segments(binary):
    """[(file offset, vaddr, file size)] of the executable LOAD segments."""
    out = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True, check=True).stdout
    segs = []
    for m in re.finditer(r"LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+(R E|RWE)", out):
        segs.append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16)))
    return segs


def from_faults(binary, perf_files):
    """Functions of BINARY at whose first instruction fetch the agent faulted."""
    syms = defined(binary)
    table = sorted((a, s, n) for n, (a, s) in syms.items())
    starts = [t[0] for t in table]
    segs = load_segments(binary)
    name = binary.rsplit("/", 1)[-1]
    found = set()
    for data in perf_files:
        out = subprocess.run(["perf", "script", "-i", data, "--show-mmap-events", "-F", "addr,ip"],
                             capture_output=True, text=True, check=True).stdout
        maps = []  # (start, length, file offset) of BINARY's executable mappings
        for line in out.splitlines():
            m = re.search(r"\[0x([0-9a-f]+)\(0x([0-9a-f]+)\) @ 0x([0-9a-f]+) .*\]: r-xp (\S+)", line)
            if m and m.group(4).endswith("/" + name):
                maps.append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16)))
                continue
            parts = line.split()
            if len(parts) != 2 or parts[0] != parts[1]:
                continue  # not an instruction fetch
            addr = int(parts[0], 16)
            for start, length, pgoff in maps:
                if start <= addr < start + length:
                    off = addr - start + pgoff
                    seg = next((s for s in segs if s[0] <= off < s[0] + s[2]), None)
                    if seg is None:
                        break
                    vaddr = seg[1] + off - seg[0]
                    # The function that holds the address; for code that has no symbol of its own (the
                    # compiler's private thunks, ~90 of the hot functions) the named function before it,
                    # whose section it shares, which is what moves it.
                    i = bisect.bisect_right(starts, vaddr) - 1
                    if i >= 0:
                        found.add(table[i][2])
                    break
    return found


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("callgrind", "faults"):
        sys.exit(__doc__)
    mode, binary = sys.argv[1], sys.argv[2]
    ours = defined(binary)
    if mode == "callgrind":
        names = from_callgrind(sys.argv[3:]) & ours.keys()
        if len(names) < 1000:
            sys.exit(f"order.py: only {len(names)} functions ran: did the profiles finish?")
    else:
        names = set(open(sys.argv[3]).read().split())
        added = from_faults(binary, sys.argv[4:]) - names
        print(f"order.py: {len(added)} functions that faulted and were not listed", file=sys.stderr)
        names |= added
    sys.stdout.write("".join(n + "\n" for n in sorted(names)))
    print(f"order.py: {len(names)} functions", file=sys.stderr)


if __name__ == "__main__":
    main()
