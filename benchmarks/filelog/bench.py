#!/usr/bin/env python3
"""File log receiver benchmark (issue 4, acceptance 6): N Flux-shaped lines in CRI format, from a file
to a local OTLP/HTTP sink, through the release `fluxtel` binary with gzip on.

  swift build -c release --product fluxtel
  python3 benchmarks/filelog/bench.py [--lines 1000000] [--binary .build/release/fluxtel] [--level 6]
                                      [--flux-fields copy|move]

Lines are the Flux fixture's real-shaped lines of 300-900 bytes (about 475 bytes each with the CRI
prefix), chosen at random (seeded) with fresh timestamps, reconcileIDs, names and revisions (see generate()). The agent starts
after the file is written (start_at: beginning) and is measured from its start until its own
`fluxtel_items_exported_total{signal="logs"}` reaches N:

  lines/s            N / wall seconds
  CPU s per 1M lines (utime + stime of the agent process, from /proc) * 1e6 / N
  wire bytes/line    gzip-compressed request bodies the sink received / N
  peak RSS           VmHWM of the agent process

Standard library only (the sink does not decode; the agent's exported counter and the sink's
request count are cross-checked). Prints a JSON object and a table.
"""
import argparse
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import QuietHandler, free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "Tests", "Interop", "flux-logs.jsonl")
POD = "pods/flux-system_kustomize-controller-5f7457c9dd-9xvxq_5b1c3c2e-0000-4000-8000-000000000001/manager"
UUID_RE = re.compile(r'"reconcileID":"[0-9a-f-]{36}"')
TS_RE = re.compile(r'"ts":"[^"]*"')


class Sink(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SinkHandler)
        self.lock = threading.Lock()
        self.requests = 0
        self.body_bytes = 0
        self.inflated_bytes = 0
        self.inflate = False
        self.save_body = None


class SinkHandler(QuietHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        remaining = length
        parts = []
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
            if self.server.inflate:
                parts.append(chunk)
        inflated = 0
        if self.server.inflate:
            import gzip
            body = gzip.decompress(b"".join(parts))
            inflated = len(body)
            if self.server.save_body and not os.path.exists(self.server.save_body):
                with open(self.server.save_body, "wb") as f:
                    f.write(body)
        with self.server.lock:
            self.server.requests += 1
            self.server.body_bytes += length
            self.server.inflated_bytes += inflated
        self.reply(200)


def generate(path, n):
    """Flux-shaped lines: a seeded random choice among the fixture's 300-900 byte lines (no short
    cycle that would flatter gzip's 32 KiB window), a fresh timestamp per line, a random reconcileID
    per line, object names from a pool of 200 and revisions that change every ~50 lines."""
    import random
    rng = random.Random(4)
    lines = [l.rstrip("\n") for l in open(FIXTURE, encoding="utf-8") if 300 <= len(l.rstrip("\n")) <= 900]
    names = [f"{rng.choice(['apps', 'infra', 'podinfo', 'team', 'monitoring', 'cert-manager', 'ingress'])}-{rng.randrange(1000)}" for _ in range(200)]
    name_re = re.compile(r'"name":"[^"]*"')
    sha_re = re.compile(r'sha1:[0-9a-f]{40}')
    total = 0
    sha = "%040x" % rng.getrandbits(160)
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as f:
        for i in range(n):
            seconds, millis = divmod(i, 1000)
            hh, rem = divmod(seconds, 3600)
            mm, ss = divmod(rem, 60)
            stamp = f"2026-08-12T{9 + hh % 15:02d}:{mm:02d}:{ss:02d}.{millis:03d}"
            if i % 50 == 0:
                sha = "%040x" % rng.getrandbits(160)
            line = rng.choice(lines)
            line = TS_RE.sub(f'"ts":"{stamp}Z"', line, count=1)
            uuid = "%08x-%04x-4%03x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                                                   0x8000 | rng.getrandbits(14), rng.getrandbits(48))
            line = UUID_RE.sub(f'"reconcileID":"{uuid}"', line, count=1)
            name = rng.choice(names)
            line = name_re.sub(f'"name":"{name}"', line)
            line = sha_re.sub(f"sha1:{sha}", line)
            out = f"{stamp}{rng.randrange(1000000):06d}Z stderr F {line}\n"
            total += len(out.encode())
            f.write(out)
    return total


def cached_generate(path, n, cache):
    """generate() once per line count: later runs hard-link the same file (the agent only reads it)."""
    if not cache:
        return generate(path, n)
    os.makedirs(cache, exist_ok=True)
    cached = os.path.join(cache, f"flux-cri-{n}-v1.log")
    if not os.path.exists(cached):
        generate(cached + ".tmp", n)
        os.rename(cached + ".tmp", cached)
    try:
        os.link(cached, path)
    except OSError:
        shutil.copyfile(cached, path)
    return os.path.getsize(path)


def exported(port):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except Exception:
        return -1
    for line in text.splitlines():
        if line.startswith("fluxtel_items_exported_total") and 'signal="logs"' in line:
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


LAST_USER_SYS = (0.0, 0.0)


def proc_stats(pid):
    ticks = os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    global LAST_USER_SYS
    LAST_USER_SYS = (int(fields[11]) / ticks, int(fields[12]) / ticks)
    hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
    return cpu, hwm


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "fluxtel"))
    parser.add_argument("--level", type=int, default=6, help="gzip level of the exporter (1-9)")
    parser.add_argument("--flux-fields", default="copy", choices=["copy", "move"],
                        help="receivers.filelog.flux_fields (move: members that repeat flux.* are left out)")
    parser.add_argument("--queue", default="16MiB", help="processors.queue.max_bytes")
    parser.add_argument("--batch-bytes", default="1MiB", help="processors.batch.max_bytes")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "fluxtel-filelog-bench"),
                        help="directory that keeps the generated file between runs (hard-linked into each run; '' = none)")
    parser.add_argument("--inflate", action="store_true",
                        help="the sink gunzips every body to report uncompressed bytes per line (costs sink CPU)")
    parser.add_argument("--save-body", default="", help="with --inflate: write the first uncompressed body there")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="fluxtel-bench-")
    try:
        os.makedirs(os.path.join(work, POD))
        log = os.path.join(work, POD, "0.log")
        file_bytes = cached_generate(log, args.lines, args.cache)
        sink = Sink()
        sink.inflate = args.inflate
        sink.save_body = args.save_body or None
        threading.Thread(target=sink.serve_forever, daemon=True).start()
        telemetry = free_port()
        config = os.path.join(work, "fluxtel.yaml")
        with open(config, "w") as f:
            f.write(f"""receivers:
  filelog:
    include: ["{work}/pods/*/*/*.log"]
    start_at: beginning
    checkpoint_dir: {work}/checkpoints
    flux_fields: {args.flux_fields}
exporters:
  otlp_http:
    endpoint: http://127.0.0.1:{sink.server_address[1]}
    compression: gzip
    compression_level: {args.level}
processors:
  queue: {{ max_bytes: {args.queue} }}
  batch: {{ max_bytes: {args.batch_bytes} }}
  max_age: 0  # the generated lines are dated 2026-08-12 (a fixed input), older than the default 6h
service:
  telemetry: {{ address: "127.0.0.1:{telemetry}" }}
""")
        start = time.monotonic()
        agent = subprocess.Popen([args.binary, "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        done = 0
        deadline = start + 600
        cpu, hwm = 0.0, 0
        while time.monotonic() < deadline and agent.poll() is None:
            done = exported(telemetry)
            cpu, hwm = proc_stats(agent.pid)
            if done >= args.lines:
                break
            time.sleep(0.05)
        wall = time.monotonic() - start
        cpu, hwm = proc_stats(agent.pid)
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
        sink.shutdown()
        result = {
            "lines": args.lines,
            "exported": done,
            "file_bytes_per_line": round(file_bytes / args.lines, 1),
            "wall_seconds": round(wall, 2),
            "lines_per_second": round(args.lines / wall),
            "cpu_seconds": round(cpu, 2),
            "cpu_seconds_per_million_lines": round(cpu * 1e6 / args.lines, 2),
            "user_seconds": round(LAST_USER_SYS[0], 2),
            "sys_seconds": round(LAST_USER_SYS[1], 2),
            "wire_bytes_per_line": round(sink.body_bytes / args.lines, 1),
            "requests": sink.requests,
            **({"uncompressed_bytes_per_line": round(sink.inflated_bytes / args.lines, 1)} if args.inflate else {}),
            "peak_rss_mb": round(hwm / 1e6, 1),
            "gzip_level": args.level,
            "flux_fields": args.flux_fields,
            "queue_max_bytes": args.queue,
            "batch_max_bytes": args.batch_bytes,
        }
        print(json.dumps(result))
        print()
        print("| lines | lines/s | CPU s / 1M lines | wire bytes / line | peak RSS | requests | gzip level |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print(f"| {args.lines:,} | {result['lines_per_second']:,} | {result['cpu_seconds_per_million_lines']} | "
              f"{result['wire_bytes_per_line']} | {result['peak_rss_mb']} MB | {sink.requests} | {args.level} |")
        if done < args.lines:
            print(f"incomplete: {done} of {args.lines} exported", file=sys.stderr)
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
