package chaos

import (
	"testing"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// TestPlanIsConsistent checks the plan generator over many seeds, without
// the system: sums within their limits, no magic amounts where success is
// expected, every kind and every outcome present.
func TestPlanIsConsistent(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		for _, n := range []int{30, 220} {
			plans := makePlan(seed, n)
			if err := checkPlan(plans); err != nil {
				t.Fatalf("seed %d, %d payments: %v", seed, n, err)
			}
			seen := map[string]bool{}
			for _, p := range plans {
				seen[string(p.Kind)+"/"+string(p.expectPhase())] = true
			}
			for _, k := range []string{"wallet/Succeeded", "wallet/Failed", "card/Failed", "cn/Succeeded", "cn/Failed"} {
				if !seen[k] {
					t.Errorf("seed %d, %d payments: no %s payment", seed, n, k)
				}
			}
			var caps, refs, dcls int
			for _, p := range plans {
				caps, refs, dcls = caps+len(p.Captures), refs+len(p.Refunds), dcls+len(p.Declarations)
			}
			if caps == 0 || refs == 0 || dcls == 0 {
				t.Errorf("seed %d, %d payments: %d captures, %d refunds, %d declarations", seed, n, caps, refs, dcls)
			}
			if !seen["card/Succeeded"] && !seen["card/Authorized"] {
				t.Errorf("seed %d, %d payments: no approved card", seed, n)
			}
		}
	}
	var ops = map[v1.OperationPhase]int{}
	for _, p := range makePlan(1, 30) {
		for _, l := range [][]opPlan{p.Captures, p.Refunds, p.Declarations} {
			for _, o := range l {
				ops[o.Expect]++
			}
		}
	}
	t.Logf("seed 1, 30 payments: operations by expected phase %v", ops)
}
