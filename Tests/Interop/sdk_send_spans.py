"""Sends spans to fluxtel's OTLP/HTTP receiver with the official OpenTelemetry Python SDK exporter.

usage: sdk_send_spans.py ENDPOINT COUNT COMPRESSION(gzip|none) EXPECTED_OUT
Every span has events, links and every attribute type. The exact ExportTraceServiceRequest bodies
the SDK encoded (with its own encoder) are written to EXPECTED_OUT as length-prefixed records, so the
test can compare what fluxtel forwarded with what was sent. Exit 1 if any export did not succeed.
"""
import struct
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult, BatchSpanProcessor

endpoint, count, compression, expected_out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


class RecordingExporter(SpanExporter):
    """Exports with the real OTLP/HTTP exporter and keeps the encoded request it sent."""

    def __init__(self, inner):
        self.inner = inner
        self.bodies = []
        self.failures = 0

    def export(self, spans):
        self.bodies.append(encode_spans(spans).SerializeToString())
        result = self.inner.export(spans)
        if result != SpanExportResult.SUCCESS:
            self.failures += 1
        return result

    def shutdown(self):
        self.inner.shutdown()


exporter = RecordingExporter(OTLPSpanExporter(
    endpoint=endpoint,
    compression=Compression.Gzip if compression == "gzip" else Compression.NoCompression,
    timeout=10))
provider = TracerProvider(resource=Resource.create({
    "service.name": "flux-system/on-call", "service.namespace": "flux-system", "k8s.cluster.name": "prod-eu-1"}))
processor = BatchSpanProcessor(exporter, max_export_batch_size=500, schedule_delay_millis=50, max_queue_size=count + 1)
provider.add_span_processor(processor)
tracer = provider.get_tracer("flux:notification-controller", "1.9.3")

previous = None
for i in range(count):
    links = [trace.Link(previous, {"link.index": i - 1, "link.kind": "previous"})] if previous else []
    with tracer.start_as_current_span(
        f"Kustomization: flux-system/apps-{i}",
        kind=trace.SpanKind.INTERNAL if i % 2 else trace.SpanKind.SERVER,
        links=links,
        attributes={
            "object.kind": "Kustomization", "object.name": f"apps-{i}", "revision": "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b",
            "attempt": i, "ratio": i / 7.0, "ready": i % 3 == 0,
            "tags": ["flux", "gitops", f"n{i}"], "sizes": [1, 2, i], "weights": [0.5, 1.5], "flags": [True, False],
        },
    ) as span:
        span.add_event("reconcile.start", {"step": 1, "message": "applying"})
        span.add_event("reconcile.done", {"step": 2, "ok": True, "elapsed": 0.25})
        if i % 10 == 0:
            span.set_status(trace.Status(trace.StatusCode.ERROR, f"health check failed for apps-{i}"))
        else:
            span.set_status(trace.Status(trace.StatusCode.OK))
        previous = span.get_span_context()

provider.force_flush(timeout_millis=60000)
provider.shutdown()
with open(expected_out, "wb") as out:
    for body in exporter.bodies:
        out.write(struct.pack(">I", len(body)))
        out.write(body)
if exporter.failures:
    print(f"{exporter.failures} exports failed", file=sys.stderr)
    sys.exit(1)
