"""The Dockerfile and scripts/build-release stay in sync, and the image has the properties the
Kubernetes manifests rely on. There is no Docker engine on the build machines: CI runs
scripts/build-release natively, so this is what ties the image to a build CI has proven."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess

import pytest

from conftest import REPO

# The release build, in exactly one place (scripts/build-release).
RELEASE_BUILD = "swift build -c release --static-swift-stdlib --product fluxtel"
SCRIPT = REPO / "scripts" / "build-release"
DOCKERFILE = REPO / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    result, current = [], ""
    for line in text.splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        keyword, _, arguments = current.strip().partition(" ")
        result.append((keyword.upper(), " ".join(arguments.split())))
        current = ""
    assert not current, "Dockerfile ends inside a continued line"
    return result


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions(DOCKERFILE.read_text()):
        if keyword == "FROM":
            found.append([])
        found[-1].append((keyword, arguments))
    return found


def args_of(stage, keyword) -> list[str]:
    return [a for k, a in stage if k == keyword]


def script_commands() -> list[str]:
    return [" ".join(line.split()) for line in SCRIPT.read_text().splitlines()
            if line.strip() and not line.strip().startswith("#")]


# ---- the one release build -----------------------------------------------------------------------

def test_script_is_executable_and_runs_the_release_build():
    assert os.access(SCRIPT, os.X_OK)
    builds = [c for c in script_commands() if re.search(r"\bswift build\b", c)]
    assert builds, "scripts/build-release runs no swift build"
    for command in builds:
        flags = re.search(r"swift build .*?(?= --scratch-path)", command)
        assert flags and flags.group(0) == RELEASE_BUILD, command
    # One build, then the same flags asking for the binary's directory.
    assert [c for c in builds if "--show-bin-path" not in c] == \
        [f'{RELEASE_BUILD} --scratch-path "$scratch" "${{layout[@]}}" >&2']


def test_script_lays_out_the_code_with_the_committed_order_file():
    """README "Footprint": lld, packed relocations and the symbol-ordering file are what keep the idle
    RSS down; losing one of them silently would only show in benchmarks/footprint."""
    text = " ".join(script_commands())
    for flag in ("-function-sections", "-ffunction-sections", "-use-ld=lld", "pack-relative-relocs",
                 "--symbol-ordering-file=$PWD/scripts/link-order/fluxtel.order"):
        assert flag in text, flag
    # Three groups, each sorted (scripts/link-order/order.py): the idle agent's functions first.
    lines = (REPO / "scripts" / "link-order" / "fluxtel.order").read_text().split("\n")
    headers = [line for line in lines if line.startswith("#")]
    assert headers == ["# idle", "# run", "# shared"], "regenerate with scripts/link-order/generate"
    groups, current = {}, None
    for line in filter(None, lines):
        if line.startswith("#"):
            current = groups.setdefault(line, [])
        else:
            current.append(line)
    names = [name for group in groups.values() for name in group]
    assert len(groups["# idle"]) > 500 and len(names) > 1000, "regenerate with scripts/link-order/generate"
    assert all(group == sorted(group) for group in groups.values())
    assert len(set(names)) == len(names), "a function in two groups"


def test_script_uses_its_own_git_ignored_scratch_path():
    assert 'scratch="${FLUXTEL_SCRATCH_PATH:-.build-static}"' in script_commands()
    if shutil.which("git") and (REPO / ".git").exists():
        ignored = subprocess.run(["git", "check-ignore", "-q", ".build-static/x"], cwd=REPO)
        assert ignored.returncode == 0, ".build-static/ must be git-ignored"


def test_script_prints_the_binary_path_last():
    assert script_commands()[-1] == 'echo "$bin"'


def test_dockerfile_builds_only_through_the_script():
    build = stages()[0]
    runs = args_of(build, "RUN")
    assert any("./scripts/build-release" in r for r in runs), "the build stage must RUN ./scripts/build-release"
    assert not any(re.search(r"\bswift build\b", r) for r in runs), \
        "the Dockerfile must not spell its own swift build; change scripts/build-release instead"
    # The dependency layer resolves into the scratch path the script builds in.
    assert "swift package --scratch-path .build-static resolve" in runs


# ---- build stage ---------------------------------------------------------------------------------

def test_builder_matches_the_toolchain_and_debian_release():
    build, runtime = stages()[0], stages()[-1]
    image = args_of(build, "FROM")[0].split()[0]
    assert re.fullmatch(r"swift:\d+\.\d+-bookworm", image), image
    assert args_of(runtime, "FROM")[0].split()[0] in ("debian:bookworm-slim", "gcr.io/distroless/cc-debian12")
    if shutil.which("swift"):
        version = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout
        local = re.search(r"Swift version (\d+\.\d+)", version)
        assert local and image == f"swift:{local.group(1)}-bookworm", \
            f"builder {image} differs from the local toolchain ({version.splitlines()[0]})"


def test_builder_has_the_c_libraries_and_strips_the_binary():
    runs = " ".join(args_of(stages()[0], "RUN"))
    for package in ("zlib1g-dev", "libyaml-dev"):
        assert package in runs
    assert "strip /out/fluxtel" in runs


# ---- runtime stage -------------------------------------------------------------------------------

def runtime():
    return stages()[-1]


def test_runtime_has_the_shared_libraries_and_ca_certificates():
    runs = " ".join(args_of(runtime(), "RUN"))
    for package in ("ca-certificates", "libyaml-0-2", "zlib1g"):
        assert package in runs, package


def test_runtime_user_is_numeric_and_not_root():
    users = args_of(runtime(), "USER")
    assert users, "no USER in the runtime stage"
    user = users[-1]
    assert re.fullmatch(r"\d+(:\d+)?", user), f"USER {user} must be numeric for runAsNonRoot"
    assert all(int(part) != 0 for part in user.split(":"))
    assert user == "65532:65532"


def test_runtime_exposes_receiver_and_telemetry_ports():
    exposed = {p for line in args_of(runtime(), "EXPOSE") for p in line.split()}
    assert exposed == {"4318", "8888"}


def test_entrypoint_and_default_config():
    assert [json.loads(e) for e in args_of(runtime(), "ENTRYPOINT")] == [["fluxtel"]]
    cmd = [json.loads(c) for c in args_of(runtime(), "CMD")][-1]
    assert cmd == ["--config", "/etc/fluxtel/fluxtel.yaml"]
    copies = args_of(runtime(), "COPY")
    assert "config/fluxtel.yaml /etc/fluxtel/fluxtel.yaml" in copies
    assert "--from=build /out/fluxtel /usr/local/bin/fluxtel" in copies


def test_state_directory_is_the_only_writable_place():
    assert args_of(runtime(), "VOLUME") == ['["/var/lib/fluxtel"]']
    runs = " ".join(args_of(runtime(), "RUN"))
    assert "install -d -o 65532 -g 65532" in runs and "/var/lib/fluxtel" in runs


def test_dockerignore_keeps_build_trees_out_of_the_context():
    ignored = (REPO / ".dockerignore").read_text().split()
    for pattern in (".git", ".build", ".build-*", ".venv*"):
        assert pattern in ignored, pattern


@pytest.mark.parametrize("path", ["/etc/fluxtel/fluxtel.yaml"])
def test_manifests_mount_the_config_where_the_image_expects_it(rendered, path):
    for name, objects in rendered.items():
        for obj in objects:
            if obj["kind"] not in ("DaemonSet", "Deployment"):
                continue
            for container in obj["spec"]["template"]["spec"]["containers"]:
                if container["image"].rsplit(":", 1)[0].endswith("/fluxtel"):
                    assert container["args"] == ["--config", path], name
                    mounts = {m["mountPath"] for m in container["volumeMounts"]}
                    assert os.path.dirname(path) in mounts, name


def test_shell_syntax_of_the_scripts():
    for script in (SCRIPT, REPO / "Tests" / "Deploy" / "run.sh"):
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script}: {result.stderr}"
        assert shlex.split(script.read_text().splitlines()[0]) == ["#!/usr/bin/env", "bash"]


# Shared libraries the runtime stage must provide, by Debian package (libc6 is in every image).
SONAME_PACKAGES = {
    "libyaml-0.so.2": "libyaml-0-2", "libz.so.1": "zlib1g", "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1", "libc.so.6": "libc6", "libm.so.6": "libc6",
    "ld-linux-x86-64.so.2": "libc6", "ld-linux-aarch64.so.1": "libc6",
}


def test_release_binary_needs_only_what_the_runtime_installs():
    """Checks the binary scripts/build-release made (CI runs it before these tests, or skip)."""
    binaries = sorted((REPO / ".build-static").glob("*/release/fluxtel"))
    if not binaries or shutil.which("readelf") is None:
        pytest.skip("no .build-static release binary (run scripts/build-release) or no readelf")
    dynamic = subprocess.run(["readelf", "-d", str(binaries[0])], capture_output=True, text=True, check=True).stdout
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic))
    assert needed, "no NEEDED entries: not a dynamically linked binary?"
    unknown = needed - set(SONAME_PACKAGES)
    assert not unknown, f"new shared libraries {unknown}: add their packages to the runtime stage"
    installed = " ".join(args_of(runtime(), "RUN")).split()
    missing = {SONAME_PACKAGES[s] for s in needed} - set(installed) - {"libc6"}
    assert not missing, f"runtime stage lacks {missing}"
