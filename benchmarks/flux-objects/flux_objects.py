#!/usr/bin/env python3
"""Flux objects benchmark (issue 17, acceptance 4): what `receivers.flux_objects` costs the whole agent
with 10,000 Flux objects and 100 watch events/s. benchmarks/run format, one JSON report on stdout.

A fake Kubernetes API server (stdlib, threaded, 127.0.0.1 port 0) answers what the agent asks: API
discovery (`GET /apis/<group>`: source, kustomize, helm and notification groups as Flux 2.9 serves them,
404 for source-watcher and image automation), paged lists (`limit`/`continue`, `metadata.resourceVersion`)
and watches (`watch=true`: chunked, one JSON event per line, held open). Kustomizations are generated
from the fixture shape (Tests/Fixtures/flux-objects/list/kustomizations.json), each with its own name,
namespace, uid and resourceVersion; every other Flux kind and the Events collection start empty.

The agent (release build, `receivers.flux_objects` alone, `leader_election.enabled: false`,
`exporters.fallback: none`: everything is discarded and counted) runs twice:

  baseline.rss             VmRSS against the EMPTY cluster, --settle-seconds after every kind is watched
  objects.rss              VmRSS against 10,000 Kustomizations, --settle-seconds after /status shows them
                           all held (the first state write, 10,000 objects' points, is done by then)
  objects.extra_rss        objects.rss - baseline.rss: what the objects cost
  objects.peak_rss         VmHWM at that moment: the peak of the initial list (all pages decoded at once)
  objects.list_cpu_ms      agent CPU from start to all 10,000 held and settled (list, decode, first write)
  objects.idle_cpu_ms_per_s  agent CPU per second over the next --idle-seconds, objects held, no events
  watch.cpu_ms_per_1k_events  agent CPU (utime+stime, /proc/PID/stat) over --seconds of watch events at
                           --rate/s (half MODIFIED Kustomizations flipping Ready, half ADDED Flux Events
                           with new uids, each exported as a log record), until every Event record went
                           through the pipeline (fluxtel_items_exported_total{signal="logs"}), per 1,000
                           watch events (idle cost included: objects.idle_cpu_ms_per_s x --seconds)
  watch.peak_rss           the highest VmRSS sampled every 100 ms during that phase
  watch.rss_growth         VmRSS at the end of the phase - objects.rss (memory should follow objects,
                           not events)

`interval` is 1h, so the periodic state write (one per interval, not per event) stays out of the watch
figure; its cost is in objects.list_cpu_ms (the first write after the lists).

One file on purpose (about 480 lines): the fake API server exists only for this benchmark (the tests'
one is Swift, Tests/TestSupport/FakeKubernetesAPI.swift), and the benchmark scripts stand alone.

usage: flux_objects.py --binary PATH [--objects 10000] [--rate 100] [--seconds 30] [--settle-seconds 5]
                       [--idle-seconds 5]
"""
import argparse
import copy
import http.server
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import QuietHandler, free_port, proc_status, terminate  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures", "flux-objects")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# group -> (preferred version, {version: [resources]}); groups not here answer 404 (not installed).
SERVED = {
    "source.toolkit.fluxcd.io": ("v1", {"v1": ["gitrepositories", "ocirepositories", "buckets", "helmrepositories",
                                               "helmcharts", "externalartifacts"]}),
    "kustomize.toolkit.fluxcd.io": ("v1", {"v1": ["kustomizations"]}),
    "helm.toolkit.fluxcd.io": ("v2", {"v2": ["helmreleases"]}),
    # Flux 2.9: the group prefers v1 (Receivers only); Alerts and Providers are v1beta3.
    "notification.toolkit.fluxcd.io": ("v1", {"v1": ["receivers"], "v1beta3": ["alerts", "providers", "receivers"]}),
}
KINDS_SERVED = len({r for _, versions in SERVED.values() for rs in versions.values() for r in rs})
EVENTS = ("events.k8s.io", "v1", "events")
NOT_FOUND = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": "the server could not find the requested resource", "reason": "NotFound",
                        "code": 404}).encode()


class Cluster:
    """The fake cluster's state: N Kustomizations (generated on demand from the fixture shape), a global
    resourceVersion, and the open watches of each collection (a queue per watch)."""

    def __init__(self):
        self.template = json.load(open(os.path.join(FIXTURES, "list", "kustomizations.json")))["items"][0]
        events = json.load(open(os.path.join(FIXTURES, "events", "events.k8s.io-v1.eventlist.json")))["items"]
        self.event_template = next(e for e in events if "fluxcd.io" in e.get("regarding", {}).get("apiVersion", ""))
        self.lock = threading.Lock()
        self.rv = 500000
        self.objects = 0
        self.object_rv = []
        self.ready = []
        self.watches = {}  # resource -> set of queues
        self.stopping = threading.Event()
        self.generation = 0  # end_watches() ends the watches opened before it

    def populate(self, n):
        with self.lock:
            self.objects = n
            self.object_rv = [self.rv + 1 + i for i in range(n)]
            self.ready = [True] * n
            self.rv += n

    @staticmethod
    def uid(kind, i):
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fluxtel-bench/{kind}/{i}"))

    @staticmethod
    def name(i):
        return f"app-{i:05d}", f"team-{i % 100:02d}"

    def kustomization(self, i):
        o = copy.deepcopy(self.template)
        name, namespace = self.name(i)
        o["metadata"].update(name=name, namespace=namespace, uid=self.uid("ks", i),
                             resourceVersion=str(self.object_rv[i]))
        o["spec"]["path"] = f"./apps/{name}"
        if not self.ready[i]:
            ready = o["status"]["conditions"][0]
            ready.update(status="False", reason="HealthCheckFailed", lastTransitionTime=now_iso(),
                         message="health check failed after 3m0s: timeout waiting for: [Deployment/apps/podinfo status: 'InProgress']")
        return o

    def flux_event(self, n, i, rv):
        e = copy.deepcopy(self.event_template)
        name, namespace = self.name(i)
        warning = n % 2 == 1
        e["metadata"].update(name=f"{name}.{n:016x}", namespace=namespace, uid=self.uid("event", n),
                             resourceVersion=str(rv), creationTimestamp=now_iso())
        e["metadata"]["annotations"] = {
            "kustomize.toolkit.fluxcd.io/revision": "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"}
        e["reportingController"] = "kustomize-controller"
        e["reason"] = "HealthCheckFailed" if warning else "ReconciliationSucceeded"
        e["type"] = "Warning" if warning else "Normal"
        e["note"] = ("health check failed after 3m0s: timeout waiting for: [Deployment/apps/podinfo status: 'InProgress']"
                     if warning else "Reconciliation finished in 3.1s, next run in 10m0s")
        e["regarding"] = {"kind": "Kustomization", "namespace": namespace, "name": name, "uid": self.uid("ks", i),
                          "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "resourceVersion": str(self.object_rv[i])}
        e["deprecatedSource"] = {"component": "kustomize-controller"}
        e["deprecatedFirstTimestamp"] = e["deprecatedLastTimestamp"] = now_iso()
        return e

    def page(self, resource, limit, start):
        """(items, continue token) of a list page."""
        if resource != "kustomizations":
            return [], ""
        end = self.objects if limit <= 0 else min(self.objects, start + limit)
        with self.lock:
            items = [self.kustomization(i) for i in range(start, end)]
        return items, (str(end) if end < self.objects else "")

    def end_watches(self):
        """Ends every open watch (those of an agent that was stopped), so that only the next agent's count."""
        with self.lock:
            self.generation += 1
            self.watches = {}

    def subscribe(self, resource):
        q = queue.Queue()
        with self.lock:
            self.watches.setdefault(resource, set()).add(q)
        return q

    def unsubscribe(self, resource, q):
        with self.lock:
            self.watches.get(resource, set()).discard(q)

    def watching(self, resource):
        with self.lock:
            return len(self.watches.get(resource, ()))

    def publish(self, resource, line):
        with self.lock:
            for q in self.watches.get(resource, ()):
                q.put(line)

    def modify(self, i):
        """Flips the Ready status of Kustomization i: a MODIFIED event."""
        with self.lock:
            self.rv += 1
            self.object_rv[i] = self.rv
            self.ready[i] = not self.ready[i]
            o = self.kustomization(i)
        self.publish("kustomizations", json.dumps({"type": "MODIFIED", "object": o}).encode() + b"\n")

    def add_event(self, n, i):
        with self.lock:
            self.rv += 1
            e = self.flux_event(n, i, self.rv)
        self.publish("events", json.dumps({"type": "ADDED", "object": e}).encode() + b"\n")

    def resource_version(self):
        with self.lock:
            return str(self.rv)


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class APIServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def handler(cluster):
    class H(QuietHandler):
        content_type = "application/json"

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(url.query))
            parts = url.path.strip("/").split("/")
            if len(parts) == 2 and parts[0] == "apis":
                return self.discovery(parts[1])
            if len(parts) == 4 and parts[0] == "apis":
                group, version, resource = parts[1:]
                served = (group, version, resource) == EVENTS or resource in SERVED.get(group, ("", {}))[1].get(version, [])
                if served:
                    if q.get("watch") == "true":
                        return self.watch("events" if group == EVENTS[0] else resource, int(q.get("timeoutSeconds", "300")))
                    return self.list(resource if group != EVENTS[0] else "events", q)
            self.reply(404, NOT_FOUND)

        def discovery(self, group):
            if group not in SERVED:
                return self.reply(404, NOT_FOUND)
            preferred, versions = SERVED[group]
            gv = lambda v: {"groupVersion": f"{group}/{v}", "version": v}
            self.reply(200, json.dumps({"kind": "APIGroup", "apiVersion": "v1", "name": group,
                                        "versions": [gv(v) for v in versions], "preferredVersion": gv(preferred)}).encode())

        def list(self, resource, q):
            start = int(q.get("continue") or 0)
            items, token = cluster.page(resource, int(q.get("limit", "0")), start)
            body = {"apiVersion": "v1", "kind": "List", "items": items,
                    "metadata": {"resourceVersion": cluster.resource_version(), "continue": token}}
            self.reply(200, json.dumps(body).encode())

        def watch(self, resource, timeout):
            generation = cluster.generation
            sub = cluster.subscribe(resource)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.flush()
                deadline = time.monotonic() + timeout
                while not cluster.stopping.is_set() and cluster.generation == generation and time.monotonic() < deadline:
                    try:
                        line = sub.get(timeout=0.5)
                    except queue.Empty:
                        continue
                    lines = [line]
                    while len(lines) < 64:
                        try:
                            lines.append(sub.get_nowait())
                        except queue.Empty:
                            break
                    for line in lines:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                self.close_connection = True
            finally:
                cluster.unsubscribe(resource, sub)
    return H


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def get_json(url):
    with urllib.request.urlopen(url, timeout=2) as r:
        return json.loads(r.read())


def exported_logs(telemetry):
    """Log records through the pipeline, from the agent's /metrics: fluxtel_items_exported_total plus
    fluxtel_items_discarded_total{reason="no_endpoint"} (with `fallback: none` the discarding exporter is the
    exporter: it drops every batch and counts it there)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{telemetry}/metrics", timeout=2) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        through = line.startswith("fluxtel_items_exported_total{") or (
            line.startswith("fluxtel_items_discarded_total{") and 'reason="no_endpoint"' in line)
        if through and 'signal="logs"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


class Agent:
    def __init__(self, binary, api_port, work, tag):
        self.telemetry = free_port()
        config = os.path.join(work, f"fluxtel-{tag}.yaml")
        with open(config, "w") as f:
            f.write(f"""receivers:
  flux_objects:
    api_server: http://127.0.0.1:{api_port}
    token_path: ""
    interval: 1h
    leader_election:
      enabled: false
exporters:
  fallback: none
service:
  telemetry:
    address: 127.0.0.1:{self.telemetry}
    log_level: warning
""")
        self.stderr = open(os.path.join(work, f"agent-{tag}.log"), "wb")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([binary, "--config", config], stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.pid = self.proc.pid
        self.log = os.path.join(work, f"agent-{tag}.log")

    def fail(self, why):
        self.stop()
        tail = open(self.log, "rb").read()[-2000:].decode(errors="replace")
        raise SystemExit(f"{why}\nagent log:\n{tail}")

    def status(self):
        try:
            return get_json(f"http://127.0.0.1:{self.telemetry}/status")["receivers"].get("flux_objects", {})
        except Exception:
            return {}

    def wait(self, what, condition, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.fail(f"agent exited while waiting for {what}")
            if condition():
                return
            time.sleep(0.05)
        self.fail(f"timed out waiting for {what}")

    def stop(self):
        terminate(self.proc, 30)
        self.stderr.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=100, help="watch events per second (half MODIFIED, half ADDED Events)")
    ap.add_argument("--seconds", type=float, default=30, help="length of the watch-event phase")
    ap.add_argument("--settle-seconds", type=float, default=5, help="wait before an RSS sample")
    ap.add_argument("--idle-seconds", type=float, default=5, help="idle CPU window with the objects held, no events")
    a = ap.parse_args()

    cluster = Cluster()
    server = APIServer(("127.0.0.1", 0), handler(cluster))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    work = tempfile.mkdtemp(prefix="fluxtel-flux-objects-")
    agents = []
    try:
        # (1) baseline: every Flux kind served, all empty.
        base = Agent(a.binary, port, work, "baseline")
        agents.append(base)
        base.wait("the baseline agent to watch every kind",
                  lambda: base.status().get("kinds") == KINDS_SERVED and cluster.watching("kustomizations") > 0
                  and cluster.watching("events") > 0, 60)
        time.sleep(a.settle_seconds)
        baseline = proc_status(base.pid)
        base.stop()
        cluster.end_watches()

        # (2) the same cluster with --objects Kustomizations.
        cluster.populate(a.objects)
        agent = Agent(a.binary, port, work, "objects")
        agents.append(agent)
        agent.wait(f"/status to show {a.objects} objects", lambda: agent.status().get("objects") == a.objects, 300)
        agent.wait("the watches", lambda: cluster.watching("kustomizations") > 0 and cluster.watching("events") > 0, 60)
        held_after = time.monotonic() - agent.t0
        time.sleep(a.settle_seconds)
        objects = proc_status(agent.pid)
        list_cpu = cpu_seconds(agent.pid)
        # What holding the objects costs with no events (the heap trim every 2 s, the watches' idle
        # connections): part of the watch figure too, shown apart.
        time.sleep(a.idle_seconds)
        idle_cpu = cpu_seconds(agent.pid) - list_cpu

        # (3) watch events at --rate/s for --seconds: even ones MODIFIED (Ready flips), odd ones ADDED Events.
        total = int(a.rate * a.seconds)
        logs_before = exported_logs(agent.telemetry)
        peak = [objects["VmRSS"]]
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                try:
                    peak[0] = max(peak[0], proc_status(agent.pid)["VmRSS"])
                except OSError:
                    return
                time.sleep(0.1)
        sampler = threading.Thread(target=sample, daemon=True)
        cpu0 = cpu_seconds(agent.pid)
        sampler.start()
        t0 = time.monotonic()
        added = 0
        for n in range(total):
            due = t0 + n / a.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            i = (n * 7919) % a.objects if a.objects else 0
            if n % 2 == 0 and a.objects:
                cluster.modify(i)
            else:
                cluster.add_event(n, i)
                added += 1
        offered = time.monotonic() - t0
        agent.wait(f"{added} Event records through the pipeline",
                   lambda: exported_logs(agent.telemetry) - logs_before >= added, 60)
        cpu = cpu_seconds(agent.pid) - cpu0
        sampling.set()
        sampler.join()
        end = proc_status(agent.pid)
        peak_rss = max(peak[0], end["VmRSS"])
        agent.stop()

        figures = [
            {"name": "baseline.rss", "value": baseline["VmRSS"], "unit": "B", "better": "lower"},
            {"name": "objects.rss", "value": objects["VmRSS"], "unit": "B", "better": "lower"},
            {"name": "objects.extra_rss", "value": objects["VmRSS"] - baseline["VmRSS"], "unit": "B", "better": "lower"},
            {"name": "objects.extra_rss_anon", "value": objects.get("RssAnon", 0) - baseline.get("RssAnon", 0), "unit": "B", "better": "lower"},
            {"name": "objects.peak_rss", "value": objects["VmHWM"], "unit": "B", "better": "lower"},
            {"name": "objects.list_cpu_ms", "value": round(list_cpu * 1000, 1), "unit": "ms CPU", "better": "lower"},
            {"name": "objects.idle_cpu_ms_per_s", "value": round(idle_cpu * 1000 / a.idle_seconds, 2), "unit": "ms CPU", "better": "lower"},
            {"name": "watch.cpu_ms_per_1k_events", "value": round(cpu * 1000 / (total / 1000), 2), "unit": "ms CPU", "better": "lower"},
            {"name": "watch.peak_rss", "value": peak_rss, "unit": "B", "better": "lower"},
            {"name": "watch.rss_growth", "value": end["VmRSS"] - objects["VmRSS"], "unit": "B", "better": "lower"},
        ]
        print(json.dumps({"benchmark": "flux-objects", "figures": figures,
                          "info": {"objects": str(a.objects), "watch_events": str(total), "event_records": str(added),
                                   "rate_per_s": f"{a.rate:g}", "offered_rate_per_s": f"{total / offered:.1f}",
                                   "seconds": f"{a.seconds:g}", "settle_seconds": f"{a.settle_seconds:g}",
                                   "all_held_after_s": f"{held_after:.2f}", "kinds_served": str(KINDS_SERVED),
                                   "config": "flux_objects only, interval 1h, no leader election, exporters.fallback none"}}),
              flush=True)
    finally:
        cluster.stopping.set()
        for agent in agents:
            agent.stop()
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
