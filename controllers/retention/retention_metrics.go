package retention

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Retention metrics, served with controller-runtime's on the manager's
// metrics endpoint.
var (
	archivedTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cashier_retention_archived_total",
		Help: "Objects (payments and operations) written to the archive by retention.",
	})
	deletedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cashier_retention_deleted_total",
		Help: "Objects deleted from the cluster after they were archived, by kind.",
	}, []string{"kind"})
	keptTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cashier_retention_kept_total",
		Help: "Payments kept because they were re-created after being archived.",
	})
	paused = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cashier_retention_paused",
		Help: "1 while retention of a GatewayConfig is paused because its archive cannot be written.",
	}, []string{"gatewayconfig"})
	restoredTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cashier_archive_restored_total",
		Help: "Payments restored from the archive into the cluster (an operation named them).",
	})
)

func init() {
	crmetrics.Registry.MustRegister(archivedTotal, deletedTotal, keptTotal, paused, restoredTotal)
}
