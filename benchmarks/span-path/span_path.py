#!/usr/bin/env python3
"""Span path benchmark: OTLP/HTTP requests → fluxtel's receiver → pipeline → otlp_http (gzip) → a local sink.

Loopback only (127.0.0.1), bounded in time. The agent (release build) is pinned to one core; the load
generator (wrk, Debian's) and the sink run on the other. Two workloads with pre-built requests made
by the official opentelemetry-proto classes:
  - 1 span per request (notification-controller's pattern), keep-alive
  - 100 spans per request (~440 bytes per span, like the Fluent Bit comparison in issue 5)
Prints one JSON report (benchmarks/run format): requests/s, spans/s, agent CPU seconds per million
spans, wire bytes per span (what the sink received, gzip), agent peak RSS; and checks that every
accepted span reached the sink.

--correlation (issue 18): `off` (default) is the agent as above; `nohold` adds `receivers.flux_objects`
against a fake API server (flux_cluster.py: the test fixtures' otel Alert and Provider, GitRepositories,
Kustomizations) and tails kustomize-controller's "Reconciliation finished" line for flux-system, so the
correlation is active (the benchmark's spans are Flux spans of a known object: the span tree rewrites them)
with `processors.hold: 0`; `hold` is the same with `processors.hold: 2s`, so every request also asks the
hold's question. --side-by-side runs the single-span workload in the three modes one after the other
(figures `<mode>.spans1.*`): `hold` against `nohold` is what the hold costs, `nohold` against `off` what the
correlation costs.

usage: span_path.py [--seconds N] [--fluxtel PATH] [--correlation off|nohold|hold] [--side-by-side]
"""
import argparse
import gzip
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import QuietHandler, free_port  # noqa: E402
import flux_cluster  # noqa: E402

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def kv(key, value):
    return KeyValue(key=key, value=AnyValue(string_value=value))


def flux_request(spans, seed):
    """An ExportTraceServiceRequest shaped like notification-controller's (FLUX.md §1)."""
    rs = ResourceSpans(
        resource=Resource(attributes=[kv("service.instance.id", "bc0276ea-183a-4bbc-84eb-7f30d338ce1e"),
                                      kv("service.name", "flux-system/otel-tempo"),
                                      kv("service.namespace", "flux-system")]),
        schema_url="https://opentelemetry.io/schemas/1.34.0")
    ss = ScopeSpans(scope=InstrumentationScope(name="flux:notification-controller"))
    for i in range(spans):
        n = seed * 1000 + i
        ss.spans.append(Span(
            trace_id=bytes.fromhex("fc43ff52473a9f8c2bab18cc9c7a5e70"), span_id=n.to_bytes(8, "big"), flags=0x301,
            name=f"Kustomization: flux-system/apps-{n % 97}", kind=Span.SPAN_KIND_INTERNAL,
            start_time_unix_nano=1786526042000000000 + n, end_time_unix_nano=1786526042538000000 + n,
            attributes=[kv("object.uid", "10f37fad-840b-4d46-955a-7f18350de0fc"), kv("object.kind", "Kustomization"),
                        kv("object.name", f"apps-{n % 97}"), kv("object.namespace", "flux-system"),
                        kv("revision", "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"),
                        kv("originRevision", "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"),
                        kv("cluster", "prod-eu-1"), kv("env", "prod")],
            status=Status(code=Status.STATUS_CODE_OK)))
    rs.scope_spans.append(ss)
    return ExportTraceServiceRequest(resource_spans=[rs]).SerializeToString()


class Sink(QuietHandler):
    """Counts what fluxtel exports: requests, wire bytes, spans (decoded with the official classes)."""
    lock = threading.Lock()
    wire_bytes = 0
    spans = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/v1/traces":  # the correlation modes' log record
            return self.reply(200)
        raw = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
        request = ExportTraceServiceRequest()
        request.ParseFromString(raw)
        count = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
        with Sink.lock:
            Sink.wire_bytes += len(body)
            Sink.spans += count
        self.reply(200)


def proc_stat(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def peak_rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def metric(port, name, signal_name="traces"):
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    m = re.search(rf'^{name}{{signal="{signal_name}"}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--queue", default="16MiB", help="processors.queue.max_bytes of the agent")
    parser.add_argument("--fluxtel", default=os.path.join(ROOT, ".build/release/fluxtel"))
    parser.add_argument("--correlation", choices=["off", "nohold", "hold"], default="off")
    parser.add_argument("--level", type=int, default=6, help="exporters.otlp_http.compression_level (1-9)")
    parser.add_argument("--side-by-side", action="store_true",
                        help="the single-span workload with --correlation off, nohold and hold")
    args = parser.parse_args()
    global LEVEL
    LEVEL = args.level
    figures = []
    runs = [(1, 16, args.correlation), (100, 8, args.correlation)]
    if args.side_by_side:
        runs = [(1, 16, mode) for mode in ("off", "nohold", "hold")]
    for spans_per_request, connections, mode in runs:
        body = flux_request(spans_per_request, seed=spans_per_request)
        result = measure(args.fluxtel, body, args.seconds, connections, args.queue, mode)
        prefix = f"spans{spans_per_request}" if mode == "off" and not args.side_by_side else f"{mode}.spans{spans_per_request}"
        figures += [
            {"name": f"{prefix}.requests_per_s", "value": result["requests_per_s"], "unit": "requests/s", "better": "higher"},
            {"name": f"{prefix}.spans_per_s", "value": result["spans_per_s"], "unit": "spans/s", "better": "higher"},
            {"name": f"{prefix}.cpu_s_per_M_spans", "value": result["cpu_s_per_M"], "unit": "CPU s/M spans", "better": "lower"},
            # Every span that arrived, accepted or answered 429 (wrk retries at once, unlike an OTLP
            # exporter honouring Retry-After): what the agent spends per span offered, however overloaded.
            {"name": f"{prefix}.cpu_s_per_M_offered_spans", "value": result["cpu"] / max(result["requests"] * spans_per_request, 1) * 1e6,
             "unit": "CPU s/M spans", "better": "lower"},
            {"name": f"{prefix}.request_bytes_per_span", "value": len(body) / spans_per_request, "unit": "B", "better": "lower"},
            {"name": f"{prefix}.wire_bytes_per_span", "value": result["wire_per_span"], "unit": "B", "better": "lower"},
            {"name": f"{prefix}.peak_rss", "value": result["peak_rss"], "unit": "B", "better": "lower"},
            {"name": f"{prefix}.non_2xx", "value": result["non_2xx"], "unit": "requests", "better": "lower"},
            {"name": f"{prefix}.lost_spans", "value": result["lost"], "unit": "spans", "better": "lower"},
        ]
        if mode == "hold":
            figures.append({"name": f"{prefix}.spans_held_at_end", "value": result["held"], "unit": "spans", "better": "lower"})
    print(json.dumps({"benchmark": "span-hold" if args.side_by_side else "span-path", "figures": figures,
                      "info": {"seconds": args.seconds, "queue_max_bytes": args.queue, "pinning": "agent on CPU 0; wrk and sink on CPU 1",
                               "correlation": "off, nohold, hold" if args.side_by_side else args.correlation,
                               "gzip_level": args.level}}))


# kustomize-controller's reconcile line for Kustomization flux-system (flux-logs.jsonl line 24): with it read,
# Kustomizations are known to log durations, so their spans may wait for theirs (`processors.hold`).
FINISHED_LINE = ('{"level":"info","ts":"2026-08-12T09:14:05.281Z","msg":"Reconciliation finished in 1.834512907s, '
                 'next run in 10m0s","controller":"kustomization","controllerGroup":"kustomize.toolkit.fluxcd.io",'
                 '"controllerKind":"Kustomization","Kustomization":{"name":"flux-system","namespace":"flux-system"},'
                 '"namespace":"flux-system","name":"flux-system","revision":"main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"}\n')


def correlation_config(tmp, api_port, mode):
    """The receivers and processors that make the correlation active (mode nohold or hold)."""
    open(os.path.join(tmp, "kustomize-controller.log"), "w").write(FINISHED_LINE)
    return f"""
  filelog:
    include: ["{tmp}/*.log"]
    start_at: beginning
    checkpoint_dir: {tmp}/checkpoints
  flux_objects:
    api_server: http://127.0.0.1:{api_port}
    token_path: ""
    events: false
    interval: 1h
    leader_election: {{ enabled: false }}
""", f"  hold: {'2s' if mode == 'hold' else '0'}\n"


def wait_correlated(telemetry_port, agent, timeout=60):
    """Until the agent holds the fixture's objects and has read the reconcile line."""
    import urllib.request
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and agent.poll() is None:
        try:
            status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{telemetry_port}/status", timeout=1))
            if status["receivers"]["flux_objects"]["objects"] >= 12 and metric(telemetry_port, "fluxtel_items_received_total", "logs") >= 1:
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise SystemExit("the agent did not load the Flux objects and the log line")


def held_spans(port):
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    m = re.search(r"^fluxtel_spans_held (\S+)$", text, re.M)
    if m is None:
        raise SystemExit("hold mode without fluxtel_spans_held: the hold is not on")
    return float(m.group(1))


LEVEL = 6  # gzip level of the agent's exporter (--level)


def agent_config(otlp_port, sink_port, telemetry_port, queue, receivers="", hold=""):
    """The agent's configuration: OTLP receiver, memory queue, otlp_http with gzip to the sink."""
    return f"""
receivers:
  otlp: {{ endpoint: "127.0.0.1:{otlp_port}" }}
{receivers}exporters:
  otlp_http:
    endpoint: http://127.0.0.1:{sink_port}
    compression: gzip
    compression_level: {LEVEL}
processors:
  queue: {{ max_bytes: {queue} }}
  max_age: 0  # the request's spans are dated 2026-08-12 (a fixed input), older than the default 6h
{hold}service:
  telemetry: {{ address: "127.0.0.1:{telemetry_port}", log_level: error }}
  shutdown_timeout: 60s
"""


def start_agent(fluxtel, config, telemetry_port, cpu="0"):
    """Starts the agent (on `cpu` when given) and waits for /readyz."""
    import urllib.request
    agent = subprocess.Popen((["taskset", "-c", cpu] if cpu else []) + [fluxtel, "--config", config],
                             stdout=subprocess.DEVNULL)
    for _ in range(500):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{telemetry_port}/readyz", timeout=1).status == 200:
                break
        except Exception:
            time.sleep(0.02)
    return agent


def measure(fluxtel, body, seconds, connections, queue, mode="off"):
    tmp = tempfile.mkdtemp(prefix="fluxtel-span-bench-")
    body_path = os.path.join(tmp, "body.bin")
    open(body_path, "wb").write(body)
    lua = os.path.join(tmp, "post.lua")
    open(lua, "w").write(
        'local f = io.open("%s", "rb")\nwrk.method = "POST"\nwrk.body = f:read("*all")\nf:close()\n'
        'wrk.headers["Content-Type"] = "application/x-protobuf"\n' % body_path)
    Sink.wire_bytes = Sink.spans = 0
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    otlp_port, telemetry_port = free_port(), free_port()
    api = flux_cluster.start() if mode != "off" else None
    receivers, hold = correlation_config(tmp, api.server_address[1], mode) if api else ("", "")
    config = os.path.join(tmp, "fluxtel.yaml")
    open(config, "w").write(agent_config(otlp_port, sink.server_address[1], telemetry_port, queue, receivers, hold))
    agent = start_agent(fluxtel, config, telemetry_port)
    try:
        if api:
            wait_correlated(telemetry_port, agent)
        cpu_idle = proc_stat(agent.pid)
        wrk = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", lua,
                              f"http://127.0.0.1:{otlp_port}/v1/traces"], capture_output=True, text=True, check=True)
        accepted = metric(telemetry_port, "fluxtel_items_received_total")
        held = held_spans(telemetry_port) if mode == "hold" else 0
        rss = peak_rss(agent.pid)
        agent.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(agent.pid, 0)
        agent.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if agent.returncode is None and agent.poll() is None:
            agent.kill()
    sink.shutdown()
    if api:
        flux_cluster.stop(api)
    cpu = usage.ru_utime + usage.ru_stime - cpu_idle  # the load and the final flush, not start-up
    requests = int(re.search(r"(\d+) requests in", wrk.stdout).group(1))
    duration = float(re.search(r"requests in ([\d.]+)s", wrk.stdout).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk.stdout)
    spans = max(accepted, 1)
    return {
        "requests_per_s": requests / duration,
        "spans_per_s": accepted / duration,
        "cpu_s_per_M": cpu / spans * 1e6,
        "cpu": cpu,
        "requests": requests,
        "wire_per_span": Sink.wire_bytes / max(Sink.spans, 1),
        "peak_rss": max(rss, usage.ru_maxrss * 1024),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "lost": max(0, accepted - Sink.spans),
        "held": held,
    }


if __name__ == "__main__":
    main()
