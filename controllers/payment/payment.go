package payment

import (
	"context"
	"errors"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/money"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// paymentKind is the Payment adapter for the engine.
type paymentKind struct {
	deps *shared.Deps
}

var _ engine.Kind[*v1.Payment] = paymentKind{}
var _ engine.Deriver[*v1.Payment] = paymentKind{}
var _ engine.CreateObserver[*v1.Payment] = (*paymentExternal)(nil)

func (paymentKind) Name() string                                 { return "Payment" }
func (paymentKind) New() *v1.Payment                             { return &v1.Payment{} }
func (paymentKind) Status(p *v1.Payment) any                     { return &p.Status }
func (paymentKind) Conditions(p *v1.Payment) *[]metav1.Condition { return &p.Status.Conditions }
func (paymentKind) Final(p *v1.Payment) bool                     { return p.Status.Phase.IsFinal() }
func (paymentKind) Wait(*v1.Payment, *engine.WaitError)          {}

func observeOnly(p *v1.Payment) bool { return p.Spec.ManagementPolicy == v1.ManagementObserve }

// Submitted: a pay call was sent (its request id is recorded before the
// call; its outcome may be unknown), or the gateway has answered one; for
// Observe there is nothing to create.
func (paymentKind) Submitted(p *v1.Payment) bool {
	return paymentSubmitted(p)
}

func paymentSubmitted(p *v1.Payment) bool {
	return observeOnly(p) || p.Status.PaymentRequestID != "" || p.Status.PaymentID != "" ||
		(p.Status.Phase != "" && p.Status.Phase != v1.PaymentPending)
}

// WantsCancel: spec.cancel is set, the payment can still be cancelled, and
// the gateway has not already refused this cancel.
func (paymentKind) WantsCancel(p *v1.Payment) bool {
	if !p.Spec.Cancel || observeOnly(p) {
		return false
	}
	switch p.Status.Phase {
	case v1.PaymentCancelled, v1.PaymentFailed, v1.PaymentExpired:
		return false
	}
	return !cancelRefused(p)
}

func cancelRefused(p *v1.Payment) bool {
	r := p.Status.LastResult
	return r != nil && r.API == string(transition.SourceCancel) && r.Status == gateway.StatusFail
}

func (paymentKind) NeedsFinalizer(p *v1.Payment) bool {
	return p.Spec.DeletionPolicy == v1.DeletionCancel && !observeOnly(p)
}

func (k paymentKind) Fail(p *v1.Payment, reason, message string) error {
	res := gateway.Result{ResultCode: reason, ResultStatus: gateway.StatusFail, ResultMessage: message}
	_, err := transition.ApplyPayment(p, transition.PaymentFacts{Source: transition.SourceController,
		GatewayStatus: gateway.PaymentStatusFail, Result: &res}, k.deps.Time())
	return err
}

func (paymentKind) SetConditions(p *v1.Payment, err error) {
	p.Status.ObservedGeneration = p.Generation
	transition.SetPaymentConditions(p)
	var wait *engine.WaitError
	if errors.As(err, &wait) && (p.Status.Phase == "" || p.Status.Phase == v1.PaymentPending) {
		transition.SetWaiting(&p.Status.Conditions, p.Generation, wait.Reason, wait.Message)
	}
	if wait != nil && wait.Blocked {
		transition.SetPaymentBlocked(p, true, wait.Reason, wait.Message)
	} else {
		transition.SetPaymentBlocked(p, false, "", "")
	}
	reason := shared.ReasonOf(err)
	if err == nil && cancelRefused(p) && p.Spec.Cancel {
		r := p.Status.LastResult
		err, reason = fmt.Errorf("the gateway refused the cancel: %s %s", r.Code, r.Message), v1.ReasonCancelRefused
	}
	transition.SetSynced(&p.Status.Conditions, p.Generation, err, reason)
}

// Derive raises the payment's totals to what its Capture, Refund and
// CustomsDeclaration objects report as succeeded. No gateway call.
func (k paymentKind) Derive(ctx context.Context, p *v1.Payment) error {
	if p.Status.PaymentID == "" {
		return nil
	}
	f := transition.PaymentFacts{Source: transition.SourceController}
	var caps v1.CaptureList
	if err := k.deps.Client.List(ctx, &caps, client.InNamespace(p.Namespace), client.MatchingFields{shared.IndexPaymentRef: p.Name}); err != nil {
		return fmt.Errorf("list captures: %w", err)
	}
	var refs v1.RefundList
	if err := k.deps.Client.List(ctx, &refs, client.InNamespace(p.Namespace), client.MatchingFields{shared.IndexPaymentRef: p.Name}); err != nil {
		return fmt.Errorf("list refunds: %w", err)
	}
	var decls v1.CustomsDeclarationList
	if err := k.deps.Client.List(ctx, &decls, client.InNamespace(p.Namespace), client.MatchingFields{shared.IndexPaymentRef: p.Name}); err != nil {
		return fmt.Errorf("list declarations: %w", err)
	}
	var capAmts, refAmts, declAmts []v1.Money
	for _, c := range caps.Items {
		if c.Status.Phase == v1.OperationSucceeded && c.Status.PaymentID == p.Status.PaymentID {
			capAmts = append(capAmts, c.Spec.Amount)
		}
		if r := c.Status.LastResult; r != nil && (r.Code == gateway.CodeAuthExpired || r.Code == v1.ReasonAuthorizationExpired) &&
			c.Status.PaymentID == p.Status.PaymentID {
			// The gateway refused a capture: its authorization lapsed.
			f.AuthLapsed = true
			f.Result = &gateway.Result{ResultCode: r.Code, ResultStatus: gateway.StatusFail,
				ResultMessage: "capture " + c.Name + " was refused: " + r.Message}
		}
	}
	for _, r := range refs.Items {
		if r.Status.Phase == v1.OperationSucceeded && r.Status.PaymentID == p.Status.PaymentID {
			refAmts = append(refAmts, r.Spec.Amount)
		}
	}
	for _, d := range decls.Items {
		if d.Status.Phase == v1.OperationSucceeded && d.Status.PaymentID == p.Status.PaymentID {
			declAmts = append(declAmts, d.Spec.Amount)
		}
	}
	var err error
	if f.Captured, err = wireSum(capAmts); err != nil {
		return err
	}
	if f.Refunded, err = wireSum(refAmts); err != nil {
		return err
	}
	if f.Declared, err = wireSum(declAmts); err != nil {
		return err
	}
	if f.Captured == nil && f.Refunded == nil && f.Declared == nil && !f.AuthLapsed {
		return nil
	}
	if p.Status.Phase == v1.PaymentAuthorized && f.Captured != nil {
		// Captures only succeed on a live authorization; let the transition
		// decide whether the authorization is now fully captured.
		f.GatewayStatus = gateway.PaymentStatusSuccess
	}
	if _, err := transition.ApplyPayment(p, f, k.deps.Time()); err != nil {
		return fmt.Errorf("apply totals: %w", err)
	}
	return nil
}

// wireSum totals amounts into a wire amount; nil for none.
func wireSum(ms []v1.Money) (*gateway.Amount, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	total, err := money.Zero(ms[0].Currency)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		a, err := m.Amount()
		if err != nil {
			return nil, err
		}
		if total, err = total.Add(a); err != nil {
			return nil, err
		}
	}
	return &gateway.Amount{Currency: total.Currency(), Value: total.MinorString()}, nil
}

// Connect resolves the merchant connection, parses the amount and, for a
// payment that names a secondary merchant, reads its registration (and
// holds back a payment the merchant is not approved for).
func (k paymentKind) Connect(ctx context.Context, p *v1.Payment) (engine.External[*v1.Payment], error) {
	conn, err := shared.GatewayConnection(ctx, k.deps, p.Spec.GatewayRef.Name)
	if err != nil {
		return nil, err
	}
	amount, err := p.Spec.Amount.Amount()
	if err != nil {
		return nil, &engine.TerminalError{Reason: v1.ReasonInvalidAmount, Message: "spec.amount: " + err.Error(), Cause: err}
	}
	m, err := k.secondaryMerchant(ctx, p)
	if err != nil {
		return nil, err
	}
	return &paymentExternal{deps: k.deps, conn: conn, amount: amount, merchant: m}, nil
}

// checkNew checks a payment about to be created against what only the
// operator can check (per-method minimums, methods the GatewayConfig's
// consult profiles offer). It runs after the gateway said it does not know
// the payment, or, for a payment paid without asking first, asks it when
// the check fails (unpayable): one it already has is adopted, never failed
// for these.
func (e *paymentExternal) checkNew(ctx context.Context, p *v1.Payment) error {
	if err := money.CheckMethodRules(p.Spec.PaymentMethod.Type, e.amount); err != nil {
		return &engine.TerminalError{Reason: v1.ReasonInvalidAmount, Message: "spec.amount: " + err.Error()}
	}
	var gwc v1.GatewayConfig
	if err := e.deps.Client.Get(ctx, types.NamespacedName{Name: p.Spec.GatewayRef.Name}, &gwc); err == nil {
		if msg := notOffered(&gwc, p); msg != "" {
			return &engine.TerminalError{Reason: v1.ReasonMethodNotOffered, Message: msg}
		}
	}
	return nil
}

// notOffered checks the payment method against the consult results of every
// profile that matches the payment (terminal type and currency); "" when offered
// or when no profile matches.
func notOffered(gwc *v1.GatewayConfig, p *v1.Payment) string {
	for _, prof := range gwc.Spec.ConsultProfiles {
		if prof.TerminalType != p.Spec.Env.TerminalType || prof.Amount.Currency != p.Spec.Amount.Currency {
			continue
		}
		for _, res := range gwc.Status.PaymentMethods {
			if res.Profile != prof.Name || res.Error != "" || res.ConsultTime == nil {
				continue
			}
			var offered []string
			for _, m := range res.Methods {
				if m.Enabled {
					offered = append(offered, m.Type)
				}
				if m.Type == p.Spec.PaymentMethod.Type && m.Enabled {
					return ""
				}
			}
			return fmt.Sprintf("payment method %s is not offered to this merchant for %s %s payments (consult profile %q offers: %s)",
				p.Spec.PaymentMethod.Type, prof.TerminalType, prof.Amount.Currency, prof.Name, strings.Join(offered, ", "))
		}
	}
	return ""
}
