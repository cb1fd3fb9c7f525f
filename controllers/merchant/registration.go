// Package merchant owns MerchantRegistration: a secondary merchant
// registered with the gateway from its manifest, and its review per payment
// method followed by inquiry and notification. The adapter runs on the
// engine: Observe asks inquiryRegistrationStatus about the current request
// id, Create sends registration. A changed spec is a new request (its id
// is derived from the manifest and the registered details), the old result
// kept in status.previous. Deleting a MerchantRegistration never
// unregisters anything at the gateway.
//
// Payments read MerchantRegistrations (controllers/payment) to decide
// whether they may be paid; this package never touches a Payment.
package merchant

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// registrationKind is the MerchantRegistration adapter for the engine.
type registrationKind struct {
	deps *shared.Deps
}

var _ engine.Kind[*v1.MerchantRegistration] = registrationKind{}

func (registrationKind) Name() string                          { return ids.KindNameRegistration }
func (registrationKind) New() *v1.MerchantRegistration         { return &v1.MerchantRegistration{} }
func (registrationKind) Status(m *v1.MerchantRegistration) any { return &m.Status }
func (registrationKind) Conditions(m *v1.MerchantRegistration) *[]metav1.Condition {
	return &m.Status.Conditions
}
func (registrationKind) WantsCancel(*v1.MerchantRegistration) bool        { return false }
func (registrationKind) NeedsFinalizer(*v1.MerchantRegistration) bool     { return false }
func (registrationKind) Wait(*v1.MerchantRegistration, *engine.WaitError) {}

// Final: the current request is the spec's and its review has ended. A
// changed spec is not final: it is registered again.
func (registrationKind) Final(m *v1.MerchantRegistration) bool {
	return transition.RegistrationFinal(m.Status.Phase) && m.Status.Digest == ids.RegistrationDigest(&m.Spec)
}

// Submitted: the gateway has answered for the current request (accepted
// it, or reported on it). A request whose registration call went
// unanswered is looked up first, and adopted if the gateway has it.
func (registrationKind) Submitted(m *v1.MerchantRegistration) bool {
	return m.Status.RegistrationRequestID != "" && m.Status.Phase != "" && m.Status.Phase != v1.RegistrationSubmitting
}

// Fail records that the current request can never be registered.
func (k registrationKind) Fail(m *v1.MerchantRegistration, reason, message string) error {
	_, err := transition.RefuseRegistration(m, reason, message, k.deps.Time())
	return err
}

func (registrationKind) SetConditions(m *v1.MerchantRegistration, err error) {
	transition.SetRegistrationConditions(m)
	var wait *engine.WaitError
	if errors.As(err, &wait) && !transition.RegistrationFinal(m.Status.Phase) {
		transition.SetWaiting(&m.Status.Conditions, m.Generation, wait.Reason, wait.Message)
	}
	transition.SetSynced(&m.Status.Conditions, m.Generation, err, shared.ReasonOf(err))
}

// Connect resolves the GatewayConfig's connection and makes the request
// for the spec as it stands the current one (a status change only; the
// previous request and its result move to status.previous).
func (k registrationKind) Connect(ctx context.Context, m *v1.MerchantRegistration) (engine.External[*v1.MerchantRegistration], error) {
	conn, err := shared.GatewayConnection(ctx, k.deps, m.Spec.GatewayRef.Name)
	if err != nil {
		return nil, err
	}
	digest := ids.RegistrationDigest(&m.Spec)
	id := ids.Registration(m, conn.Config.Spec.IdentityScope)
	transition.BeginRegistration(m, id, digest)
	return &registrationExternal{deps: k.deps, conn: conn}, nil
}

// registrationExternal acts on one MerchantRegistration at the gateway.
type registrationExternal struct {
	deps *shared.Deps
	conn *connection.Connection
}

func (e *registrationExternal) Update(context.Context, *v1.MerchantRegistration) (engine.Result, error) {
	return engine.Result{}, nil // a changed spec is a new request, never an update
}

func (e *registrationExternal) Cancel(context.Context, *v1.MerchantRegistration) (engine.Result, error) {
	return engine.Result{}, nil // nothing is unregistered
}

// Observe asks the gateway about the current request (and about the
// previous one while its review lasts) and applies what it says.
func (e *registrationExternal) Observe(ctx context.Context, m *v1.MerchantRegistration) (engine.Observation, error) {
	if prev := m.Status.Previous; prev != nil && !transition.RegistrationFinal(prev.Phase) {
		if _, _, err := e.inquire(ctx, m, prev.RegistrationRequestID); err != nil {
			return engine.Observation{}, err
		}
	}
	from := m.Status.Phase
	found, ch, err := e.inquire(ctx, m, m.Status.RegistrationRequestID)
	if err != nil || !found {
		return engine.Observation{}, err
	}
	obs := engine.Observation{Exists: true, Result: engine.Result{Change: ch, RequeueAfter: e.poll(m)}}
	if from == v1.RegistrationSubmitting || from == "" {
		obs.Adopted = fmt.Sprintf("registrationRequestId %s is %s", m.Status.RegistrationRequestID, m.Status.Phase)
	}
	return obs, nil
}

// inquire applies inquiryRegistrationStatus for request id; found is false
// when the gateway has no such request.
func (e *registrationExternal) inquire(ctx context.Context, m *v1.MerchantRegistration, id string) (bool, transition.Change, error) {
	resp, err := e.conn.Client.InquiryRegistrationStatus(ctx, &gateway.InquiryRegistrationStatusRequest{RegistrationRequestID: id})
	if unknownRegistration(resp, err) {
		return false, transition.Change{}, nil
	}
	if err != nil {
		return false, transition.Change{}, shared.CredentialsError(e.conn, fmt.Errorf("inquire registration %s: %w", id, err))
	}
	ch, err := transition.ApplyRegistration(m, transition.FromInquiryRegistrationStatus(id, resp), e.deps.Time())
	return true, ch, err
}

// unknownRegistration reports whether an inquiry's answer says the gateway
// holds no such request. The docs give no code for it: REGISTRATION_NOT_EXIST
// (what alipay-sim answers), any other final refusal that is not about the
// credentials, and an S answer that carries no result at all count as
// unknown. Taking a known request for unknown costs nothing: registration is
// idempotent on registrationRequestId, so sending it again answers with
// what the gateway holds, and moves no money.
func unknownRegistration(resp *gateway.InquiryRegistrationStatusResponse, err error) bool {
	var rerr *gateway.ResultError
	switch {
	case err == nil:
		return (resp.RegistrationResult == nil || resp.RegistrationResult.RegistrationStatus == "") && len(resp.PSPRegistrationResultList) == 0
	case gateway.Code(err) == gateway.CodeRegistrationNotExist:
		return true
	case errors.As(err, &rerr):
		return rerr.Status == gateway.StatusFail && rerr.Terminal && !shared.ProtocolRefusal(err)
	}
	return false
}

// poll is when to ask again: while the review lasts, at the operations'
// cadence (the notification usually comes first); never once it ended.
func (e *registrationExternal) poll(m *v1.MerchantRegistration) time.Duration {
	if transition.RegistrationFinal(m.Status.Phase) {
		return 0
	}
	return engine.Jittered(shared.ClampMin(e.deps.Cadence.OperationPoll, time.Second))
}

// Create sends the registration call for the current request.
func (e *registrationExternal) Create(ctx context.Context, m *v1.MerchantRegistration) (engine.Result, error) {
	from := m.Status.Phase
	id := m.Status.RegistrationRequestID
	notify := ids.NotifyURL(e.conn.Config.Spec.NotificationBaseURL, ids.KindRegistration, m.Namespace, m.Name)
	resp, err := e.conn.Client.Registration(ctx, registrationRequest(m, id, notify))
	now := e.deps.Time()
	var rerr *gateway.ResultError
	switch {
	case err == nil:
		ch, aerr := transition.AcceptRegistration(m, resp.Result, transition.SourceRegistration, now)
		ch.From = from
		return engine.Result{Change: ch, RequeueAfter: e.poll(m)}, aerr
	case gateway.Code(err) == gateway.CodeRepeatRegistration:
		return engine.Result{}, &engine.WaitError{Reason: v1.ReasonRegistrationInProgress, RequeueAfter: e.poll(m), Cause: err,
			Message: fmt.Sprintf("the gateway is still reviewing another registration of merchant %s; request %s is sent once that review ends",
				m.Spec.ReferenceMerchantID, id)}
	case gateway.Code(err) == gateway.CodeRepeatReqInconsistent:
		return engine.Result{}, &engine.TerminalError{Reason: v1.ReasonIdentityConflict, Cause: err, Message: fmt.Sprintf(
			"registrationRequestId %s was used before with other details (the gateway: %s); nothing was registered", id, resultMessage(err))}
	case errors.As(err, &rerr) && rerr.Status == gateway.StatusFail && rerr.Terminal && !shared.ProtocolRefusal(err):
		// Refused for the details (PARAM_ILLEGAL, ...): this request is
		// rejected; a fixed spec is a new request.
		r := gateway.Result{ResultCode: rerr.Code, ResultStatus: rerr.Status, ResultMessage: rerr.Message}
		ch, aerr := transition.ApplyRegistration(m, transition.RegistrationFacts{Source: transition.SourceRegistration, RequestID: id,
			Status: gateway.RegistrationRejected, RejectReasons: rerr.Message, Result: &r}, now)
		return engine.Result{Change: ch}, aerr
	case errors.Is(err, gateway.ErrInvalidRequest):
		return engine.Result{}, &engine.TerminalError{Reason: v1.ReasonInvalidSpec, Message: err.Error(), Cause: err}
	}
	// Unknown, or refused for the credentials: the same id is looked up
	// (and sent again) on the next reconcile.
	err = fmt.Errorf("register merchant %s: %w", m.Spec.ReferenceMerchantID, err)
	if shared.ProtocolRefusal(err) {
		return engine.Result{}, &engine.WaitError{Reason: v1.ReasonCredentialsRejected, RequeueAfter: shared.CredentialsWait, Cause: err,
			Message: fmt.Sprintf("the gateway refused the call for GatewayConfig %s (%v); nothing was registered; it is sent again with the same id",
				e.conn.Config.Name, err)}
	}
	return engine.Result{}, err
}

func resultMessage(err error) string {
	var rerr *gateway.ResultError
	if errors.As(err, &rerr) && rerr.Message != "" {
		return rerr.Message
	}
	return err.Error()
}
