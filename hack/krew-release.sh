#!/usr/bin/env bash
# Builds the kubectl-cashier release archives into dist/ and writes the krew
# manifest plugins/cashier.yaml with their sha256 sums.
#   hack/krew-release.sh v0.1.0
# The archives are reproducible (-trimpath, no VCS stamp, fixed tar metadata),
# so the same commit and Go toolchain give the same sums.
set -euo pipefail
version="${1:?usage: hack/krew-release.sh VERSION (e.g. v0.1.0)}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dist="$root/dist"
repo="https://github.com/cashier-operator/cashier-operator"
rm -rf "$dist" && mkdir -p "$dist"
platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64)
declare -A sums
for p in "${platforms[@]}"; do
  os="${p%/*}" arch="${p#*/}"
  work="$dist/kubectl-cashier_${os}_${arch}"
  mkdir -p "$work"
  (cd "$root" && CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -buildvcs=false -ldflags="-s -w" \
    -o "$work/kubectl-cashier" ./cmd/kubectl-cashier)
  cp "$root/LICENSE" "$work/" 2>/dev/null || true
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" -cf - . | gzip -n >"$work.tar.gz"
  sums[$p]="$(sha256sum "$work.tar.gz" | cut -d' ' -f1)"
  rm -rf "$work"
done
{
  cat <<YAML
# krew plugin manifest, written by hack/krew-release.sh ${version}.
# Install from a checkout: kubectl krew install --manifest=plugins/cashier.yaml
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: cashier
spec:
  version: ${version}
  homepage: ${repo}
  shortDescription: Inspect and operate cashier-operator payments
  description: |
    kubectl cashier shows a cashier-operator Payment with its captures, refunds,
    customs declarations, dispute, conditions and events (status), sums money by
    currency (summary), writes Refund and Capture manifests checked against what
    the payment can still take (refund, capture), shows the user's checkout
    action as a QR code (checkout) and writes a redacted support bundle (report).
  platforms:
YAML
  for p in "${platforms[@]}"; do
    os="${p%/*}" arch="${p#*/}"
    cat <<YAML
  - selector:
      matchLabels: {os: ${os}, arch: ${arch}}
    uri: ${repo}/releases/download/${version}/kubectl-cashier_${os}_${arch}.tar.gz
    sha256: ${sums[$p]}
    bin: kubectl-cashier
YAML
  done
} >"$root/plugins/cashier.yaml"
echo "dist/: $(ls "$dist" | tr '\n' ' ')" >&2
echo "plugins/cashier.yaml written for ${version}" >&2
