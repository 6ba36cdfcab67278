"""Turns the OTLP/JSON requests of shared/fixtures/otel-spans.json into the protobuf bytes
notification-controller sends (one ExportTraceServiceRequest with one span per POST), using the
official classes' JSON parser.

usage: flux_requests.py FIXTURE OUT   (OUT: length-prefixed request bodies)
"""
import json
import struct
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def hex_to_base64(obj):
    """OTLP/JSON ids are hex; protobuf's JSON parser expects base64 for bytes fields."""
    import base64
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                out[key] = base64.b64encode(bytes.fromhex(value)).decode()
            else:
                out[key] = hex_to_base64(value)
        return out
    if isinstance(obj, list):
        return [hex_to_base64(v) for v in obj]
    return obj


fixture = json.load(open(sys.argv[1]))
with open(sys.argv[2], "wb") as out:
    for chain in fixture["chains"]:
        for request in chain["requests"]:
            message = json_format.ParseDict(hex_to_base64(request["exportTraceServiceRequest_as_OTLP_JSON"]),
                                            ExportTraceServiceRequest(), ignore_unknown_fields=True)
            body = message.SerializeToString()
            out.write(struct.pack(">I", len(body)))
            out.write(body)
