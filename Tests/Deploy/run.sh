#!/usr/bin/env bash
# Validates the deployment artefacts: the Dockerfile against scripts/build-release, every
# Kubernetes manifest (rendered per overlay) against the Kubernetes and Flux CRD schemas, and each
# rendered fluxtel.yaml with `fluxtel validate`. Exits non-zero on any failure.
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

if [ -z "${FLUXTEL_BIN:-}" ]; then
  ./scripts/bootstrap >&2
  swift build --product fluxtel >&2
fi

# -q ends with pytest's summary line ("N passed in Xs"); no cache directory in the worktree.
exec "$venv/bin/python3" -m pytest -q -p no:cacheprovider Tests/Deploy "$@"
