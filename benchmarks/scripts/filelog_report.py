#!/usr/bin/env python3
"""Runs benchmarks/filelog/bench.py with the given arguments and turns its result line into one
benchmarks/run report ("filelog", or the name given first as --report NAME). Standard library only."""
import json
import os
import subprocess
import sys

bench = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "filelog", "bench.py")
args = sys.argv[1:]
name = "filelog"
if args[:1] == ["--report"]:
    name, args = args[1], args[2:]
proc = subprocess.run([sys.executable, bench, *args], capture_output=True, text=True)
sys.stderr.write(proc.stderr)
lines = proc.stdout.splitlines()
if not lines or not lines[0].startswith("{"):
    sys.exit(f"filelog_report: no result from bench.py (exit {proc.returncode}): {proc.stdout[-2000:]}")
r = json.loads(lines[0])
figures = [
    ("lines_per_s", r["lines_per_second"], "lines/s", "higher"),
    ("cpu_s_per_M_lines", r["cpu_seconds_per_million_lines"], "CPU s/M lines", "lower"),
    ("wire_bytes_per_line", r["wire_bytes_per_line"], "B", "lower"),
    ("peak_rss", round(r["peak_rss_mb"] * 1e6), "B", "lower"),
    ("lines_not_exported", r["lines"] - max(r["exported"], 0), "lines", "lower"),
]
print(json.dumps({"benchmark": name,
                  "figures": [{"name": n, "value": v, "unit": u, "better": b} for n, v, u, b in figures],
                  "info": {k: str(r[k]) for k in ("lines", "file_bytes_per_line", "gzip_level", "flux_fields", "queue_max_bytes", "batch_max_bytes")}}))
sys.exit(proc.returncode)
