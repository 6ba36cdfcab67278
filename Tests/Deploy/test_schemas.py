"""Every rendered object is valid: core objects against the Kubernetes OpenAPI schemas
(kubernetes-validate, strict: unknown fields are errors), Flux objects against the CRDs of
notification-controller v1.9.3 in <repo>/../shared/fixtures/crds, and the Dash0 objects of
config/dash0 against the CRDs in Tests/Deploy/fixtures/crds (PersesDashboard from perses-operator
v0.5.0, PrometheusRule from prometheus-operator v0.93.1: the source URL heads each file)."""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from conftest import DASH0, HERE, RENDERINGS, SHARED, TEMPLATES

# The oldest Kubernetes the manifests support and a current one; both bundled by the pinned
# kubernetes-validate. (internalTrafficPolicy, appProtocol, seccompProfile are all older than 1.30.)
KUBERNETES_VERSIONS = ["1.30.0", "1.35.0"]
CRD_DIR = SHARED / "fixtures" / "crds"
DASH0_CRD_DIR = HERE / "fixtures" / "crds"


# ---- CRD schemas ---------------------------------------------------------------------------------

def structural_to_jsonschema(schema: dict) -> dict:
    """A CRD's openAPIV3Schema as JSON Schema (draft 4), as strict as the API server: unknown
    fields are rejected (the server prunes them, and kubectl's default strict field validation
    turns that into an error)."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        if node.pop("x-kubernetes-int-or-string", False):
            node.pop("type", None)
            node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        preserve = node.pop("x-kubernetes-preserve-unknown-fields", False)
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node \
                and not preserve:
            node["additionalProperties"] = False
        for key, value in node.items():
            if key in ("properties", "patternProperties"):
                for sub in value.values():
                    walk(sub)
            elif key in ("items", "additionalProperties", "not") or key in ("allOf", "anyOf", "oneOf"):
                walk(value)

    walk(schema)
    # metadata is validated by the API server's ObjectMeta, not the CRD: check the basics here.
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name", "namespace"],
        "properties": {
            "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
            "namespace": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "additionalProperties": False,
    }
    return schema


def load_crds() -> dict[tuple[str, str, str], dict]:
    """(group, version, kind) -> JSON Schema, for every served version."""
    schemas = {}
    for file in sorted(CRD_DIR.glob("*.yaml")) + sorted(DASH0_CRD_DIR.glob("*.yaml")):
        for crd in yaml.safe_load_all(file.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    schemas[(group, version["name"], kind)] = \
                        structural_to_jsonschema(version["schema"]["openAPIV3Schema"])
    return schemas


CRDS = load_crds() if CRD_DIR.is_dir() else {}


def crd_errors(obj: dict) -> list[str]:
    group, _, version = obj["apiVersion"].rpartition("/")
    schema = CRDS.get((group, version, obj["kind"]))
    assert schema is not None, f"no served CRD version for {obj['apiVersion']} {obj['kind']} in {CRD_DIR}"
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))]


def is_custom(obj: dict) -> bool:
    """Objects of a CRD (Flux's, Perses', the Prometheus operator's), not of Kubernetes itself."""
    group = obj["apiVersion"].split("/")[0]
    return group.endswith(".toolkit.fluxcd.io") or group in ("perses.dev", "monitoring.coreos.com")


def test_shared_crds_are_there():
    assert CRD_DIR.is_dir(), f"{CRD_DIR} missing: the tests expect shared/ beside the repository"
    kinds = {(g, k) for g, _, k in CRDS}
    assert kinds == {("notification.toolkit.fluxcd.io", "Provider"), ("notification.toolkit.fluxcd.io", "Alert"),
                     ("perses.dev", "PersesDashboard"), ("monitoring.coreos.com", "PrometheusRule")}


# ---- every rendered object -----------------------------------------------------------------------

def all_objects():
    from conftest import kustomize
    for name, path in {**RENDERINGS, "dash0": DASH0}.items():
        for obj in kustomize(path):
            yield pytest.param(obj, id=f"{name}:{obj['kind']}/{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}")
    for path in TEMPLATES:
        for obj in yaml.safe_load_all(path.read_text()):
            if obj:
                yield pytest.param(obj, id=f"template:{path.name}:{obj['kind']}")


@pytest.mark.parametrize("obj", list(all_objects()))
def test_object_is_valid(obj):
    if is_custom(obj):
        assert crd_errors(obj) == []
        return
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"Kubernetes {version}: {error.path}: {error.message}")


# ---- the validators catch mistakes (so a pass means something) -----------------------------------

def flux_object(rendered, kind):
    return copy.deepcopy(next(o for o in rendered["daemonset"] if o["kind"] == kind))


@pytest.mark.parametrize("mutate, expected", [
    (lambda p: p["spec"].update(type="otlp"), "spec.type"),
    (lambda p: p["spec"].update(adress="http://x"), "spec"),
    (lambda p: p["spec"].pop("type"), "spec"),
    (lambda p: p["spec"].update(address="x" * 2049), "spec.address"),
])
def test_crd_validation_rejects_bad_providers(rendered, mutate, expected):
    provider = flux_object(rendered, "Provider")
    assert crd_errors(provider) == []
    mutate(provider)
    errors = crd_errors(provider)
    assert errors and errors[0].startswith(expected + ":"), errors


@pytest.mark.parametrize("mutate", [
    lambda a: a["spec"]["eventSources"].append({"kind": "Helmrelease", "name": "*"}),
    lambda a: a["spec"].pop("providerRef"),
    lambda a: a["spec"].update(eventSeverity="warning"),
    lambda a: a["spec"]["eventSources"][0].pop("name"),
])
def test_crd_validation_rejects_bad_alerts(rendered, mutate):
    alert = flux_object(rendered, "Alert")
    mutate(alert)
    assert crd_errors(alert) != []


def test_kubernetes_validation_rejects_unknown_and_mistyped_fields(rendered):
    daemonset = copy.deepcopy(next(o for o in rendered["daemonset"] if o["kind"] == "DaemonSet"))
    kubernetes_validate.validate(daemonset, KUBERNETES_VERSIONS[0], strict=True)
    typo = copy.deepcopy(daemonset)
    typo["spec"]["template"]["spec"]["terminationGracePeriodSecond"] = 30
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, KUBERNETES_VERSIONS[0], strict=True)
    mistyped = copy.deepcopy(daemonset)
    mistyped["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "4318"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(mistyped, KUBERNETES_VERSIONS[0], strict=True)


def test_every_yaml_file_under_config_kubernetes_is_used_or_a_template():
    """No stray manifest: each file is a kustomization, a resource/patch/generator input of one,
    or one of the templates validated above."""
    from conftest import KUBERNETES
    referenced: set[Path] = set(TEMPLATES)
    for kfile in KUBERNETES.rglob("kustomization.yaml"):
        k = yaml.safe_load(kfile.read_text())
        referenced.add(kfile)
        for entry in k.get("resources", []) + [p["path"] for p in k.get("patches", []) if "path" in p]:
            referenced.add((kfile.parent / entry).resolve())
        for gen in k.get("configMapGenerator", []):
            for f in gen.get("files", []):
                referenced.add((kfile.parent / f.split("=")[-1]).resolve())
    stray = [p for p in KUBERNETES.rglob("*.yaml") if p.resolve() not in referenced]
    assert stray == []
