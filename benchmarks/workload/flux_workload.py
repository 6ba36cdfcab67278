#!/usr/bin/env python3
"""The realistic Flux workload (part of benchmarks/run) and the soak (benchmarks/soak), end to end through
the release `fluxtel` binary. Everything listens and sends on 127.0.0.1 only; every loop is bounded.

  realistic  four Prometheus targets serving the kustomize-controller fixture, scraped every 30 s;
             50 CRI Flux JSON log lines/s appended to four controller log files the agent tails;
             5 spans/s, one span per POST (notification-controller's pattern) to the OTLP receiver;
             a local sink answering 200. Prints one benchmarks/run report per minute (JSON lines):
             CPU as % of one core over that minute (utime+stime from /proc/PID/stat) and RSS (max,
             median of 1 s samples), then a final report with losses and duplicates.
  soak       the same at --scale (default 20x: 4*scale targets, 50*scale lines/s, 5*scale spans/s)
             for --minutes (default 30) with the sink answering 503 to --fail-ratio (10 %) of requests;
             samples RSS every --sample-seconds; writes a JSON result with the RSS series, losses and
             duplicates by unique key (log sequence numbers carried in reconcileID, span ids), and
             whether RSS stayed within 10 % after warm-up.

Unique keys: every log line's reconcileID is 5eed0000-0000-4000-8000-<seq as 12 hex digits>; every
span's span_id is its sequence number. The sink decodes each accepted request with the official
opentelemetry-proto classes and counts each key; a key sent but never received is a loss, one received
twice (in requests answered 200) a duplicate. Needs .venv (./scripts/bootstrap --python).

usage: flux_workload.py realistic|soak [--binary PATH] [--minutes N] [--scale N] [--fail-ratio F] [--out FILE]
"""
import argparse
import collections
import gzip
import http.client
import http.server
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import QuietHandler, free_port, terminate  # noqa: E402

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
FIXTURES = os.path.join(BENCH, "fixtures")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SEQ_PREFIX = "5eed0000-0000-4000-8000-"
CONTROLLERS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"]


def log(msg):
    print(f"[workload {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------- targets

class Targets(http.server.ThreadingHTTPServer):
    """Serves the fixture exposition at /t/<i>/metrics for every target i (one port, many targets)."""
    daemon_threads = True

    def __init__(self, body):
        super().__init__(("127.0.0.1", 0), TargetHandler)
        self.body = body
        self.scrapes = 0
        self.lock = threading.Lock()


class TargetHandler(QuietHandler):

    def do_GET(self):
        body = self.server.body
        with self.server.lock:
            self.server.scrapes += 1
        self.reply(200, body, "text/plain; version=0.0.4; charset=utf-8")


# ------------------------------------------------------------------------------------------- sink

class Sink(http.server.ThreadingHTTPServer):
    """The backend: answers 503 to a seeded fail_ratio of requests, decodes the others and counts keys."""
    daemon_threads = True

    def __init__(self, fail_ratio):
        super().__init__(("127.0.0.1", 0), SinkHandler)
        self.fail_ratio = fail_ratio
        self.rng = random.Random(7)
        self.lock = threading.Lock()
        self.log_seqs = collections.Counter()
        self.span_ids = collections.Counter()
        self.points = 0
        self.requests = collections.Counter()  # (path, status)
        self.wire_bytes = 0


class SinkHandler(QuietHandler):

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        srv = self.server
        with srv.lock:
            fail = srv.fail_ratio > 0 and srv.rng.random() < srv.fail_ratio
        if fail:
            with srv.lock:
                srv.requests[(self.path, 503)] += 1
            self.reply(503)
            return
        raw = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
        seqs, spans, points = [], [], 0
        if self.path.endswith("/v1/logs"):
            for rl in ExportLogsServiceRequest.FromString(raw).resource_logs:
                for sl in rl.scope_logs:
                    for rec in sl.log_records:
                        seqs.append(record_seq(rec))
        elif self.path.endswith("/v1/traces"):
            for rs in ExportTraceServiceRequest.FromString(raw).resource_spans:
                for ss in rs.scope_spans:
                    spans.extend(int.from_bytes(s.span_id, "big") for s in ss.spans)
        elif self.path.endswith("/v1/metrics"):
            for rm in ExportMetricsServiceRequest.FromString(raw).resource_metrics:
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        kind = m.WhichOneof("data")
                        points += len(getattr(m, kind).data_points) if kind else 0
        with srv.lock:
            srv.requests[(self.path, 200)] += 1
            srv.wire_bytes += len(body)
            srv.log_seqs.update(seqs)
            srv.span_ids.update(spans)
            srv.points += points
        self.reply(200)


def record_seq(rec):
    for kv in rec.attributes:
        v = kv.value.string_value
        if v.startswith(SEQ_PREFIX):
            return int(v[len(SEQ_PREFIX):], 16)
    return -1  # a record without a sequence number (counted, never expected)


# ------------------------------------------------------------------------------------- generators

class LogWriter(threading.Thread):
    """Appends CRI lines (real Flux controller JSON with fresh ts and a sequence number in reconcileID)
    round-robin to one 0.log per controller, at `rate` lines/s in 100 ms ticks. Rotates like the kubelet
    (rename to 0.log.<n>, new 0.log) when a file passes rotate_bytes, keeping the two newest rotations."""

    def __init__(self, root, rate, rotate_bytes, stop):
        super().__init__(daemon=True)
        self.rate, self.rotate_bytes, self.stop = rate, rotate_bytes, stop
        lines = [l.rstrip("\n") for l in open(os.path.join(FIXTURES, "flux-logs.jsonl"), encoding="utf-8")]
        self.templates = [l for l in lines if '"reconcileID":"' in l]
        self.dirs = []
        for i, c in enumerate(CONTROLLERS):
            d = os.path.join(root, f"flux-system_{c}-5f7457c9dd-{i}x{i}q_5b1c3c2e-0000-4000-8000-00000000000{i}", "manager")
            os.makedirs(d)
            self.dirs.append(d)
        self.files = [open(os.path.join(d, "0.log"), "a", encoding="utf-8") for d in self.dirs]
        self.rotations = [0] * len(self.dirs)
        self.sent = 0
        self.error = None

    def line(self, seq):
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        frac = f"{now % 1:.9f}"[2:]
        t = self.templates[seq % len(self.templates)]
        t = re.sub(r'"ts":"[^"]*"', f'"ts":"{stamp}.{frac[:3]}Z"', t, count=1)
        t = re.sub(r'"reconcileID":"[^"]*"', f'"reconcileID":"{SEQ_PREFIX}{seq:012x}"', t, count=1)
        return f"{stamp}.{frac}Z stderr F {t}\n"

    def rotate(self, i):
        self.files[i].close()
        self.rotations[i] += 1
        n = self.rotations[i]
        os.rename(os.path.join(self.dirs[i], "0.log"), os.path.join(self.dirs[i], f"0.log.{n}"))
        stale = os.path.join(self.dirs[i], f"0.log.{n - 2}")
        if os.path.exists(stale):
            os.unlink(stale)
        self.files[i] = open(os.path.join(self.dirs[i], "0.log"), "a", encoding="utf-8")

    def run(self):
        try:
            start = time.monotonic()
            while not self.stop.is_set():
                due = int((time.monotonic() - start) * self.rate)
                while self.sent < due:
                    i = self.sent % len(self.files)
                    self.files[i].write(self.line(self.sent))
                    self.sent += 1
                for i, f in enumerate(self.files):
                    f.flush()
                    if f.tell() > self.rotate_bytes:
                        self.rotate(i)
                self.stop.wait(0.1)
        except Exception as e:  # surfaced in the report, never silently
            self.error = repr(e)
        finally:
            for f in self.files:
                f.close()


def span_request(seq):
    """One span per request, shaped like notification-controller's (FLUX.md §1); span_id = seq."""
    def kv(k, v):
        return KeyValue(key=k, value=AnyValue(string_value=v))
    now = time.time_ns()
    span = Span(trace_id=random.getrandbits(128).to_bytes(16, "big"), span_id=seq.to_bytes(8, "big"), flags=0x301,
                name=f"Kustomization: flux-system/apps-{seq % 97}", kind=Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=now - 538_000_000, end_time_unix_nano=now,
                attributes=[kv("object.uid", "10f37fad-840b-4d46-955a-7f18350de0fc"), kv("object.kind", "Kustomization"),
                            kv("object.name", f"apps-{seq % 97}"), kv("object.namespace", "flux-system"),
                            kv("revision", "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"),
                            kv("originRevision", "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b")],
                status=Status(code=Status.STATUS_CODE_OK))
    rs = ResourceSpans(resource=Resource(attributes=[kv("service.name", "flux-system/otel-tempo"),
                                                     kv("service.namespace", "flux-system")]),
                       scope_spans=[ScopeSpans(scope=InstrumentationScope(name="flux:notification-controller"), spans=[span])],
                       schema_url="https://opentelemetry.io/schemas/1.34.0")
    return ExportTraceServiceRequest(resource_spans=[rs]).SerializeToString()


class SpanSender(threading.Thread):
    """POSTs one span per request at `rate`/s over a keep-alive connection; retries a refused request
    (non-2xx or connection error) up to 8 times with backoff, as otel-go's exporter does."""

    def __init__(self, port, rate, stop):
        super().__init__(daemon=True)
        self.port, self.rate, self.stop = port, rate, stop
        self.accepted = set()
        self.gave_up = 0
        self.retries = 0
        self.sent = 0
        self.error = None

    def post(self, conn, body):
        conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
        r = conn.getresponse()
        r.read()
        return r.status

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            start = time.monotonic()
            seq = 1
            while not self.stop.is_set():
                due = int((time.monotonic() - start) * self.rate)
                while seq <= due and not self.stop.is_set():
                    body = span_request(seq)
                    for attempt in range(9):
                        try:
                            status = self.post(conn, body)
                        except (OSError, http.client.HTTPException):
                            conn.close()
                            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                            status = 0
                        if 200 <= status < 300:
                            self.accepted.add(seq)
                            break
                        self.retries += 1
                        time.sleep(min(0.1 * 2 ** attempt, 5))
                    else:
                        self.gave_up += 1
                    self.sent = seq
                    seq += 1
                self.stop.wait(0.02)
        except Exception as e:
            self.error = repr(e)
        finally:
            conn.close()


# ------------------------------------------------------------------------------------------ agent

def proc_cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss(pid):
    return int(open(f"/proc/{pid}/statm").read().split()[1]) * PAGE


def proc_rss_parts(pid):
    """(RssAnon, RssFile) in bytes: heap and stacks vs. mapped pages of the binary and its libraries."""
    parts = {}
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(("RssAnon:", "RssFile:")):
            parts[line.split(":")[0]] = int(line.split()[1]) * 1024
    return parts.get("RssAnon", 0), parts.get("RssFile", 0)


def agent_metrics(port):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except Exception:
        return {}
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(fluxtel_items_\w+_total)\{signal="(\w+)"\} (\S+)$', line)
        if m:
            out[f"{m.group(1)}.{m.group(2)}"] = float(m.group(3))
    return out


def write_config(work, targets_port, n_targets, sink_port, otlp_port, telemetry_port):
    targets = "\n".join(
        f"      - url: http://127.0.0.1:{targets_port}/t/{i}/metrics\n"
        f"        labels: {{ controller: {CONTROLLERS[i % 4]}{'' if i < 4 else f'-{i // 4}'} }}"
        for i in range(n_targets))
    path = os.path.join(work, "fluxtel.yaml")
    # Only addresses and paths differ from the embedded Flux defaults (config/fluxtel.yaml): scrape interval,
    # include filter, batch, queue, gzip level, retry all keep their defaults.
    with open(path, "w") as f:
        f.write(f"""receivers:
  prometheus:
    targets:
{targets}
  filelog:
    include: ["{work}/pods/flux-system_*/*/*.log"]
    start_at: beginning
    checkpoint_dir: {work}/checkpoints
  otlp:
    endpoint: "127.0.0.1:{otlp_port}"
exporters:
  otlp_http:
    endpoint: http://127.0.0.1:{sink_port}
service:
  telemetry:
    address: "127.0.0.1:{telemetry_port}"
    log_level: warning
""")
    os.makedirs(os.path.join(work, "checkpoints"))
    return path


def wait_ready(port, proc, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).status == 200:
                return True
        except Exception:
            pass
        time.sleep(0.01)
    return False


def run_workload(binary, minutes, scale, fail_ratio, sample_seconds, window_seconds, rotate_bytes, on_window=None):
    work = tempfile.mkdtemp(prefix="fluxtel-workload-")
    stop = threading.Event()
    agent = None
    try:
        targets = Targets(open(os.path.join(FIXTURES, "kustomize-controller.prom"), "rb").read())
        sink = Sink(fail_ratio)
        for srv in (targets, sink):
            threading.Thread(target=srv.serve_forever, daemon=True).start()
        otlp_port, telemetry_port = free_port(), free_port()
        n_targets = 4 * scale
        config = write_config(work, targets.server_address[1], n_targets, sink.server_address[1], otlp_port, telemetry_port)
        writer = LogWriter(os.path.join(work, "pods"), 50 * scale, rotate_bytes, stop)  # creates the files
        agent = subprocess.Popen([binary, "--config", config], stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "agent.log"), "w"))
        if not wait_ready(telemetry_port, agent):
            raise SystemExit(f"agent not ready: {open(os.path.join(work, 'agent.log')).read()[-2000:]}")
        spans = SpanSender(otlp_port, 5 * scale, stop)
        writer.start()
        spans.start()
        log(f"agent {agent.pid} ready; {n_targets} targets every 30 s, {50 * scale} lines/s, {5 * scale} spans/s, "
            f"sink failing {fail_ratio:.0%}, {minutes} min")
        t0 = time.monotonic()
        cpu0 = proc_cpu(agent.pid)
        series = []  # (seconds since start, rss bytes, cpu seconds, anon bytes, file bytes)
        win_start, win_cpu, win_rss = t0, cpu0, []
        end = t0 + minutes * 60
        next_sample = t0
        while time.monotonic() < end:
            if agent.poll() is not None:
                raise SystemExit(f"agent exited with {agent.returncode}: {open(os.path.join(work, 'agent.log')).read()[-2000:]}")
            now = time.monotonic()
            rss, cpu = proc_rss(agent.pid), proc_cpu(agent.pid)
            series.append((round(now - t0, 1), rss, round(cpu - cpu0, 2), *proc_rss_parts(agent.pid)))
            win_rss.append(rss)
            if now - win_start >= window_seconds - 1e-3:
                if on_window:
                    on_window({"cpu_pct_of_core": (cpu - win_cpu) / (now - win_start) * 100,
                               "rss_max": max(win_rss), "rss_median": statistics.median(win_rss), "seconds": now - win_start})
                win_start, win_cpu, win_rss = now, cpu, []
            next_sample += sample_seconds
            time.sleep(max(0.0, next_sample - time.monotonic()))
        stop.set()
        writer.join(30)
        spans.join(60)
        load_seconds = time.monotonic() - t0
        cpu_load = proc_cpu(agent.pid) - cpu0
        # Drain: wait (bounded) until every key arrived or nothing moved for 45 s (retry backoff is ≤ 30 s).
        drain_start, last_change, last = time.monotonic(), time.monotonic(), None
        while time.monotonic() - drain_start < 180 and time.monotonic() - last_change < 45:
            with sink.lock:
                now_counts = (len(sink.log_seqs), len(sink.span_ids))
            if now_counts[0] >= writer.sent and now_counts[1] >= len(spans.accepted):
                break
            if now_counts != last:
                last, last_change = now_counts, time.monotonic()
            time.sleep(0.5)
        metrics = agent_metrics(telemetry_port)
        terminate(agent, 60)
        with sink.lock:
            log_seqs, span_ids = dict(sink.log_seqs), dict(sink.span_ids)
            requests = {f"{p} {s}": n for (p, s), n in sorted(sink.requests.items())}
            points, wire = sink.points, sink.wire_bytes
        targets.shutdown()
        sink.shutdown()
        lost_logs = sum(1 for s in range(writer.sent) if s not in log_seqs)
        lost_spans = sum(1 for s in spans.accepted if s not in span_ids)
        result = {
            "minutes": minutes, "scale": scale, "fail_ratio": fail_ratio, "load_seconds": round(load_seconds, 1),
            "targets": n_targets, "scrapes_served": targets.scrapes,
            "log_lines_sent": writer.sent, "log_records_received": len(log_seqs), "log_lines_lost": lost_logs,
            "log_records_duplicated": sum(n - 1 for n in log_seqs.values() if n > 1),
            "log_records_without_seq": log_seqs.get(-1, 0),
            "log_rotations": sum(writer.rotations),
            "spans_accepted": len(spans.accepted), "spans_refused_for_good": spans.gave_up, "span_post_retries": spans.retries,
            "spans_received": len(span_ids), "spans_lost": lost_spans,
            "spans_duplicated": sum(n - 1 for n in span_ids.values() if n > 1),
            "metric_points_received": points, "sink_wire_bytes": wire, "sink_requests": requests,
            "agent_cpu_seconds_under_load": round(cpu_load, 2),
            "agent_cpu_pct_of_core": round(cpu_load / load_seconds * 100, 3),
            "agent_exit_code": agent.returncode, "agent_metrics_before_stop": metrics,
            "generator_errors": [e for e in (writer.error, spans.error) if e],
            "rss_series": series,
        }
        return result
    finally:
        stop.set()
        if agent and agent.poll() is None:
            agent.kill()
            agent.wait()
        shutil.rmtree(work, ignore_errors=True)


def rss_verdict(series, warmup_seconds, tolerance=0.10):
    """Flat = after warm-up, no sample exceeds (1 + tolerance) x the median of the first two minutes after
    warm-up, and the median of the last two minutes is within tolerance of it too."""
    after = [(p[0], p[1]) for p in series if p[0] >= warmup_seconds]
    if not after:
        return {}
    t_end = after[-1][0]
    first = statistics.median(r for t, r in after if t < warmup_seconds + 120)
    last = statistics.median(r for t, r in after if t >= t_end - 120)
    peak = max(r for _, r in after)
    return {"warmup_seconds": warmup_seconds, "rss_after_warmup_median_first_2min": first,
            "rss_median_last_2min": last, "rss_max_after_warmup": peak,
            "rss_growth_last_vs_first_pct": round((last - first) / first * 100, 2),
            "rss_max_vs_first_pct": round((peak - first) / first * 100, 2),
            "rss_flat_within_10pct": peak <= first * (1 + tolerance) and abs(last - first) <= first * tolerance}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["realistic", "soak"])
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build-static", "release", "fluxtel"))
    ap.add_argument("--minutes", type=float)
    ap.add_argument("--scale", type=int)
    ap.add_argument("--fail-ratio", type=float)
    ap.add_argument("--sample-seconds", type=float)
    ap.add_argument("--warmup-minutes", type=float, default=5, help="soak: RSS is compared after this")
    ap.add_argument("--rotate-mb", type=float, default=64, help="log file size that triggers a rotation")
    ap.add_argument("--out", help="soak: result JSON (default benchmarks/results/soak.json)")
    a = ap.parse_args()
    soak = a.mode == "soak"
    minutes = a.minutes if a.minutes is not None else (30 if soak else 5)
    scale = a.scale if a.scale is not None else (20 if soak else 1)
    fail = a.fail_ratio if a.fail_ratio is not None else (0.10 if soak else 0.0)
    sample = a.sample_seconds if a.sample_seconds is not None else (5 if soak else 1)

    if not soak:
        def window(w):
            print(json.dumps({"benchmark": "realistic", "figures": [
                {"name": "cpu_pct_of_core_per_minute", "value": round(w["cpu_pct_of_core"], 4), "unit": "% of a core", "better": "lower"},
                {"name": "rss_max_per_minute", "value": w["rss_max"], "unit": "B", "better": "lower"},
                {"name": "rss_median_per_minute", "value": w["rss_median"], "unit": "B", "better": "lower"},
            ], "info": {}}), flush=True)
        r = run_workload(a.binary, minutes, scale, fail, sample, 60, int(a.rotate_mb * 1e6), window)
        rss = [x[1] for x in r["rss_series"]]
        print(json.dumps({"benchmark": "realistic", "figures": [
            {"name": "cpu_pct_of_core_whole_run", "value": r["agent_cpu_pct_of_core"], "unit": "% of a core", "better": "lower"},
            {"name": "rss_max_whole_run", "value": max(rss), "unit": "B", "better": "lower"},
            {"name": "rss_median_whole_run", "value": statistics.median(rss), "unit": "B", "better": "lower"},
            {"name": "log_lines_lost", "value": r["log_lines_lost"], "unit": "lines", "better": "lower"},
            {"name": "log_records_duplicated", "value": r["log_records_duplicated"], "unit": "records", "better": "lower"},
            {"name": "spans_lost", "value": r["spans_lost"], "unit": "spans", "better": "lower"},
            {"name": "spans_duplicated", "value": r["spans_duplicated"], "unit": "spans", "better": "lower"},
        ], "info": {k: str(v) for k, v in r.items() if k not in ("rss_series", "agent_metrics_before_stop", "sink_requests")}}),
            flush=True)
        log(f"realistic: {r['agent_cpu_pct_of_core']} % of a core, RSS max {max(rss) / 1e6:.1f} MB, "
            f"lost logs {r['log_lines_lost']} spans {r['spans_lost']}")
        return

    out = a.out or os.path.join(BENCH, "results", "soak.json")
    r = run_workload(a.binary, minutes, scale, fail, sample, 60, int(a.rotate_mb * 1e6))
    r.update(rss_verdict(r["rss_series"], min(a.warmup_minutes * 60, minutes * 60 / 2)))
    r["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    r["command"] = "benchmarks/soak " + " ".join(sys.argv[2:])
    r["machine"] = {"cpus": os.cpu_count(), "loadavg_at_end": " ".join(open("/proc/loadavg").read().split()[:3]),
                    "git_commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()}
    with open(out, "w") as f:
        json.dump(r, f, indent=1)
        f.write("\n")
    summary = {k: v for k, v in r.items() if k != "rss_series"}
    print(json.dumps(summary, indent=1))
    ok = r["log_lines_lost"] == 0 and r["spans_lost"] == 0 and r.get("rss_flat_within_10pct")
    log(f"soak {'OK' if ok else 'NOT OK'}: wrote {out}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
