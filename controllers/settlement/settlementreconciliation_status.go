package settlement

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/reconciliation"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// record writes the run's outcome: ConfigMap, status, events, metrics.
func (r *reconciliationReconciler) record(ctx context.Context, sr *v1.SettlementReconciliation, customerID string,
	res reconciliation.Result, run *reconciliation.Run, now time.Time, next time.Duration) error {
	cmName := sr.Name + "-discrepancies"
	if err := r.writeConfigMap(ctx, sr, cmName, res.Discrepancies, res.Total); err != nil {
		return err
	}
	prev := map[string]int32{}
	for _, d := range sr.Status.Days {
		for class, n := range classCounts(d.Discrepancies) {
			prev[class] += n
		}
	}
	st := &sr.Status
	st.ObservedGeneration, st.CustomerID = sr.Generation, customerID
	st.LastRunTime, st.NextRunTime = shared.MetaTime(now), shared.MetaTime(now.Add(next))
	st.Days, st.DiscrepanciesConfigMap = res.Days, cmName
	st.Lines, st.Matched, st.LastDay = 0, 0, ""
	for _, d := range res.Days {
		st.Lines += d.Lines
		st.Matched += d.Matched
	}
	if len(res.Days) > 0 {
		st.LastDay = res.Days[0].Date
	}
	st.DiscrepancyCount = int32(res.Total)
	st.Discrepancies = res.Discrepancies[:min(len(res.Discrepancies), statusDiscrepancies)]

	ready := metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1.ReasonReconciled,
		Message: fmt.Sprintf("%d days, %d lines, %d matched", len(res.Days), st.Lines, st.Matched), ObservedGeneration: sr.Generation}
	result := "ok"
	if len(run.Refused) > 0 {
		ready.Status, ready.Reason = metav1.ConditionFalse, v1.ReasonReportInvalid
		if run.Truncated {
			ready.Reason = v1.ReasonReportTruncated
		}
		ready.Message = fmt.Sprintf("refused %d file(s), retried at %s: %s", len(run.Refused), st.NextRunTime.Format(time.RFC3339),
			strings.Join(run.Refused, "; "))
		result = "truncated"
		r.rec.Eventf(sr, nil, corev1.EventTypeWarning, ready.Reason, "Reconcile", "%s", ready.Message)
	}
	if len(res.Missing) > 0 {
		ready.Message += "; not published yet: " + strings.Join(res.Missing, ", ")
	}
	transition.SetReconciliationResult(st, ready, discrepanciesCondition(res.Discrepancies, res.Total, cmName, sr.Generation))

	counts := map[string]int32{}
	for _, d := range res.Days {
		for class, n := range classCounts(d.Discrepancies) {
			counts[class] += n
		}
	}
	for _, class := range v1.DiscrepancyClasses {
		reconDiscrepancies.WithLabelValues(sr.Namespace, sr.Name, class).Set(float64(counts[class]))
		if counts[class] > 0 && counts[class] != prev[class] {
			first := firstOf(res.Discrepancies, class)
			r.rec.Eventf(sr, nil, corev1.EventTypeWarning, class, "Reconcile", "%d %s discrepancies; first: %s %s: %s",
				counts[class], class, first.Date, first.Object, first.Message)
		}
	}
	if res.Total > 0 && result == "ok" {
		result = "discrepancies"
	}
	reconRuns.WithLabelValues(result).Inc()
	reconLines.WithLabelValues(sr.Namespace, sr.Name).Set(float64(st.Lines))
	reconMatched.WithLabelValues(sr.Namespace, sr.Name).Set(float64(st.Matched))
	return r.deps.Client.Status().Update(ctx, sr)
}

func classCounts(c v1.DiscrepancyCounts) map[string]int32 {
	return map[string]int32{v1.DiscrepancyAmount: c.Amount, v1.DiscrepancyCurrency: c.Currency, v1.DiscrepancyStatus: c.Status,
		v1.DiscrepancyNotInCluster: c.NotInCluster, v1.DiscrepancyNotInReport: c.NotInReport}
}

func firstOf(ds []v1.Discrepancy, class string) v1.Discrepancy {
	for _, d := range ds {
		if d.Class == class {
			return d
		}
	}
	return v1.Discrepancy{}
}

func discrepanciesCondition(ds []v1.Discrepancy, total int, cm string, gen int64) metav1.Condition {
	c := metav1.Condition{Type: v1.ConditionDiscrepancies, Status: metav1.ConditionFalse, Reason: v1.ReasonNoDiscrepancies,
		Message: "every report line matched", ObservedGeneration: gen}
	if total == 0 {
		return c
	}
	var parts []string
	for _, d := range ds[:min(len(ds), conditionDiscrepancies)] {
		parts = append(parts, fmt.Sprintf("%s %s %s: %s", d.Date, d.Class, d.Object, d.Message))
	}
	c.Status, c.Reason = metav1.ConditionTrue, v1.ReasonDiscrepanciesFound
	c.Message = fmt.Sprintf("%d discrepancies (listed in ConfigMap %s, key %s); first: %s", total, cm, DiscrepanciesKey, strings.Join(parts, "; "))
	return c
}

// writeConfigMap writes the discrepancies as CSV to a ConfigMap owned by
// sr: every one, up to the run's list (reconciliation.MaxListed) and
// configMapBytes; a last line says how many more were only counted.
func (r *reconciliationReconciler) writeConfigMap(ctx context.Context, sr *v1.SettlementReconciliation, name string,
	ds []v1.Discrepancy, total int) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"date", "class", "report", "transactionType", "transactionId", "object", "message"})
	n := 0
	for _, d := range ds {
		if buf.Len() > configMapBytes {
			break
		}
		_ = w.Write([]string{d.Date, d.Class, string(d.Report), d.TransactionType, d.TransactionID, d.Object, d.Message})
		w.Flush()
		n++
	}
	if n < total {
		_ = w.Write([]string{"", "", "", "", "", "", fmt.Sprintf("%d more discrepancies counted in status but not listed", total-n)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("write discrepancies CSV: %w", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: sr.Namespace}}
	err := r.deps.APIReader.Get(ctx, client.ObjectKeyFromObject(cm), cm)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	create := apierrors.IsNotFound(err)
	if !create && cm.Data[DiscrepanciesKey] == buf.String() {
		return nil
	}
	cm.Data = map[string]string{DiscrepanciesKey: buf.String()}
	if err := controllerutil.SetControllerReference(sr, cm, r.deps.Client.Scheme()); err != nil {
		return err
	}
	if create {
		return r.deps.Client.Create(ctx, cm)
	}
	return r.deps.Client.Update(ctx, cm)
}
