#!/usr/bin/env python3
"""Builds the linker symbol-ordering file from profiles of the agent (see scripts/link-order/generate).

usage: order.py callgrind BINARY IDLE_PROFILE PROFILE...   > fluxtel.order
       order.py faults BINARY ORDER PERF_DATA...               > fluxtel.order

callgrind: every function that ran in any callgrind profile (its fn= and cfn= lines, names not
    demangled) and that BINARY defines (libc's functions are not ours to place). IDLE_PROFILE is the
    idle agent's, counted from the moment it was ready: its functions form the first group.
faults: ORDER plus every function of BINARY at which the running agent took a page fault on
    instruction fetch (`perf record -e page-faults -d`, read-ahead off: one fault per code page
    first executed). Callgrind's symbol reader drops some functions that do run (about 90 of
    ~4,800, e.g. MultiThreadedEventLoopGroup.init); each of them faults its page in, so a few rounds
    of this pick them up. A fault after the agent released its start-up pages (the `madvise` of its
    code mapping, recorded as `syscalls:sys_enter_madvise`; it does so before and at readiness, and again 2 s
    and 5 s later) after the last release is idle code: it joins the first group.

Output: three groups, each sorted by name so that regenerating gives a small diff, headed by a `#`
line (lld skips those): `# idle`, what the ready, idle agent runs (its timers, scrapes, self-metrics
export); `# run`, what start-up and the workloads run; `# shared`, names defined more than once in
BINARY (local thunks such as `$sSqwxx` that the compiler emits in many objects). lld places these
functions first in .text, in this order; everything else follows.

Why the groups: the idle agent's RSS is the page-cache folios its code touches once start-up's pages
are released (README "Footprint"), so idle code must sit together, apart from start-up and work. A
shared name orders every function of that name, and some of them sit in the Swift libraries' large
single sections (`_RegexParser`'s is 480 KB): listed among the idle ones, one such name would pull
the whole section into the idle block.
"""
import bisect
import re
import subprocess
import sys


def defined(binary):
    """{name: (address, size, how many functions of that name)} of BINARY's functions."""
    out = subprocess.run(["nm", "--defined-only", "-S", binary], capture_output=True, text=True, check=True).stdout
    syms = {}
    for parts in (line.split() for line in out.splitlines()):
        if len(parts) == 4 and parts[2] in "tTwW":
            address, size, count = syms.get(parts[3], (int(parts[0], 16), int(parts[1], 16), 0))
            syms[parts[3]] = (address, size, count + 1)
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
    """(functions of BINARY at whose instruction fetch the agent faulted, those of them after it released
    its start-up pages)."""
    syms = defined(binary)
    table = sorted((a, s, n) for n, (a, s, _) in syms.items())
    starts = [t[0] for t in table]
    segs = load_segments(binary)
    name = binary.rsplit("/", 1)[-1]
    found, idle = set(), set()
    for data in perf_files:
        after = {}  # function -> how many releases preceded its fault
        out = subprocess.run(["perf", "script", "-i", data, "--show-mmap-events", "-F", "event,addr,ip,trace"],
                             capture_output=True, text=True, check=True).stdout
        maps = []  # (start, length, file offset) of BINARY's executable mappings
        released = 0
        for line in out.splitlines():
            m = re.search(r"\[0x([0-9a-f]+)\(0x([0-9a-f]+)\) @ 0x([0-9a-f]+) .*\]: r-xp (\S+)", line)
            if m and m.group(4).endswith("/" + name):
                maps.append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16)))
                continue
            m = re.search(r"sys_enter_madvise: start: 0x([0-9a-f]+)", line)
            if m:
                released += any(start == int(m.group(1), 16) for start, _, _ in maps)
                continue
            parts = line.split()
            if len(parts) != 3 or parts[0] != "page-faults:" or parts[1] != parts[2]:
                continue  # not an instruction fetch
            parts = parts[1:]
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
                        if released:
                            after[table[i][2]] = released
                    break
        # Idle: what faulted after the last release (the agent releases during start-up, at readiness
        # and twice more once what starts right after it is over).
        idle |= {name for name, count in after.items() if count == max(after.values())}
    return found, idle


def read_groups(path):
    """{group: set of names} of an order file written by this script (an old one without groups: all "run")."""
    groups, current = {"idle": set(), "run": set(), "shared": set()}, "run"
    for line in open(path).read().split("\n"):
        if line.startswith("#"):
            current = line[1:].strip()
        elif line:
            groups.setdefault(current, set()).add(line)
    return groups


def write_groups(idle, run, ours):
    """The three groups: names defined more than once go to "shared" wherever they ran."""
    counts = {}
    for name in ours:
        counts[name] = ours[name][2]
    shared = {n for n in idle | run if counts.get(n, 1) > 1}
    idle, run = idle - shared, run - idle - shared
    for title, names in (("idle", idle), ("run", run), ("shared", shared)):
        sys.stdout.write(f"# {title}\n" + "".join(n + "\n" for n in sorted(names)))
    print(f"order.py: {len(idle)} idle, {len(run)} run, {len(shared)} shared functions", file=sys.stderr)


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ("callgrind", "faults"):
        sys.exit(__doc__)
    mode, binary = sys.argv[1], sys.argv[2]
    ours = defined(binary)
    if mode == "callgrind":
        idle = from_callgrind(sys.argv[3:4]) & ours.keys()
        run = from_callgrind(sys.argv[4:]) & ours.keys()
        if len(run) < 1000 or len(idle) < 100:
            sys.exit(f"order.py: only {len(run)} and {len(idle)} idle functions ran: did the profiles finish?")
    else:
        groups = read_groups(sys.argv[3])
        idle, run = groups["idle"], groups["run"] | groups["shared"]
        found, found_idle = from_faults(binary, sys.argv[4:])
        added = found - idle - run
        print(f"order.py: {len(added)} functions that faulted and were not listed, "
              f"{len(found_idle - idle)} more idle ones", file=sys.stderr)
        idle, run = idle | (found_idle & ours.keys()), run | added
    write_groups(idle, run, ours)


if __name__ == "__main__":
    main()
