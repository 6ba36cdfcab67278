"""Each rendered ConfigMap's fluxtel.yaml passes `fluxtel validate` with the environment the pod
gets, and fails loudly (file:line:column) without the Secret; the image's default config too."""

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


@pytest.mark.parametrize("overlay", list(RENDERINGS))
def test_rendered_config_without_the_secret_names_the_line(rendered, overlay, fluxtel, tmp_path):
    text = configs(rendered, overlay)
    path = tmp_path / "fluxtel.yaml"
    path.write_text(text)
    result = validate(fluxtel, path, {"NODE_NAME": "node-1"})
    assert result.returncode != 0
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "${env:DASH0_ENDPOINT}" in l)
    assert f"{path}:{line}:" in result.stderr and "DASH0_ENDPOINT" in result.stderr, result.stderr


def test_image_default_config_validates_without_environment(fluxtel):
    # The Dockerfile's build-time smoke test runs the same command in the runtime image.
    result = validate(fluxtel, REPO / "config" / "fluxtel.yaml", {})
    assert result.returncode == 0, result.stderr


def test_docs_quote_the_real_missing_secret_error(rendered, fluxtel, tmp_path):
    """README.md quotes the DaemonSet's error for a Secret without DASH0_ENDPOINT."""
    import re
    docs = (REPO / "README.md").read_text()
    quoted = re.search(r"/etc/fluxtel/fluxtel\.yaml:(\d+):(\d+): environment variable DASH0_ENDPOINT is", docs)
    assert quoted, "README.md no longer quotes the error"
    path = tmp_path / "fluxtel.yaml"
    path.write_text(configs(rendered, "daemonset"))
    result = validate(fluxtel, path, {})
    assert f"{path}:{quoted.group(1)}:{quoted.group(2)}: environment variable DASH0_ENDPOINT is not set" in result.stderr
