//go:build tools

// Package tools pins the build tools (controller-gen, govulncheck) in their
// own module, so their dependencies never leak into the operator's module
// graph. vulndb/ (same module) builds govulncheck's local database.
package tools

import (
	_ "golang.org/x/vuln/cmd/govulncheck"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
