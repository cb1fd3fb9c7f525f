package reconciliation

import (
	"bytes"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/money"
	"github.com/cashier-operator/cashier-operator/internal/settlement"
)

var theDay = settlement.Day("20260105")

func at() *metav1.Time { t := metav1.NewTime(theDay.Start().Add(10 * time.Hour)); return &t }

func cluster() ([]v1.Payment, []v1.Capture, []v1.Refund) {
	pay := func(name, id, req, cur, val string, phase v1.PaymentPhase, auth bool) v1.Payment {
		p := v1.Payment{}
		p.Name, p.Spec.GatewayRef.Name, p.Spec.Amount = name, "gw", v1.Money{Currency: cur, Value: val}
		p.Spec.Authorization = auth
		p.Status.PaymentID, p.Status.PaymentRequestID, p.Status.Phase, p.Status.PaymentTime = id, req, phase, at()
		return p
	}
	other := pay("other-merchant", "P9", "r9", "HKD", "1.00", v1.PaymentSucceeded, false)
	other.Spec.GatewayRef.Name = "another"
	ps := []v1.Payment{
		pay("p1", "P1", "r1", "HKD", "88.00", v1.PaymentSucceeded, false),
		pay("p2", "P2", "r2", "USD", "25.00", v1.PaymentSucceeded, true),
		pay("failed", "P3", "r3", "PHP", "250.00", v1.PaymentFailed, false),
		other,
	}
	c := v1.Capture{}
	c.Name, c.Spec.PaymentRef.Name, c.Spec.Amount = "c1", "p2", v1.Money{Currency: "USD", Value: "10.00"}
	c.Status.Phase, c.Status.GatewayID, c.Status.RequestID, c.Status.CompletionTime = v1.OperationSucceeded, "C1", "rc1", at()
	r := v1.Refund{}
	r.Name, r.Spec.PaymentRef.Name, r.Spec.Amount = "r1", "p1", v1.Money{Currency: "HKD", Value: "20.00"}
	r.Status.Phase, r.Status.GatewayID, r.Status.RequestID, r.Status.CompletionTime = v1.OperationSucceeded, "R1", "rr1", at()
	return ps, []v1.Capture{c}, []v1.Refund{r}
}

func newIndex() *Index {
	ps, cs, rs := cluster()
	return NewIndex("gw", ps, cs, rs)
}

func line(typ settlement.TransactionType, id, req, orig, cur, val string) settlement.Line {
	a, _ := money.ParseSignedMajor(cur, val)
	s := a
	if typ == settlement.TypeRefund {
		s = a.Neg()
	}
	if typ == settlement.TypeAuthorization {
		s, _ = money.SignedMinor(cur, 0)
	}
	return settlement.Line{TransactionID: id, TransactionRequestID: req, OriginalTransactionID: orig, TransactionType: typ,
		TransactionTime: theDay.Start(), TransactionAmount: a, SettlementAmount: s}
}

func clean() []settlement.Line {
	return []settlement.Line{
		line(settlement.TypePayment, "P1", "r1", "", "HKD", "88.00"),
		line(settlement.TypeRefund, "R1", "rr1", "P1", "HKD", "20.00"),
		line(settlement.TypeAuthorization, "P2", "r2", "", "USD", "25.00"),
		line(settlement.TypeCapture, "C1", "rc1", "P2", "USD", "10.00"),
	}
}

func report(t *testing.T, lines []settlement.Line) *bytes.Buffer {
	var b bytes.Buffer
	w, _ := settlement.NewWriter(&b, settlement.TransactionDetails)
	for i := range lines {
		if err := w.Write(&lines[i]); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Close()
	return &b
}

func TestMatching(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func([]settlement.Line) []settlement.Line
		want   map[string]string // class -> object
	}{
		{"clean", func(l []settlement.Line) []settlement.Line { return l }, nil},
		{"amount", func(l []settlement.Line) []settlement.Line {
			l[0].TransactionAmount, _ = money.ParseSignedMajor("HKD", "80.00")
			return l
		}, map[string]string{v1.DiscrepancyAmount: "Payment/p1"}},
		{"currency", func(l []settlement.Line) []settlement.Line {
			l[3].TransactionAmount, _ = money.ParseSignedMajor("EUR", "10.00")
			return l
		}, map[string]string{v1.DiscrepancyCurrency: "Capture/c1"}},
		{"status", func(l []settlement.Line) []settlement.Line {
			return append(l, line(settlement.TypePayment, "P3", "r3", "", "PHP", "250.00"))
		}, map[string]string{v1.DiscrepancyStatus: "Payment/failed"}},
		{"not in cluster (and another merchant's payment is not ours)", func(l []settlement.Line) []settlement.Line {
			return append(l, line(settlement.TypePayment, "P9", "r9", "", "HKD", "1.00"))
		}, map[string]string{v1.DiscrepancyNotInCluster: ""}},
		{"not in report", func(l []settlement.Line) []settlement.Line { return l[:3] },
			map[string]string{v1.DiscrepancyNotInReport: "Capture/c1"}},
		{"matched by request id when the gateway id is unknown", func(l []settlement.Line) []settlement.Line {
			l[1].TransactionID = "R-other"
			return l
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix := newIndex()
			fr, err := ix.ReadFile(report(t, tc.change(clean())), "transactionItems_20260105_000.csv", settlement.TransactionDetails, theDay)
			if err != nil {
				t.Fatal(err)
			}
			run := NewRun(ix, 1)
			run.Add(theDay, fr.Name, fr.Kind, fr, nil)
			res, err := run.Result()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, d := range res.Discrepancies {
				got[d.Class] = d.Object
			}
			if len(got) != len(tc.want) || len(res.Discrepancies) != len(tc.want) {
				t.Fatalf("discrepancies %+v, want %v", res.Discrepancies, tc.want)
			}
			for c, o := range tc.want {
				if got[c] != o {
					t.Fatalf("%s names %q, want %q (%+v)", c, got[c], o, res.Discrepancies)
				}
			}
			if tc.want == nil && res.Days[0].Matched != res.Days[0].Lines {
				t.Fatalf("matched %d of %d", res.Days[0].Matched, res.Days[0].Lines)
			}
		})
	}
}

func TestDuplicatesAndTruncation(t *testing.T) {
	ix := newIndex()
	run := NewRun(ix, 1)
	b := report(t, clean()).Bytes()
	for _, name := range []string{"transactionItems_20260105_000.csv", "transactionItems_20260105_001.csv"} {
		fr, err := ix.ReadFile(bytes.NewReader(b), name, settlement.TransactionDetails, theDay)
		run.Add(theDay, name, settlement.TransactionDetails, fr, err)
	}
	res, _ := run.Result()
	d := res.Days[0]
	if d.Lines != 4 || d.Files[1].DuplicateOf != d.Files[0].Name || len(res.Discrepancies) != 0 {
		t.Fatalf("duplicate counted twice: %+v", d)
	}
	if len(d.Totals) != 2 || d.Totals[0].Currency != "HKD" || d.Totals[0].Net != "68.00" || d.Totals[1].Net != "10.00" {
		t.Fatalf("totals %+v", d.Totals)
	}

	// A truncated file is refused and nothing is "missing from the report".
	run = NewRun(ix, 1)
	fr, err := ix.ReadFile(bytes.NewReader(b[:len(b)-10]), "transactionItems_20260105_000.csv", settlement.TransactionDetails, theDay)
	if !errors.Is(err, settlement.ErrTruncated) || fr != nil {
		t.Fatalf("truncated: %v", err)
	}
	run.Add(theDay, "transactionItems_20260105_000.csv", settlement.TransactionDetails, nil, err)
	res, _ = run.Result()
	if !run.Truncated || len(res.Discrepancies) != 0 || res.Days[0].Files[0].Error == "" {
		t.Fatalf("truncated run %+v %+v", res, run.Refused)
	}
}
