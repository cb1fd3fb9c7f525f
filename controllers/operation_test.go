package controllers_test

import (
	"context"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

// Helpers shared by the Capture, Refund and CustomsDeclaration tests.

// operation is a Capture, Refund or CustomsDeclaration.
type operation interface {
	client.Object
	GetPhase() string
}

func opStatus(o client.Object) *v1.OperationStatus {
	switch t := o.(type) {
	case *v1.Capture:
		return &t.Status
	case *v1.Refund:
		return &t.Status
	case *v1.CustomsDeclaration:
		return &t.Status.OperationStatus
	}
	panic(fmt.Sprintf("not an operation: %T", o))
}

func describeOp(o client.Object) string {
	st := opStatus(o)
	msg := fmt.Sprintf("phase=%s", st.Phase)
	for _, typ := range []string{v1.ConditionReady, v1.ConditionSynced, v1.ConditionBlocked} {
		if c := condition(st.Conditions, typ); c.Type != "" {
			msg += fmt.Sprintf(" %s=%s %s: %s;", typ, c.Status, c.Reason, c.Message)
		}
	}
	return msg
}

// waitOp waits until the operation reaches phase; another final phase fails at once.
func waitOp[T operation](ctx context.Context, t *testing.T, o T, phase v1.OperationPhase) T {
	t.Helper()
	testenv.Eventually(t, timeout, fmt.Sprintf("%T %s to be %s", o, o.GetName(), phase), func() (bool, string) {
		if err := k8s.Get(ctx, key(o), o); err != nil {
			return false, err.Error()
		}
		st := opStatus(o)
		if st.Phase != phase && st.Phase.IsFinal() {
			t.Fatalf("%s ended %s, want %s: %s", o.GetName(), st.Phase, phase, describeOp(o))
		}
		return st.Phase == phase, describeOp(o)
	})
	return o
}

// waitCondition waits until the operation has condition typ with status and reason.
func waitCondition[T operation](ctx context.Context, t *testing.T, o T, typ string, status metav1.ConditionStatus, reason string) T {
	t.Helper()
	waitOpCond(t, o, fmt.Sprintf("%s=%s %s", typ, status, reason), func() bool {
		c := condition(opStatus(o).Conditions, typ)
		return c.Status == status && c.Reason == reason
	})
	return o
}

// waitOpCond re-reads the operation until cond holds.
func waitOpCond[T operation](t *testing.T, o T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, timeout, o.GetName()+" "+what, func() (bool, string) {
		if err := k8s.Get(context.Background(), key(o), o); err != nil {
			return false, err.Error()
		}
		return cond(), describeOp(o)
	})
}

func create(ctx context.Context, t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatalf("create %s: %v", o.GetName(), err)
		}
	}
}

func newCapture(ns, name, payment, value string) *v1.Capture {
	return &v1.Capture{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1.CaptureSpec{PaymentRef: v1.LocalObjectReference{Name: payment}, Amount: v1.Money{Currency: "USD", Value: value}}}
}

func newRefund(ns, name, payment, currency, value string) *v1.Refund {
	return &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: payment}, Amount: v1.Money{Currency: currency, Value: value},
			Reason: "returned goods"}}
}

func newDeclaration(ns, name, payment, value, customs string) *v1.CustomsDeclaration {
	return &v1.CustomsDeclaration{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1.CustomsDeclarationSpec{PaymentRef: v1.LocalObjectReference{Name: payment}, Amount: v1.Money{Currency: "CNY", Value: value},
			Customs: v1.CustomsOffice{Code: customs, Region: "CN"}, MerchantCustomsCode: "SHOP001", MerchantCustomsName: "Example Shop"}}
}

// paidWallet creates a wallet payment and has the simulator complete it.
func paidWallet(ctx context.Context, t *testing.T, ns, name, gwc, currency, value, method string) *v1.Payment {
	t.Helper()
	p := walletPayment(ns, name, gwc, currency, value, method)
	create(ctx, t, p)
	p = waitPhase(ctx, t, p, v1.PaymentProcessing)
	if err := sys.Sim.Complete(p.Status.PaymentID); err != nil {
		t.Fatal(err)
	}
	return waitPhase(ctx, t, p, v1.PaymentSucceeded)
}

// authorized creates a USD 25.00 card authorization with captureMode Manual.
func authorized(ctx context.Context, t *testing.T, ns, name, gwc string) *v1.Payment {
	t.Helper()
	p := cardPayment(ctx, t, ns, name, gwc, "4111111111111111", v1.CaptureManual)
	create(ctx, t, p)
	return waitPhase(ctx, t, p, v1.PaymentAuthorized)
}

// updatePaymentStatus changes a payment's status as the notification
// receiver does (read, change, write; again on conflict).
func updatePaymentStatus(ctx context.Context, t *testing.T, p *v1.Payment, change func(*v1.Payment) error) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, key(p), p); err != nil {
			return err
		}
		if err := change(p); err != nil {
			return err
		}
		return k8s.Status().Update(ctx, p)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitPayment waits until cond holds for the payment.
func waitPayment(ctx context.Context, t *testing.T, p *v1.Payment, what string, cond func(*v1.Payment) bool) *v1.Payment {
	t.Helper()
	testenv.Eventually(t, timeout, what, func() (bool, string) {
		if err := k8s.Get(ctx, key(p), p); err != nil {
			return false, err.Error()
		}
		sync := condition(p.Status.Conditions, v1.ConditionSynced)
		return cond(p), fmt.Sprintf("phase=%s amounts=%+v synced=%s %s: %s", p.Status.Phase, amountsString(p.Status.Amounts), sync.Status, sync.Reason, sync.Message)
	})
	return p
}

func amountsString(a v1.PaymentAmounts) string {
	s := ""
	for _, x := range []struct {
		n string
		m *v1.Money
	}{{"authorized", a.Authorized}, {"captured", a.Captured}, {"refunded", a.Refunded}, {"refundable", (*v1.Money)(a.Refundable)}, {"declared", a.Declared}} {
		if x.m != nil {
			s += fmt.Sprintf("%s=%s ", x.n, x.m)
		}
	}
	return s
}

func moneyIs(m *v1.Money, value string) bool { return m != nil && m.Value == value }

// requestIDOf is the idempotency id the operation is (or would be) sent with.
func requestIDOf(t *testing.T, o client.Object) string {
	t.Helper()
	switch o := o.(type) {
	case *v1.Capture:
		return ids.Capture(o, "")
	case *v1.Refund:
		return ids.Refund(o, "")
	case *v1.CustomsDeclaration:
		return ids.Declaration(o, "")
	}
	t.Fatalf("%T is not an operation", o)
	return ""
}

// expectRefused checks that the operation failed for reason (with message,
// when not "") without reaching the gateway, and says so in its conditions.
func expectRefused(t *testing.T, o client.Object, reason, message string) {
	t.Helper()
	st := opStatus(o)
	if r := st.LastResult; st.Phase != v1.OperationFailed || r == nil || r.Code != reason || (message != "" && r.Message != message) {
		t.Fatalf("%s: phase %s, lastResult %+v; want Failed %s %q", o.GetName(), st.Phase, r, reason, message)
	}
	ready, stalled := condition(st.Conditions, v1.ConditionReady), condition(st.Conditions, v1.ConditionStalled)
	if ready.Status != metav1.ConditionFalse || ready.Reason != reason || stalled.Status != metav1.ConditionTrue || stalled.Reason != reason {
		t.Fatalf("%s: Ready %+v, Stalled %+v", o.GetName(), ready, stalled)
	}
	if n := operations(t, requestIDOf(t, o)); n != 0 || st.RequestID != "" {
		t.Fatalf("%s reached the gateway: %d operations, requestId %q", o.GetName(), n, st.RequestID)
	}
}
