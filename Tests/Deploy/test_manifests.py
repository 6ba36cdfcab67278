"""What issue 7 asks of the manifests, and that the pieces agree with each other: the Provider
reaches the Service, the scrape targets reach the metrics Services, the RBAC binds the agent's
ServiceAccount, the Secret template has every variable the configs need, and each pod is as locked
down as its mounts allow."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
import yaml

from conftest import KUBERNETES, RENDERINGS, find, one

CONTROLLERS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"]
AGENT = {"daemonset": ("DaemonSet", "fluxtel", "fluxtel"),
         "deployment": ("Deployment", "fluxtel", "fluxtel"),
         "sidecar": ("Deployment", "notification-controller", "flux-system")}
EVENT_KINDS = {"GitRepository", "OCIRepository", "Bucket", "HelmChart", "Kustomization", "HelmRelease"}


def test_inventories(rendered):
    def inventory(name):
        def name_of(o):  # generated ConfigMaps end in a content hash
            return re.sub(r"-[a-z0-9]{10}$", "-<hash>", o["metadata"]["name"]) if o["kind"] == "ConfigMap" else o["metadata"]["name"]
        return sorted((o["kind"], o["metadata"].get("namespace", ""), name_of(o)) for o in rendered[name])
    common = [("Alert", "flux-system", "fluxtel"), ("Provider", "flux-system", "fluxtel")] + \
        [("Service", "flux-system", f"{c}-metrics") for c in CONTROLLERS]
    flux_objects = [("ClusterRole", "", "fluxtel-flux-objects")]
    agent_side = flux_objects + [
        ("ConfigMap", "fluxtel", "fluxtel-config-<hash>"), ("Namespace", "", "fluxtel"),
        ("Role", "flux-system", "fluxtel-pod-discovery"), ("RoleBinding", "flux-system", "fluxtel-pod-discovery"),
        ("ClusterRoleBinding", "", "fluxtel-flux-objects"),
        ("Role", "fluxtel", "fluxtel-leader-election"), ("RoleBinding", "fluxtel", "fluxtel-leader-election"),
        ("Service", "fluxtel", "fluxtel"), ("ServiceAccount", "fluxtel", "fluxtel")]
    assert inventory("daemonset") == sorted(common + agent_side + [("DaemonSet", "fluxtel", "fluxtel")])
    assert inventory("deployment") == sorted(common + agent_side + [("Deployment", "fluxtel", "fluxtel")])
    assert inventory("sidecar") == sorted(common + flux_objects + [
        ("ClusterRoleBinding", "", "fluxtel-flux-objects-sidecar"),
        ("ConfigMap", "flux-system", "fluxtel-sidecar-config-<hash>"), ("Namespace", "", "flux-system"),
        ("Deployment", "flux-system", "notification-controller")])


FLUX_RESOURCES = {
    "source.toolkit.fluxcd.io": {"gitrepositories", "ocirepositories", "buckets", "helmrepositories", "helmcharts",
                                 "externalartifacts"},
    "source.extensions.fluxcd.io": {"artifactgenerators"},
    "kustomize.toolkit.fluxcd.io": {"kustomizations"},
    "helm.toolkit.fluxcd.io": {"helmreleases"},
    "notification.toolkit.fluxcd.io": {"alerts", "providers", "receivers"},
    "image.toolkit.fluxcd.io": {"imagerepositories", "imagepolicies", "imageupdateautomations"},
    "events.k8s.io": {"events"},
}


def test_cluster_wide_rights_are_list_and_watch_on_flux_kinds_and_events(rendered):
    """receivers.flux_objects: the only cluster-wide rights, and nothing beyond list/watch on the Flux
    resources and Events (no get, no secrets, no wildcard)."""
    for name, objects in rendered.items():
        roles = find(objects, "ClusterRole")
        assert [r["metadata"]["name"] for r in roles] == ["fluxtel-flux-objects"], name
        granted = {}
        for rule in roles[0]["rules"]:
            assert rule["verbs"] == ["list", "watch"], rule
            assert len(rule["apiGroups"]) == 1 and "*" not in rule["resources"], rule
            granted.setdefault(rule["apiGroups"][0], set()).update(rule["resources"])
        assert granted == FLUX_RESOURCES, name
        for binding in find(objects, "ClusterRoleBinding"):
            assert binding["roleRef"]["name"] == "fluxtel-flux-objects", name


@pytest.mark.parametrize("overlay", ["daemonset", "deployment"])
def test_lease_rights_only_in_fluxtels_namespace(rendered, overlay):
    objects = rendered[overlay]
    role = one(objects, "Role", "fluxtel-leader-election", "fluxtel")
    assert role["rules"] == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                              "verbs": ["get", "create", "update"]}]
    lease_rules = [r for o in find(objects, "Role") + find(objects, "ClusterRole") for r in o["rules"]
                   if "coordination.k8s.io" in r["apiGroups"]]
    assert lease_rules == role["rules"]
    binding = one(objects, "RoleBinding", "fluxtel-leader-election", "fluxtel")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "fluxtel", "namespace": "fluxtel"}]
    env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in agent_container(rendered, overlay)["env"]}
    assert env["POD_NAME"] == "metadata.name" and env["POD_NAMESPACE"] == "metadata.namespace"


@pytest.mark.parametrize("overlay", ["daemonset", "deployment"])
def test_rbac_is_pods_read_only_in_flux_system_for_the_agent(rendered, overlay):
    objects = rendered[overlay]
    role = one(objects, "Role", namespace="flux-system")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
    binding = one(objects, "RoleBinding", namespace="flux-system")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]}
    kind, name, namespace = AGENT[overlay]
    pod = one(objects, kind, name, namespace)["spec"]["template"]["spec"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": pod["serviceAccountName"], "namespace": namespace}]
    one(objects, "ServiceAccount", pod["serviceAccountName"], namespace)


def agent_pod(rendered, overlay):
    kind, name, namespace = AGENT[overlay]
    return one(rendered[overlay], kind, name, namespace)["spec"]["template"]["spec"]


def agent_container(rendered, overlay):
    return next(c for c in agent_pod(rendered, overlay)["containers"] if c["name"] == "fluxtel")


def agent_config(rendered, overlay) -> dict:
    pod = agent_pod(rendered, overlay)
    volume = next(v for v in pod["volumes"] if v["name"] == next(
        m["name"] for m in agent_container(rendered, overlay)["volumeMounts"] if m["mountPath"] == "/etc/fluxtel"))
    cm = one(rendered[overlay], "ConfigMap", volume["configMap"]["name"])
    return yaml.safe_load(cm["data"]["fluxtel.yaml"])


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"([\d.]+)(ms|s|m|h)", duration))


# ---- the DaemonSet -------------------------------------------------------------------------------

def test_daemonset_is_not_in_flux_system(rendered):
    daemonset = one(rendered["daemonset"], "DaemonSet")
    assert daemonset["metadata"]["namespace"] == "fluxtel"
    namespace = one(rendered["daemonset"], "Namespace", "fluxtel")
    # hostPath is refused by `restricted` and `baseline`.
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_daemonset_node_name_and_host_paths(rendered):
    pod = agent_pod(rendered, "daemonset")
    container = agent_container(rendered, "daemonset")
    assert {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}} in container["env"]
    host = {v["name"]: v["hostPath"] for v in pod["volumes"] if "hostPath" in v}
    assert host == {"varlogpods": {"path": "/var/log/pods", "type": "Directory"},
                    "state": {"path": "/var/lib/fluxtel", "type": "DirectoryOrCreate"}}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["varlogpods"] == {"name": "varlogpods", "mountPath": "/var/log/pods", "readOnly": True}
    assert mounts["state"]["mountPath"] == "/var/lib/fluxtel" and not mounts["state"].get("readOnly")
    config = agent_config(rendered, "daemonset")
    assert config["receivers"]["filelog"]["checkpoint_dir"] == "/var/lib/fluxtel"
    assert all(p.startswith("/var/log/pods/") for p in config["receivers"]["filelog"]["include"])


def test_daemonset_security_context_is_tight_as_hostpath_allows(rendered):
    pod = agent_pod(rendered, "daemonset")
    sc = agent_container(rendered, "daemonset")["securityContext"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    # root only to read root-owned 0640 log files; documented in daemonset.yaml.
    assert sc["runAsUser"] == 0 and sc["runAsNonRoot"] is False
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")


@pytest.mark.parametrize("overlay", ["deployment", "sidecar"])
def test_pods_without_hostpath_meet_restricted(rendered, overlay):
    """The `restricted` Pod Security Standard's container rules, for the fluxtel container."""
    pod = agent_pod(rendered, overlay)
    sc = agent_container(rendered, overlay)["securityContext"]
    psc = pod.get("securityContext", {})
    assert not any("hostPath" in v for v in pod["volumes"])
    assert sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True
    assert sc.get("runAsUser", psc.get("runAsUser")) not in (0, None)
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc.get("seccompProfile", psc.get("seccompProfile")) == {"type": "RuntimeDefault"}
    assert sc["readOnlyRootFilesystem"] is True


def test_deployment_namespace_enforces_restricted(rendered):
    labels = one(rendered["deployment"], "Namespace", "fluxtel")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("overlay", ["daemonset", "deployment", "sidecar"])
def test_probes_resources_and_grace_period(rendered, overlay):
    pod = agent_pod(rendered, overlay)
    container = agent_container(rendered, overlay)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    liveness = container["livenessProbe"]["httpGet"]
    assert liveness["path"] == "/healthz" and ports[liveness["port"]] == 8888
    if overlay != "sidecar":  # an unready sidecar would take notification-controller out of its Service
        readiness = container["readinessProbe"]["httpGet"]
        assert readiness["path"] == "/readyz" and ports[readiness["port"]] == 8888
    else:
        assert "readinessProbe" not in container
    config = agent_config(rendered, overlay)
    assert config["service"]["telemetry"]["address"].endswith(":8888")
    assert pod["terminationGracePeriodSeconds"] > seconds(config["service"]["shutdown_timeout"])
    assert container["resources"]["requests"] == {"cpu": "10m", "memory": "32Mi"}
    assert container["resources"]["limits"] == {"memory": "128Mi"}


def test_one_image_everywhere(rendered):
    images = {agent_container(rendered, o)["image"] for o in AGENT}
    assert len(images) == 1 and re.fullmatch(r"[\w./-]+/fluxtel:\d+\.\d+\.\d+", images.pop())


def test_deployment_has_no_logs_and_one_replica(rendered):
    deployment = one(rendered["deployment"], "Deployment")
    assert deployment["spec"]["replicas"] == 1
    for overlay in ("deployment", "sidecar"):
        receivers = agent_config(rendered, overlay)["receivers"]
        assert set(receivers) == {"prometheus", "otlp", "flux_objects"}


# ---- Services ------------------------------------------------------------------------------------

def test_agent_service(rendered):
    for overlay, policy in (("daemonset", "Local"), ("deployment", None)):
        service = one(rendered[overlay], "Service", "fluxtel", "fluxtel")
        assert service["spec"].get("internalTrafficPolicy") == policy
        assert {p["name"]: (p["port"], p["targetPort"]) for p in service["spec"]["ports"]} == \
            {"otlp-http": (4318, "otlp-http"), "metrics": (8888, "metrics")}
        container = agent_container(rendered, overlay)
        assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"otlp-http": 4318, "metrics": 8888}
        pod_labels = one(rendered[overlay], AGENT[overlay][0], "fluxtel")["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()


@pytest.mark.parametrize("overlay", ["daemonset", "deployment", "sidecar"])
def test_metrics_services_match_the_scrape_targets(rendered, overlay):
    services = {s["metadata"]["name"]: s for s in find(rendered[overlay], "Service", namespace="flux-system")}
    for controller in CONTROLLERS:
        service = services[f"{controller}-metrics"]
        assert service["spec"]["selector"] == {"app": controller}
        assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(8080, "http-prom")]
    for target in agent_config(rendered, overlay)["receivers"]["prometheus"]["targets"]:
        url = urlparse(target["url"])
        assert url.path == "/metrics"
        if url.hostname == "127.0.0.1":  # the sidecar scrapes its own pod
            assert overlay == "sidecar" and target["labels"]["job"] == "notification-controller"
            continue
        name, namespace, *_ = url.hostname.split(".")
        assert namespace == "flux-system" and name in services and url.port == 8080
        assert target["labels"]["job"] == services[name]["spec"]["selector"]["app"]


# ---- the Flux side -------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", ["daemonset", "deployment"])
def test_provider_reaches_the_agent_service(rendered, overlay):
    provider = one(rendered[overlay], "Provider")
    assert provider["spec"]["type"] == "otel"
    url = urlparse(provider["spec"]["address"])
    assert url.scheme == "http" and url.path in ("", "/", "/v1/traces") and not url.query
    service, namespace, svc, *rest = url.hostname.split(".")
    assert svc == "svc" and rest in ([], ["cluster", "local"])
    one(rendered[overlay], "Service", service, namespace)
    assert url.port in [p["port"] for p in one(rendered[overlay], "Service", service, namespace)["spec"]["ports"]]
    assert url.port == 4318


def test_sidecar_provider_posts_over_loopback(rendered):
    provider = one(rendered["sidecar"], "Provider")
    assert provider["spec"]["address"] == "http://127.0.0.1:4318"
    assert agent_config(rendered, "sidecar")["receivers"]["otlp"]["endpoint"] == "127.0.0.1:4318"
    deployment = one(rendered["sidecar"], "Deployment", "notification-controller")
    template = deployment["spec"]["template"]
    assert template["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] == "manager"
    assert [c["name"] for c in template["spec"]["containers"]] == ["fluxtel", "manager"]
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": "notification-controller"}


@pytest.mark.parametrize("overlay", list(RENDERINGS))
def test_alert_selects_every_source_and_deployer_kind(rendered, overlay):
    alert = one(rendered[overlay], "Alert")
    provider = one(rendered[overlay], "Provider")
    assert alert["spec"]["providerRef"]["name"] == provider["metadata"]["name"]
    assert alert["metadata"]["namespace"] == provider["metadata"]["namespace"] == "flux-system"
    assert alert["spec"].get("eventSeverity", "info") == "info"
    assert {s["kind"] for s in alert["spec"]["eventSources"]} == EVENT_KINDS
    assert all(s["name"] == "*" for s in alert["spec"]["eventSources"])


def test_provider_secret_template_has_headers():
    secret = yaml.safe_load((KUBERNETES / "flux" / "provider-secret.example.yaml").read_text())
    headers = yaml.safe_load(secret["stringData"]["headers"])
    assert isinstance(headers, dict) and headers["Authorization"].startswith("Bearer ")
    provider = yaml.safe_load((KUBERNETES / "flux" / "provider.yaml").read_text())
    assert provider["metadata"]["namespace"] == secret["metadata"]["namespace"]
    assert f"name: {secret['metadata']['name']}" in (KUBERNETES / "flux" / "provider.yaml").read_text()


# ---- Secret and environment ----------------------------------------------------------------------

@pytest.mark.parametrize("overlay", list(RENDERINGS))
def test_secret_template_provides_every_variable_the_config_needs(rendered, overlay):
    secret = yaml.safe_load((KUBERNETES / "base" / "secret.example.yaml").read_text())
    container = agent_container(rendered, overlay)
    assert [e["secretRef"]["name"] for e in container["envFrom"]] == [secret["metadata"]["name"]]
    _, _, namespace = AGENT[overlay]
    text = yaml.safe_dump(agent_config(rendered, overlay))
    provided = set(secret["stringData"]) | {e["name"] for e in container.get("env", [])}
    required = set(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", text))
    optional = set(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*):-", text))
    # Nothing is required: without the Secret the agent starts and says that nothing is exported.
    assert required == set()
    assert {"DASH0_ENDPOINT", "DASH0_AUTH_TOKEN"} <= optional & provided
    assert optional - provided <= {"FLUXTEL_LOG_LEVEL"}
    if overlay == "sidecar":  # must never keep notification-controller from starting
        assert container["envFrom"][0]["secretRef"].get("optional") is True
    else:
        assert not container["envFrom"][0]["secretRef"].get("optional")
