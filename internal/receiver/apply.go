package receiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/events"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// conflictBackoff spaces the retries of a status write that lost a race
// (about 2.5s in all).
var conflictBackoff = wait.Backoff{Steps: 8, Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.1}

// eventAction is the action of every event the receiver emits.
const eventAction = "Notification"

// dispatch finds the object(s) a verified notification is about and
// applies it.
func (r *Receiver) dispatch(ctx context.Context, v *verified) answer {
	switch v.routeKind {
	case ids.KindPayment:
		return routed(ctx, r, v, newPayment, func(p *v1.Payment) answer { return r.toPayment(ctx, v, p) })
	case ids.KindRefund:
		return routed(ctx, r, v, newRefund, func(rf *v1.Refund) answer { return r.toRefund(ctx, v, rf) })
	case ids.KindRegistration:
		return r.routedRegistration(ctx, v)
	}
	if _, ok := v.body.(*gateway.NotifyRegistrationStatus); ok {
		return r.registrationsByID(ctx, v)
	}
	return r.dispatchByIDs(ctx, v)
}

// routed applies v to the object its route names, when it exists.
func routed[T client.Object](ctx context.Context, r *Receiver, v *verified, newObj func() T, apply func(T) answer) answer {
	obj, found, err := get(ctx, r, v.key, newObj)
	kind := kindOf(obj)
	if err != nil {
		return unavailable(v.kind, fmt.Errorf("get %s %s: %w", kind, v.key, err))
	}
	if !found {
		return r.unknown(ctx, v, routeObject(kind, v.key), kind+" "+v.key.String())
	}
	return apply(obj)
}

// dispatchByIDs serves the default route: it finds the objects by gateway
// ids. Only objects of the merchant that signed are candidates: gateway ids
// are unique per gateway, not across merchants and environments (sandbox
// and production both in one cluster), so another merchant's object with
// the same id is simply not this notification's object.
func (r *Receiver) dispatchByIDs(ctx context.Context, v *verified) answer {
	var answers []answer
	var what string
	var err error
	if n, ok := v.body.(*gateway.NotifyRefund); ok {
		what = describeIDs("refundRequestId", n.RefundRequestID)
		answers, err = r.refundsByID(ctx, v, n)
	} else {
		var paymentID, paymentRequestID string
		if paymentID, paymentRequestID, what, ok = paymentIDsOf(v.body); !ok {
			return internalError(v.kind, fmt.Errorf("unexpected notification %T", v.body))
		}
		answers, err = r.paymentsByID(ctx, v, paymentID, paymentRequestID)
	}
	if err != nil {
		return unavailable(v.kind, err)
	}
	if len(answers) == 0 {
		return r.unknown(ctx, v, nil, what)
	}
	return worst(answers)
}

// paymentIDsOf returns the gateway ids a notification about a payment
// names, and how to describe them; ok is false for other notifications.
func paymentIDsOf(body any) (paymentID, paymentRequestID, what string, ok bool) {
	switch n := body.(type) {
	case *gateway.NotifyPayment:
		return n.PaymentID, n.PaymentRequestID, describeIDs("paymentId", n.PaymentID, "paymentRequestId", n.PaymentRequestID), true
	case *gateway.NotifyCapture:
		return n.PaymentID, "", describeIDs("paymentId", n.PaymentID, "captureRequestId", n.CaptureRequestID), true
	case *gateway.NotifyDispute:
		return n.PaymentID, n.PaymentRequestID, describeIDs("paymentId", n.PaymentID, "disputeId", n.DisputeID), true
	}
	return "", "", "", false
}

// paymentsByID applies v to each Payment of the signing merchant that the
// gateway ids name.
func (r *Receiver) paymentsByID(ctx context.Context, v *verified, paymentID, paymentRequestID string) ([]answer, error) {
	ps, err := r.findPayments(ctx, paymentID, paymentRequestID, func(p *v1.Payment) (bool, error) { return r.signedFor(ctx, v, p) })
	if err != nil {
		return nil, err
	}
	answers := make([]answer, 0, len(ps))
	for i := range ps {
		answers = append(answers, r.toPayment(ctx, v, &ps[i]))
	}
	return answers, nil
}

// refundsByID applies n to each Refund of the signing merchant whose
// refundRequestId it names (and whose Payment exists).
func (r *Receiver) refundsByID(ctx context.Context, v *verified, n *gateway.NotifyRefund) ([]answer, error) {
	rfs, err := r.findRefunds(ctx, n.RefundRequestID, func(rf *v1.Refund) (bool, error) {
		p, found, err := r.paymentOf(ctx, rf)
		if err != nil || !found {
			return false, err
		}
		return r.signedFor(ctx, v, p)
	})
	if err != nil {
		return nil, err
	}
	var answers []answer
	for i := range rfs {
		p, found, err := r.paymentOf(ctx, &rfs[i])
		if err != nil {
			return nil, err
		}
		if found {
			answers = append(answers, r.applyRefund(ctx, v, &rfs[i], p, n))
		}
	}
	return answers, nil
}

// worst combines the answers for several objects (a gateway payment that
// more than one Payment names): the gateway must re-send if any of them
// could not be recorded.
func worst(as []answer) answer {
	rank := func(a answer) int {
		switch {
		case a.status >= 500:
			return 5
		case a.status != http.StatusOK:
			return 4
		case a.outcome == OutcomeApplied:
			return 3
		case a.outcome == OutcomeStale, a.outcome == OutcomeDuplicate:
			return 2
		}
		return 1
	}
	best := as[0]
	for _, a := range as[1:] {
		if rank(a) > rank(best) {
			best = a
		}
	}
	return best
}

func describeIDs(kv ...string) string {
	s := ""
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if s != "" {
			s += " "
		}
		s += kv[i] + "=" + kv[i+1]
	}
	return s
}

// get reads key from the cache and confirms a miss with an uncached read;
// found is false only when the object truly does not exist.
func get[T client.Object](ctx context.Context, r *Receiver, key client.ObjectKey, newObj func() T) (obj T, found bool, err error) {
	obj = newObj()
	err = r.opts.Client.Get(ctx, key, obj)
	if err == nil {
		return obj, true, nil
	}
	if !apierrors.IsNotFound(err) {
		return obj, false, err
	}
	obj = newObj()
	err = r.opts.APIReader.Get(ctx, key, obj)
	switch {
	case apierrors.IsNotFound(err):
		return obj, false, nil
	case err != nil:
		return obj, false, err
	}
	return obj, true, nil
}

// update applies fn to a copy of obj and writes the status when fn says it
// changed. On a conflict it re-reads the object uncached and applies fn
// again. It returns the object as last applied and whether it was written.
func update[T client.Object](ctx context.Context, r *Receiver, obj T, newObj func() T, fn func(T) (bool, error)) (T, bool, error) {
	cur := obj.DeepCopyObject().(T)
	first, wrote := true, false
	err := retry.RetryOnConflict(conflictBackoff, func() error {
		if !first {
			fresh := newObj()
			if err := r.opts.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
				return err
			}
			cur = fresh
		}
		first = false
		changed, err := fn(cur)
		if err != nil || !changed {
			return err
		}
		if err := r.opts.Client.Status().Update(ctx, cur); err != nil {
			return err
		}
		wrote = true
		return nil
	})
	return cur, wrote, err
}

// applyStatus applies facts to obj's status through apply (a transition
// function, then the conditions) and writes the status when the part that
// status returns changed, retrying on conflicts (update). It returns the
// object as last applied, the change, whether it was written, and the
// answer for the gateway.
func applyStatus[T client.Object](ctx context.Context, r *Receiver, v *verified, obj T, newObj func() T,
	status func(T) any, apply func(T) (transition.Change, error)) (T, transition.Change, bool, answer) {
	var ch transition.Change
	cur, wrote, err := update(ctx, r, obj, newObj, func(o T) (bool, error) {
		before := o.DeepCopyObject().(T)
		var err error
		if ch, err = apply(o); err != nil {
			return false, wrapApply(err)
		}
		return !equality.Semantic.DeepEqual(status(before), status(o)), nil
	})
	return cur, ch, wrote, r.result(v, obj, ch, wrote, err)
}

func paymentStatus(p *v1.Payment) any { return &p.Status }

// signedFor reports whether the payment's GatewayConfig is one whose
// Client-Id and gateway key signed the notification.
func (r *Receiver) signedFor(ctx context.Context, v *verified, p *v1.Payment) (bool, error) {
	return r.signedForGateway(ctx, v, p.Spec.GatewayRef.Name)
}

// signedForGateway reports whether GatewayConfig name is one whose
// Client-Id and gateway key signed the notification.
func (r *Receiver) signedForGateway(ctx context.Context, v *verified, name string) (bool, error) {
	for _, c := range v.signers {
		if c.Config != nil && c.Config.Name == name {
			return true, nil
		}
	}
	// Not among the connections that verified it: perhaps the registry has
	// not built this GatewayConfig's connection yet. Build it and check.
	conn, err := r.opts.Registry.Get(ctx, name)
	if err != nil {
		if errors.Is(err, connection.ErrNotReady) {
			return false, nil
		}
		return false, fmt.Errorf("GatewayConfig %s: %w", name, err)
	}
	if conn.ClientID != v.clientID || conn.GatewayPublicKey == nil {
		return false, nil
	}
	_, verr := gateway.VerifyNotification(conn.GatewayPublicKey, v.req, r.opts.Now(), r.opts.TimeWindow)
	return verr == nil, nil
}

// authorize refuses a notification whose route names an object of
// another merchant connection than the one that signed it.
func (r *Receiver) authorize(ctx context.Context, v *verified, p *v1.Payment, obj client.Object) *answer {
	return r.authorizeGateway(ctx, v, p.Spec.GatewayRef.Name, obj)
}

// authorizeGateway refuses a notification about obj, of GatewayConfig
// name, signed by another merchant connection.
func (r *Receiver) authorizeGateway(ctx context.Context, v *verified, name string, obj client.Object) *answer {
	ok, err := r.signedForGateway(ctx, v, name)
	if err != nil {
		a := unavailable(v.kind, err)
		a.object = describe(obj)
		return &a
	}
	if ok {
		return nil
	}
	a := refuse(v.kind, ReasonGatewayMismatch, fmt.Errorf("the object uses GatewayConfig %s, which is not the merchant %s", name, v.clientID))
	a.object = describe(obj)
	r.event(obj, corev1.EventTypeWarning, "NotificationRefused",
		"refused a %s signed for Client-Id %s: the object uses GatewayConfig %s", v.kind, v.clientID, name)
	return &a
}

// mismatch refuses facts that contradict the object.
func (r *Receiver) mismatch(v *verified, obj client.Object, err error) answer {
	a := refuse(v.kind, ReasonMismatch, err)
	a.object = describe(obj)
	r.event(obj, corev1.EventTypeWarning, "NotificationRefused", "refused a %s: %v", v.kind, err)
	return a
}

// result turns the outcome of an update into an answer.
func (r *Receiver) result(v *verified, obj client.Object, ch transition.Change, wrote bool, err error) answer {
	switch {
	case errors.Is(err, transition.ErrMismatch):
		return r.mismatch(v, obj, err)
	case apierrors.IsNotFound(err):
		// Deleted (or archived) after the cache read it: the re-send finds
		// it gone and is answered as an unknown object (restore included).
		a := unavailable(v.kind, fmt.Errorf("%s was deleted while the notification was applied: %w", describe(obj), err))
		a.object = describe(obj)
		return a
	case errors.Is(err, errApply):
		a := internalError(v.kind, fmt.Errorf("%s: %w", describe(obj), err))
		a.object = describe(obj)
		return a
	case err != nil:
		// The API server (or conflicts that did not settle): send it again.
		a := unavailable(v.kind, fmt.Errorf("%s: %w", describe(obj), err))
		a.object = describe(obj)
		return a
	case wrote:
		return ack(v.kind, OutcomeApplied, describe(obj))
	case ch.Ignored != "":
		return ack(v.kind, OutcomeStale, describe(obj))
	}
	return ack(v.kind, OutcomeDuplicate, describe(obj))
}

// errApply marks errors of the transition functions other than ErrMismatch.
var errApply = errors.New("apply")

func wrapApply(err error) error {
	if err == nil || errors.Is(err, transition.ErrMismatch) {
		return err
	}
	return fmt.Errorf("%w: %w", errApply, err)
}

// describe names obj in answers and logs: "Refund ns/name".
func describe(obj client.Object) string {
	return kindOf(obj) + " " + obj.GetNamespace() + "/" + obj.GetName()
}

// kindOf is the kind of an object the receiver changes.
func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *v1.Payment:
		return "Payment"
	case *v1.Capture:
		return "Capture"
	case *v1.Refund:
		return "Refund"
	case *v1.Dispute:
		return "Dispute"
	case *v1.MerchantRegistration:
		return "MerchantRegistration"
	}
	return "object"
}

func (r *Receiver) event(obj client.Object, typ, reason, note string, args ...any) {
	events.Emit(r.opts.Recorder, obj, typ, reason, eventAction, note, args...)
}

// transitionEvent emits one event per phase transition, as the controllers
// do (package events), and counts it in the transition metrics.
func (r *Receiver) transitionEvent(obj client.Object, what string, ch transition.Change, kind string) {
	if !ch.Transitioned() {
		return
	}
	r.metrics.transitions.OnTransition(what, obj, ch, r.opts.Now())
	events.Transition(r.opts.Recorder, obj, eventAction, what, ch, kind)
}

// ---- payments ------------------------------------------------------------------

func newPayment() *v1.Payment { return &v1.Payment{} }

func newRefund() *v1.Refund { return &v1.Refund{} }

// toPayment applies a notifyPayment, notifyCapture or notifyDispute about p.
func (r *Receiver) toPayment(ctx context.Context, v *verified, p *v1.Payment) answer {
	if a := r.authorize(ctx, v, p, p); a != nil {
		return *a
	}
	switch n := v.body.(type) {
	case *gateway.NotifyPayment:
		return r.applyNotifyPayment(ctx, v, p, n)
	case *gateway.NotifyCapture:
		return r.applyNotifyCapture(ctx, v, p, n)
	case *gateway.NotifyDispute:
		return r.applyNotifyDispute(ctx, v, p, n)
	}
	return refuse(v.kind, ReasonRouteKind, nil)
}

// scope is the identityScope of GatewayConfig name, which every derived id
// of its objects depends on; "" when it cannot be read (a derived id under
// another scope then does not match, and polling covers the notification).
func (r *Receiver) scope(ctx context.Context, name string) string {
	var gwc v1.GatewayConfig
	if err := r.opts.Client.Get(ctx, client.ObjectKey{Name: name}, &gwc); err != nil {
		return ""
	}
	return gwc.Spec.IdentityScope
}

// checkPaymentIDs checks the gateway ids a notification names against
// those the payment is known by under scope, without relying on status
// fields the controller may not have written yet.
func checkPaymentIDs(p *v1.Payment, scope, paymentID, paymentRequestID string) error {
	if want := ids.Payment(p, scope); paymentRequestID != "" && want != "" && paymentRequestID != want {
		return fmt.Errorf("%w: paymentRequestId %s, the payment is paid with %s", transition.ErrMismatch, paymentRequestID, want)
	}
	for _, known := range []string{p.Spec.PaymentID, p.Status.PaymentID} {
		if paymentID != "" && known != "" && paymentID != known {
			return fmt.Errorf("%w: paymentId %s, the payment is %s", transition.ErrMismatch, paymentID, known)
		}
	}
	return nil
}

// applyPayment applies payment facts and conditions, writing when changed.
func (r *Receiver) applyPayment(ctx context.Context, v *verified, p *v1.Payment, facts transition.PaymentFacts) (*v1.Payment, transition.Change, answer) {
	cur, ch, wrote, a := applyStatus(ctx, r, v, p, newPayment, paymentStatus, func(p *v1.Payment) (transition.Change, error) {
		ch, err := transition.ApplyPayment(p, facts, r.opts.Now())
		if err == nil {
			transition.SetPaymentConditions(p)
		}
		return ch, err
	})
	if wrote {
		r.transitionEvent(cur, "Payment", ch, v.kind)
	}
	return cur, ch, a
}

func (r *Receiver) applyNotifyPayment(ctx context.Context, v *verified, p *v1.Payment, n *gateway.NotifyPayment) answer {
	if err := checkPaymentIDs(p, r.scope(ctx, p.Spec.GatewayRef.Name), n.PaymentID, n.PaymentRequestID); err != nil {
		return r.mismatch(v, p, err)
	}
	_, _, a := r.applyPayment(ctx, v, p, transition.FromNotifyPayment(n))
	return a
}

func (r *Receiver) applyNotifyCapture(ctx context.Context, v *verified, p *v1.Payment, n *gateway.NotifyCapture) answer {
	scope := r.scope(ctx, p.Spec.GatewayRef.Name)
	if err := checkPaymentIDs(p, scope, n.PaymentID, ""); err != nil {
		return r.mismatch(v, p, err)
	}
	own := ids.Payment(p, scope)
	if own != "" && (n.CaptureRequestID == ids.AutoCapture(p, scope) || n.CaptureRequestID == own) {
		return r.applyAutoCapture(ctx, v, p, n)
	}
	c, err := r.findCapture(ctx, p, scope, n.CaptureRequestID)
	if err != nil {
		return unavailable(v.kind, err)
	}
	if c == nil {
		return ack(v.kind, OutcomeUnknownObject, fmt.Sprintf("Capture of Payment %s/%s with captureRequestId %s", p.Namespace, p.Name, n.CaptureRequestID))
	}
	return applyOperation(ctx, r, v, c, func() *v1.Capture { return &v1.Capture{} }, transition.FromNotifyCapture(n))
}

// applyAutoCapture applies the capture of an automatic-capture
// authorization to the Payment itself: "SUCCESS, captured captureAmount".
func (r *Receiver) applyAutoCapture(ctx context.Context, v *verified, p *v1.Payment, n *gateway.NotifyCapture) answer {
	facts := transition.AutoCaptured(transition.SourceNotification, n.PaymentID, &n.Result, n.CaptureAmount)
	cur, _, a := r.applyPayment(ctx, v, p, facts)
	if a.status == http.StatusOK && n.Result.ResultStatus == gateway.StatusFail {
		r.event(cur, corev1.EventTypeWarning, "CaptureFailed", "the automatic capture %s failed: %s %s",
			n.CaptureRequestID, n.Result.ResultCode, n.Result.ResultMessage)
	}
	return a
}

// findCapture finds the Capture of p whose captureRequestId is id; nil
// when there is none (confirmed uncached).
func (r *Receiver) findCapture(ctx context.Context, p *v1.Payment, scope, id string) (*v1.Capture, error) {
	pick := func(items []v1.Capture) *v1.Capture {
		for i := range items {
			c := &items[i]
			if c.Spec.PaymentRef.Name != p.Name {
				continue
			}
			if ids.Capture(c, scope) == id {
				return c
			}
		}
		return nil
	}
	var list v1.CaptureList
	if err := r.opts.Client.List(ctx, &list, client.InNamespace(p.Namespace), client.MatchingFields{IndexCapturePayment: p.Name}); err != nil {
		return nil, fmt.Errorf("list Captures of Payment %s/%s: %w", p.Namespace, p.Name, err)
	}
	if c := pick(list.Items); c != nil {
		return c, nil
	}
	list = v1.CaptureList{}
	if err := r.opts.APIReader.List(ctx, &list, client.InNamespace(p.Namespace)); err != nil {
		return nil, fmt.Errorf("list Captures in %s: %w", p.Namespace, err)
	}
	return pick(list.Items), nil
}

func (r *Receiver) applyNotifyDispute(ctx context.Context, v *verified, p *v1.Payment, n *gateway.NotifyDispute) answer {
	if err := checkPaymentIDs(p, r.scope(ctx, p.Spec.GatewayRef.Name), n.PaymentID, n.PaymentRequestID); err != nil {
		return r.mismatch(v, p, err)
	}
	// The Dispute object first: whatever a Payment's status.dispute shows,
	// its Dispute already has (the operator derives missing Disputes from it).
	da := r.applyDisputeObject(ctx, v, p, n)
	if da.status != http.StatusOK {
		return da
	}
	var before *v1.PaymentDispute
	cur, _, wrote, a := applyStatus(ctx, r, v, p, newPayment, paymentStatus, func(p *v1.Payment) (transition.Change, error) {
		before = p.Status.Dispute.DeepCopy()
		ch, err := transition.ApplyDispute(p, *n, r.opts.Now())
		if err == nil {
			transition.SetPaymentConditions(p)
		}
		return ch, err
	})
	if wrote {
		r.disputeEvent(cur, before, n)
	}
	return worst([]answer{a, da})
}

// disputeEvent emits one event per dispute change.
func (r *Receiver) disputeEvent(p *v1.Payment, before *v1.PaymentDispute, n *gateway.NotifyDispute) {
	d := p.Status.Dispute
	if d == nil {
		return
	}
	typ, reason := corev1.EventTypeNormal, "DisputeUpdated"
	switch n.DisputeNotificationType {
	case gateway.DisputeCreated:
		typ, reason = corev1.EventTypeWarning, "DisputeOpened"
	case gateway.DisputeDefenseSupplied:
		reason = "DisputeDefenseSupplied"
	case gateway.DisputeDefenseDueAlert:
		typ, reason = corev1.EventTypeWarning, "DisputeDefenseDue"
	case gateway.DisputeJudged:
		reason = "DisputeJudged"
		if d.JudgedResult == gateway.JudgedAcceptByMerchant {
			typ = corev1.EventTypeWarning
		}
	case gateway.DisputeCancelled:
		reason = "DisputeCancelled"
	case gateway.DisputeAccepted:
		typ, reason = corev1.EventTypeWarning, "DisputeAccepted"
	}
	from := "new"
	if before != nil && before.ID == d.ID {
		from = string(before.State)
	}
	note := fmt.Sprintf("dispute %s (%s): %s → %s", d.ID, n.DisputeNotificationType, from, d.State)
	if d.JudgedResult != "" {
		note += ", judged " + d.JudgedResult
	}
	if d.State.Blocks() {
		note += "; refunds wait until it is judged"
	}
	r.event(p, typ, reason, "%s", note)
}

// findPayments finds the Payments a gateway payment id or payment request
// id names and keep accepts (those of the signing merchant), through the
// cache indexes and, when that finds none, an uncached list.
func (r *Receiver) findPayments(ctx context.Context, paymentID, paymentRequestID string, keep func(*v1.Payment) (bool, error)) ([]v1.Payment, error) {
	filter := func(items []v1.Payment) ([]v1.Payment, error) {
		seen := map[types.UID]bool{}
		return pick(items, func(p *v1.Payment) bool {
			if seen[p.UID] || !matchesPayment(p, r.scope(ctx, p.Spec.GatewayRef.Name), paymentID, paymentRequestID) {
				return false
			}
			seen[p.UID] = true
			return true
		}, keep)
	}
	var cached []v1.Payment
	for _, ix := range []struct{ field, value string }{{IndexPaymentID, paymentID}, {IndexPaymentRequestID, paymentRequestID}} {
		if ix.value == "" {
			continue
		}
		var list v1.PaymentList
		if err := r.opts.Client.List(ctx, &list, client.MatchingFields{ix.field: ix.value}); err != nil {
			return nil, fmt.Errorf("list Payments by %s: %w", ix.field, err)
		}
		cached = append(cached, list.Items...)
	}
	if out, err := filter(cached); err != nil || len(out) > 0 {
		return out, err
	}
	all, err := listUncached(ctx, r, "Payments", func(l *v1.PaymentList) []v1.Payment { return l.Items })
	if err != nil {
		return nil, err
	}
	return filter(all)
}

// pick returns the items that match and that keep accepts; an error of
// keep ends it.
func pick[T any](items []T, match func(*T) bool, keep func(*T) (bool, error)) ([]T, error) {
	var out []T
	for i := range items {
		it := &items[i]
		if !match(it) {
			continue
		}
		ok, err := keep(it)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, *it)
		}
	}
	return out, nil
}

// listUncached lists the objects of a kind (what: "Payments") in every
// served namespace, or in all when none is configured, uncached.
func listUncached[L any, PL interface {
	*L
	client.ObjectList
}, T any](ctx context.Context, r *Receiver, what string, items func(PL) []T) ([]T, error) {
	namespaces := r.opts.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{""}
	}
	var all []T
	for _, ns := range namespaces {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		list := PL(new(L))
		var opts []client.ListOption
		if ns != "" {
			opts = append(opts, client.InNamespace(ns))
		}
		if err := r.opts.APIReader.List(ctx, list, opts...); err != nil {
			return nil, fmt.Errorf("list %s: %w", what, err)
		}
		all = append(all, items(list)...)
	}
	return all, nil
}

// ---- operations ------------------------------------------------------------------

// applyOperation applies operation facts to a Capture or Refund.
func applyOperation[T v1.PaymentOperation](ctx context.Context, r *Receiver, v *verified, obj T,
	newObj func() T, facts transition.OperationFacts) answer {
	kind := kindOf(obj)
	status := func(o T) any { return o.GetOperationStatus() }
	cur, ch, wrote, a := applyStatus(ctx, r, v, obj, newObj, status, func(o T) (transition.Change, error) {
		st := o.GetOperationStatus()
		ch, err := transition.ApplyOperation(st, o.GetAmount(), facts, r.opts.Now())
		if err == nil {
			transition.SetOperationConditions(st, o.GetGeneration(), strings.ToLower(kind))
		}
		return ch, err
	})
	if wrote {
		r.transitionEvent(cur, kind, ch, v.kind)
	}
	return a
}

// toRefund applies a notifyRefund to rf.
func (r *Receiver) toRefund(ctx context.Context, v *verified, rf *v1.Refund) answer {
	n, ok := v.body.(*gateway.NotifyRefund)
	if !ok {
		return refuse(v.kind, ReasonRouteKind, nil)
	}
	key := paymentKey(rf)
	p, found, err := r.paymentOf(ctx, rf)
	if err != nil {
		return unavailable(v.kind, fmt.Errorf("get Payment %s of %s: %w", key, describe(rf), err))
	}
	if !found {
		// Without its Payment the refund's merchant connection is unknown,
		// so the notification cannot be authorized: the payment was deleted
		// (deleting never moves money), or archived and restored on request.
		return r.unknown(ctx, v, routeObject(v1.RestoreKindPayment, key), fmt.Sprintf("%s (its Payment %s does not exist)", describe(rf), key.Name))
	}
	if a := r.authorize(ctx, v, p, rf); a != nil {
		return *a
	}
	return r.applyRefund(ctx, v, rf, p, n)
}

// applyRefund applies a notifyRefund to rf (already authorized) of payment p.
// notifyRefund carries no paymentId; the refund's payment supplies it, so a
// refund that a notification finishes before the refund controller wrote
// its status still counts in the payment's totals.
func (r *Receiver) applyRefund(ctx context.Context, v *verified, rf *v1.Refund, p *v1.Payment, n *gateway.NotifyRefund) answer {
	if want := ids.Refund(rf, r.scope(ctx, p.Spec.GatewayRef.Name)); n.RefundRequestID != want {
		return r.mismatch(v, rf, fmt.Errorf("%w: refundRequestId %s, the refund is %s", transition.ErrMismatch, n.RefundRequestID, want))
	}
	return applyOperation(ctx, r, v, rf, newRefund, refundFacts(n, p))
}

// paymentOf reads the Payment op belongs to.
func (r *Receiver) paymentOf(ctx context.Context, op v1.PaymentOperation) (*v1.Payment, bool, error) {
	return get(ctx, r, paymentKey(op), newPayment)
}

func paymentKey(op v1.PaymentOperation) client.ObjectKey {
	return client.ObjectKey{Namespace: op.GetNamespace(), Name: op.GetPaymentRef()}
}

// refundScope is the identity scope of rf's payment's GatewayConfig.
func (r *Receiver) refundScope(ctx context.Context, rf *v1.Refund) string {
	p, found, err := r.paymentOf(ctx, rf)
	if err != nil || !found {
		return ""
	}
	return r.scope(ctx, p.Spec.GatewayRef.Name)
}

func refundFacts(n *gateway.NotifyRefund, p *v1.Payment) transition.OperationFacts {
	f := transition.FromNotifyRefund(n)
	f.PaymentID = p.Status.PaymentID
	return f
}

// findRefunds finds the Refunds whose refundRequestId is id and keep
// accepts, through the cache index and, when that finds none, an uncached
// list.
func (r *Receiver) findRefunds(ctx context.Context, id string, keep func(*v1.Refund) (bool, error)) ([]v1.Refund, error) {
	filter := func(items []v1.Refund) ([]v1.Refund, error) {
		return pick(items, func(rf *v1.Refund) bool {
			return rf.Status.RequestID == id || ids.Refund(rf, r.refundScope(ctx, rf)) == id
		}, keep)
	}
	var list v1.RefundList
	if err := r.opts.Client.List(ctx, &list, client.MatchingFields{IndexRefundRequestID: id}); err != nil {
		return nil, fmt.Errorf("list Refunds by refundRequestId: %w", err)
	}
	if out, err := filter(list.Items); err != nil || len(out) > 0 {
		return out, err
	}
	all, err := listUncached(ctx, r, "Refunds", func(l *v1.RefundList) []v1.Refund { return l.Items })
	if err != nil {
		return nil, err
	}
	return filter(all)
}
