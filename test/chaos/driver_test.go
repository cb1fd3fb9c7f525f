package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/localsystem"
)

// driver plays the merchant's systems and the users: it creates the
// objects of each payment's script and pays or declines at the gateway.
type driver struct {
	c    client.Client
	ns   string
	gwc  string
	sim  *simClient
	w    *world
	prof profile
	logf func(format string, a ...any)

	created     atomic.Int64 // objects created (Secrets excluded)
	createRetry atomic.Int64 // create calls repeated after an apiserver error
	reapplied   atomic.Int64 // objects deleted and applied again mid-flight
}

// reapply deletes obj and applies fresh, its manifest, again: a GitOps
// tool's self-heal or a restore from git. The new object has a new UID and
// the same identity, so it must adopt whatever the deleted one started.
func (d *driver) reapply(ctx context.Context, obj, fresh client.Object) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for {
		err := d.c.Delete(ctx, obj)
		if err == nil || apierrors.IsNotFound(err) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("delete %T %s: %w (last error: %v)", obj, obj.GetName(), ctx.Err(), err)
		case <-time.After(300 * time.Millisecond):
		}
	}
	probe := obj.DeepCopyObject().(client.Object)
	for {
		err := d.c.Get(ctx, client.ObjectKeyFromObject(obj), probe)
		if apierrors.IsNotFound(err) || (err == nil && probe.GetUID() != obj.GetUID()) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%T %s not gone: %w", obj, obj.GetName(), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := d.create(ctx, fresh); err != nil {
		return err
	}
	d.reapplied.Add(1)
	return nil
}

// create creates obj, repeating on apiserver errors (the apiserver may be
// restarting); an object that turns out to exist already (an earlier
// attempt went through) is read back instead.
func (d *driver) create(ctx context.Context, obj client.Object) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for attempt := 0; ; attempt++ {
		err := d.c.Create(ctx, obj)
		if err == nil {
			return nil
		}
		if apierrors.IsAlreadyExists(err) && attempt > 0 {
			return d.c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		}
		if apierrors.IsInvalid(err) || apierrors.IsAlreadyExists(err) || apierrors.IsBadRequest(err) || apierrors.IsForbidden(err) {
			return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
		d.createRetry.Add(1)
		select {
		case <-ctx.Done():
			return fmt.Errorf("create %T %s: %w (last error: %v)", obj, obj.GetName(), ctx.Err(), err)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// run plays one payment's script.
func (d *driver) run(ctx context.Context, p *paymentPlan) error {
	sl := &stepLog{start: time.Now(), last: time.Now()}
	defer func() {
		if took := time.Since(sl.start); took > 45*time.Second {
			d.logf("slow script %s (%s, via %s, eager %v): %s; steps: %s", p.Name, p.Kind, p.Via, p.Eager,
				took.Round(100*time.Millisecond), strings.Join(sl.steps, ", "))
		}
	}()
	pay, err := d.createPayment(ctx, p)
	if err != nil {
		return err
	}
	if p.Eager {
		if err := d.createChildren(ctx, p); err != nil {
			return err
		}
	}
	sl.step("create")
	switch p.Via {
	case viaControl, viaCheckout:
		if err := d.settle(ctx, p, pay); err != nil {
			return err
		}
		sl.step("pay at the gateway")
	}
	if err := d.waitOutcome(ctx, p); err != nil {
		return err
	}
	sl.step("payment " + string(p.expectPhase()))
	if !p.Eager {
		if err := d.createChildren(ctx, p); err != nil {
			return err
		}
	}
	if p.Kind == kindCard && len(p.Refunds) > 0 {
		return d.refundCaptured(ctx, p, sl)
	}
	return nil
}

// stepLog times a script's steps, for the report of a slow one.
type stepLog struct {
	start, last time.Time
	steps       []string
}

func (sl *stepLog) step(what string) {
	sl.steps = append(sl.steps, fmt.Sprintf("%s %s", what, time.Since(sl.last).Round(100*time.Millisecond)))
	sl.last = time.Now()
}

// createPayment creates the payment (and a card's Secret first) and, when
// the plan says so, deletes it at once and applies it again; it returns the
// object that stands.
func (d *driver) createPayment(ctx context.Context, p *paymentPlan) (*v1.Payment, error) {
	if p.Kind == kindCard {
		if err := d.create(ctx, p.cardSecret(d.ns)); err != nil {
			return nil, err
		}
	}
	pay := p.payment(d.ns, d.gwc)
	if err := d.create(ctx, pay); err != nil {
		return nil, err
	}
	d.created.Add(1)
	if p.Reapply {
		fresh := p.payment(d.ns, d.gwc)
		if err := d.reapply(ctx, pay, fresh); err != nil {
			return nil, err
		}
		pay = fresh
	}
	return pay, nil
}

// waitOutcome waits until the Payment shows the outcome before going on, as
// a merchant's system would (a card to be captured in full later may stay
// Authorized); another final phase gives up.
func (d *driver) waitOutcome(ctx context.Context, p *paymentPlan) error {
	want := []v1.PaymentPhase{p.expectPhase()}
	if want[0] == v1.PaymentSucceeded && p.Kind == kindCard {
		want = append(want, v1.PaymentAuthorized) // captured in full later
	}
	return d.w.wait(ctx, d.prof.driveTimeout, "payment "+p.Name+" to be "+fmt.Sprint(want), func(s *snapshot) (bool, string, error) {
		obj := s.payments[p.Name]
		if obj == nil {
			return false, "not listed yet", nil
		}
		for _, ph := range want {
			if obj.Status.Phase == ph {
				return true, "", nil
			}
		}
		if obj.Status.Phase.IsFinal() {
			return false, "", &errGiveUp{"ended " + describePayment(obj)}
		}
		return false, describePayment(obj), nil
	})
}

// refundCaptured creates a card payment's refunds once every capture has
// succeeded: refunds of a card authorization refund what was captured.
func (d *driver) refundCaptured(ctx context.Context, p *paymentPlan, sl *stepLog) error {
	if err := d.w.wait(ctx, d.prof.driveTimeout, "captures of "+p.Name+" to succeed", func(s *snapshot) (bool, string, error) {
		for _, c := range p.Captures {
			st := s.opStatus("Capture", c.Name)
			switch {
			case st == nil || st.Phase != v1.OperationSucceeded && !st.Phase.IsFinal():
				return false, describeOp(c.Name, st), nil
			case st.Phase != v1.OperationSucceeded:
				return false, "", &errGiveUp{describeOp(c.Name, st)}
			}
		}
		return true, "", nil
	}); err != nil {
		return err
	}
	sl.step("captures Succeeded")
	for _, r := range p.Refunds {
		if err := d.createOp(ctx, func() client.Object { return p.refund(d.ns, r) }, r.Reapply); err != nil {
			return err
		}
	}
	return nil
}

// createChildren creates the captures, declarations and (for wallets) the
// refunds of a payment.
func (d *driver) createChildren(ctx context.Context, p *paymentPlan) error {
	type child struct {
		build   func() client.Object
		reapply bool
	}
	var objs []child
	for _, c := range p.Captures {
		objs = append(objs, child{func() client.Object { return p.capture(d.ns, c) }, c.Reapply})
	}
	if p.Kind != kindCard {
		for _, r := range p.Refunds {
			objs = append(objs, child{func() client.Object { return p.refund(d.ns, r) }, r.Reapply})
		}
	}
	for _, dc := range p.Declarations {
		objs = append(objs, child{func() client.Object { return p.declaration(d.ns, dc) }, dc.Reapply})
	}
	for _, o := range objs {
		if err := d.createOp(ctx, o.build, o.reapply); err != nil {
			return err
		}
	}
	return nil
}

// createOp creates an operation and, when its plan says so, deletes it
// right away and applies it again.
func (d *driver) createOp(ctx context.Context, build func() client.Object, reapply bool) error {
	obj := build()
	if err := d.create(ctx, obj); err != nil {
		return err
	}
	d.created.Add(1)
	if reapply {
		return d.reapply(ctx, obj, build())
	}
	return nil
}

// settle pays or declines a wallet payment at the gateway once the
// gateway has it: through the control API or the checkout page. The
// payment is found by its paymentRequestId, derived from the object's
// UID, so the user may pay before the operator recorded the pay answer.
func (d *driver) settle(ctx context.Context, p *paymentPlan, pay *v1.Payment) error {
	ref := ids.Payment(pay, "")
	var view paymentView
	var err error
	wctx, cancel := context.WithTimeout(ctx, d.prof.driveTimeout)
	defer cancel()
	for {
		view, err = d.sim.payment(wctx, ref)
		if err == nil {
			break
		}
		if !errors.Is(err, errSimNotFound) {
			return fmt.Errorf("payment %s at the simulator: %w", p.Name, err)
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("payment %s (%s) never reached the simulator", p.Name, ref)
		case <-time.After(200 * time.Millisecond):
		}
	}
	switch {
	case p.Via == viaControl && p.Declined:
		err = d.sim.decline(ctx, ref)
	case p.Via == viaControl:
		err = d.sim.complete(ctx, ref)
	case p.Declined:
		err = d.sim.checkout(ctx, view.NormalURL, "decline")
	default:
		err = d.sim.checkout(ctx, view.NormalURL, "pay")
	}
	if err != nil {
		return fmt.Errorf("settle %s via %s: %w", p.Name, p.Via, err)
	}
	return nil
}

// ---- chaos ---------------------------------------------------------------------

// chaosRunner kills and restarts processes on schedule.
type chaosRunner struct {
	ls   *localsystem.System
	api  *apiServer
	logf func(format string, a ...any)

	mu     sync.Mutex
	done   map[string]int
	errs   []error
	events []string
}

func (c *chaosRunner) run(ctx context.Context, start time.Time, evs []chaosEvent) {
	for _, ev := range evs {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start.Add(ev.at))):
		}
		t0 := time.Now()
		at := t0.Sub(start).Round(100 * time.Millisecond)
		var err error
		switch ev.target {
		case "kube-apiserver":
			c.logf("chaos t+%s: SIGKILL kube-apiserver; down for %s", at, ev.down)
			err = c.api.restart(ctx, ev.down)
		default:
			p := c.ls.Process(ev.target)
			pid := p.Pid()
			p.Kill()
			c.logf("chaos t+%s: SIGKILL %s (pid %d); down for %s", at, ev.target, pid, ev.down)
			select {
			case <-ctx.Done():
			case <-time.After(ev.down):
			}
			err = p.Start()
		}
		line := fmt.Sprintf("t+%s %s killed, up again after %s", at, ev.target, time.Since(t0).Round(100*time.Millisecond))
		c.logf("chaos %s", line)
		c.mu.Lock()
		c.events = append(c.events, line)
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("%s: %w", ev.target, err))
		} else {
			c.done[ev.target]++
		}
		c.mu.Unlock()
	}
}
