#!/usr/bin/env bash
# Builds the pinned local control plane (kube-apiserver, etcd, kubectl) from the Go
# module proxy into bin/k8s/<version>/ and prints that directory on the last line.
#
# setup-envtest cannot download release binaries on our machines, so we compile them:
#   - kube-apiserver and kubectl from k8s.io/kubernetes, in a throwaway module that
#     requires it and replaces every k8s.io staging module with the matching v0.x tag
#     (k8s.io/kubernetes points them at ./staging, which a module download lacks);
#   - etcd from go.etcd.io/etcd/server/v3, likewise in a throwaway module.
# A finished build is recorded by a stamp file and skipped next time (seconds).
# First build: about 8 minutes on 2 cores.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${CONTROL_PLANE_DIR:-$ROOT/bin/k8s/${KUBE_VERSION}-etcd${ETCD_VERSION}-$(go env GOOS)-$(go env GOARCH)}"
STAMP="$OUT/.complete"
log() { printf '[control-plane %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ -f "$STAMP" && -x "$OUT/kube-apiserver" && -x "$OUT/etcd" && -x "$OUT/kubectl" ]]; then
  log "cached in $OUT"
  echo "$OUT"
  exit 0
fi

mkdir -p "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=mod

# --- kube-apiserver + kubectl ---------------------------------------------------
log "resolving k8s.io/kubernetes v${KUBE_VERSION} (step 1/4)"
mkdir -p "$WORK/kube" && cd "$WORK/kube"
GOMOD="$(go mod download -json "k8s.io/kubernetes@v${KUBE_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
[[ -f "$GOMOD" ]] || { log "could not download k8s.io/kubernetes v${KUBE_VERSION}"; exit 1; }
staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._/-]*\) => \./staging/.*#\1#p' "$GOMOD" | sort -u)
[[ -n "$staging" ]] || { log "no staging replaces found in $GOMOD"; exit 1; }
stagever="v0.${KUBE_VERSION#1.}"
{
  echo "module controlplane.local/kube"
  echo
  echo "go $(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')"
  echo
  echo "require k8s.io/kubernetes v${KUBE_VERSION}"
  echo
  echo "replace ("
  for m in $staging; do echo "	$m => $m $stagever"; done
  echo ")"
} > go.mod
log "$(echo "$staging" | wc -l) staging modules pinned to $stagever; fetching dependencies (step 2/4)"
go get "k8s.io/kubernetes/cmd/kube-apiserver@v${KUBE_VERSION}" "k8s.io/kubernetes/cmd/kubectl@v${KUBE_VERSION}" >/dev/null 2>"$WORK/get.log" || { cat "$WORK/get.log" >&2; exit 1; }

ver_ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ver_ldflags+=" -X $p.gitVersion=v${KUBE_VERSION} -X $p.gitMajor=${KUBE_VERSION%%.*}"
  minor="${KUBE_VERSION#*.}"; ver_ldflags+=" -X $p.gitMinor=${minor%%.*} -X $p.gitTreeState=clean"
done
log "compiling kube-apiserver and kubectl (step 3/4, the long one: ~6 min on 2 cores)"
go build -trimpath -ldflags "$ver_ldflags" -o "$OUT/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
log "kube-apiserver built"
go build -trimpath -ldflags "$ver_ldflags" -o "$OUT/kubectl" k8s.io/kubernetes/cmd/kubectl
log "kubectl built"

# --- etcd -----------------------------------------------------------------------
log "building etcd v${ETCD_VERSION} (step 4/4)"
mkdir -p "$WORK/etcd" && cd "$WORK/etcd"
printf 'module controlplane.local/etcd\n\ngo %s\n\nrequire go.etcd.io/etcd/server/v3 v%s\n' \
  "$(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')" "$ETCD_VERSION" > go.mod
go get "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}" >/dev/null 2>"$WORK/get.log" || { cat "$WORK/get.log" >&2; exit 1; }
go build -trimpath -ldflags "-s -w" -o "$OUT/etcd" go.etcd.io/etcd/server/v3
log "etcd built"

"$OUT/kube-apiserver" --version >&2
"$OUT/etcd" --version | sed -n 1p >&2 # sed reads it all: no SIGPIPE under pipefail
touch "$STAMP"
log "done: $OUT"
echo "$OUT"
