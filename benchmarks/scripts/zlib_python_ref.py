#!/usr/bin/env python3
"""Second "zlib's own speed" reference: Python's zlib module (C zlib underneath) gzipping the very
bytes encode-bench compressed (it dumps them with FLUXTEL_BENCH_DUMP). Prints a benchmark report."""
import json
import sys
import time
import zlib

data = open(sys.argv[1], "rb").read()
figures = []


def gzip(level):
    c = zlib.compressobj(level, zlib.DEFLATED, 31, 8, zlib.Z_DEFAULT_STRATEGY)
    return c.compress(data) + c.flush()


for level in (6, 1):
    gzip(level)  # warm-up
    samples = []
    for _ in range(7):
        n, t0, c0 = 0, time.perf_counter(), time.thread_time()
        while time.perf_counter() - t0 < 0.12:
            gzip(level)
            n += 1
        samples.append(((time.perf_counter() - t0) / n, (time.thread_time() - c0) / n))
    wall = sorted(s[0] for s in samples)[len(samples) // 2]
    cpu = sorted(s[1] for s in samples)[len(samples) // 2]
    figures.append({"name": f"gzip.l{level}.python_zlib.MB_per_s", "value": len(data) / 1e6 / wall,
                    "unit": "MB/s", "better": "higher"})
    figures.append({"name": f"gzip.l{level}.python_zlib.MB_per_cpu_s", "value": len(data) / 1e6 / cpu,
                    "unit": "MB/CPU s", "better": "higher"})
print(json.dumps({"benchmark": "zlib-python", "figures": figures,
                  "info": {"zlib_runtime": zlib.ZLIB_RUNTIME_VERSION, "input_bytes": str(len(data))}}))
