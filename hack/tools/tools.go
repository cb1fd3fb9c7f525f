//go:build tools

// Package tools pins the build tools (controller-gen) in their own module, so
// their dependencies never leak into the operator's module graph.
package tools

import (
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
