#!/usr/bin/env python3
"""Profiles the idle agent under callgrind from the moment it is ready (scripts/link-order/generate).

usage: idle.py BINARY OUT

Runs BINARY under callgrind with the loopback default Flux configuration (faults.py's idle run) for
faults.IDLE_SECONDS, zeroes callgrind's counters once the agent has released its start-up pages the
last time (/readyz answers, then faults.SETTLE_SECONDS; so start-up's functions are not counted), and
dumps the profile to OUT before the agent is stopped (so shutdown's are not either).
"""
import subprocess
import sys
import time

import faults


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, out = sys.argv[1], sys.argv[2]
    command = ["valgrind", "--tool=callgrind", "--demangle=no", "--compress-strings=no", "--compress-pos=no",
               f"--callgrind-out-file={out}.all", binary]
    ready_at = []

    def when_ready(pid):
        time.sleep(faults.SETTLE_SECONDS + 10)  # under valgrind the late start-up work takes longer
        subprocess.run(["callgrind_control", "-z", str(pid)], check=True, stdout=subprocess.DEVNULL)
        ready_at.append(pid)

    def dump_before_stop():
        subprocess.run(["callgrind_control", "-d", str(ready_at[0])], check=True, stdout=subprocess.DEVNULL)
        time.sleep(2)

    faults.idle_agent(command, faults.IDLE_SECONDS, when_ready, before_stop=dump_before_stop)
    # callgrind writes the requested dump as OUT.all.1 and the final one (shutdown) as OUT.all.
    subprocess.run(["mv", f"{out}.all.1", out], check=True)


if __name__ == "__main__":
    main()
