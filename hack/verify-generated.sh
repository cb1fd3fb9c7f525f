#!/usr/bin/env bash
# Regenerates deepcopy code, CRDs and RBAC and fails if anything changed, so
# `make test` catches generated files that were not regenerated and committed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
files() { find api config/crd config/rbac -type f \( -name 'zz_generated*.go' -o -name '*.yaml' \) 2>/dev/null | sort; }
sum() { files | xargs -r sha256sum; }
before="$(sum)"
make -s generate manifests >/dev/null
after="$(sum)"
if [[ "$before" != "$after" ]]; then
  echo "generated files are stale; run 'make generate manifests' and commit:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
echo ">> generated files are up to date"
