#!/usr/bin/env python3
"""Decodes an ExportMetricsServiceRequest (protobuf, file given as argv[1]) with the official
opentelemetry-proto Python bindings and prints it as JSON (field names as in the .proto).
Floats are printed as their shortest repr *strings* so that the reader compares exact doubles
(some JSON readers round long mantissas). Exit code 2 when the bytes do not decode."""
import json
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest


def floats_as_strings(value):
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return [floats_as_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: floats_as_strings(v) for k, v in value.items()}
    return value


def main() -> int:
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    request = ExportMetricsServiceRequest()
    try:
        request.ParseFromString(data)
    except Exception as error:  # noqa: BLE001 - any decode failure is a test failure
        print(f"decode failed: {error}", file=sys.stderr)
        return 2
    print(json.dumps(floats_as_strings(json_format.MessageToDict(request, preserving_proto_field_name=True))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
