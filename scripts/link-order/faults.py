#!/usr/bin/env python3
"""Records where the agent first executes each code page (scripts/link-order/generate, root only).

usage: faults.py BINARY OUTDIR

Runs BINARY twice under `perf record -e page-faults -d`: idle with the default Flux configuration
(benchmarks/footprint's loopback version of it, 70 s, so that every periodic job runs once start-up's
pages are released), and under the realistic Flux workload with
the sink failing 20 % of requests and logs rotating every 0.2 MB (30 s). Before each run it evicts
BINARY from the page cache and sets the read-ahead of its file system to 0 (restored afterwards):
then every code page is read, and faults, on its own when first executed, so the faulting
instruction names a function that runs. Writes OUTDIR/idle.data and OUTDIR/workload.data.
"""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "benchmarks", "footprint"))
import footprint  # noqa: E402  (its loopback default configuration and fixture server)


def read_ahead_file(path):
    st = os.stat(path)
    return f"/sys/class/bdi/{os.major(st.st_dev)}:{os.minor(st.st_dev)}/read_ahead_kb"


def evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


# Long enough for every periodic job of the default configuration to run after start-up: the scrapes
# (every 30 s) and the export of the agent's own metrics (every 60 s).
IDLE_SECONDS = 75
# The agent releases its start-up pages when it turns ready and again 2 s and this long after
# (StartupPages.settleTimes); what runs after the last release is idle code.
SETTLE_SECONDS = 5


def perf(binary, out):
    # The madvise records when the agent released its start-up pages: later faults are idle code (perf
    # stops recording when it is sent SIGTERM, before the agent's shutdown).
    return ["perf", "record", "-q", "-e", "page-faults", "-c", "1", "-d", "-e", "syscalls:sys_enter_madvise",
            "-o", out, "--", binary]


def idle_run(binary, out):
    def evict_after_release(pid):
        # The agent releases its start-up pages (the last time SETTLE_SECONDS after ready); evicting them from the page cache too makes
        # every idle page fault on its own: a page still cached would be mapped along with a faulting
        # neighbour (fault-around), and its functions would never show.
        time.sleep(SETTLE_SECONDS + 1)
        evict(binary)

    idle_agent(perf(binary, out), IDLE_SECONDS, evict_after_release)


def idle_agent(command, seconds, when_ready=None, before_stop=None):
    """Runs COMMAND (an agent binary, possibly behind perf or valgrind) with the loopback default Flux
    configuration for SECONDS; calls when_ready(pid) once /readyz answers 200 and before_stop() just
    before SIGTERM."""
    work = tempfile.mkdtemp(prefix="fluxtel-faults-")
    fixture = open(os.path.join(ROOT, "benchmarks", "fixtures", "kustomize-controller.prom"), "rb").read()
    server = footprint.Local(("127.0.0.1", 0), footprint.handler(fixture))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = footprint.default_config(work, server.server_address[1])
        telemetry, otlp = footprint.free_port(), footprint.free_port()
        env = dict(os.environ, FLUXTEL_TELEMETRY_ADDRESS=f"127.0.0.1:{telemetry}", FLUXTEL_OTLP_ENDPOINT=f"127.0.0.1:{otlp}",
                   DASH0_ENDPOINT=f"http://127.0.0.1:{server.server_address[1]}", DASH0_AUTH_TOKEN="link-order")
        recorder = subprocess.Popen(command + ["--config", config], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        start = time.monotonic()
        if when_ready:
            url = f"http://127.0.0.1:{telemetry}/readyz"
            while time.monotonic() - start < 120:
                try:
                    with urllib.request.urlopen(url, timeout=1) as reply:
                        if reply.status == 200:
                            break
                except Exception:
                    time.sleep(0.1)
            when_ready(recorder.pid)
        time.sleep(max(0, seconds - (time.monotonic() - start)))
        if before_stop:
            before_stop()
        recorder.send_signal(signal.SIGTERM)  # perf passes it on to the agent, which drains and exits
        recorder.wait(timeout=60)
    finally:
        server.shutdown()
        subprocess.run(["rm", "-rf", work])


def workload_run(binary, out, python):
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as wrapper:
        wrapper.write("#!/bin/sh\nexec " + " ".join(perf(binary, out)) + ' "$@"\n')
    os.chmod(wrapper.name, 0o755)
    try:
        subprocess.run([python, os.path.join(ROOT, "benchmarks", "workload", "flux_workload.py"), "realistic",
                        "--binary", wrapper.name, "--minutes", "0.5", "--fail-ratio", "0.2", "--rotate-mb", "0.2"],
                       check=True, stdout=subprocess.DEVNULL)
    finally:
        os.unlink(wrapper.name)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, outdir = os.path.abspath(sys.argv[1]), sys.argv[2]
    python = os.environ.get("FLUXTEL_PYTHON", os.path.join(ROOT, ".venv", "bin", "python3"))
    knob = read_ahead_file(binary)
    saved = open(knob).read().strip()
    try:
        open(knob, "w").write("0")
        evict(binary)
        idle_run(binary, os.path.join(outdir, "idle.data"))
        evict(binary)
        workload_run(binary, os.path.join(outdir, "workload.data"), python)
    finally:
        open(knob, "w").write(saved)


if __name__ == "__main__":
    main()
