#!/usr/bin/env python3
"""The scrape workload's RSS over the agent's first seconds (where its peak RSS is reached):

Starts BINARY with scrape.py's target, sink and configuration and prints a line whenever VmRSS moved by
200 kB or more, or VmHWM changed, polling /proc/PID/status every 2 ms: seconds since start, scrapes
served, VmRSS, VmHWM, RssAnon, RssFile (kB). VmHWM only records a peak when pages are unmapped
(munmap, madvise, a malloc trim), so a VmRSS above the VmHWM printed before it is a peak not yet recorded.

usage: rss_curve.py BINARY [SECONDS, default 8]
"""
import os
import sys
import tempfile
import subprocess
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scrape  # noqa: E402
from benchlib import proc_status  # noqa: E402


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    binary, seconds = sys.argv[1], float(sys.argv[2]) if len(sys.argv) == 3 else 8
    body, _ = scrape.exposition(10)
    target, sink, state = scrape.servers(body, False)
    work = tempfile.mkdtemp(prefix="fluxtel-rss-curve-")
    config = scrape.write_config(work, target, sink, 6)
    scrape.cache_binary(binary)
    start = time.monotonic()
    agent = subprocess.Popen([binary, "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = None
    try:
        while time.monotonic() - start < seconds and agent.poll() is None:
            try:
                s = {k: v // 1024 for k, v in proc_status(agent.pid).items()}
            except OSError:
                break
            if last is None or abs(s["VmRSS"] - last[0]) >= 200 or s["VmHWM"] != last[1]:
                print(f"{time.monotonic() - start:6.3f} scrapes={state['scrapes']} rss={s['VmRSS']} hwm={s['VmHWM']} "
                      f"anon={s['RssAnon']} file={s['RssFile']}", flush=True)
                last = (s["VmRSS"], s["VmHWM"])
            time.sleep(0.002)
    finally:
        scrape.stop(agent, target, sink, work)


if __name__ == "__main__":
    main()
