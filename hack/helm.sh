#!/usr/bin/env bash
# Builds the pinned helm CLI from the Go module proxy into bin/helm-<version> and
# prints the binary's path on the last line (progress goes to stderr).
#
# Like hack/control-plane.sh: helm.sh/helm/v3 is compiled in a throwaway module under
# a temp dir, so the main module's go.mod/go.sum never see helm's dependencies.
# The ldflags mirror helm's own Makefile (version, and the default Kubernetes version
# that `helm template`/`helm lint` assume, derived from the k8s.io/client-go it uses).
# A finished build is skipped next time (instant).
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-3.22.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${HELM_BIN:-$ROOT/bin/helm-v${HELM_VERSION}}"
log() { printf '[helm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ -x "$OUT" ]] && "$OUT" version --short 2>/dev/null | grep -Eq "^v${HELM_VERSION}(\+|$)"; then
  log "cached: $OUT"
  echo "$OUT"
  exit 0
fi

mkdir -p "$(dirname "$OUT")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=mod
start=$(date +%s)

log "resolving helm.sh/helm/v3 v${HELM_VERSION} (step 1/3)"
cd "$WORK"
printf 'module helmbuild.local\n\ngo %s\n\nrequire helm.sh/helm/v3 v%s\n' \
  "$(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')" "$HELM_VERSION" > go.mod
go get "helm.sh/helm/v3/cmd/helm@v${HELM_VERSION}" >/dev/null 2>"$WORK/get.log" || { cat "$WORK/get.log" >&2; exit 1; }

# Same ldflags as helm's Makefile: the k8s version helm assumes offline is
# client-go's v0.X.Y → 1.X.
cgo_ver="$(go list -f '{{.Version}}' -m k8s.io/client-go)"   # e.g. v0.34.2
IFS=. read -r cmaj cmin _ <<<"${cgo_ver#v}"
kmaj=$((cmaj + 1))
pkg=helm.sh/helm/v3
ldflags="-s -w -X $pkg/internal/version.version=v${HELM_VERSION} -X $pkg/internal/version.gitTreeState=clean"
ldflags+=" -X $pkg/pkg/lint/rules.k8sVersionMajor=$kmaj -X $pkg/pkg/lint/rules.k8sVersionMinor=$cmin"
ldflags+=" -X $pkg/pkg/chartutil.k8sVersionMajor=$kmaj -X $pkg/pkg/chartutil.k8sVersionMinor=$cmin"
log "dependencies fetched (client-go $cgo_ver); compiling helm (step 2/3, ~1.5 min on 2 cores)"
go build -trimpath -ldflags "$ldflags" -o "$OUT.tmp" "$pkg/cmd/helm"
mv "$OUT.tmp" "$OUT"

log "step 3/3: $("$OUT" version --short) built in $(( $(date +%s) - start ))s"
echo "$OUT"
