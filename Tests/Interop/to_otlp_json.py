"""Re-encodes length-prefixed ExportTraceServiceRequest bodies as OTLP/JSON with the official
classes' JSON printer (ids converted to hex, as the OTLP/JSON mapping requires).

usage: to_otlp_json.py IN OUT   (both length-prefixed records)
"""
import base64
import json
import struct
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def ids_to_hex(obj):
    if isinstance(obj, dict):
        return {k: (base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str)
                    else ids_to_hex(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [ids_to_hex(v) for v in obj]
    return obj


data = open(sys.argv[1], "rb").read()
offset = 0
with open(sys.argv[2], "wb") as out:
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        request = ExportTraceServiceRequest()
        request.ParseFromString(data[offset + 4:offset + 4 + length])
        offset += 4 + length
        body = json.dumps(ids_to_hex(json_format.MessageToDict(request))).encode()
        out.write(struct.pack(">I", len(body)))
        out.write(body)
