package receiver

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	cashiermetrics "github.com/cashier-operator/cashier-operator/internal/metrics"
)

// Outcomes of a notification (label outcome of notifications_total).
const (
	OutcomeApplied       = "applied"        // the status was written
	OutcomeDuplicate     = "duplicate"      // nothing new: acknowledged, nothing written
	OutcomeStale         = "stale"          // older than what the object records: acknowledged, nothing written
	OutcomeUnknownObject = "unknown_object" // the object does not exist: acknowledged
	OutcomeRejected      = "rejected"       // refused before the facts were applied
	OutcomeMismatch      = "mismatch"       // the facts contradict the object (422)
	OutcomeError         = "error"          // API server or internal error (5xx): the gateway re-sends
)

// kindNone labels notifications refused before their kind was known.
const kindNone = "none"

type metrics struct {
	notifications *prometheus.CounterVec
	rejected      *prometheus.CounterVec
	applyDuration *prometheus.HistogramVec
	unknown       *prometheus.CounterVec
	// transitions are the phase moves the receiver makes (the manager
	// exports the same series for its own).
	transitions *cashiermetrics.Transitions
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashier_receiver_notifications_total",
			Help: "Gateway notifications received, by notification kind and outcome.",
		}, []string{"kind", "outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashier_receiver_rejected_total",
			Help: "Gateway notifications refused (not acknowledged), by reason.",
		}, []string{"reason"}),
		applyDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cashier_receiver_apply_duration_seconds",
			Help:    "Time from a verified notification to the answer: finding the object, applying and writing its status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"kind"}),
		unknown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashier_receiver_unknown_object_total",
			Help: "Verified notifications about objects that do not exist (deleted, or not managed here); acknowledged.",
		}, []string{"kind"}),
	}
	var err error
	if m.transitions, err = cashiermetrics.NewTransitions(nil); err != nil {
		return nil, err
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.notifications, m.rejected, m.applyDuration, m.unknown, m.transitions.TimeToFinal, m.transitions.Transitions} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("receiver metrics are already registered on this registry: make one Receiver per registry")
			}
			return nil, err
		}
	}
	return m, nil
}
