package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// world keeps a recent snapshot of every object, listed a few times a
// second, so that hundreds of waiting scripts cost four list calls per
// refresh instead of a get each. Waiters wake on every new snapshot.
type world struct {
	c  client.Client
	ns string

	mu      sync.Mutex
	snap    *snapshot
	changed chan struct{}
	lastErr error
}

type snapshot struct {
	at           time.Time
	payments     map[string]*v1.Payment
	captures     map[string]*v1.Capture
	refunds      map[string]*v1.Refund
	declarations map[string]*v1.CustomsDeclaration
}

func newWorld(c client.Client, ns string) *world {
	return &world{c: c, ns: ns, changed: make(chan struct{}), snap: &snapshot{
		payments: map[string]*v1.Payment{}, captures: map[string]*v1.Capture{},
		refunds: map[string]*v1.Refund{}, declarations: map[string]*v1.CustomsDeclaration{}}}
}

// run refreshes until ctx ends. While the apiserver is down the last
// snapshot stays.
func (w *world) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		err := w.refresh(ctx)
		w.mu.Lock()
		w.lastErr = err
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *world) refresh(ctx context.Context) error {
	lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var (
		ps v1.PaymentList
		cs v1.CaptureList
		rs v1.RefundList
		ds v1.CustomsDeclarationList
	)
	// From the watch cache (resourceVersion 0): cheap, and waiters loop anyway.
	opts := &client.ListOptions{Namespace: w.ns, Raw: &metav1.ListOptions{ResourceVersion: "0"}}
	for _, l := range []client.ObjectList{&ps, &cs, &rs, &ds} {
		if err := w.c.List(lctx, l, opts); err != nil {
			return err
		}
	}
	s := &snapshot{at: time.Now(), payments: map[string]*v1.Payment{}, captures: map[string]*v1.Capture{},
		refunds: map[string]*v1.Refund{}, declarations: map[string]*v1.CustomsDeclaration{}}
	for i := range ps.Items {
		s.payments[ps.Items[i].Name] = &ps.Items[i]
	}
	for i := range cs.Items {
		s.captures[cs.Items[i].Name] = &cs.Items[i]
	}
	for i := range rs.Items {
		s.refunds[rs.Items[i].Name] = &rs.Items[i]
	}
	for i := range ds.Items {
		s.declarations[ds.Items[i].Name] = &ds.Items[i]
	}
	w.mu.Lock()
	w.snap = s
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
	return nil
}

func (w *world) current() (*snapshot, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.snap, w.changed
}

// errGiveUp makes wait return at once: the awaited state can no longer come.
type errGiveUp struct{ msg string }

func (e *errGiveUp) Error() string { return e.msg }

// wait waits until cond holds on a snapshot. cond returns whether it
// holds, a description of the state for the timeout message, and an
// *errGiveUp when the state is final and wrong.
func (w *world) wait(ctx context.Context, timeout time.Duration, what string, cond func(*snapshot) (bool, string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	for {
		s, changed := w.current()
		ok, desc, err := cond(s)
		if ok {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		last = desc
		select {
		case <-ctx.Done():
			w.mu.Lock()
			lerr := w.lastErr
			w.mu.Unlock()
			msg := fmt.Sprintf("%s: not reached after %s; last seen: %s", what, timeout, last)
			if lerr != nil {
				msg += fmt.Sprintf(" (last list error: %v)", lerr)
			}
			return errors.New(msg)
		case <-changed:
		}
	}
}

// ---- descriptions --------------------------------------------------------------

func describeConds(conds []metav1.Condition) string {
	var b strings.Builder
	for _, typ := range []string{v1.ConditionReady, v1.ConditionSynced, v1.ConditionBlocked, v1.ConditionStalled} {
		if c := meta.FindStatusCondition(conds, typ); c != nil {
			fmt.Fprintf(&b, " %s=%s %s: %s;", typ, c.Status, c.Reason, c.Message)
		}
	}
	return b.String()
}

func describePayment(p *v1.Payment) string {
	if p == nil {
		return "not created"
	}
	return fmt.Sprintf("phase=%q gatewayStatus=%q captured=%s refunded=%s refundable=%s%s", p.Status.Phase, p.Status.GatewayStatus,
		moneyStr(p.Status.Amounts.Captured), moneyStr(p.Status.Amounts.Refunded), moneyStr((*v1.Money)(p.Status.Amounts.Refundable)),
		describeConds(p.Status.Conditions))
}

func describeOp(name string, st *v1.OperationStatus) string {
	if st == nil {
		return name + " not created"
	}
	r := ""
	if st.LastResult != nil {
		r = fmt.Sprintf(" lastResult=%s/%s (%s)", st.LastResult.Status, st.LastResult.Code, st.LastResult.API)
	}
	return fmt.Sprintf("%s phase=%q%s%s", name, st.Phase, r, describeConds(st.Conditions))
}

func moneyStr(m *v1.Money) string {
	if m == nil {
		return "-"
	}
	return m.Value + " " + m.Currency
}

// opStatus finds an operation's status in a snapshot (nil if absent).
func (s *snapshot) opStatus(kind, name string) *v1.OperationStatus {
	switch kind {
	case "Capture":
		if o := s.captures[name]; o != nil {
			return &o.Status
		}
	case "Refund":
		if o := s.refunds[name]; o != nil {
			return &o.Status
		}
	case "CustomsDeclaration":
		if o := s.declarations[name]; o != nil {
			return &o.Status.OperationStatus
		}
	}
	return nil
}
