#!/usr/bin/env bash
# govulncheck against a vulnerability database built locally from the
# golang.org/x/vulndb module (vuln.go.dev cannot be reached from here; the Go
# module proxy can, and the module carries the same OSV entries in data/osv).
#
#   1. build govulncheck (pinned in hack/tools/go.mod) into bin/
#   2. download golang.org/x/vulndb@$VULNDB_VERSION through the module proxy
#      (checked against go.sum's checksum database like any module)
#   3. index its OSV entries into bin/vulndb-<version>/ (hack/tools/vulndb;
#      skipped when already built)
#   4. govulncheck -db file://bin/vulndb-<version> ./...   (exit 3 = vulnerable)
#
# Progress goes to stderr; govulncheck's report to stdout. Extra arguments are
# passed to govulncheck (e.g. hack/vuln.sh -show verbose).
set -euo pipefail

VULNDB_VERSION="${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/bin"
DB="$BIN/vulndb-$VULNDB_VERSION"
log() { printf '[vuln %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

log "go $(go env GOVERSION) (GOTOOLCHAIN=${GOTOOLCHAIN:-unset})"
log "building govulncheck and the database indexer (hack/tools) (step 1/4)"
mkdir -p "$BIN"
(cd "$ROOT/hack/tools" && go build -o "$BIN/govulncheck" golang.org/x/vuln/cmd/govulncheck \
  && go build -o "$BIN/vulndb-index" ./vulndb)

if [[ -f "$DB/.complete" ]]; then
  log "database cached: $DB (steps 2-3 skipped)"
else
  log "downloading golang.org/x/vulndb@$VULNDB_VERSION from the module proxy (step 2/4)"
  info="$(cd "$ROOT/hack/tools" && go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION")"
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$info")"
  infofile="$(sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p' <<<"$info")"
  stamp="$(grep -o '"Time": *"[^"]*"' "$infofile" | sed 's/.*"\([^"]*\)"$/\1/' || true)"
  [[ -d "$dir/data/osv" ]] || { log "no data/osv in $dir"; echo "$info" >&2; exit 1; }
  log "indexing $(find "$dir/data/osv" -name 'GO-*.json' | wc -l) OSV entries (step 3/4)"
  "$BIN/vulndb-index" -osv "$dir/data/osv" -out "$DB" ${stamp:+-modified "$stamp"}
  touch "$DB/.complete"
fi

log "govulncheck -db file://$DB ./... (step 4/4)"
cd "$ROOT"
"$BIN/govulncheck" -db "file://$DB" "$@" ./...
