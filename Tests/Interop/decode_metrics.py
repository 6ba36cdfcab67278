#!/usr/bin/env python3
"""Decodes an ExportMetricsServiceRequest (protobuf, file given as argv[1]) with the official
opentelemetry-proto Python bindings and prints it as JSON (field names as in the .proto).
Exit code 2 when the bytes do not decode: the Swift test then fails."""
import json
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest


def main() -> int:
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    request = ExportMetricsServiceRequest()
    try:
        request.ParseFromString(data)
    except Exception as error:  # noqa: BLE001 - any decode failure is a test failure
        print(f"decode failed: {error}", file=sys.stderr)
        return 2
    print(json.dumps(json_format.MessageToDict(request, preserving_proto_field_name=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
