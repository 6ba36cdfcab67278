#!/usr/bin/env python3
"""Scrape workload of the whole agent (issue 19; benchmarks/run format, one JSON report on stdout):

The release binary with `receivers.prometheus` alone scrapes one target on 127.0.0.1 every second. The
target serves benchmarks/fixtures/kustomize-controller.prom ten times over as one exposition (every
sample of copy i gets the label replica="i", so the copies are distinct series: 2,120 samples), plain
text/plain; version=0.0.4. Every family is kept (include_metrics: ["*"]), so all of it is parsed,
converted, batched, gzip-compressed (level 6, the default) and exported to a sink on 127.0.0.1 that
counts the data points it receives (a few lines of protobuf walking, standard library only).

Figures, over --scrapes scrapes after --warmup scrapes:
  cpu_ms_per_scrape   the agent's CPU (user + system, all threads, from /proc/PID/task/*/schedstat in ns,
                      threads followed as they come and go) between two instants half a second after
                      a scrape, N intervals apart, divided by N: HTTP fetch, parse, convert, batch,
                      gzip and export included, and whatever else the idle agent does in that second
  rss_peak            VmHWM at the end (the agent's peak RSS since it started)
  rss_end             VmRSS at the end (the binary is read once before the start, so that its file-backed
                      part does not depend on what earlier runs or copies left in the page cache)
  points_per_scrape   data points the sink received per scrape (median over every scrape delivered;
                      a scrape's points all carry its time, so the sink counts them per scrape)
  wire_bytes_per_scrape  gzip bytes the sink received, divided by the scrapes delivered
info: the same CPU from /proc/PID/stat utime+stime (clock ticks: coarse), samples served per scrape,
uncompressed OTLP bytes per scrape, RSS parts at the end.

usage: scrape.py --binary PATH [--scrapes 25] [--warmup 5] [--copies 10] [--level 6] [--target-gzip]
                 [--attach 'PROFILER ... {pid}']
"""
import argparse
import collections
import gzip
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import QuietHandler, free_port, proc_status, terminate  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def exposition(copies):
    """The fixture `copies` times over as one valid exposition: each family's HELP/TYPE once, then its
    samples for replica 0, 1, … (a histogram's series stay together). Returns (body, samples)."""
    blocks, comments, samples = [], [], []
    for line in open(os.path.join(ROOT, "benchmarks", "fixtures", "kustomize-controller.prom")).read().splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            if samples:
                blocks.append((comments, samples))
                comments, samples = [], []
            comments.append(line)
        else:
            samples.append(line)
    blocks.append((comments, samples))
    out, count = [], 0
    for comments, lines in blocks:
        out.extend(comments)
        for i in range(copies):
            for line in lines:
                brace, space = line.find("{"), line.find(" ")
                if brace != -1 and brace < space:
                    out.append(f'{line[:brace]}{{replica="{i}",{line[brace + 1:]}'.replace(",}", "}"))
                else:
                    out.append(f'{line[:space]}{{replica="{i}"}}{line[space:]}')
                count += 1
    return ("\n".join(out) + "\n").encode(), count


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def fields(buf, start=0, end=None):
    """(field number, wire type, value or (start, end) of a length-delimited field) of one message."""
    i, end = start, len(buf) if end is None else end
    while i < end:
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value, i = int.from_bytes(buf[i:i + 8], "little"), i + 8
        elif wire == 5:
            value, i = None, i + 4
        elif wire == 2:
            n, i = varint(buf, i)
            value, i = (i, i + n), i + n
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def count_points(raw, by_time):
    """Data points in an ExportMetricsServiceRequest, counted by their time_unix_nano (one per scrape):
    resource_metrics(1) → scope_metrics(2) → metrics(2) → gauge(5) | sum(7) | histogram(9) |
    exponential_histogram(10) | summary(11) → data_points(1) → time_unix_nano(3, fixed64)."""
    for n, w, rm in fields(raw):
        if n != 1 or w != 2:
            continue
        for n, w, sm in fields(raw, *rm):
            if n != 2 or w != 2:
                continue
            for n, w, m in fields(raw, *sm):
                if n != 2 or w != 2:
                    continue
                for n, w, data in fields(raw, *m):
                    if n not in (5, 7, 9, 10, 11) or w != 2:
                        continue
                    for f, fw, point in fields(raw, *data):
                        if f == 1 and fw == 2:
                            t = None
                            for pf, pw, pv in fields(raw, *point):
                                if pf == 3 and pw == 1:
                                    t = pv
                            by_time[t] += 1


class Local(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the agent stopping mid-scrape: a broken pipe, nothing to report


def servers(body, target_gzip):
    state = {"scrapes": 0, "served_at": [], "points": collections.Counter(), "wire": 0, "raw": 0, "lock": threading.Lock()}
    zipped = gzip.compress(body, 6)

    class Target(QuietHandler):
        def do_GET(self):
            if target_gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(zipped)))
                self.end_headers()
                self.wfile.write(zipped)
            else:
                self.reply(200, body, "text/plain; version=0.0.4; charset=utf-8")
            with state["lock"]:
                state["scrapes"] += 1
                state["served_at"].append(time.monotonic())

    class Sink(QuietHandler):
        def do_POST(self):
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            raw = gzip.decompress(data) if self.headers.get("Content-Encoding") == "gzip" else data
            by_time = collections.Counter()
            if self.path.endswith("/v1/metrics"):
                count_points(raw, by_time)
            with state["lock"]:
                state["points"].update(by_time)
                state["wire"] += len(data)
                state["raw"] += len(raw)
            self.reply(200)

    target, sink = Local(("127.0.0.1", 0), Target), Local(("127.0.0.1", 0), Sink)
    for s in (target, sink):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    return target, sink, state


def write_config(work, target, sink, level):
    """The agent's configuration in WORK: receivers.prometheus alone, every family kept, scraping TARGET
    every second, exporting to SINK with gzip LEVEL. Returns its path."""
    config = os.path.join(work, "fluxtel.yaml")
    with open(config, "w") as f:
        f.write(f"""receivers:
  prometheus:
    scrape_interval: 1s
    scrape_timeout: 1s
    include_metrics: ["*"]
    targets:
      - url: http://127.0.0.1:{target.server_address[1]}/metrics
        labels: {{ job: kustomize-controller }}
exporters:
  otlp_http:
    endpoint: http://127.0.0.1:{sink.server_address[1]}
    compression: gzip
    compression_level: {level}
service:
  telemetry:
    address: 127.0.0.1:{free_port()}
    log_level: warning
""")
    return config


def stop(agent, target, sink, work):
    """Stops the agent, then the target and the sink, and removes WORK."""
    terminate(agent, 10)
    target.shutdown()
    sink.shutdown()
    shutil.rmtree(work, ignore_errors=True)


def cache_binary(path):
    """The binary's pages all in the page cache, as after an image pull: RssFile then depends on the code
    the agent runs, not on what earlier runs, copies or builds left cached (two builds compare alike)."""
    with open(os.path.realpath(path), "rb") as f:
        while f.read(1 << 20):
            pass


class TaskCPU:
    """CPU of all the agent's threads in ns, following threads that start and end between polls."""

    def __init__(self, pid):
        self.pid, self.seen = pid, {}

    def poll(self):
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                self.seen[tid] = int(open(f"/proc/{self.pid}/task/{tid}/schedstat").read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return sum(self.seen.values())


def stat_cpu(pid):
    fields_ = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields_[11]) + int(fields_[12])) / CLK_TCK


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--scrapes", type=int, default=25, help="scrapes measured (>= 20)")
    ap.add_argument("--warmup", type=int, default=5, help="scrapes before the window")
    ap.add_argument("--copies", type=int, default=10, help="copies of the fixture in the exposition")
    ap.add_argument("--level", type=int, default=6, help="exporter gzip level")
    ap.add_argument("--target-gzip", action="store_true", help="serve the exposition gzip-compressed (as client_golang does)")
    ap.add_argument("--attach", help="profiler run over the window only, {pid} = the agent's, stopped with SIGINT; "
                    "e.g. 'strace -c -f -o OUT -p {pid}' or 'perf record -g -o OUT -p {pid}'")
    a = ap.parse_args()

    body, samples = exposition(a.copies)
    target, sink, state = servers(body, a.target_gzip)
    work = tempfile.mkdtemp(prefix="fluxtel-scrape-")
    config = write_config(work, target, sink, a.level)
    cache_binary(a.binary)
    log = open(os.path.join(work, "agent.log"), "wb")
    env = dict(os.environ)
    env.pop("CLUSTER_NAME", None)
    agent = subprocess.Popen([a.binary, "--config", config], stdout=subprocess.DEVNULL, stderr=log, env=env)

    def fail(why):
        terminate(agent, 10)
        tail = open(os.path.join(work, "agent.log"), "rb").read()[-2000:].decode(errors="replace")
        raise SystemExit(f"scrape.py: {why}\nagent log:\n{tail}")

    def wait_scrapes(n, timeout):
        deadline = time.monotonic() + timeout
        while state["scrapes"] < n:
            if agent.poll() is not None or time.monotonic() > deadline:
                fail(f"{state['scrapes']} of {n} scrapes served")
            time.sleep(0.01)
        return state["served_at"][n - 1]

    try:
        tasks = TaskCPU(agent.pid)
        # The window starts and ends half a second after a scrape: N whole intervals, whatever the phase of
        # the batch timer, contain N scrapes and N exports.
        first = wait_scrapes(a.warmup, 30 + a.warmup * 2)
        time.sleep(max(0, first + 0.5 - time.monotonic()))
        with state["lock"]:
            n0 = state["scrapes"]
        attached = subprocess.Popen("exec " + a.attach.format(pid=agent.pid), shell=True) if a.attach else None
        c0, s0 = tasks.poll(), stat_cpu(agent.pid)
        while state["scrapes"] < n0 + a.scrapes:
            if agent.poll() is not None:
                fail("agent exited")
            tasks.poll()
            time.sleep(0.2)
        last = state["served_at"][n0 + a.scrapes - 1]
        time.sleep(max(0, last + 0.5 - time.monotonic()))
        with state["lock"]:
            n1 = state["scrapes"]
        c1, s1 = tasks.poll(), stat_cpu(agent.pid)
        if attached:
            attached.send_signal(signal.SIGINT)
            attached.wait()
        mem = proc_status(agent.pid)
        scrapes = n1 - n0
        # Every point of a scrape carries the scrape's time: points and wire bytes per scrape are exact
        # over every scrape whose batch arrived (exports trail by the 1 s batch timeout).
        time.sleep(2.5)
        with state["lock"]:
            per_scrape = sorted(state["points"].values())
            wire = state["wire"]
            raw = state["raw"]
        figures = [
            {"name": "cpu_ms_per_scrape", "value": round((c1 - c0) / 1e6 / scrapes, 3), "unit": "ms CPU", "better": "lower"},
            {"name": "rss_peak", "value": mem["VmHWM"], "unit": "B", "better": "lower"},
            {"name": "rss_end", "value": mem["VmRSS"], "unit": "B", "better": "lower"},
            {"name": "points_per_scrape", "value": per_scrape[len(per_scrape) // 2], "unit": "points", "better": "higher"},
            {"name": "wire_bytes_per_scrape", "value": round(wire / len(per_scrape)), "unit": "B", "better": "lower"},
        ]
        print(json.dumps({"benchmark": "scrape", "figures": figures, "info": {
            "samples_per_scrape": str(samples), "scrapes_delivered": str(len(per_scrape)),
            "points_per_scrape_min_max": f"{per_scrape[0]}-{per_scrape[-1]}",
            "otlp_bytes_per_scrape": str(round(raw / len(per_scrape))), "exposition_bytes": str(len(body)), "scrapes": str(scrapes),
            "cpu_ms_per_scrape_from_stat_ticks": f"{(s1 - s0) * 1000 / scrapes:.2f}",
            "rss_anon_end": str(mem.get("RssAnon", 0)), "rss_file_end": str(mem.get("RssFile", 0)),
            "target_gzip": str(a.target_gzip), "gzip_level": str(a.level)}}), flush=True)
    finally:
        stop(agent, target, sink, work)


if __name__ == "__main__":
    main()
