"""The Python renderer (kustomize.py) against kustomize itself: exact output equality with
`kubectl kustomize` when kubectl is installed, and the kustomize behaviours it reproduces."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

import kustomize
from conftest import RENDERINGS


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed (the Python renderer stands alone)")
@pytest.mark.parametrize("name", list(RENDERINGS))
def test_same_output_as_kubectl_kustomize(name):
    result = subprocess.run(["kubectl", "kustomize", str(RENDERINGS[name])], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    theirs = {kustomize._key(o): o for o in yaml.safe_load_all(result.stdout) if o}
    ours = {kustomize._key(o): o for o in kustomize.render(RENDERINGS[name])}
    assert sorted(ours) == sorted(theirs)
    for key in ours:
        assert ours[key] == theirs[key], key


def test_configmap_hash_matches_kustomize():
    # `kubectl kustomize` (kustomize v5.5.0) names a ConfigMap with literal a=b `x-4h2mbtbbt6`.
    assert kustomize.configmap_hash({"metadata": {"name": "x"}, "data": {"a": "b"}}) == "4h2mbtbbt6"


def test_generated_names_are_rewritten_in_pod_templates(rendered):
    for objects in rendered.values():
        configmaps = {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
        for obj in objects:
            if obj["kind"] in ("DaemonSet", "Deployment"):
                for volume in obj["spec"]["template"]["spec"]["volumes"]:
                    if "configMap" in volume:
                        assert volume["configMap"]["name"] in configmaps


def test_strategic_merge_by_merge_key():
    original = {"spec": {"containers": [{"name": "a", "image": "x", "args": ["1"]}], "volumes": [{"name": "v"}]}}
    patch = {"spec": {"containers": [{"name": "a", "args": ["2"]}, {"name": "b"}], "volumes": [{"name": "w"}]}}
    merged = kustomize.strategic_merge(original, patch)
    assert merged["spec"]["containers"] == [{"name": "b"}, {"name": "a", "image": "x", "args": ["2"]}]
    assert merged["spec"]["volumes"] == [{"name": "w"}, {"name": "v"}]
    assert kustomize.strategic_merge({"a": 1, "b": 2}, {"a": None}) == {"b": 2}


def test_unsupported_features_are_errors(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("namePrefix: x-\n")
    with pytest.raises(kustomize.KustomizeError, match="namePrefix"):
        kustomize.render(tmp_path)
    (tmp_path / "kustomization.yaml").write_text("labels:\n- pairs: {a: b}\n  includeSelectors: true\n")
    with pytest.raises(kustomize.KustomizeError):
        kustomize.render(tmp_path)


def test_files_outside_the_root_are_refused(tmp_path):
    (tmp_path / "outside.yaml").write_text("a: 1\n")
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "kustomization.yaml").write_text(
        "configMapGenerator:\n- name: x\n  files: [../outside.yaml]\n")
    with pytest.raises(kustomize.KustomizeError, match="outside"):
        kustomize.render(tmp_path / "k")
