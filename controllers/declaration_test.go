package controllers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

// declarationStep is the simulator's time per declaration state.
func declarationStep() time.Duration {
	if d := time.Duration(sys.Sim.Behavior().DeclarationStep); d > 0 {
		return d
	}
	return time.Minute
}

func TestCustomsDeclarationsSucceedAsCustomsProceeds(t *testing.T) {
	ctx, ns, m := setup(t)
	p := paidWallet(ctx, t, ns, "p", m.GatewayConfig, "CNY", "100.00", "ALIPAY_CN")
	const certNo = "110101199003077777"
	cert := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "buyer", Namespace: ns}, StringData: map[string]string{
		v1.CertificateSecretKeyType: "ID_CARD", v1.CertificateSecretKeyNumber: certNo, v1.CertificateSecretKeyName: "Li Lei"}}
	d1 := newDeclaration(ns, "d1", "p", "60.00", "ZONGSHU")
	d1.Spec.BuyerCertificateSecretRef = &v1.SecretReference{Name: "buyer"}
	d2 := newDeclaration(ns, "d2", "p", "30.00", "HANGZHOU")
	create(ctx, t, cert, d1, d2)
	d1 = waitOp(ctx, t, d1, v1.OperationProcessing)
	d2 = waitOp(ctx, t, d2, v1.OperationProcessing)
	if d1.Status.IdentityCheckResult != "CHECK_PASSED" || d1.Status.CustomsOrderID == "" || d1.Status.GatewayID == "" {
		t.Fatalf("declared status: %+v", d1.Status)
	}

	// A third declaration would exceed what was paid: refused, never sent.
	d3 := newDeclaration(ns, "d3", "p", "20.00", "ZONGSHU")
	create(ctx, t, d3)
	d3 = waitOp(ctx, t, d3, v1.OperationFailed)
	want := fmt.Sprintf("customs declarations of payment %s/p would total CNY 110.00 but only CNY 100.00 was paid (CNY 90.00 already declared or in flight)", ns)
	expectRefused(t, d3, v1.ReasonLimitExceeded, want)

	// Customs takes its time: PROCESSING after one step, SUCCESS after two;
	// the batched inquiries pick both up.
	sys.Sim.Advance(declarationStep())
	for _, d := range []*v1.CustomsDeclaration{d1, d2} {
		waitDeclarationStatus(t, d, gateway.DeclarationProcessing)
	}
	sys.Sim.Advance(declarationStep())
	for _, d := range []*v1.CustomsDeclaration{d1, d2} {
		d = waitOp(ctx, t, d, v1.OperationSucceeded)
		if d.Status.DeclarationStatus != gateway.DeclarationSuccess || d.Status.CustomsResultCode == "" {
			t.Fatalf("%s status: %+v", d.Name, d.Status)
		}
		if n := operations(t, d.Status.RequestID); n != 1 {
			t.Fatalf("%s: gateway operations = %d, want 1", d.Name, n)
		}
		raw, _ := json.Marshal(d)
		if strings.Contains(string(raw), certNo) {
			t.Fatalf("the certificate number leaked into %s", d.Name)
		}
	}
	// The payment's declared total follows its succeeded declarations.
	testenv.Eventually(t, timeout, "payment declared total CNY 90.00", func() (bool, string) {
		p = get(ctx, t, p)
		d := p.Status.Amounts.Declared
		return d != nil && d.Value == "90.00", fmt.Sprintf("declared=%v", d)
	})
	if view, _ := sys.Sim.Payment(p.Status.PaymentID); view.Ledger.Declared != 9000 {
		t.Fatalf("simulator declared %d, want 9000", view.Ledger.Declared)
	}
}

func waitDeclarationStatus(t *testing.T, d *v1.CustomsDeclaration, status string) {
	t.Helper()
	waitOpCond(t, d, "declarationStatus "+status, func() bool { return d.Status.DeclarationStatus == status })
}

func TestRejectedDeclarationFails(t *testing.T) {
	ctx, ns, m := setup(t)
	paidWallet(ctx, t, ns, "p", m.GatewayConfig, "CNY", "50.00", "ALIPAY_CN")
	d := newDeclaration(ns, "rejected", "p", "50.00", gatewaysim.MagicCustomsReject)
	create(ctx, t, d)
	waitOp(ctx, t, d, v1.OperationProcessing)
	sys.Sim.Advance(2 * declarationStep())
	d = waitOp(ctx, t, d, v1.OperationFailed)
	if r := d.Status.LastResult; r == nil || r.Code != "CUSTOMS_REJECTED" {
		t.Fatalf("lastResult = %+v", r)
	}
	if d.Status.CustomsResultCode != "CUSTOMS_REJECTED" || d.Status.DeclarationStatus != gateway.DeclarationFail {
		t.Fatalf("status: %+v", d.Status)
	}
	if c := condition(d.Status.Conditions, v1.ConditionStalled); c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "CUSTOMS_REJECTED") {
		t.Fatalf("Stalled = %+v", c)
	}
}

func TestDeclarationInAnotherCurrencyIsInvalid(t *testing.T) {
	ctx, ns, m := setup(t)
	paidWallet(ctx, t, ns, "p", m.GatewayConfig, "HKD", "10.00", "ALIPAY_HK")
	d := newDeclaration(ns, "d", "p", "10.00", "ZONGSHU")
	create(ctx, t, d)
	d = waitOp(ctx, t, d, v1.OperationFailed)
	if c := condition(d.Status.Conditions, v1.ConditionReady); c.Reason != v1.ReasonInvalidAmount {
		t.Fatalf("Ready = %+v", c)
	}
}
