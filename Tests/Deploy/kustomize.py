"""A small kustomize renderer: exactly the features config/kubernetes uses, nothing more.

CI machines have no `kubectl`/`kustomize` (Debian does not package them), so the manifests are
rendered here. Supported, with kustomize v5 semantics:

- `resources` (files and directories) and `components` (kind: Component);
- `labels` with `includeSelectors: false` (metadata labels only);
- `configMapGenerator` with `files`/`literals`, `behavior: create|replace|merge`, `options.labels`
  and `options.annotations`, the content-hash name suffix computed exactly as kustomize does, and
  the references to the generated names in pod templates rewritten;
- `patches` holding strategic-merge patches (`path` or inline `patch`), with the merge keys of the
  lists the manifests touch.

Anything else in a kustomization is an error, never silently ignored: a renderer that skipped a
feature would validate something other than what `kubectl apply -k` applies. When `kubectl` is on
PATH the tests also compare this renderer's output with `kubectl kustomize`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_KEYS = {
    "apiVersion", "kind", "resources", "components", "labels", "configMapGenerator", "patches",
}
WORKLOAD_KINDS = {"Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "CronJob"}


class KustomizeError(Exception):
    pass


def render(path: str | os.PathLike) -> list[dict]:
    """Renders the kustomization in directory `path` like `kustomize build`."""
    root = Path(path).resolve()
    kustomization = _load_kustomization(root)
    if kustomization.get("kind", "Kustomization") != "Kustomization":
        raise KustomizeError(f"{root}: a {kustomization['kind']} cannot be built on its own")
    state = _State()
    _accumulate(root, kustomization, state)
    return state.finish()


class _State:
    def __init__(self) -> None:
        self.resources: list[dict] = []
        # id(resource) -> original name, for generated ConfigMaps that get a hash suffix
        self.generated: dict[int, str] = {}

    def finish(self) -> list[dict]:
        renames: dict[tuple[str, str], str] = {}
        for res in self.resources:
            if id(res) in self.generated:
                original = self.generated[id(res)]
                res["metadata"]["name"] = f"{original}-{configmap_hash(res)}"
                renames[(_namespace(res), original)] = res["metadata"]["name"]
        for res in self.resources:
            if res.get("kind") in WORKLOAD_KINDS:
                _rename_configmap_refs(res, renames)
        return self.resources


def _load_kustomization(root: Path) -> dict:
    for name in KUSTOMIZATION_FILES:
        file = root / name
        if file.is_file():
            data = yaml.safe_load(file.read_text()) or {}
            unknown = set(data) - SUPPORTED_KEYS
            if unknown:
                raise KustomizeError(f"{file}: unsupported kustomization keys {sorted(unknown)}")
            return data
    raise KustomizeError(f"{root}: no kustomization file")


def _file_in_root(root: Path, relative: str) -> Path:
    """kustomize's default load restriction: files (not directories) must be inside the root."""
    file = (root / relative).resolve()
    if root != file and root not in file.parents:
        raise KustomizeError(f"{root}: file {relative} is outside the kustomization root")
    if not file.is_file():
        raise KustomizeError(f"{root}: no file {relative}")
    return file


def _accumulate(root: Path, kustomization: dict, state: _State) -> None:
    for entry in kustomization.get("resources") or []:
        target = (root / entry).resolve()
        if target.is_dir():
            sub = _load_kustomization(target)
            if sub.get("kind", "Kustomization") != "Kustomization":
                raise KustomizeError(f"{root}: resource {entry} is a {sub['kind']}, list it under components")
            sub_state = _State()
            _accumulate(target, sub, sub_state)
            _append(state, sub_state.resources, root, entry)
            state.generated.update(sub_state.generated)
        else:
            docs = [d for d in yaml.safe_load_all(_file_in_root(root, entry).read_text()) if d is not None]
            _append(state, docs, root, entry)
    for entry in kustomization.get("components") or []:
        target = (root / entry).resolve()
        component = _load_kustomization(target)
        if component.get("kind") != "Component":
            raise KustomizeError(f"{root}: component {entry} is not a kind: Component")
        _accumulate(target, component, state)
    _generate(root, kustomization, state)
    _patch(root, kustomization, state)
    _label(root, kustomization, state)


def _append(state: _State, docs: list[dict], root: Path, entry: str) -> None:
    have = {_key(r) for r in state.resources}
    for doc in docs:
        if _key(doc) in have:
            raise KustomizeError(f"{root}: {entry}: {_key(doc)} is already defined")
        have.add(_key(doc))
        state.resources.append(doc)


def _key(res: dict) -> tuple[str, str, str, str]:
    return (res.get("apiVersion", ""), res.get("kind", ""), _namespace(res), res["metadata"]["name"])


def _namespace(res: dict) -> str:
    return res.get("metadata", {}).get("namespace", "")


# ---- configMapGenerator --------------------------------------------------------------------------

def _generate(root: Path, kustomization: dict, state: _State) -> None:
    for spec in kustomization.get("configMapGenerator") or []:
        unknown = set(spec) - {"name", "namespace", "behavior", "files", "literals", "options"}
        if unknown:
            raise KustomizeError(f"{root}: unsupported configMapGenerator keys {sorted(unknown)}")
        name, namespace = spec["name"], spec.get("namespace", "")
        data: dict[str, str] = {}
        for entry in spec.get("files") or []:
            key, _, relative = entry.rpartition("=") if "=" in entry else ("", "", entry)
            file = _file_in_root(root, relative)
            data[key or file.name] = file.read_text()
        for literal in spec.get("literals") or []:
            key, _, value = literal.partition("=")
            data[key] = value
        options = spec.get("options") or {}
        if set(options) - {"labels", "annotations"}:
            raise KustomizeError(f"{root}: unsupported generator options {sorted(options)}")
        behavior = spec.get("behavior", "create")
        existing = [r for r in state.resources
                    if id(r) in state.generated and state.generated[id(r)] == name and _namespace(r) == namespace]
        if behavior == "create":
            if existing:
                raise KustomizeError(f"{root}: ConfigMap {namespace}/{name} already generated; use behavior replace or merge")
            metadata: dict = {"name": name}
            if namespace:
                metadata["namespace"] = namespace
            cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}
            _apply_generator_options(cm, options)
            state.resources.append(cm)
            state.generated[id(cm)] = name
        elif behavior in ("replace", "merge"):
            if len(existing) != 1:
                raise KustomizeError(f"{root}: behavior {behavior}: no generated ConfigMap {namespace}/{name} to change")
            cm = existing[0]
            cm["data"] = data if behavior == "replace" else {**cm.get("data", {}), **data}
            _apply_generator_options(cm, options)
        else:
            raise KustomizeError(f"{root}: unknown generator behavior {behavior!r}")


def _apply_generator_options(cm: dict, options: dict) -> None:
    for field in ("labels", "annotations"):
        if options.get(field):
            cm["metadata"].setdefault(field, {}).update(options[field])


def configmap_hash(cm: dict) -> str:
    """kustomize's name suffix (api/hasher): sha256 over Go's json.Marshal of kind, name, data."""
    # The name is hashed empty: that is what kustomize v5 does (checked against
    # `kubectl kustomize`, kustomize v5.5.0, which the tests repeat when kubectl is there).
    encoded = {"kind": "ConfigMap", "name": "", "data": cm.get("data") or {}}
    if cm.get("binaryData"):
        encoded["binaryData"] = cm["binaryData"]
    if cm.get("immutable"):
        encoded["immutable"] = True
    text = json.dumps(encoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # Go's encoder escapes these for HTML safety; the hash is over its bytes.
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return digest.translate(str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"}))


def _rename_configmap_refs(workload: dict, renames: dict[tuple[str, str], str]) -> None:
    namespace = _namespace(workload)

    def rename(ref: dict | None) -> None:
        if ref and (namespace, ref.get("name")) in renames:
            ref["name"] = renames[(namespace, ref["name"])]

    spec = workload.get("spec", {})
    if workload["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    pod = spec if workload["kind"] == "Pod" else spec.get("template", {}).get("spec", {})
    for volume in pod.get("volumes") or []:
        rename(volume.get("configMap"))
        for source in (volume.get("projected") or {}).get("sources") or []:
            rename(source.get("configMap"))
    for group in ("initContainers", "containers", "ephemeralContainers"):
        for container in pod.get(group) or []:
            for env in container.get("env") or []:
                rename((env.get("valueFrom") or {}).get("configMapKeyRef"))
            for env_from in container.get("envFrom") or []:
                rename(env_from.get("configMapRef"))


# ---- patches (strategic merge) -------------------------------------------------------------------

# patchMergeKey of the lists the manifests patch (from the Kubernetes API types); any other list
# is replaced, as strategic merge does for lists without a merge key.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "volumes": "name", "env": "name", "volumeMounts": "mountPath", "imagePullSecrets": "name",
}


def _patch(root: Path, kustomization: dict, state: _State) -> None:
    for entry in kustomization.get("patches") or []:
        if set(entry) - {"path", "patch"}:
            raise KustomizeError(f"{root}: unsupported patch fields {sorted(set(entry) - {'path', 'patch'})}")
        text = _file_in_root(root, entry["path"]).read_text() if "path" in entry else entry["patch"]
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
        for patch in docs:
            if not isinstance(patch, dict) or "kind" not in patch:
                raise KustomizeError(f"{root}: only strategic-merge patches are supported")
            matches = [r for r in state.resources
                       if r.get("kind") == patch["kind"]
                       and r.get("apiVersion", "").split("/")[0] == patch.get("apiVersion", "").split("/")[0]
                       and r["metadata"]["name"] == patch["metadata"]["name"]
                       and _namespace(r) == patch["metadata"].get("namespace", _namespace(r))]
            if len(matches) != 1:
                raise KustomizeError(f"{root}: patch for {patch['kind']} {patch['metadata']} matches {len(matches)} resources")
            merged = strategic_merge(matches[0], patch, kind=patch["kind"])
            matches[0].clear()
            matches[0].update(merged)


def strategic_merge(original, patch, kind: str = "", field: str = ""):
    if isinstance(patch, dict):
        if any(k.startswith("$") for k in patch):
            raise KustomizeError(f"unsupported strategic-merge directive in {sorted(patch)}")
        if not isinstance(original, dict):
            return copy.deepcopy(patch)
        result = copy.deepcopy(original)
        for key, value in patch.items():
            if value is None:
                result.pop(key, None)
            elif key in result:
                result[key] = strategic_merge(result[key], value, kind, key)
            else:
                result[key] = copy.deepcopy(value)
        return result
    if isinstance(patch, list) and isinstance(original, list):
        merge_key = MERGE_KEYS.get(field)
        if field == "ports":
            merge_key = "port" if kind == "Service" else "containerPort"
        if merge_key is None or not all(isinstance(i, dict) for i in patch + original):
            return copy.deepcopy(patch)
        result = copy.deepcopy(original)
        added = []
        for item in patch:
            for index, existing in enumerate(result):
                if existing.get(merge_key) == item.get(merge_key):
                    result[index] = strategic_merge(existing, item, kind, "")
                    break
            else:
                added.append(copy.deepcopy(item))
        # kustomize puts the patch's new items first (checked against kubectl kustomize).
        return added + result
    return copy.deepcopy(patch)


# ---- labels --------------------------------------------------------------------------------------

def _label(root: Path, kustomization: dict, state: _State) -> None:
    for entry in kustomization.get("labels") or []:
        if set(entry) - {"pairs", "includeSelectors"} or entry.get("includeSelectors", False):
            raise KustomizeError(f"{root}: only `labels` with pairs and includeSelectors: false are supported")
        for res in state.resources:
            res["metadata"].setdefault("labels", {}).update(entry["pairs"])
