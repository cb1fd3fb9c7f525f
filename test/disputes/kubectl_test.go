package disputes

import (
	"strings"
	"testing"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
)

// kubectl runs the pinned kubectl against the test apiserver.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	return sys.Env.Kubectl(t, args...)
}

// TestKubectlGetDisputes: the printer columns show payment, amount,
// reason, defense due and phase, for disputes in three phases.
func TestKubectlGetDisputes(t *testing.T) {
	f := setup(t)
	_, open := f.openDispute(t, f.paid(t, "order-1001", "25.00"), gatewaysim.DisputeSpec{ReasonCode: "13.1"})
	_, defended := f.openDispute(t, f.paid(t, "order-1002", "80.00"), gatewaysim.DisputeSpec{ReasonCode: "10.4"})
	_, accepted := f.openDispute(t, f.paid(t, "order-1003", "12.50"), gatewaysim.DisputeSpec{})
	r := f.respond(t, "defend-order-1002", defended, v1.DisputeDefend, f.evidence(t, "order-1002-evidence", gatewaysim.EvidencePDF("Signed delivery receipt")))
	f.waitResponse(t, r, v1.OperationSucceeded, v1.ReasonResponseTaken)
	f.waitDispute(t, defended, v1.DisputePhaseDefended)
	r = f.respond(t, "accept-order-1003", accepted, v1.DisputeAccept, nil)
	f.waitResponse(t, r, v1.OperationSucceeded, v1.ReasonResponseTaken)
	f.waitDispute(t, accepted, v1.DisputePhaseAccepted)

	out := kubectl(t, "get", "disputes", "-n", f.ns)
	t.Logf("$ kubectl get disputes\n%s", out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "PAYMENT") || !strings.Contains(lines[0], "DEFENSE DUE") || !strings.Contains(lines[0], "PHASE") {
		t.Fatalf("kubectl get disputes:\n%s", out)
	}
	for _, want := range []struct{ name, cells string }{
		{open.Name, "order-1001 25.00 HKD 13.1"}, {defended.Name, "order-1002 80.00 HKD 10.4"}, {accepted.Name, "order-1003 12.50 HKD 4853"},
	} {
		found := false
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, want.name) && strings.Contains(strings.Join(strings.Fields(l), " "), want.cells) {
				found = true
			}
		}
		if !found {
			t.Errorf("no row %s with %q:\n%s", want.name, want.cells, out)
		}
	}
	t.Logf("$ kubectl get disputeresponses\n%s", kubectl(t, "get", "disputeresponses", "-n", f.ns))
}
