package shared

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/engine"
)

// MoneyPolicyOf returns the MoneyPolicy of namespace ns, nil when it has
// none (its money moves as RBAC allows).
func MoneyPolicyOf(ctx context.Context, deps *Deps, ns string) (*v1.MoneyPolicy, error) {
	var mp v1.MoneyPolicy
	key := types.NamespacedName{Namespace: ns, Name: v1.MoneyPolicyName}
	if err := deps.Client.Get(ctx, key, &mp); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get MoneyPolicy %s: %w", key, err)
	}
	return &mp, nil
}

// PolicyRecheck bounds how long a held operation waits before the policy
// is decided again (an Approval or a policy change wakes it at once).
func PolicyRecheck(c Cadence) time.Duration { return 4 * c.OperationPoll }

// PolicyHold is the Blocked wait of something a MoneyPolicy holds back:
// announced (a person must act), decided again at recheck when the clock
// alone may free it (a budget window moving on), else after PolicyRecheck.
func PolicyHold(deps *Deps, reason, msg string, recheck time.Time) *engine.WaitError {
	after := PolicyRecheck(deps.Cadence)
	if !recheck.IsZero() {
		if d := recheck.Sub(deps.Time()); d > 0 && d < after {
			after = d
		}
	}
	return &engine.WaitError{Reason: reason, Message: msg, Blocked: true, Announce: true, RequeueAfter: after}
}
