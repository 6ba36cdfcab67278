"""What the benchmark scripts share: a free local port and the quiet HTTP/1.1 handler their fake
targets, sinks and API servers answer with. Each script puts benchmarks/ on sys.path to import it."""
import http.server
import signal
import socket
import subprocess


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A keep-alive handler that answers with `reply` and logs nothing."""
    protocol_version = "HTTP/1.1"
    content_type = "application/x-protobuf"

    def reply(self, status, body=b"", ctype=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype or self.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


def proc_status(pid):
    """VmRSS, VmHWM (peak RSS), RssAnon and RssFile of a process, in bytes (/proc/PID/status)."""
    out = {}
    for line in open(f"/proc/{pid}/status"):
        key = line.split(":")[0]
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(line.split()[1]) * 1024
    return out


def terminate(proc, timeout):
    """SIGTERM (a graceful shutdown), then SIGKILL if the process is still there after `timeout` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
