#!/usr/bin/env python3
"""Single-span requests at a fixed rate (issue 19): what one notification-controller POST costs the agent.

The whole agent (release binary, real sockets, loopback): OTLP receiver → pipeline → otlp_http with gzip
to a sink that decodes and counts every span (span-path's `Sink`); no correlation. Two workloads, each
sending the same uncompressed protobuf request (span-path's `flux_request(1)`: one Flux span) at a FIXED
rate over 2 keep-alive HTTP/1.1 connections, one request in flight per connection:
  - `rate3k5`: ≈ 3,500 requests/s from two client threads (this script; each paces its requests on an
    absolute schedule and times every round trip);
  - `h2load9k`: ≈ 9,000 requests/s from `h2load --h1 -c 2 --rps 4500` (nghttp2's C client).
The agent runs on CPU 0, the clients and the sink on CPU 1 (as span-path). Figures per workload: agent CPU
µs per request (utime + stime from /proc, and the two apart), context switches per request (voluntary +
involuntary of all the agent's threads: its wake-ups), requests/s achieved (compare with the rate asked:
a client that falls behind is the bottleneck, not the agent), p50/p99 latency, non-2xx answers, and spans
lost (accepted by the agent but not counted by the sink). CPU is read once the sink has every span, so the
batch's gzip and export are in it.

--floor adds the same load against a minimal single-threaded epoll responder in Python (`*.floor_*`): its
system time per request is what the kernel charges for this pattern (epoll_wait, read, write, waking the
client) on this machine, whatever the server does in user space; the agent's system time cannot go below it.

usage: span_rate.py [--seconds N] [--fluxtel PATH] [--only rate3k5|h2load9k] [--floor] [--agent-cpu N]
"""
import argparse
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "span-path"))
from benchlib import free_port  # noqa: E402
from span_path import ROOT, Sink, agent_config, flux_request, metric, start_agent  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def agent_times(pid):
    """(user s, system s, context switches) of the whole process, all its threads."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    switches = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            for line in open(f"/proc/{pid}/task/{task}/status"):
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    switches += int(line.split()[1])
        except FileNotFoundError:
            pass
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK, switches


def paced_client(port, request, rate, seconds, out):
    """One keep-alive connection sending `request` `rate` times a second on an absolute schedule (a
    late request goes at once, so the average rate holds), one in flight; appends round trips (s)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    latencies, statuses, buffer = [], {}, b""
    interval = 1.0 / rate
    start = time.monotonic()
    due = start
    end = start + seconds
    while due < end:
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        sent = time.perf_counter()
        sock.sendall(request)
        while True:  # one response: head, then Content-Length bytes of body
            head_end = buffer.find(b"\r\n\r\n")
            if head_end >= 0:
                length = int(re.search(rb"(?i)content-length: *(\d+)", buffer[:head_end]).group(1))
                if len(buffer) >= head_end + 4 + length:
                    break
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit("the agent closed the connection")
            buffer += chunk
        latencies.append(time.perf_counter() - sent)
        status = int(buffer[9:12])
        statuses[status] = statuses.get(status, 0) + 1
        buffer = buffer[head_end + 4 + length:]
        due += interval
    sock.close()
    out.append((latencies, statuses, time.monotonic() - start))


def run_paced(port, body, rate, seconds):
    request = (b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
    out = []
    threads = [threading.Thread(target=paced_client, args=(port, request, rate / 2, seconds, out)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = sorted(x for lat, _, _ in out for x in lat)
    ok = sum(n for _, statuses, _ in out for status, n in statuses.items() if 200 <= status < 300)
    wall = max(w for _, _, w in out)
    return {"requests": len(latencies), "ok": ok, "wall": wall, "latencies": latencies}


def run_h2load(port, body, rate, seconds, tmp):
    body_path, log_path = os.path.join(tmp, "body.bin"), os.path.join(tmp, "h2load.log")
    open(body_path, "wb").write(body)
    out = subprocess.run(["h2load", "--h1", "-c", "2", "-t", "1", f"--rps={rate // 2}", "-D", str(seconds),
                          "-d", body_path, "-H", "Content-Type: application/x-protobuf", "--log-file", log_path,
                          f"http://127.0.0.1:{port}/v1/traces"], capture_output=True, text=True, check=True).stdout
    latencies, ok = [], 0
    for line in open(log_path):  # start time (µs), status, round trip (µs)
        _, status, micros = line.split()
        latencies.append(int(micros) / 1e6)
        ok += 200 <= int(status) < 300
    wall = float(re.search(r"finished in ([\d.]+)(m?s)", out).group(1))
    wall /= 1000 if re.search(r"finished in [\d.]+ms", out) else 1
    return {"requests": len(latencies), "ok": ok, "wall": wall, "latencies": sorted(latencies)}


FLOOR_SERVER = r"""
import re, select, socket, sys
# A single-threaded epoll HTTP/1.1 responder: reads a request, answers 200 with an empty body. The
# kernel's share of a request (epoll_wait, read, write, the wake-ups) without any agent behind it.
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0)); listener.listen(16); listener.setblocking(False)
print(listener.getsockname()[1], flush=True)
poll = select.epoll(); poll.register(listener, select.EPOLLIN)
conns, buffers = {}, {}
answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"
while True:
    for fd, _ in poll.poll():
        if fd == listener.fileno():
            conn, _ = listener.accept(); conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conns[conn.fileno()] = conn; buffers[conn.fileno()] = b""; poll.register(conn, select.EPOLLIN)
            continue
        data = conns[fd].recv(65536)
        if not data:
            poll.unregister(fd); conns.pop(fd).close(); continue
        buffer = buffers[fd] + data
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            length = int(re.search(rb"(?i)content-length: *(\d+)", buffer[:end]).group(1))
            if len(buffer) < end + 4 + length:
                break
            buffer = buffer[end + 4 + length:]
            conns[fd].send(answer)
        buffers[fd] = buffer
"""


def measure_floor(workload, rate, seconds, agent_cpu="0"):
    """The same load against FLOOR_SERVER (Python, on CPU 0): its system time per request is what the
    kernel costs for this pattern on this machine, whatever the server does in user space."""
    tmp = tempfile.mkdtemp(prefix="fluxtel-span-rate-")
    server = subprocess.Popen(["taskset", "-c", agent_cpu, sys.executable, "-c", FLOOR_SERVER], stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())
    body = flux_request(1, seed=1)
    try:
        user0, sys0, switches0 = agent_times(server.pid)
        result = run_h2load(port, body, rate, seconds, tmp) if workload == "h2load9k" else run_paced(port, body, rate, seconds)
        user1, sys1, switches1 = agent_times(server.pid)
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    n = max(result["requests"], 1)
    return {"user_us_per_request": (user1 - user0) / n * 1e6, "sys_us_per_request": (sys1 - sys0) / n * 1e6,
            "switches_per_request": (switches1 - switches0) / n, "requests_per_s": result["requests"] / result["wall"]}


def wait_delivered(telemetry_port, timeout=30):
    """Until the sink counted every span the agent accepted (the last batch waits for its timeout)."""
    deadline = time.monotonic() + timeout
    accepted = metric(telemetry_port, "fluxtel_items_received_total")
    while time.monotonic() < deadline and Sink.spans < accepted:
        time.sleep(0.05)
    return accepted


def measure(fluxtel, workload, rate, seconds, agent_cpu="0"):
    tmp = tempfile.mkdtemp(prefix="fluxtel-span-rate-")
    Sink.wire_bytes = Sink.spans = 0
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    otlp_port, telemetry_port = free_port(), free_port()
    config = os.path.join(tmp, "fluxtel.yaml")
    open(config, "w").write(agent_config(otlp_port, sink.server_address[1], telemetry_port, "16MiB"))
    agent = start_agent(fluxtel, config, telemetry_port, cpu=agent_cpu)
    body = flux_request(1, seed=1)
    try:
        user0, sys0, switches0 = agent_times(agent.pid)
        if workload == "h2load9k":
            result = run_h2load(otlp_port, body, rate, seconds, tmp)
        else:
            result = run_paced(otlp_port, body, rate, seconds)
        accepted = wait_delivered(telemetry_port)
        user1, sys1, switches1 = agent_times(agent.pid)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait()
        sink.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    n = max(result["requests"], 1)
    latencies = result["latencies"] or [0]
    return {
        "cpu_us_per_request": (user1 - user0 + sys1 - sys0) / n * 1e6,
        "user_us_per_request": (user1 - user0) / n * 1e6,
        "sys_us_per_request": (sys1 - sys0) / n * 1e6,
        "switches_per_request": (switches1 - switches0) / n,
        "requests_per_s": result["requests"] / result["wall"],
        "p50_ms": latencies[len(latencies) // 2] * 1e3,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
        "non_2xx": result["requests"] - result["ok"],
        "lost_spans": max(0, int(accepted) - Sink.spans) + max(0, result["ok"] - int(accepted)),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--fluxtel", default=os.path.join(ROOT, ".build-static/release/fluxtel"))
    parser.add_argument("--only", choices=["rate3k5", "h2load9k"])
    parser.add_argument("--floor", action="store_true",
                        help="also the kernel's floor: the same load against a minimal epoll responder (figures *.floor_*)")
    parser.add_argument("--agent-cpu", default="0", help="CPUs the agent (and the floor responder) run on (taskset -c); empty: all")
    args = parser.parse_args()
    args.agent_cpu = args.agent_cpu or f"0-{os.cpu_count() - 1}"  # this script's children inherit its CPU 1
    os.sched_setaffinity(0, {1})  # the clients and the sink
    figures = []
    for workload, rate in (("rate3k5", 3500), ("h2load9k", 9000)):
        if args.only and workload != args.only:
            continue
        result = measure(args.fluxtel, workload, rate, args.seconds, args.agent_cpu)
        lower = {"cpu_us_per_request": "µs", "user_us_per_request": "µs", "sys_us_per_request": "µs",
                 "switches_per_request": "switches", "p50_ms": "ms", "p99_ms": "ms", "non_2xx": "requests",
                 "lost_spans": "spans"}
        for name, unit in lower.items():
            figures.append({"name": f"{workload}.{name}", "value": result[name], "unit": unit, "better": "lower"})
        figures.append({"name": f"{workload}.requests_per_s", "value": result["requests_per_s"],
                        "unit": "requests/s", "better": "higher"})
        if args.floor:
            floor = measure_floor(workload, rate, args.seconds, args.agent_cpu)
            floor["cpu_us_per_request"] = floor["user_us_per_request"] + floor["sys_us_per_request"]
            for name in ("cpu_us_per_request", "user_us_per_request", "sys_us_per_request", "switches_per_request",
                         "requests_per_s"):
                figures.append({"name": f"{workload}.floor_{name}", "value": floor[name],
                                "unit": "requests/s" if name == "requests_per_s" else lower.get(name, "µs"),
                                "better": "higher" if name == "requests_per_s" else "lower"})
    print(json.dumps({"benchmark": "span-rate", "figures": figures,
                      "info": {"seconds": args.seconds, "rates": "rate3k5: 3,500/s (2 Python threads); "
                               "h2load9k: 9,000/s (h2load --h1 -c 2 --rps 4500)",
                               "pinning": f"agent on CPU {args.agent_cpu}; clients and sink on CPU 1"}}))


if __name__ == "__main__":
    main()
