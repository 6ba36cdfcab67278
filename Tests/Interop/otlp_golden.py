#!/usr/bin/env python3
"""Interop oracle for fluxtel's hand-written OTLP protobuf (Sources/OTLPWire).

Builds "every field" OTLP messages with the official generated classes (opentelemetry-proto,
pinned in requirements.txt). The Swift tests (Tests/OTLPWireTests/InteropTests.swift) build the
very same values with fluxtel's model.

  otlp_golden.py encode <kind> <file>     write the official encoding of the golden <kind>
  otlp_golden.py check <kind> <file>      parse <file> with the official classes and compare with
                                          the golden <kind> field for field (exit 1 + differences)
  otlp_golden.py json <kind> <file> [--snake] [--enum-ints]
                                          write the golden <kind> as OTLP/JSON: protobuf's MessageToJson
                                          (lowerCamelCase, or the proto field names with --snake; enum
                                          names, or numbers with --enum-ints) with trace/span ids turned
                                          from base64 into hex, as OTLP/JSON requires
  otlp_golden.py check-json <kind> <file>  parse the JSON in <file> with protobuf's json_format (strict:
                                          unknown fields are errors) and compare with the golden <kind>
                                          (for responses: their JSON has no ids)
  otlp_golden.py big-traces <file>        write a large ExportTraceServiceRequest (walker tests)
  otlp_golden.py check-split <orig> <part>...
                                          every part parses; the spans of the parts, in order, are
                                          those of <orig> with the same resource, scope, schema urls

kinds: trace-request logs-request metrics-request trace-response logs-response metrics-response
"""
import base64
import json
import sys

from google.protobuf import text_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as ls
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as ms
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts
from opentelemetry.proto.common.v1 import common_pb2 as c
from opentelemetry.proto.logs.v1 import logs_pb2 as l
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m
from opentelemetry.proto.resource.v1 import resource_pb2 as r
from opentelemetry.proto.trace.v1 import trace_pb2 as t

TRACE_ID = bytes(range(1, 17))
SPAN_ID = bytes(range(0xA0, 0xA8))
PARENT_ID = bytes([0xFF] * 8)


def kv(key, **value):
    return c.KeyValue(key=key, value=c.AnyValue(**value))


def every_attributes(prefix):
    """One attribute per AnyValue kind, plus the awkward cases (empty AnyValue, no value,
    zero/false oneof members that must still be written, nesting, string table indexes)."""
    return [
        kv(prefix + ".str", string_value="hello ✓ ünïcode"),
        kv(prefix + ".bool", bool_value=True),
        kv(prefix + ".false", bool_value=False),
        kv(prefix + ".int", int_value=-42),
        kv(prefix + ".int0", int_value=0),
        kv(prefix + ".bigint", int_value=9223372036854775807),
        kv(prefix + ".double", double_value=3.25),
        kv(prefix + ".double0", double_value=0.0),
        kv(prefix + ".emptystr", string_value=""),
        kv(prefix + ".array", array_value=c.ArrayValue(values=[
            c.AnyValue(string_value="a"), c.AnyValue(int_value=1), c.AnyValue(bool_value=False),
            c.AnyValue(double_value=-1.5), c.AnyValue(), c.AnyValue(bytes_value=b""),
            c.AnyValue(array_value=c.ArrayValue()),
        ])),
        kv(prefix + ".kvlist", kvlist_value=c.KeyValueList(values=[
            kv("nested", string_value="x"),
            kv("deeper", kvlist_value=c.KeyValueList(values=[kv("n", int_value=7)])),
            c.KeyValue(key="novalue"),
        ])),
        kv(prefix + ".bytes", bytes_value=b"\x00\x01\xfe\xff"),
        kv(prefix + ".strindex", string_value_strindex=5),
        c.KeyValue(key=prefix + ".empty", value=c.AnyValue()),
        c.KeyValue(key=prefix + ".absent"),
        c.KeyValue(key_strindex=3, value=c.AnyValue(string_value="by index")),
    ]


def resource():
    return r.Resource(
        attributes=[kv("service.name", string_value="flux-system/otel-tempo")] + every_attributes("res"),
        dropped_attributes_count=2,
        entity_refs=[
            c.EntityRef(schema_url="https://opentelemetry.io/schemas/1.34.0", type="service",
                        id_keys=["service.name", "service.namespace"], description_keys=["service.version"]),
            c.EntityRef(type="k8s.pod", id_keys=["k8s.pod.uid"]),
        ],
    )


def scope(name):
    return c.InstrumentationScope(name=name, version="1.44.0", attributes=every_attributes("scope"),
                                  dropped_attributes_count=1)


def trace_request():
    span = t.Span(
        trace_id=TRACE_ID, span_id=SPAN_ID, trace_state="rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
        parent_span_id=PARENT_ID, flags=0x301, name="Kustomization/flux-system.podinfo",
        kind=t.Span.SPAN_KIND_CONSUMER, start_time_unix_nano=1786528442000000001,
        end_time_unix_nano=18446744073709551615, attributes=every_attributes("span"),
        dropped_attributes_count=3,
        events=[
            t.Span.Event(time_unix_nano=1786528442500000000, name="exception", attributes=every_attributes("event"),
                         dropped_attributes_count=4),
            t.Span.Event(),
        ],
        dropped_events_count=5,
        links=[
            t.Span.Link(trace_id=bytes([9] * 16), span_id=bytes([8] * 8), trace_state="k=v",
                        attributes=every_attributes("link"), dropped_attributes_count=6, flags=0x100),
            t.Span.Link(),
        ],
        dropped_links_count=7,
        status=t.Status(message="reconciliation failed", code=t.Status.STATUS_CODE_ERROR),
    )
    minimal = t.Span(trace_id=TRACE_ID, span_id=bytes(8), name="minimal", status=t.Status(),
                     kind=t.Span.SPAN_KIND_SERVER)
    return ts.ExportTraceServiceRequest(resource_spans=[
        t.ResourceSpans(
            resource=resource(),
            scope_spans=[
                t.ScopeSpans(scope=scope("notification-controller"), spans=[span, minimal],
                             schema_url="https://opentelemetry.io/schemas/1.34.0"),
                t.ScopeSpans(spans=[t.Span(name="no scope", kind=t.Span.SPAN_KIND_INTERNAL)]),
                t.ScopeSpans(scope=c.InstrumentationScope()),
            ],
            schema_url="https://opentelemetry.io/schemas/1.34.0",
        ),
        t.ResourceSpans(),
        t.ResourceSpans(resource=r.Resource(), scope_spans=[t.ScopeSpans(spans=[t.Span()])]),
    ])


def logs_request():
    rec = l.LogRecord(
        time_unix_nano=1786528442123456789, observed_time_unix_nano=1786528442223456789,
        severity_number=l.SEVERITY_NUMBER_ERROR2, severity_text="error",
        body=c.AnyValue(string_value="Reconciliation failed after 1.5s, next try in 5m0s"),
        attributes=every_attributes("log"), dropped_attributes_count=8, flags=0x01,
        trace_id=TRACE_ID, span_id=SPAN_ID, event_name="flux.reconcile",
    )
    kvbody = l.LogRecord(body=c.AnyValue(kvlist_value=c.KeyValueList(values=every_attributes("body"))),
                         severity_number=l.SEVERITY_NUMBER_INFO)
    emptybody = l.LogRecord(body=c.AnyValue(), time_unix_nano=1)
    return ls.ExportLogsServiceRequest(resource_logs=[
        l.ResourceLogs(
            resource=resource(),
            scope_logs=[
                l.ScopeLogs(scope=scope("kustomize-controller"), log_records=[rec, kvbody, emptybody, l.LogRecord()],
                            schema_url="https://opentelemetry.io/schemas/1.34.0"),
                l.ScopeLogs(),
            ],
            schema_url="https://opentelemetry.io/schemas/1.26.0",
        ),
        l.ResourceLogs(scope_logs=[l.ScopeLogs(log_records=[l.LogRecord(severity_text="info")])]),
    ])


def exemplars():
    return [
        m.Exemplar(filtered_attributes=every_attributes("ex"), time_unix_nano=1786528442000000000,
                   as_double=0.25, span_id=SPAN_ID, trace_id=TRACE_ID),
        m.Exemplar(time_unix_nano=2, as_int=-7),
        m.Exemplar(as_double=0.0),
        m.Exemplar(as_int=0),
        m.Exemplar(),
    ]


def number_points():
    return [
        m.NumberDataPoint(attributes=every_attributes("dp"), start_time_unix_nano=1786528400000000000,
                          time_unix_nano=1786528442000000000, as_double=12.5, exemplars=exemplars(), flags=1),
        m.NumberDataPoint(time_unix_nano=3, as_int=-9223372036854775808),
        m.NumberDataPoint(as_int=0),
        m.NumberDataPoint(as_double=0.0),
        m.NumberDataPoint(as_double=-0.0),
        m.NumberDataPoint(),
    ]


def metrics_request():
    metrics = [
        m.Metric(name="gotk_reconcile_condition", description="The current condition status", unit="1",
                 metadata=every_attributes("meta"), gauge=m.Gauge(data_points=number_points())),
        m.Metric(name="gotk_reconcile_total", unit="{reconciliation}",
                 sum=m.Sum(data_points=number_points(), aggregation_temporality=m.AGGREGATION_TEMPORALITY_CUMULATIVE,
                           is_monotonic=True)),
        m.Metric(name="delta_sum", sum=m.Sum(aggregation_temporality=m.AGGREGATION_TEMPORALITY_DELTA,
                                             data_points=[m.NumberDataPoint(as_int=5)])),
        m.Metric(name="gotk_reconcile_duration_seconds", unit="s", histogram=m.Histogram(
            aggregation_temporality=m.AGGREGATION_TEMPORALITY_CUMULATIVE,
            data_points=[
                m.HistogramDataPoint(attributes=every_attributes("h"), start_time_unix_nano=1, time_unix_nano=2,
                                     count=10, sum=12.75, bucket_counts=[1, 0, 4, 5, 18446744073709551615],
                                     explicit_bounds=[0.005, 0.01, 0.5, -1.0], exemplars=exemplars(), flags=1,
                                     min=0.0, max=9.5),
                m.HistogramDataPoint(count=0, sum=0.0),
                m.HistogramDataPoint(min=-1.0),
                m.HistogramDataPoint(),
            ])),
        m.Metric(name="exp", exponential_histogram=m.ExponentialHistogram(
            aggregation_temporality=m.AGGREGATION_TEMPORALITY_DELTA,
            data_points=[
                m.ExponentialHistogramDataPoint(
                    attributes=every_attributes("e"), start_time_unix_nano=5, time_unix_nano=6, count=22, sum=-3.5,
                    scale=-3, zero_count=2,
                    positive=m.ExponentialHistogramDataPoint.Buckets(offset=-5, bucket_counts=[1, 300, 0, 18446744073709551615]),
                    negative=m.ExponentialHistogramDataPoint.Buckets(offset=7, bucket_counts=[2]),
                    flags=1, exemplars=exemplars(), min=-10.0, max=0.0, zero_threshold=1e-9),
                m.ExponentialHistogramDataPoint(scale=20, positive=m.ExponentialHistogramDataPoint.Buckets(),
                                                sum=0.0, zero_threshold=-0.0),
                m.ExponentialHistogramDataPoint(),
            ])),
        m.Metric(name="summary", description="go_gc_duration_seconds", summary=m.Summary(data_points=[
            m.SummaryDataPoint(attributes=every_attributes("s"), start_time_unix_nano=7, time_unix_nano=8, count=9,
                               sum=10.5, quantile_values=[
                                   m.SummaryDataPoint.ValueAtQuantile(quantile=0.0, value=0.001),
                                   m.SummaryDataPoint.ValueAtQuantile(quantile=0.5, value=0.0),
                                   m.SummaryDataPoint.ValueAtQuantile(quantile=1.0, value=2.5),
                                   m.SummaryDataPoint.ValueAtQuantile(),
                               ], flags=1),
            m.SummaryDataPoint(),
        ])),
        m.Metric(name="empty gauge", gauge=m.Gauge()),
        m.Metric(name="no data"),
    ]
    return ms.ExportMetricsServiceRequest(resource_metrics=[
        m.ResourceMetrics(
            resource=resource(),
            scope_metrics=[
                m.ScopeMetrics(scope=scope("fluxtel.prometheus"), metrics=metrics,
                               schema_url="https://opentelemetry.io/schemas/1.34.0"),
                m.ScopeMetrics(metrics=[m.Metric(name="lonely", gauge=m.Gauge(data_points=[m.NumberDataPoint(as_double=1.0)]))]),
            ],
            schema_url="https://opentelemetry.io/schemas/1.26.0",
        ),
        m.ResourceMetrics(),
    ])


GOLDEN = {
    "trace-request": trace_request,
    "logs-request": logs_request,
    "metrics-request": metrics_request,
    "trace-response": lambda: ts.ExportTraceServiceResponse(partial_success=ts.ExportTracePartialSuccess(
        rejected_spans=3, error_message="3 spans rejected: invalid trace_id")),
    "logs-response": lambda: ls.ExportLogsServiceResponse(partial_success=ls.ExportLogsPartialSuccess(
        rejected_log_records=-1, error_message="ü")),
    "metrics-response": lambda: ms.ExportMetricsServiceResponse(partial_success=ms.ExportMetricsPartialSuccess()),
}


def diff(expected, actual):
    import difflib
    a = text_format.MessageToString(expected, as_utf8=True).splitlines()
    b = text_format.MessageToString(actual, as_utf8=True).splitlines()
    return "\n".join(difflib.unified_diff(a, b, "golden (official)", "fluxtel bytes", lineterm="", n=2))


def check(kind, path):
    golden = GOLDEN[kind]()
    data = open(path, "rb").read()
    parsed = type(golden)()
    try:
        parsed.ParseFromString(data)
    except Exception as e:  # DecodeError and friends
        print(f"official decoder rejected the bytes: {e}")
        return 1
    # Equality of the messages, and of their deterministic official re-encodings (which also
    # captures presence of optional/oneof/message fields).
    same = parsed == golden and parsed.SerializeToString(deterministic=True) == golden.SerializeToString(deterministic=True)
    if not same:
        print(f"{kind}: decoded message differs from the golden one:")
        print(diff(golden, parsed) or "(no text difference: presence or float bits differ)")
        return 1
    # Informational: byte-identical to the official encoding?
    print("identical-bytes" if data == golden.SerializeToString() else "equal-but-different-bytes")
    return 0


def big_traces():
    req = ts.ExportTraceServiceRequest()
    n = 0
    for ri in range(3):
        rs = req.resource_spans.add(schema_url=f"https://schema/{ri}")
        rs.resource.attributes.extend([kv("service.name", string_value=f"svc-{ri}"), kv("pad", string_value="x" * 200)])
        for si in range(2):
            ss = rs.scope_spans.add(schema_url=f"https://scope-schema/{si}")
            ss.scope.name = f"scope-{ri}-{si}"
            for _ in range(400 if si == 0 else 1):
                n += 1
                sp = ss.spans.add(trace_id=TRACE_ID, span_id=n.to_bytes(8, "big"), name=f"span-{n}",
                                  start_time_unix_nano=n, end_time_unix_nano=n + 1)
                sp.attributes.extend([kv("i", int_value=n), kv("blob", string_value="y" * (n % 300))])
        if ri == 1:
            # one span larger than any sensible limit
            huge = rs.scope_spans[0].spans.add(name="huge", span_id=(10**6).to_bytes(8, "big"))
            huge.attributes.extend([kv("big", string_value="z" * 100_000)])
    return req


def flatten(req):
    out = []
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            for sp in ss.spans:
                out.append((rs.resource.SerializeToString(deterministic=True), rs.schema_url,
                            ss.scope.SerializeToString(deterministic=True), ss.schema_url,
                            sp.SerializeToString(deterministic=True)))
    return out


def check_split(orig_path, part_paths):
    orig = ts.ExportTraceServiceRequest()
    orig.ParseFromString(open(orig_path, "rb").read())
    got = []
    for p in part_paths:
        part = ts.ExportTraceServiceRequest()
        try:
            part.ParseFromString(open(p, "rb").read())
        except Exception as e:
            print(f"{p}: official decoder rejected the part: {e}")
            return 1
        got.extend(flatten(part))
    want = flatten(orig)
    if got != want:
        print(f"spans differ: {len(want)} expected, {len(got)} in parts")
        for i, (a, b) in enumerate(zip(want, got)):
            if a != b:
                print(f"first difference at span {i}")
                break
        return 1
    print(f"ok: {len(got)} spans in {len(part_paths)} parts")
    return 0


ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}


def hex_ids(node):
    """MessageToJson writes every bytes field as base64; OTLP/JSON wants trace and span ids in hex
    (the official SDKs' JSON exporters do this same conversion). Attribute keys are JSON values, not
    keys, so only real id fields are touched."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ID_KEYS and isinstance(v, str):
                node[k] = base64.b64decode(v).hex()
            else:
                hex_ids(v)
    elif isinstance(node, list):
        for v in node:
            hex_ids(v)
    return node


def to_otlp_json(kind, snake, enum_ints):
    from google.protobuf import json_format
    text = json_format.MessageToJson(GOLDEN[kind](), preserving_proto_field_name=snake,
                                     use_integers_for_enums=enum_ints)
    return json.dumps(hex_ids(json.loads(text)), indent=1, ensure_ascii=False)


def main(argv):
    if len(argv) >= 3 and argv[0] == "check-json" and argv[1] in GOLDEN:
        from google.protobuf import json_format
        golden = GOLDEN[argv[1]]()
        try:
            parsed = json_format.Parse(open(argv[2], encoding="utf-8").read(), type(golden)())
        except Exception as e:
            print(f"json_format rejected the JSON: {e}")
            return 1
        if parsed != golden:
            print(diff(golden, parsed))
            return 1
        print("equal")
        return 0
    if len(argv) >= 3 and argv[0] == "json" and argv[1] in GOLDEN:
        text = to_otlp_json(argv[1], "--snake" in argv[3:], "--enum-ints" in argv[3:])
        open(argv[2], "w", encoding="utf-8").write(text)
        return 0
    if len(argv) >= 3 and argv[0] == "encode" and argv[1] in GOLDEN:
        open(argv[2], "wb").write(GOLDEN[argv[1]]().SerializeToString())
        return 0
    if len(argv) >= 3 and argv[0] == "check" and argv[1] in GOLDEN:
        return check(argv[1], argv[2])
    if len(argv) == 2 and argv[0] == "big-traces":
        open(argv[1], "wb").write(big_traces().SerializeToString())
        return 0
    if len(argv) >= 2 and argv[0] == "check-split":
        return check_split(argv[1], argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
