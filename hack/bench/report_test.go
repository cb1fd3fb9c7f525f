package main

import (
	"math"
	"strings"
	"testing"
)

// TestOperatorOverhead: the overhead is the manager's and receiver's CPU
// plus the apiserver's above the raw baseline, per payment, over the raw
// apiserver cost; without the baseline there is no row.
func TestOperatorOverhead(t *testing.T) {
	run := &opResult{N: 1000, Procs: map[string]procDelta{
		"manager": {CPUSeconds: 4}, "notification-receiver": {CPUSeconds: 2}, "kube-apiserver": {CPUSeconds: 19}}}
	for _, tc := range []struct {
		name  string
		base  *baselines
		ratio float64
		row   string
	}{
		{"with the raw baseline", &baselines{RawPayments: &baseline{Done: 2000, CPU: map[string]float64{"kube-apiserver": 29}}},
			(4 + 2 + 4.5) / 14.5, "manager 4.00 + receiver 2.00 + apiserver above raw 4.50"},
		{"an apiserver cheaper than raw counts nothing", &baselines{RawPayments: &baseline{Done: 1000, CPU: map[string]float64{"kube-apiserver": 20}}},
			6.0 / 20, "apiserver above raw 0.00"},
		{"no baselines", nil, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &results{op: run, base: tc.base}
			x, _ := r.operatorOverhead()
			if math.Abs(x.ratio()-tc.ratio) > 1e-9 {
				t.Fatalf("ratio %v, want %v", x.ratio(), tc.ratio)
			}
			if row := r.overheadRow(); !strings.Contains(row, tc.row) || (tc.row == "") != (row == "") {
				t.Fatalf("row %q, want it to name %q", row, tc.row)
			}
		})
	}
}
