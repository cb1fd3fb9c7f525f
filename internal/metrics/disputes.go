package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

var (
	defenseDueDesc = prometheus.NewDesc("cashier_dispute_defense_due",
		"Disputes whose defense is due within the alert window (or overdue) with no DisputeResponse, by namespace and reason "+
			"(DefenseDueSoon, DeadlinePassed): the DefenseDue condition. Alert on > 0.",
		[]string{"namespace", "reason"}, nil)
	defenseDueInDesc = prometheus.NewDesc("cashier_dispute_defense_due_seconds",
		"Seconds until the earliest defense deadline among the namespace's disputes with DefenseDue True (negative when overdue).",
		[]string{"namespace"}, nil)
)

// defenseDueCollector reads the DefenseDue condition of every Dispute at
// scrape time, so the metric is exactly what `kubectl get disputes` shows.
type defenseDueCollector struct {
	reader client.Reader
	now    func() time.Time
}

// NewDefenseDueCollector makes the cashier_dispute_defense_due collector.
func NewDefenseDueCollector(reader client.Reader) prometheus.Collector {
	return &defenseDueCollector{reader: reader, now: time.Now}
}

func (c *defenseDueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- defenseDueDesc
	ch <- defenseDueInDesc
}

func (c *defenseDueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var list v1.DisputeList
	if err := c.reader.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	type key struct{ ns, reason string }
	count := map[key]int{}
	earliest := map[string]time.Time{}
	for i := range list.Items {
		d := &list.Items[i]
		cond := meta.FindStatusCondition(d.Status.Conditions, v1.ConditionDefenseDue)
		if cond == nil || cond.Status != "True" {
			continue
		}
		count[key{d.Namespace, cond.Reason}]++
		if t := d.Status.DefenseDueTime; t != nil {
			if e, ok := earliest[d.Namespace]; !ok || t.Time.Before(e) {
				earliest[d.Namespace] = t.Time
			}
		}
	}
	for k, n := range count {
		ch <- prometheus.MustNewConstMetric(defenseDueDesc, prometheus.GaugeValue, float64(n), k.ns, k.reason)
	}
	now := c.now()
	for ns, t := range earliest {
		ch <- prometheus.MustNewConstMetric(defenseDueInDesc, prometheus.GaugeValue, t.Sub(now).Seconds(), ns)
	}
}
