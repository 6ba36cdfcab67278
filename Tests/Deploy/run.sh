#!/usr/bin/env bash
# Validates the deployment artefacts: the Dockerfile against scripts/build-release, every
# Kubernetes manifest (rendered per overlay by real kustomize) against the Kubernetes and Flux CRD
# schemas, each rendered fluxtel.yaml with `fluxtel validate`, and config/dash0's dashboards and
# check rules with promtool and their CRDs. Exits non-zero on any failure.
#   Tests/Deploy/run.sh              # all of it
#   Tests/Deploy/run.sh -k sidecar   # extra arguments go to pytest
# Uses .venv-deploy (git-ignored) with the pinned Tests/Deploy/requirements.txt, rebuilt when that
# file changes. Builds .build/debug/fluxtel first (a no-op when it is current) unless FLUXTEL_BIN
# names a binary already.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=.venv-deploy
req=Tests/Deploy/requirements.txt
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python3" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "deploy tests: creating $venv from $req" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi

# promtool for test_dash0.py: Debian's `prometheus` package, pinned (bookworm's current version).
promtool_version="2.42.0+ds-5+deb12u1"
if [ "$(dpkg-query -W -f='${Version}' prometheus 2>/dev/null)" != "$promtool_version" ]; then
  echo "deploy tests: installing prometheus=$promtool_version (promtool)" >&2
  sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "prometheus=$promtool_version" >/dev/null
fi

if [ -z "${FLUXTEL_BIN:-}" ]; then
  ./scripts/bootstrap >&2
  swift build --product fluxtel >&2
fi

# -q ends with pytest's summary line ("N passed in Xs"); no cache directory in the worktree.
exec "$venv/bin/python3" -m pytest -q -p no:cacheprovider Tests/Deploy "$@"
