"""Shared paths and rendered manifests for the deployment tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import kustomize  # noqa: E402

REPO = HERE.parent.parent
# The project's shared facts live beside the repository: <repo>/../shared.
SHARED = Path(os.environ.get("FLUXTEL_SHARED", REPO.parent / "shared")).resolve()
KUBERNETES = REPO / "config" / "kubernetes"
FLUXTEL_BIN = Path(os.environ.get("FLUXTEL_BIN", REPO / ".build" / "debug" / "fluxtel"))

# What is rendered and checked: each overlay as `kubectl apply -k` would apply it, and the sidecar
# component inside a stand-in of the kustomization `flux bootstrap` writes.
RENDERINGS = {
    "daemonset": KUBERNETES / "overlays" / "daemonset",
    "deployment": KUBERNETES / "overlays" / "deployment",
    "sidecar": HERE / "fixtures" / "flux-system",
}
# Files that are templates, not part of any kustomization, but must be valid all the same.
TEMPLATES = [
    KUBERNETES / "base" / "secret.example.yaml",
    KUBERNETES / "flux" / "provider-secret.example.yaml",
]


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    return {name: kustomize.render(path) for name, path in RENDERINGS.items()}


def find(objects: list[dict], kind: str, name: str | None = None, namespace: str | None = None) -> list[dict]:
    return [o for o in objects if o["kind"] == kind
            and (name is None or o["metadata"]["name"] == name)
            and (namespace is None or o["metadata"].get("namespace") == namespace)]


def one(objects: list[dict], kind: str, name: str | None = None, namespace: str | None = None) -> dict:
    found = find(objects, kind, name, namespace)
    assert len(found) == 1, f"expected one {kind} {namespace}/{name}, found {len(found)}"
    return found[0]
