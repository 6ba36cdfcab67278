"""Compares what a sink received with what was sent, decoding both with the official classes.

usage: compare_spans.py SENT RECEIVED
Both files hold length-prefixed ExportTraceServiceRequest bodies. Every sent span must arrive exactly
once, identical field for field, under an identical resource and scope. Prints a summary; exit 1 on
any difference.
"""
import struct
import sys

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def read(path):
    spans = {}
    duplicates = 0
    data = open(path, "rb").read()
    offset = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        request = ExportTraceServiceRequest()
        request.ParseFromString(data[offset + 4:offset + 4 + length])
        offset += 4 + length
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    key = (span.trace_id, span.span_id)
                    if key in spans:
                        duplicates += 1
                    spans[key] = (rs.resource.SerializeToString(deterministic=True), rs.schema_url,
                                  ss.scope.SerializeToString(deterministic=True), ss.schema_url, span)
    return spans, duplicates


sent, _ = read(sys.argv[1])
received, duplicates = read(sys.argv[2])
missing = [k for k in sent if k not in received]
extra = [k for k in received if k not in sent]
different = [k for k in sent if k in received and sent[k] != received[k]]
print(f"sent={len(sent)} received={len(received)} missing={len(missing)} extra={len(extra)} "
      f"different={len(different)} duplicates={duplicates}")
for k in different[:3]:
    print("sent:", sent[k], "\nreceived:", received[k], file=sys.stderr)
sys.exit(1 if (missing or extra or different or duplicates or not sent) else 0)
