// Package metrics defines the operator's Prometheus metrics: gateway calls by
// API and result code with latency, objects by phase, and the time from
// create to a final phase. They are registered on controller-runtime's
// registry and served by the manager's metrics endpoint.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// Metrics holds the collectors.
type Metrics struct {
	GatewayRequests *prometheus.CounterVec
	GatewayLatency  *prometheus.HistogramVec
	StepErrors      *prometheus.CounterVec
	Holds           *prometheus.CounterVec
	*Transitions
}

// Transitions counts phase transitions and times the way to a final phase.
// The manager and the notification-receiver each move objects, so each
// exports these series; sum them over both jobs.
type Transitions struct {
	TimeToFinal *prometheus.HistogramVec
	Transitions *prometheus.CounterVec
}

// NewTransitions makes the transition collectors; reg (if not nil) registers them.
func NewTransitions(reg prometheus.Registerer) (*Transitions, error) {
	t := &Transitions{
		TimeToFinal: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cashier_time_to_final_seconds",
			Help:    "Seconds from an object's creation to its final phase, by kind and phase.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 16),
		}, []string{"kind", "phase"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashier_transitions_total",
			Help: "Phase transitions by kind and target phase.",
		}, []string{"kind", "phase"}),
	}
	if reg == nil {
		return t, nil
	}
	for _, c := range []prometheus.Collector{t.TimeToFinal, t.Transitions} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// New makes the collectors and registers them (and an objects-by-phase
// collector reading from reader, normally the manager's cache) on reg.
func New(reg prometheus.Registerer, reader client.Reader) (*Metrics, error) {
	m := &Metrics{
		GatewayRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashier_gateway_requests_total",
			Help: "Gateway HTTP attempts by API and result (a gateway resultCode, or a transport class such as timeout or unverified).",
		}, []string{"api", "result"}),
		GatewayLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cashier_gateway_request_duration_seconds",
			Help:    "Gateway HTTP attempt latency by API.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"api"}),
		StepErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashier_step_errors_total",
			Help: "Reconcile steps that did not complete and are retried with backoff, by kind and class (gateway: the outcome at the gateway is unknown; other: the apiserver or the operator).",
		}, []string{"kind", "class"}),
		Holds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashier_holds_total",
			Help: "Operations a MoneyPolicy started holding back (Blocked, no gateway call), by kind and reason (ApprovalRequired, LimitExceeded, BudgetExhausted, PolicyInvalid, RequesterUnknown).",
		}, []string{"kind", "reason"}),
	}
	var err error
	if m.Transitions, err = NewTransitions(reg); err != nil {
		return nil, err
	}
	for _, c := range []prometheus.Collector{m.GatewayRequests, m.GatewayLatency, m.StepErrors, m.Holds,
		&phaseCollector{reader: reader}, NewDefenseDueCollector(reader)} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ObserveAttempt implements gateway.Observer.
func (m *Metrics) ObserveAttempt(a gateway.Attempt) {
	m.GatewayRequests.WithLabelValues(string(a.API), a.Label()).Inc()
	m.GatewayLatency.WithLabelValues(string(a.API)).Observe(a.Duration.Seconds())
}

// final lists the final phases of every kind.
var final = map[string]bool{"Succeeded": true, "Failed": true, "Cancelled": true, "Expired": true}

// OnTransition records a phase transition (the engine and the receiver call it).
func (m *Transitions) OnTransition(kind string, obj client.Object, ch transition.Change, now time.Time) {
	if !ch.Transitioned() {
		return
	}
	m.Transitions.WithLabelValues(kind, ch.To).Inc()
	if final[ch.To] {
		m.TimeToFinal.WithLabelValues(kind, ch.To).Observe(now.Sub(obj.GetCreationTimestamp().Time).Seconds())
	}
}

var (
	phaseDesc      = prometheus.NewDesc("cashier_objects", "Objects by kind and phase, from the manager's cache.", []string{"kind", "phase"}, nil)
	pastExpiryDesc = prometheus.NewDesc("cashier_payments_past_expiry",
		"Payments still Pending or Processing after their expiry (status.expiryTime, else 14 minutes after creation): the gateway has closed them; the operator has not seen it yet.", []string{"phase"}, nil)
	blockedDesc = prometheus.NewDesc("cashier_operations_blocked",
		"Objects waiting with condition Blocked=True, by kind and reason (DisputeOpen: a refund waits for a chargeback to be judged; MerchantNotRegistered: a payment waits for its secondary merchant's registration).", []string{"kind", "reason"}, nil)
)

// phaseCollector counts objects by phase, payments past their expiry and
// blocked operations at scrape time.
type phaseCollector struct{ reader client.Reader }

func (c *phaseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- phaseDesc
	ch <- pastExpiryDesc
	ch <- blockedDesc
}

func (c *phaseCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	for kind, list := range map[string]client.ObjectList{"Payment": &v1.PaymentList{}, "Capture": &v1.CaptureList{},
		"Refund": &v1.RefundList{}, "CustomsDeclaration": &v1.CustomsDeclarationList{},
		"Dispute": &v1.DisputeList{}, "DisputeResponse": &v1.DisputeResponseList{},
		"MerchantRegistration": &v1.MerchantRegistrationList{}} {
		// Counting needs no copies of thousands of cached objects.
		if err := c.reader.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
			continue
		}
		n, pastExpiry, blocked := map[string]int{}, map[string]int{}, map[string]int{}
		_ = meta.EachListItem(list, func(o runtime.Object) error {
			if p, ok := o.(interface{ GetPhase() string }); ok {
				phase := p.GetPhase()
				if phase == "" {
					phase = "New"
				}
				n[phase]++
			}
			if p, ok := o.(*v1.Payment); ok && isPastExpiry(p, now) {
				pastExpiry[string(p.Status.Phase)]++
			}
			if reason, ok := blockedReason(o); ok {
				blocked[reason]++
			}
			return nil
		})
		for p, v := range n {
			ch <- prometheus.MustNewConstMetric(phaseDesc, prometheus.GaugeValue, float64(v), kind, p)
		}
		if kind == "Payment" {
			// Both series always exist, so an alert on them is never "absent".
			for _, phase := range []v1.PaymentPhase{v1.PaymentPending, v1.PaymentProcessing} {
				ch <- prometheus.MustNewConstMetric(pastExpiryDesc, prometheus.GaugeValue, float64(pastExpiry[string(phase)]), string(phase))
			}
		}
		switch kind {
		case "Refund":
			blocked[v1.ReasonDisputeOpen] += 0 // the series alerts watch always exists
		case "Payment":
			blocked[v1.ReasonMerchantNotRegistered] += 0
		}
		for reason, v := range blocked {
			ch <- prometheus.MustNewConstMetric(blockedDesc, prometheus.GaugeValue, float64(v), kind, reason)
		}
	}
}

// OnHold counts an operation a policy started holding (engine.Options.OnHold).
func (m *Metrics) OnHold(kind, reason string) { m.Holds.WithLabelValues(kind, reason).Inc() }

// OnStepError counts a step that did not complete (engine.Options.OnStepError).
func (m *Metrics) OnStepError(kind string, err error) {
	class := "other"
	if gateway.IsUnknown(err) {
		class = "gateway"
	}
	m.StepErrors.WithLabelValues(kind, class).Inc()
}

// isPastExpiry: the payment waits for the user (or an unknown outcome)
// although the gateway has closed it.
func isPastExpiry(p *v1.Payment, now time.Time) bool {
	switch p.Status.Phase {
	case v1.PaymentPending, v1.PaymentProcessing:
		return p.ExpiresAt().Before(now)
	}
	return false
}

// blockedReason returns the reason of an object's Blocked=True condition
// (an operation's, or a Payment's: its held cancel, its merchant's
// registration).
func blockedReason(o runtime.Object) (string, bool) {
	var conds []metav1.Condition
	switch t := o.(type) {
	case *v1.Payment:
		conds = t.Status.Conditions
	case *v1.Capture:
		conds = t.Status.Conditions
	case *v1.Refund:
		conds = t.Status.Conditions
	case *v1.CustomsDeclaration:
		conds = t.Status.Conditions
	default:
		return "", false
	}
	c := meta.FindStatusCondition(conds, v1.ConditionBlocked)
	if c == nil || c.Status != metav1.ConditionTrue {
		return "", false
	}
	return c.Reason, true
}
