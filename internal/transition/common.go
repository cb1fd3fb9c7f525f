package transition

import (
	"time"

	"k8s.io/apimachinery/pkg/api/equality"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// setResult records the last gateway result; the time only changes when the
// result does, so an unchanged answer does not cost a status write.
func setResult(dst **v1.GatewayResult, r gateway.Result, src Source, now time.Time) {
	if cur := *dst; cur != nil && cur.Code == r.ResultCode && cur.Status == r.ResultStatus &&
		cur.Message == r.ResultMessage && cur.API == string(src) {
		return
	}
	*dst = &v1.GatewayResult{Code: r.ResultCode, Status: r.ResultStatus, Message: r.ResultMessage,
		API: string(src), Time: ptrTime(now)}
}

func equalStatus(a, b any) bool { return equality.Semantic.DeepEqual(a, b) }

// canMove reports whether a phase may move from one value to another along
// the allowed edges (staying put is always allowed).
func canMove[P comparable](edges map[P][]P, from, to P) bool {
	if from == to {
		return true
	}
	for _, p := range edges[from] {
		if p == to {
			return true
		}
	}
	return false
}
