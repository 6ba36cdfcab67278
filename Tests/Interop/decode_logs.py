#!/usr/bin/env python3
"""Interop oracle for the file log receiver (acceptance 1).

  decode_logs.py <fixture.jsonl> <cri_base_ns> <body>...

Parses every <body> (an uncompressed ExportLogsServiceRequest as the sink received it) with the
official opentelemetry-proto classes, and checks that line i of <fixture.jsonl> (written in CRI format
with the CRI time <cri_base_ns> + i) arrived as the expected log record: severity, time, observed
time, body, attributes (typed, nested), log.iostream, the Kubernetes resource with log.file.path. Prints a JSON summary;
exit 1 with the differences when anything does not match.
"""
import calendar
import datetime
import json
import sys

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as ls

SEVERITY = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "error": 17, "dpanic": 21, "panic": 21, "fatal": 21}


def any_value(v):
    """A JSON value as MessageToDict renders the AnyValue fluxtel should have written."""
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, str):
        return {"stringValue": v}
    if v is None:
        return {}
    if isinstance(v, list) and not isinstance(v, Obj):
        return {"arrayValue": {"values": [any_value(x) for x in v]}} if v else {"arrayValue": {}}
    return {"kvlistValue": {"values": [{"key": k, "value": any_value(x)} for k, x in v]}} if v else {"kvlistValue": {}}


class Obj(list):
    """A JSON object as its (key, value) pairs in order, first of duplicate keys kept."""


def first_wins(pairs):
    seen = set()
    out = Obj()
    for k, v in pairs:
        if k not in seen:
            seen.add(k)
            out.append((k, v))
    return out


def nanos(ts):
    dt = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return calendar.timegm(dt.utctimetuple()) * 10**9 + dt.microsecond * 1000


def flux_identity(pairs):
    """flux.object.* and flux.revision as README "Flux object identity on log records" states them."""
    def plain(v):  # nested objects arrive as Obj pairs
        return {k: plain(x) for k, x in v} if isinstance(v, Obj) else v

    pairs = [(k, plain(v)) for k, v in pairs]
    top = dict(pairs)

    def text(v):
        return v if isinstance(v, str) and v and "\\" not in json.dumps(v)[1:-1] else None

    found, strength = None, -1
    for key, value in pairs:
        if key in ("eventInvolvedObject", "object") and isinstance(value, dict):
            ref = {k: text(value.get(k)) for k in ("kind", "name", "namespace", "uid")}
            if strength < 3 and ref["kind"] and ref["name"]:
                found, strength = ref, 3
        elif isinstance(value, dict) and strength < 2 and key not in ("annotations", "output"):
            kind = top.get("controllerKind")
            if key[:1].isupper() or (isinstance(kind, str) and key.lower() == kind.lower() and key != "eventInvolvedObject"):
                if text(value.get("name")):
                    found = {"kind": key if key[:1].isupper() else kind, "name": text(value.get("name")),
                             "namespace": text(value.get("namespace")), "uid": None}
                    strength = 2
    loose = text(top.get("reconciler kind")) or text(top.get("kind"))
    if strength < 1 and text(top.get("object")):
        parts = top["object"].split("/")
        if len(parts) == 3:
            found, strength = {"kind": parts[0], "namespace": parts[1], "name": parts[2], "uid": None}, 1
        elif len(parts) == 2 and loose:
            found, strength = {"kind": loose, "namespace": parts[0], "name": parts[1], "uid": None}, 1
    if strength < 0:
        kind = text(top.get("controllerKind")) or loose
        if kind and text(top.get("name")):
            found = {"kind": kind, "name": text(top.get("name")), "namespace": text(top.get("namespace")), "uid": None}
    attributes = {}
    if found:
        for k in ("kind", "name", "namespace", "uid"):
            if found.get(k):
                attributes[f"flux.object.{k}"] = {"stringValue": found[k]}
    revision = text(top.get("revision"))
    if not revision and isinstance(top.get("annotations"), dict):
        revision = next((text(v) for k, v in top["annotations"].items() if len(k) > 9 and k.endswith("/revision")), None)
    if revision:
        attributes["flux.revision"] = {"stringValue": revision}
    return attributes


def expected(line, cri_ns):
    pairs = json.loads(line, object_pairs_hook=first_wins)
    top = dict(pairs)
    attributes = {}
    for key, value in pairs:
        if key in ("level", "ts", "msg"):
            continue
        attributes["exception.message" if key == "error" else key] = any_value(value)
    attributes["log.iostream"] = {"stringValue": "stderr"}
    attributes.update(flux_identity(pairs))
    record = {
        "timeUnixNano": str(nanos(top["ts"])),
        "observedTimeUnixNano": str(cri_ns),
        "severityNumber": SEVERITY[top["level"].lower()],
        "severityText": top["level"],
        "body": any_value(top["msg"]),
        "attributes": attributes,
    }
    return record


def main():
    fixture, base = sys.argv[1], int(sys.argv[2])
    lines = [l for l in open(fixture, encoding="utf-8").read().split("\n") if l]
    received = []
    resources = []
    for path in sys.argv[3:]:
        request = ls.ExportLogsServiceRequest()
        request.ParseFromString(open(path, "rb").read())
        for rl in request.resource_logs:
            resource = {a["key"]: a["value"] for a in MessageToDict(rl.resource).get("attributes", [])}
            for sl in rl.scope_logs:
                for record in sl.log_records:
                    received.append(MessageToDict(record, use_integers_for_enums=True))
                    resources.append(resource)
    problems = []
    if len(received) != len(lines):
        problems.append(f"received {len(received)} records for {len(lines)} lines")
    by_observed = {int(r.get("observedTimeUnixNano", "0")): (r, res) for r, res in zip(received, resources)}
    for i, line in enumerate(lines):
        want = expected(line, base + i)
        got, resource = by_observed.get(base + i, (None, None))
        if got is None:
            problems.append(f"line {i + 1}: missing")
            continue
        attributes = {a["key"]: a.get("value", {}) for a in got.get("attributes", [])}
        resource = dict(resource)
        path = resource.pop("log.file.path", {}).get("stringValue", "")
        if not path.endswith("/manager/0.log"):
            problems.append(f"line {i + 1}: log.file.path {path!r}")
        if len(got.get("attributes", [])) != len(attributes):
            problems.append(f"line {i + 1}: duplicate attribute keys")
        got_cmp = {
            "timeUnixNano": got.get("timeUnixNano"),
            "observedTimeUnixNano": got.get("observedTimeUnixNano"),
            "severityNumber": got.get("severityNumber"),
            "severityText": got.get("severityText"),
            "body": got.get("body"),
            "attributes": attributes,
        }
        for field in want:
            if field == "attributes" and got_cmp[field] != want[field]:
                keys = sorted(k for k in set(got_cmp[field]) | set(want[field]) if got_cmp[field].get(k) != want[field].get(k))
                diff = {k: [got_cmp[field].get(k), want[field].get(k)] for k in keys}
                problems.append(f"line {i + 1}: attributes differ (got, want): {json.dumps(diff)[:400]}")
            elif got_cmp[field] != want[field]:
                problems.append(f"line {i + 1}: {field}: got {json.dumps(got_cmp[field])[:300]} want {json.dumps(want[field])[:300]}")
        want_resource = {
            "service.name": {"stringValue": "source-controller"},
            "k8s.deployment.name": {"stringValue": "source-controller"},
            "k8s.namespace.name": {"stringValue": "flux-system"},
            "service.namespace": {"stringValue": "flux-system"},
            "k8s.pod.name": {"stringValue": "source-controller-6d8f9c7b5-x2x9z"},
            "k8s.pod.uid": {"stringValue": "0d6a1b2c-1111-2222-3333-444455556666"},
            "k8s.container.name": {"stringValue": "manager"},
            "k8s.container.restart_count": {"intValue": "0"},
        }
        if resource != want_resource:
            problems.append(f"line {i + 1}: resource {json.dumps(resource)}")
    print(json.dumps({"records": len(received), "lines": len(lines), "problems": problems[:50]}))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
