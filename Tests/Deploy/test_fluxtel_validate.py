"""Each rendered ConfigMap's fluxtel.yaml passes `fluxtel validate` with the environment the pod
gets, and also without the Secret, where it warns (file:line:column) that nothing will be exported;
every shipped config validates in an empty environment."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import FLUXTEL_BIN, REPO, RENDERINGS, find

# What the Secret fluxtel-dash0 and the downward API put into the pod.
POD_ENV = {
    "DASH0_ENDPOINT": "https://ingress.eu-west-1.aws.dash0.com",
    "DASH0_AUTH_TOKEN": "auth_test",
    "DASH0_DATASET": "default",
    "NODE_NAME": "node-1",
}


@pytest.fixture(scope="session")
def fluxtel():
    if not os.access(FLUXTEL_BIN, os.X_OK):
        pytest.fail(f"{FLUXTEL_BIN} not found: build it with `swift build --product fluxtel` "
                    "(Tests/Deploy/run.sh does) or set FLUXTEL_BIN")
    return str(FLUXTEL_BIN)


def validate(fluxtel, path, env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DASH0_", "FLUXTEL_", "CLUSTER_NAME"))}
    return subprocess.run([fluxtel, "validate", "--config", str(path)], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def configs(rendered, overlay):
    found = [cm for cm in find(rendered[overlay], "ConfigMap") if "fluxtel.yaml" in cm.get("data", {})]
    assert len(found) == 1
    return found[0]["data"]["fluxtel.yaml"]


@pytest.mark.parametrize("overlay", list(RENDERINGS))
def test_rendered_config_validates(rendered, overlay, fluxtel, tmp_path):
    path = tmp_path / "fluxtel.yaml"
    path.write_text(configs(rendered, overlay))
    result = validate(fluxtel, path, POD_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{path}: ok"


def validate_in_empty_environment(fluxtel, path):
    """`env -i fluxtel validate --config PATH`: nothing from this process's environment."""
    return subprocess.run(["env", "-i", fluxtel, "validate", "--config", str(path)],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("overlay", list(RENDERINGS))
def test_rendered_config_without_the_secret_starts_and_says_why(rendered, overlay, fluxtel, tmp_path):
    """Without the Secret (an empty environment) every overlay's config is valid, so the container
    starts instead of crash-looping (a crash-looping sidecar takes notification-controller out of its
    Service); validate warns, naming the endpoint's line and the variable to set."""
    text = configs(rendered, overlay)
    path = tmp_path / "fluxtel.yaml"
    path.write_text(text)
    result = validate_in_empty_environment(fluxtel, path)
    assert result.returncode == 0, result.stderr
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "${env:DASH0_ENDPOINT" in l)
    assert f"{path}:{line}:" in result.stderr, result.stderr
    assert "set DASH0_ENDPOINT" in result.stderr and "nothing will be exported" in result.stderr, result.stderr


@pytest.mark.parametrize("name", ["config/fluxtel.yaml"] + sorted(
    str(p.relative_to(REPO)) for p in (REPO / "config" / "examples").glob("*.yaml")))
def test_shipped_config_validates_in_an_empty_environment(fluxtel, name):
    result = validate_in_empty_environment(fluxtel, REPO / name)
    assert result.returncode == 0, result.stderr


def test_image_default_config_validates_without_environment(fluxtel):
    # The Dockerfile's build-time smoke test runs the same command in the runtime image.
    result = validate(fluxtel, REPO / "config" / "fluxtel.yaml", {})
    assert result.returncode == 0, result.stderr


def test_docs_quote_the_real_missing_secret_warning(rendered, fluxtel, tmp_path):
    """README.md quotes what the DaemonSet says for a Secret without DASH0_ENDPOINT."""
    import re
    docs = (REPO / "README.md").read_text()
    quoted = re.search(r"/etc/fluxtel/fluxtel\.yaml:(\d+):(\d+): exporters\.otlp_http has no endpoint: set DASH0_ENDPOINT", docs)
    assert quoted, "README.md no longer quotes the warning"
    path = tmp_path / "fluxtel.yaml"
    path.write_text(configs(rendered, "daemonset"))
    result = validate_in_empty_environment(fluxtel, path)
    assert f"{path}:{quoted.group(1)}:{quoted.group(2)}: exporters.otlp_http has no endpoint: set DASH0_ENDPOINT" in result.stderr


def test_validate_environment_names_what_run_would_fail_on(fluxtel, tmp_path):
    """`validate --environment` checks this machine as `run` would: a TLS file that is missing is an
    error at its key's line and column; without the flag the same file is valid."""
    path = tmp_path / "fluxtel.yaml"
    path.write_text("exporters:\n  otlp_http:\n    endpoint: https://ingress.example.com\n"
                    f"    tls:\n      ca_file: {tmp_path}/missing-ca.pem\n")
    result = subprocess.run(["env", "-i", fluxtel, "validate", "--environment", "--config", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"{path}:5:16: exporters.otlp_http.tls.ca_file: cannot read {tmp_path}/missing-ca.pem" in result.stderr, result.stderr
    assert validate_in_empty_environment(fluxtel, path).returncode == 0
