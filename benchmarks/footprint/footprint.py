#!/usr/bin/env python3
"""Footprint of the release binary (benchmarks/run format, one JSON report per line on stdout):

  binary.stripped_bytes    size of a stripped copy of the binary (`strip -o`; the binary itself is untouched)
  binary.unstripped_bytes  size as built by ./scripts/build-release (static Swift stdlib)
  ready_ms                 process start (just before fork/exec) to the first GET /readyz answered 200,
                           polled every 2 ms; one figure per start, --starts starts per invocation
  ready_cpu_ms             CPU the agent's threads had used at that moment (/proc/PID/task/*/schedstat):
                           what start-up costs, independent of how long a loaded machine made it wait
  idle.rss                 VmRSS after --idle-seconds with the default Flux configuration and no load
  idle.rss_anon/_file      its two parts: anonymous memory (heap, stacks) and mapped file pages (the binary)
                           (one per invocation; the first start of the invocation)
  idle.cpu_ms              CPU (utime+stime) spent over those idle seconds after /readyz
  steady.rss (_anon/_file) VmRSS of the same agent --steady-seconds (65) after /readyz: every periodic
                           job (the scrapes every 30 s, the self-metrics export every 60 s) has run
                           since the agent released its start-up pages, so this is the idle RSS it keeps

"Default Flux configuration" = config/fluxtel.yaml (the embedded defaults) with only its addresses and
paths changed so that nothing leaves 127.0.0.1: the four controller targets point at a local server
serving the kustomize-controller fixture, filelog tails an empty temporary pods directory, and the
OTLP receiver, telemetry server and exporter endpoint are bound/pointed to loopback through the
config's own env variables (FLUXTEL_OTLP_ENDPOINT, FLUXTEL_TELEMETRY_ADDRESS, DASH0_ENDPOINT).
Standard library only.

usage: footprint.py --binary PATH [--starts 2] [--idle-seconds 10] [--steady-seconds 65] [--smaps FILE]
"""
import argparse
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import QuietHandler, free_port, terminate  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Local(http.server.ThreadingHTTPServer):
    daemon_threads = True


def handler(fixture):
    class H(QuietHandler):
        def do_GET(self):
            self.reply(200, fixture, "text/plain; version=0.0.4")

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.reply(200)
    return H


def default_config(work, port):
    """config/fluxtel.yaml with the target URLs and filelog paths made local; nothing else changed."""
    text = open(os.path.join(ROOT, "config", "fluxtel.yaml")).read()
    text, n = re.subn(r"http://([a-z-]+)-metrics\.flux-system\.svc:8080/metrics", rf"http://127.0.0.1:{port}/\1/metrics", text)
    assert n == 4, "config/fluxtel.yaml no longer has the four controller targets"
    text = text.replace("/var/log/pods/", f"{work}/pods/").replace("checkpoint_dir: /var/lib/fluxtel", f"checkpoint_dir: {work}/checkpoints")
    os.makedirs(os.path.join(work, "pods"))
    os.makedirs(os.path.join(work, "checkpoints"))
    path = os.path.join(work, "fluxtel.yaml")
    open(path, "w").write(text)
    return path


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def task_cpu_ms(pid):
    """CPU time of all live threads in ns resolution (/proc/PID/task/*/schedstat, first field)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e6


def rss(pid):
    """VmRSS, RssAnon (heap, stacks, written data), RssFile (the binary's and libraries' mapped pages), in bytes."""
    out = {}
    for line in open(f"/proc/{pid}/status"):
        key = line.split(":")[0]
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(line.split()[1]) * 1024
    return out


def link_order_coverage(binary):
    """Share of scripts/link-order/fluxtel.order's functions that the binary defines: a list gone stale
    after code changes places fewer of the running functions together, and idle.rss grows."""
    try:
        listed = open(os.path.join(ROOT, "scripts", "link-order", "fluxtel.order")).read().split()
        out = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    defined = {p[2] for p in (line.split() for line in out.splitlines()) if len(p) == 3}
    return f"{sum(n in defined for n in listed) / max(len(listed), 1):.1%} of {len(listed)}"


def start_once(binary, config, env, telemetry, idle_seconds, smaps=None, steady_seconds=0):
    url = f"http://127.0.0.1:{telemetry}/readyz"
    t0 = time.monotonic()
    agent = subprocess.Popen([binary, "--config", config], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ready = None
    try:
        while time.monotonic() - t0 < 30 and agent.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        ready = time.monotonic() - t0
                        ready_cpu = task_cpu_ms(agent.pid)
                        break
            except Exception:
                time.sleep(0.002)
        if ready is None:
            agent.kill()
            raise SystemExit(f"agent never ready: {agent.communicate()[1][-2000:].decode(errors='replace')}")
        idle = None
        if idle_seconds:
            cpu0 = cpu_seconds(agent.pid)
            time.sleep(idle_seconds)
            if agent.poll() is not None:
                raise SystemExit(f"agent exited during idle: {agent.communicate()[1][-2000:].decode(errors='replace')}")
            idle = (rss(agent.pid), cpu_seconds(agent.pid) - cpu0, None)
            if steady_seconds > idle_seconds:
                time.sleep(steady_seconds - idle_seconds)
                if agent.poll() is not None:
                    raise SystemExit(f"agent exited during idle: {agent.communicate()[1][-2000:].decode(errors='replace')}")
                idle = (idle[0], idle[1], rss(agent.pid))
            if smaps:
                shutil.copyfile(f"/proc/{agent.pid}/smaps", smaps)
        return ready, ready_cpu, idle
    finally:
        terminate(agent, 30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--starts", type=int, default=2, help="starts per invocation (ready_ms samples)")
    ap.add_argument("--idle-seconds", type=float, default=10)
    ap.add_argument("--steady-seconds", type=float, default=65,
                    help="second RSS sample, once every periodic job ran after start-up (0: none)")
    ap.add_argument("--smaps", help="copy /proc/PID/smaps of the idle agent here (where the idle RSS goes)")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="fluxtel-footprint-")
    try:
        stripped = os.path.join(work, "fluxtel.stripped")
        subprocess.run(["strip", "-o", stripped, a.binary], check=True)
        sizes = (os.path.getsize(stripped), os.path.getsize(a.binary))
        fixture = open(os.path.join(ROOT, "benchmarks", "fixtures", "kustomize-controller.prom"), "rb").read()
        server = Local(("127.0.0.1", 0), handler(fixture))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        config = default_config(work, server.server_address[1])
        coverage = link_order_coverage(a.binary)
        for i in range(a.starts):
            telemetry, otlp = free_port(), free_port()
            env = dict(os.environ, FLUXTEL_TELEMETRY_ADDRESS=f"127.0.0.1:{telemetry}", FLUXTEL_OTLP_ENDPOINT=f"127.0.0.1:{otlp}",
                       DASH0_ENDPOINT=f"http://127.0.0.1:{server.server_address[1]}", DASH0_AUTH_TOKEN="bench")
            env.pop("CLUSTER_NAME", None)
            ready, ready_cpu, idle = start_once(a.binary, config, env, telemetry, a.idle_seconds if i == 0 else 0,
                                                 a.smaps if i == 0 else None, a.steady_seconds if i == 0 else 0)
            figures = [{"name": "ready_ms", "value": round(ready * 1000, 2), "unit": "ms", "better": "lower"},
                       {"name": "ready_cpu_ms", "value": round(ready_cpu, 2), "unit": "ms CPU", "better": "lower"}]
            if i == 0:
                figures += [
                    {"name": "binary.stripped_bytes", "value": sizes[0], "unit": "B", "better": "lower"},
                    {"name": "binary.unstripped_bytes", "value": sizes[1], "unit": "B", "better": "lower"},
                    {"name": "idle.rss", "value": idle[0]["VmRSS"], "unit": "B", "better": "lower"},
                    {"name": "idle.rss_anon", "value": idle[0].get("RssAnon", 0), "unit": "B", "better": "lower"},
                    {"name": "idle.rss_file", "value": idle[0].get("RssFile", 0), "unit": "B", "better": "lower"},
                    {"name": "idle.cpu_ms", "value": round(idle[1] * 1000, 1), "unit": "ms CPU", "better": "lower"},
                ]
                if idle[2]:
                    figures += [
                        {"name": "steady.rss", "value": idle[2]["VmRSS"], "unit": "B", "better": "lower"},
                        {"name": "steady.rss_anon", "value": idle[2].get("RssAnon", 0), "unit": "B", "better": "lower"},
                        {"name": "steady.rss_file", "value": idle[2].get("RssFile", 0), "unit": "B", "better": "lower"},
                    ]
            print(json.dumps({"benchmark": "footprint", "figures": figures,
                              "info": {"idle_seconds": str(a.idle_seconds), "steady_seconds": str(a.steady_seconds), "config": "config/fluxtel.yaml, loopback addresses and temp paths",
                                       "link_order_coverage": coverage}}),
                  flush=True)
        server.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
