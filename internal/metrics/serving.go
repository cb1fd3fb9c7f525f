package metrics

import (
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// ServerOptions is how both binaries serve /metrics: with secure, over HTTPS
// (controller-runtime's self-signed certificate) to bearer tokens the API
// server authenticates (TokenReview) and authorizes for GET /metrics
// (SubjectAccessReview; the metrics-reader ClusterRole grants it); without,
// plain HTTP for local runs on loopback.
func ServerOptions(addr string, secure bool) metricsserver.Options {
	if !secure {
		return metricsserver.Options{BindAddress: addr}
	}
	return metricsserver.Options{BindAddress: addr, SecureServing: true,
		FilterProvider: filters.WithAuthenticationAndAuthorization}
}
