package controllers_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	settlementctrl "github.com/cashier-operator/cashier-operator/controllers/settlement"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/settlement"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

// reconEnv is one merchant with SFTP credentials and a day of mixed
// traffic, reconciled by a SettlementReconciliation over real SFTP.
type reconEnv struct {
	ctx      context.Context
	t        *testing.T
	ns       string
	m        *testenv.Merchant
	sr       *v1.SettlementReconciliation
	day      settlement.Day // the day of the traffic
	p1, p3   *v1.Payment
	refund   *v1.Refund
	capture  *v1.Capture
	sftpAddr string
}

func startRecon(t *testing.T) *reconEnv {
	ctx, ns, m := setup(t)
	e := &reconEnv{ctx: ctx, t: t, ns: ns, m: m}
	addr, err := sys.Sim.StartSFTP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.sftpAddr = addr
	if err := sys.Sim.SetSFTPUser(m.ClientID, "u-"+ns, "pw-"+ns); err != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sftp", Namespace: ns}, StringData: map[string]string{
		v1.SecretKeySFTPUsername: "u-" + ns, v1.SecretKeySFTPPassword: "pw-" + ns, v1.SecretKeySFTPHostKey: sys.Sim.SFTPHostKey()}}
	create(ctx, t, sec)

	// A day of mixed traffic: a wallet payment partly refunded, a card
	// authorization partly captured, a payment settled in another currency,
	// and a declined payment (no money, in no report).
	e.day = settlement.DayOf(sys.Sim.Now())
	e.p1 = paidWallet(ctx, t, ns, "p1", m.GatewayConfig, "HKD", "88.00", "ALIPAY_HK")
	e.refund = newRefund(ns, "p1-return", "p1", "HKD", "20.00")
	create(ctx, t, e.refund)
	waitOp(ctx, t, e.refund, v1.OperationSucceeded)
	authorized(ctx, t, ns, "p2", m.GatewayConfig)
	e.capture = newCapture(ns, "p2-ship", "p2", "10.00")
	create(ctx, t, e.capture)
	waitOp(ctx, t, e.capture, v1.OperationSucceeded)
	p3 := walletPayment(ns, "p3", m.GatewayConfig, "HKD", "78.10", "ALIPAY_HK")
	p3.Spec.SettlementCurrency = "USD"
	create(ctx, t, p3)
	p3 = waitPhase(ctx, t, p3, v1.PaymentProcessing)
	if err := sys.Sim.Complete(p3.Status.PaymentID); err != nil {
		t.Fatal(err)
	}
	e.p3 = waitPhase(ctx, t, p3, v1.PaymentSucceeded)
	declined := walletPayment(ns, "declined", m.GatewayConfig, "PHP", "250.00", "GCASH")
	create(ctx, t, declined)
	declined = waitPhase(ctx, t, declined, v1.PaymentProcessing)
	if err := sys.Sim.Decline(declined.Status.PaymentID, ""); err != nil {
		t.Fatal(err)
	}
	waitPhase(ctx, t, declined, v1.PaymentFailed)
	if settlement.DayOf(sys.Sim.Now()) != e.day {
		t.Skipf("the simulated day changed during the traffic (%s -> %s)", e.day, settlement.DayOf(sys.Sim.Now()))
	}
	// Two days later the transaction details of the day and its T+1
	// settlement batches are published.
	sys.Sim.Advance(48 * time.Hour)

	host, port, _ := net.SplitHostPort(addr)
	pn, _ := strconv.Atoi(port)
	e.sr = &v1.SettlementReconciliation{ObjectMeta: metav1.ObjectMeta{Name: "daily", Namespace: ns},
		Spec: v1.SettlementReconciliationSpec{GatewayRef: v1.GatewayReference{Name: m.GatewayConfig},
			SFTP: v1.SFTPSource{Host: host, Port: int32(pn), CredentialsSecretRef: v1.SecretReference{Name: "sftp"}},
			// Every second, so the test sees each change promptly.
			Interval: &metav1.Duration{Duration: time.Second}, LookbackDays: 3, SettlementDelayDays: 1}}
	create(ctx, t, e.sr)
	return e
}

// wait waits until the reconciliation's status satisfies cond.
func (e *reconEnv) wait(what string, cond func(st *v1.SettlementReconciliationStatus) bool) *v1.SettlementReconciliation {
	e.t.Helper()
	after := time.Now()
	// Generous: a run retried after SFTP was down waits out its backoff
	// (up to tens of seconds); still a condition, never a sleep.
	testenv.Eventually(e.t, 3*timeout, what, func() (bool, string) {
		sr := get(e.ctx, e.t, e.sr)
		st := &sr.Status
		ready := condition(st.Conditions, v1.ConditionReady)
		disc := condition(st.Conditions, v1.ConditionDiscrepancies)
		msg := fmt.Sprintf("lastDay=%s lines=%d matched=%d discrepancies=%d ready=%s %s: %s | %s", st.LastDay, st.Lines, st.Matched,
			st.DiscrepancyCount, ready.Status, ready.Reason, ready.Message, disc.Message)
		// Only a run that started after the change counts.
		return st.LastRunTime != nil && st.LastRunTime.After(after.Add(-time.Second)) && cond(st), msg
	})
	e.sr = get(e.ctx, e.t, e.sr)
	return e.sr
}

func (e *reconEnv) clean(st *v1.SettlementReconciliationStatus) bool {
	return condition(st.Conditions, v1.ConditionReady).Status == metav1.ConditionTrue && st.DiscrepancyCount == 0 && st.Lines > 0
}

func (e *reconEnv) dayStatus(d settlement.Day) v1.ReconciliationDay {
	for _, x := range e.sr.Status.Days {
		if x.Date == string(d) {
			return x
		}
	}
	e.t.Fatalf("no status for day %s in %+v", d, e.sr.Status.Days)
	return v1.ReconciliationDay{}
}

func (e *reconEnv) fault(d settlement.Day, k settlement.Kind, f string) {
	e.t.Helper()
	if err := sys.Sim.SetReportFault(gatewaysim.ReportFault{ClientID: e.m.ClientID, Day: d, Kind: k, Fault: f}); err != nil {
		e.t.Fatal(err)
	}
}

func hasDiscrepancy(st *v1.SettlementReconciliationStatus, class, object string, report v1.ReportKind) bool {
	for _, d := range st.Discrepancies {
		if d.Class == class && d.Object == object && d.Report == report {
			return true
		}
	}
	return false
}

// TestSettlementReconciliation runs its cases in order on one merchant's
// day of traffic: each leaves the reports as it found them.
func TestSettlementReconciliation(t *testing.T) {
	e := startRecon(t)
	for _, c := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"a day of mixed traffic reconciles with no discrepancy", e.cleanDay},
		{"injected discrepancies are reported in their class naming the object", e.injectedDiscrepancies},
		{"a truncated file is refused and read again later", e.truncatedFile},
		{"a duplicated file counts once", e.duplicatedFile},
		{"a late report is awaited, not reported against the cluster", e.lateReport},
		{"SFTP down: condition and backoff, then recovery", e.sftpDown},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			c.run(t)
		})
	}
}

// cleanDay: a day of mixed traffic reconciles with no discrepancy.
func (e *reconEnv) cleanDay(t *testing.T) {
	settleDay := e.day.AddDays(1)
	sr := e.wait("a clean reconciliation", e.clean)
	if sr.Status.Matched != sr.Status.Lines {
		t.Fatalf("matched %d of %d lines", sr.Status.Matched, sr.Status.Lines)
	}
	td := e.dayStatus(e.day)
	// p1 PAYMENT, its REFUND, p2 AUTHORIZATION and CAPTURE, p3 PAYMENT.
	if td.Lines != 5 || td.Matched != 5 {
		t.Fatalf("day %s: %+v", e.day, td)
	}
	sd := e.dayStatus(settleDay)
	// One batch per settlement currency: HKD (p1 and its refund) and USD
	// (p2's capture and p3, settled in USD).
	if len(sd.SettlementBatchIDs) != 2 || len(sd.Totals) != 2 {
		t.Fatalf("settlement day %s: batches %v totals %+v", settleDay, sd.SettlementBatchIDs, sd.Totals)
	}
	hkd := sd.Totals[0]
	bps := sys.Sim.FeeBasisPoints("ALIPAY_HK")
	payFee, refFee := (8800*bps+5000)/10000, (2000*bps+5000)/10000
	wantFees := fmt.Sprintf("-%d.%02d", (payFee-refFee)/100, (payFee-refFee)%100)
	if hkd.Currency != "HKD" || hkd.Gross != "88.00" || hkd.Refunds != "-20.00" || hkd.Fees != wantFees {
		t.Fatalf("HKD totals %+v, want gross 88.00, refunds -20.00, fees %s", hkd, wantFees)
	}
	if sr.Status.CustomerID != e.m.ClientID || sr.Status.DiscrepanciesConfigMap != "daily-discrepancies" {
		t.Fatalf("status %+v", sr.Status)
	}
}

// injectedDiscrepancies: injected discrepancies are reported in their class naming the object.
func (e *reconEnv) injectedDiscrepancies(t *testing.T) {
	ctx := e.ctx
	_ = sys.Sim.SetTransactionOverride(e.p1.Status.PaymentID, gatewaysim.TransactionOverride{Amount: "80.00"})
	_ = sys.Sim.SetTransactionOverride(e.refund.Status.GatewayID, gatewaysim.TransactionOverride{Omit: true})
	_ = sys.Sim.SetTransactionOverride(e.p3.Status.PaymentID, gatewaysim.TransactionOverride{Currency: "SGD"})
	// The gateway reports p2's authorization as cancelled.
	p2 := get(ctx, t, &v1.Payment{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "p2"}})
	_ = sys.Sim.SetTransactionOverride(p2.Status.PaymentID, gatewaysim.TransactionOverride{Type: "CANCEL"})
	// A payment the cluster no longer has: deleted (money stays put).
	gone := paidWallet(ctx, t, e.ns, "gone", e.m.GatewayConfig, "HKD", "5.00", "ALIPAY_HK")
	goneID := gone.Status.PaymentID
	if err := k8s.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	goneDay := settlement.DayOf(sys.Sim.Now())
	sys.Sim.Advance(24 * time.Hour)
	sr := e.wait("amount, not-in-report and not-in-cluster discrepancies", func(st *v1.SettlementReconciliationStatus) bool {
		return hasDiscrepancy(st, v1.DiscrepancyAmount, "Payment/p1", v1.ReportTransactionDetails) &&
			hasDiscrepancy(st, v1.DiscrepancyNotInReport, "Refund/p1-return", v1.ReportTransactionDetails) &&
			hasDiscrepancy(st, v1.DiscrepancyNotInReport, "Refund/p1-return", v1.ReportSettlementDetails) &&
			hasDiscrepancy(st, v1.DiscrepancyNotInCluster, "", v1.ReportTransactionDetails) &&
			hasDiscrepancy(st, v1.DiscrepancyCurrency, "Payment/p3", v1.ReportTransactionDetails) &&
			hasDiscrepancy(st, v1.DiscrepancyStatus, "Payment/p2", v1.ReportTransactionDetails)
	})
	// The day's transaction details: p1's amount, p3's currency, p2's
	// status; the refund and p2's authorization are not in it.
	want := v1.DiscrepancyCounts{Amount: 1, Currency: 1, Status: 1, NotInReport: 2}
	if td := e.dayStatus(e.day); td.Discrepancies != want {
		t.Fatalf("day %s counts %+v", e.day, td.Discrepancies)
	}
	if gd := e.dayStatus(goneDay); gd.Discrepancies.NotInCluster != 1 {
		t.Fatalf("day %s counts %+v", goneDay, gd.Discrepancies)
	}
	c := condition(sr.Status.Conditions, v1.ConditionDiscrepancies)
	if c.Status != metav1.ConditionTrue || c.Reason != v1.ReasonDiscrepanciesFound || !strings.Contains(c.Message, fmt.Sprintf("%d discrepancies", sr.Status.DiscrepancyCount)) {
		t.Fatalf("Discrepancies condition %+v", c)
	}
	var cm corev1.ConfigMap
	if err := k8s.Get(ctx, key(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "daily-discrepancies"}}), &cm); err != nil {
		t.Fatal(err)
	}
	csv := cm.Data[settlementctrl.DiscrepanciesKey]
	for _, want := range []string{"AmountMismatch", "Payment/p1", "report has HKD 80.00, Payment/p1 has HKD 88.00", "Refund/p1-return", goneID} {
		if !strings.Contains(csv, want) {
			t.Fatalf("ConfigMap CSV lacks %q:\n%s", want, csv)
		}
	}
	if n := strings.Count(csv, "\n") - 1; n != int(sr.Status.DiscrepancyCount) {
		t.Fatalf("ConfigMap has %d discrepancies, status says %d", n, sr.Status.DiscrepancyCount)
	}
	_ = sys.Sim.SetTransactionOverride(e.p1.Status.PaymentID, gatewaysim.TransactionOverride{})
	_ = sys.Sim.SetTransactionOverride(e.refund.Status.GatewayID, gatewaysim.TransactionOverride{})
	_ = sys.Sim.SetTransactionOverride(e.p3.Status.PaymentID, gatewaysim.TransactionOverride{})
	_ = sys.Sim.SetTransactionOverride(p2.Status.PaymentID, gatewaysim.TransactionOverride{})
	_ = sys.Sim.SetTransactionOverride(goneID, gatewaysim.TransactionOverride{Omit: true})
	e.wait("no discrepancy once the reports are right", e.clean)
}

// truncatedFile: a truncated file is refused and read again later.
func (e *reconEnv) truncatedFile(t *testing.T) {
	e.fault(e.day, settlement.TransactionDetails, gatewaysim.ReportTruncated)
	sr := e.wait("the truncated report refused", func(st *v1.SettlementReconciliationStatus) bool {
		r := condition(st.Conditions, v1.ConditionReady)
		return r.Status == metav1.ConditionFalse && r.Reason == v1.ReasonReportTruncated
	})
	td := e.dayStatus(e.day)
	if len(td.Files) == 0 || !strings.Contains(td.Files[0].Error, "truncated") || td.Lines != 0 {
		t.Fatalf("day %s: %+v", e.day, td)
	}
	// A truncated report must not make objects "missing from the report".
	if sr.Status.DiscrepancyCount != 0 {
		t.Fatalf("discrepancies from a refused file: %+v", sr.Status.Discrepancies)
	}
	e.fault(e.day, settlement.TransactionDetails, "")
	e.wait("the complete report read", e.clean)
	if td := e.dayStatus(e.day); td.Lines != 5 || td.Matched != 5 {
		t.Fatalf("day %s after the retry: %+v", e.day, td)
	}
}

// duplicatedFile: a duplicated file counts once.
func (e *reconEnv) duplicatedFile(t *testing.T) {
	settleDay := e.day.AddDays(1)
	e.fault(settleDay, settlement.SettlementDetails, gatewaysim.ReportDuplicate)
	before := e.dayStatus(settleDay)
	e.wait("the duplicate listed", func(st *v1.SettlementReconciliationStatus) bool {
		for _, d := range st.Days {
			for _, f := range d.Files {
				if f.DuplicateOf != "" {
					return e.clean(st)
				}
			}
		}
		return false
	})
	after := e.dayStatus(settleDay)
	if after.Lines != before.Lines || after.Matched != before.Matched || fmt.Sprint(after.Totals) != fmt.Sprint(before.Totals) {
		t.Fatalf("a duplicate changed the day: before %+v, after %+v", before, after)
	}
	e.fault(settleDay, settlement.SettlementDetails, "")
}

// lateReport: a late report is awaited, not reported against the cluster.
func (e *reconEnv) lateReport(t *testing.T) {
	e.fault(e.day, settlement.TransactionDetails, gatewaysim.ReportLate)
	e.wait("the late report noticed", func(st *v1.SettlementReconciliationStatus) bool {
		return strings.Contains(condition(st.Conditions, v1.ConditionReady).Message, "not published yet: TransactionDetails of "+string(e.day)) &&
			st.DiscrepancyCount == 0
	})
	e.fault(e.day, settlement.TransactionDetails, "")
	e.wait("the late report read", e.clean)
}

// sftpDown: SFTP down: condition and backoff, then recovery.
func (e *reconEnv) sftpDown(t *testing.T) {
	ctx := e.ctx
	// Daily runs from now on: a failed run must be retried by the
	// backoff, not wait for the next scheduled run.
	e.sr.Spec.Interval = &metav1.Duration{Duration: time.Hour}
	if err := k8s.Update(ctx, e.sr); err != nil {
		t.Fatal(err)
	}
	e.wait("a run with the hourly schedule", func(st *v1.SettlementReconciliationStatus) bool {
		return st.ObservedGeneration == e.sr.Generation && e.clean(st)
	})
	sys.Sim.StopSFTP()
	e.sr.Spec.LookbackDays = 4 // a change: a run now, which fails
	if err := k8s.Update(ctx, e.sr); err != nil {
		t.Fatal(err)
	}
	// A run under load may take a while to start and to give up on the
	// stopped server: a generous wait, still a condition.
	testenv.Eventually(t, 3*timeout, "Ready False SFTPUnavailable", func() (bool, string) {
		sr := get(ctx, t, e.sr)
		r := condition(sr.Status.Conditions, v1.ConditionReady)
		return r.Reason == v1.ReasonSFTPUnavailable && r.Status == metav1.ConditionFalse, r.Message
	})
	if _, err := sys.Sim.StartSFTP(e.sftpAddr); err != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{}
	if err := k8s.Get(ctx, key(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "sftp"}}), sec); err != nil {
		t.Fatal(err)
	}
	sec.Data[v1.SecretKeySFTPHostKey] = []byte(sys.Sim.SFTPHostKey()) // a new server, a new host key
	if err := k8s.Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
	e.wait("recovered", e.clean)
}
