"""README.md (the README's Kubernetes section) points at things that exist."""

from __future__ import annotations

import re

from conftest import KUBERNETES, REPO

DOCS = (REPO / "README.md").read_text()


def test_apply_commands_and_links_resolve():
    for path in re.findall(r"kubectl apply -k (\S+)", DOCS):
        assert (REPO / path / "kustomization.yaml").is_file(), path
    for link in re.findall(r"\]\((\.\./[^)#]+)\)", DOCS):
        assert (REPO / "docs" / link).resolve().exists(), link


def test_names_in_the_docs_match_the_manifests():
    secret = (KUBERNETES / "base" / "secret.example.yaml").read_text()
    for key in ("DASH0_ENDPOINT", "DASH0_AUTH_TOKEN", "DASH0_DATASET", "CLUSTER_NAME", "FLUXTEL_RECEIVER_TOKEN"):
        assert key in secret and key in DOCS
    assert "name: fluxtel-dash0" in secret and "secret generic fluxtel-dash0" in DOCS
    provider = (KUBERNETES / "flux" / "provider.yaml").read_text()
    address = re.search(r"address: (\S+)", provider).group(1)
    assert address in DOCS
    assert "flux-system/fluxtel" in DOCS  # <Alert namespace>/<Alert name>: the spans' service.name


def test_the_three_classic_mistakes_are_covered():
    for topic in ("Provider address", "`headers` key", "DaemonSet is in `flux-system`"):
        assert topic in DOCS, topic
    for signal in ("gotk_reconcile_duration_seconds", "k8s.namespace.name = flux-system", "flux check"):
        assert signal in DOCS, signal
