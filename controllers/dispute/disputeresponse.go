package dispute

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=disputes;disputeresponses,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=disputes/status;disputeresponses/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;update;patch

// maxEvidenceBytes keeps the Base64 document within the gateway's
// 1,000,000 characters.
const maxEvidenceBytes = gateway.MaxDisputeEvidenceChars / 4 * 3

// disputeWaitRetry is how often a response waiting for its Dispute, its
// evidence or its gateway looks again.
const disputeWaitRetry = 10 * time.Second

// disputeResponseKind plugs DisputeResponse into the engine. Its one gateway
// call (acceptDispute or supplyDefenseDocument) is keyed by the dispute id,
// which comes from the Dispute named in the manifest; a repeat of the same
// call gets the gateway's first answer, so a crash between the call and the
// status write costs nothing. Before calling, the response claims the
// Dispute (status.response, written with optimistic concurrency): only one
// response ever answers a dispute, so it is never both accepted and defended.
type disputeResponseKind struct{ deps *shared.Deps }

func (disputeResponseKind) Name() string                            { return "DisputeResponse" }
func (disputeResponseKind) New() *v1.DisputeResponse                { return &v1.DisputeResponse{} }
func (disputeResponseKind) Submitted(r *v1.DisputeResponse) bool    { return r.Status.Phase.IsFinal() }
func (disputeResponseKind) Final(r *v1.DisputeResponse) bool        { return r.Status.Phase.IsFinal() }
func (disputeResponseKind) WantsCancel(*v1.DisputeResponse) bool    { return false }
func (disputeResponseKind) NeedsFinalizer(*v1.DisputeResponse) bool { return false }
func (disputeResponseKind) Status(r *v1.DisputeResponse) any        { return &r.Status }
func (disputeResponseKind) Conditions(r *v1.DisputeResponse) *[]metav1.Condition {
	return &r.Status.Conditions
}

func (disputeResponseKind) Fail(r *v1.DisputeResponse, reason, message string) error {
	transition.MoveDisputeResponse(&r.Status, v1.OperationFailed)
	transition.SetDisputeResponseConditions(r, reason, message)
	return nil
}

func (disputeResponseKind) Wait(r *v1.DisputeResponse, w *engine.WaitError) {
	transition.MoveDisputeResponse(&r.Status, v1.OperationPending)
	transition.SetDisputeResponseConditions(r, w.Reason, w.Message)
}

func (disputeResponseKind) SetConditions(r *v1.DisputeResponse, err error) {
	if r.Status.Phase == "" {
		transition.MoveDisputeResponse(&r.Status, v1.OperationPending)
	}
	var wait *engine.WaitError
	if r.Status.Phase != v1.OperationPending || !errors.As(err, &wait) {
		ready := meta.FindStatusCondition(r.Status.Conditions, v1.ConditionReady)
		reason, msg := "", ""
		if ready != nil && r.Status.Phase == v1.OperationFailed {
			reason, msg = ready.Reason, ready.Message
		}
		transition.SetDisputeResponseConditions(r, reason, msg)
	}
	transition.SetSynced(&r.Status.Conditions, r.Generation, err, shared.ReasonOf(err))
}

// Connect finds the Dispute, its Payment and the gateway connection.
func (k disputeResponseKind) Connect(ctx context.Context, r *v1.DisputeResponse) (engine.External[*v1.DisputeResponse], error) {
	key := types.NamespacedName{Namespace: r.Namespace, Name: r.Spec.DisputeRef.Name}
	var d v1.Dispute
	if err := k.deps.Client.Get(ctx, key, &d); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &engine.WaitError{Reason: v1.ReasonDisputeNotFound, RequeueAfter: disputeWaitRetry,
				Message: fmt.Sprintf("dispute %s not found (the operator creates it when the gateway reports the chargeback)", key)}
		}
		return nil, fmt.Errorf("get dispute %s: %w", key, err)
	}
	var p v1.Payment
	pkey := types.NamespacedName{Namespace: r.Namespace, Name: d.Spec.PaymentRef.Name}
	if err := k.deps.Client.Get(ctx, pkey, &p); err != nil {
		return nil, fmt.Errorf("get payment %s of dispute %s: %w", pkey, key, err)
	}
	conn, err := shared.GatewayConnection(ctx, k.deps, p.Spec.GatewayRef.Name)
	if err != nil {
		return nil, err
	}
	return &disputeAnswer{deps: k.deps, dispute: &d, conn: conn}, nil
}

// disputeAnswer sends one response for one Dispute.
type disputeAnswer struct {
	deps    *shared.Deps
	dispute *v1.Dispute
	conn    *connection.Connection
}

// Observe has no dispute inquiry to ask; what the gateway took is on the
// Dispute (from the answer and its notification). A response the Dispute
// records as its answer, taken (Defended, Accepted, or judged after a
// defense), exists: a response re-created from git under the same name is
// adopted, never sent again. Otherwise the engine sends it (Create).
func (a *disputeAnswer) Observe(_ context.Context, r *v1.DisputeResponse) (engine.Observation, error) {
	if r.Status.Phase.IsFinal() {
		return engine.Observation{Exists: true}, nil
	}
	st := a.dispute.Status
	taken := st.Phase == v1.DisputePhaseAccepted
	if r.Spec.Action == v1.DisputeDefend {
		taken = st.Phase == v1.DisputePhaseDefended || st.Phase == v1.DisputePhaseWon || st.Phase == v1.DisputePhaseLost
	}
	if st.Response != r.Name || !taken {
		return engine.Observation{}, nil
	}
	r.Status.DisputeID = a.dispute.Spec.DisputeID
	if r.Status.ResolutionTime == nil {
		r.Status.ResolutionTime = st.ResolutionTime
	}
	ch := transition.MoveDisputeResponse(&r.Status, v1.OperationSucceeded)
	return engine.Observation{Exists: true, Result: engine.Result{Change: ch},
		Adopted: fmt.Sprintf("dispute %s is %s by this response", a.dispute.Name, st.Phase)}, nil
}

// Update has nothing to do: an answer is one call.
func (a *disputeAnswer) Update(context.Context, *v1.DisputeResponse) (engine.Result, error) {
	return engine.Result{}, nil
}

func (a *disputeAnswer) Cancel(context.Context, *v1.DisputeResponse) (engine.Result, error) {
	return engine.Result{}, nil
}

// Create refuses what cannot be answered, claims the Dispute, and sends the answer.
func (a *disputeAnswer) Create(ctx context.Context, r *v1.DisputeResponse) (engine.Result, error) {
	// The cache may not show yet that an earlier reconcile got the answer
	// (the Dispute's update re-queues this response at once): look uncached
	// so the gateway is called once per response, not once per reconcile.
	var fresh v1.DisputeResponse
	if err := a.deps.APIReader.Get(ctx, types.NamespacedName{Namespace: r.Namespace, Name: r.Name}, &fresh); err != nil {
		return engine.Result{}, fmt.Errorf("read DisputeResponse %s: %w", r.Name, err)
	}
	// Carry on from the fresh copy, so that the status write after the call
	// does not fail on a stale resourceVersion (which would cost a second,
	// idempotent, call).
	r.Status, r.ResourceVersion = fresh.Status, fresh.ResourceVersion
	if r.Status.Phase.IsFinal() {
		return engine.Result{}, nil
	}
	if err := a.refusal(r); err != nil {
		return engine.Result{}, err
	}
	var doc []byte
	if r.Spec.Action == v1.DisputeDefend {
		var err error
		if doc, err = a.evidence(ctx, r); err != nil {
			return engine.Result{}, err
		}
		sum := sha256.Sum256(doc)
		r.Status.EvidenceSHA256 = hex.EncodeToString(sum[:])
	}
	if err := a.claim(ctx, r.Name); err != nil {
		return engine.Result{}, err
	}
	id := a.dispute.Spec.DisputeID
	r.Status.DisputeID = id
	if r.Status.SubmitTime == nil {
		r.Status.SubmitTime = shared.MetaTime(a.deps.Time())
	}
	result, resolution, err := a.send(ctx, r.Spec.Action, id, doc)
	if result != nil {
		r.Status.LastResult = &v1.GatewayResult{Code: result.ResultCode, Status: result.ResultStatus, Message: result.ResultMessage,
			API: string(answerAPI(r.Spec.Action))}
	}
	if err != nil {
		return engine.Result{}, a.refused(ctx, r, err)
	}
	at, _ := gateway.ParseTime(resolution)
	if !at.IsZero() {
		r.Status.ResolutionTime = shared.MetaTime(at)
	}
	ch := transition.MoveDisputeResponse(&r.Status, v1.OperationSucceeded)
	// The answer is taken; should this write fail, the notification brings
	// the same facts to the Dispute.
	if err := a.updateDispute(ctx, func(d *v1.Dispute) { transition.ApplyDisputeAnswer(d, r.Spec.Action, r.Name, at) }); err != nil {
		logr.FromContextOrDiscard(ctx).Info("dispute status not updated; the gateway's notification will bring it", "dispute", a.dispute.Name, "error", err.Error())
	}
	return engine.Result{Change: ch}, nil
}

func answerAPI(action v1.DisputeAction) gateway.API {
	if action == v1.DisputeAccept {
		return gateway.APIAcceptDispute
	}
	return gateway.APISupplyDefenseDocument
}

// send makes the gateway call; the result is nil when none came back.
func (a *disputeAnswer) send(ctx context.Context, action v1.DisputeAction, id string, doc []byte) (*gateway.Result, string, error) {
	if action == v1.DisputeAccept {
		resp, err := a.conn.Client.AcceptDispute(ctx, &gateway.AcceptDisputeRequest{DisputeID: id})
		if resp == nil {
			return nil, "", err
		}
		return &resp.Result, resp.DisputeResolutionTime, err
	}
	resp, err := a.conn.Client.SupplyDefenseDocument(ctx, &gateway.SupplyDefenseDocumentRequest{DisputeID: id,
		DisputeEvidence: base64.StdEncoding.EncodeToString(doc)})
	if resp == nil {
		return nil, "", err
	}
	return &resp.Result, resp.DisputeResolutionTime, err
}

// refusal says why the response cannot be sent at all, judged from the
// Dispute: another response answered it, it ended, or its deadline passed.
func (a *disputeAnswer) refusal(r *v1.DisputeResponse) error {
	d := a.dispute
	st := d.Status
	if st.Response == r.Name {
		return nil // claimed by this response earlier: send the same answer again
	}
	switch {
	case st.Response != "":
		return &engine.TerminalError{Reason: v1.ReasonAlreadyAnswered, Message: fmt.Sprintf(
			"dispute %s was already answered by DisputeResponse %s; a dispute is answered once", d.Name, st.Response)}
	case st.Phase == v1.DisputePhaseExpired:
		return &engine.TerminalError{Reason: v1.ReasonDeadlinePassed, Message: fmt.Sprintf(
			"the defense of dispute %s was due at %s; the gateway accepted the chargeback by timeout", d.Name, fmtDue(st.DefenseDueTime))}
	case st.Phase.IsFinal():
		return &engine.TerminalError{Reason: v1.ReasonDisputeClosed, Message: fmt.Sprintf(
			"dispute %s has ended (%s); there is nothing left to answer", d.Name, st.Phase)}
	case st.Phase == v1.DisputePhaseDefended:
		return &engine.TerminalError{Reason: v1.ReasonAlreadyAnswered, Message: fmt.Sprintf(
			"dispute %s was already defended; a dispute is answered once", d.Name)}
	case st.DefenseDueTime != nil && !a.deps.Time().Before(st.DefenseDueTime.Time):
		return &engine.TerminalError{Reason: v1.ReasonDeadlinePassed, Message: fmt.Sprintf(
			"the defense of dispute %s was due at %s; the gateway takes no answer after it", d.Name, fmtDue(st.DefenseDueTime))}
	case st.Defendable != nil && !*st.Defendable && r.Spec.Action == v1.DisputeDefend:
		return &engine.TerminalError{Reason: v1.ReasonDisputeClosed, Message: fmt.Sprintf(
			"the gateway says dispute %s cannot be defended; accept it instead", d.Name)}
	}
	return nil
}

func fmtDue(t *metav1.Time) string {
	if t == nil {
		return "its deadline"
	}
	return t.UTC().Format(time.RFC3339)
}

// evidence reads the defense document from the Secret or ConfigMap.
func (a *disputeAnswer) evidence(ctx context.Context, r *v1.DisputeResponse) ([]byte, error) {
	src := r.Spec.Evidence
	if src == nil {
		return nil, &engine.TerminalError{Reason: v1.ReasonInvalidSpec, Message: "spec.evidence is required to Defend"}
	}
	var doc []byte
	var found bool
	var what string
	var err error
	switch {
	case src.SecretRef != nil:
		what = "Secret " + src.SecretRef.Name
		var s corev1.Secret
		err = a.deps.APIReader.Get(ctx, types.NamespacedName{Namespace: r.Namespace, Name: src.SecretRef.Name}, &s)
		doc, found = s.Data[src.Key]
	case src.ConfigMapRef != nil:
		what = "ConfigMap " + src.ConfigMapRef.Name
		var cm corev1.ConfigMap
		err = a.deps.APIReader.Get(ctx, types.NamespacedName{Namespace: r.Namespace, Name: src.ConfigMapRef.Name}, &cm)
		if doc, found = cm.BinaryData[src.Key]; !found {
			var s string
			s, found = cm.Data[src.Key]
			doc = []byte(s)
		}
	default:
		return nil, &engine.TerminalError{Reason: v1.ReasonInvalidSpec, Message: "spec.evidence needs secretRef or configMapRef"}
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil, &engine.WaitError{Reason: v1.ReasonEvidenceInvalid, RequeueAfter: disputeWaitRetry,
			Message: fmt.Sprintf("spec.evidence: %s not found in %s", what, r.Namespace)}
	case err != nil:
		return nil, fmt.Errorf("read evidence %s: %w", what, err)
	case !found || len(doc) == 0:
		return nil, &engine.WaitError{Reason: v1.ReasonEvidenceInvalid, RequeueAfter: disputeWaitRetry,
			Message: fmt.Sprintf("spec.evidence: %s has no key %q (or it is empty)", what, src.Key)}
	case len(doc) > maxEvidenceBytes:
		return nil, &engine.TerminalError{Reason: v1.ReasonEvidenceInvalid, Message: fmt.Sprintf(
			"spec.evidence: the document is %d bytes; the gateway takes at most %d", len(doc), maxEvidenceBytes)}
	}
	return doc, nil
}

// claim records on the Dispute that this response answers it. The write
// carries the Dispute's resourceVersion: of two responses racing, one wins
// and the other, on its next look, finds the dispute answered.
func (a *disputeAnswer) claim(ctx context.Context, name string) error {
	d := a.dispute
	if d.Status.Response == name {
		return nil
	}
	d.Status.Response = name
	if err := a.deps.Client.Status().Update(ctx, d); err != nil {
		return fmt.Errorf("claim dispute %s: %w", d.Name, err)
	}
	return nil
}

// refused turns a gateway error into the response's end (a definite
// refusal) or a retry (an unknown outcome). A refusal for a reason another
// response could avoid (bad evidence) releases the claim.
func (a *disputeAnswer) refused(ctx context.Context, r *v1.DisputeResponse, err error) error {
	if !gateway.IsTerminal(err) {
		return err // unknown outcome: the same call again
	}
	code := gateway.Code(err)
	reason, msg, release := v1.ReasonEvidenceInvalid, "the gateway refused the answer: "+err.Error(), true
	switch code {
	case gateway.CodeTimeExceedsLimit:
		reason, release = v1.ReasonDeadlinePassed, false
		msg = fmt.Sprintf("the defense of dispute %s is past its deadline (%s): the gateway answered %s", a.dispute.Name,
			fmtDue(a.dispute.Status.DefenseDueTime), code)
	case gateway.CodeRepeatRequest:
		reason, release = v1.ReasonAlreadyAnswered, false
		msg = fmt.Sprintf("dispute %s was already answered differently at the gateway (%s)", a.dispute.Name, code)
	case gateway.CodeNotAllowedInCurrentStatus:
		reason, release = v1.ReasonDisputeClosed, false
		msg = fmt.Sprintf("dispute %s can no longer be answered: the gateway answered %s", a.dispute.Name, code)
	}
	if release {
		err := a.updateDispute(ctx, func(d *v1.Dispute) {
			if d.Status.Response == r.Name {
				d.Status.Response = ""
			}
		})
		if err != nil {
			// Not released now: the Dispute keeps naming this response,
			// which is final, until the next write to the Dispute.
			logr.FromContextOrDiscard(ctx).Info("dispute not released from a refused response", "dispute", a.dispute.Name, "error", err.Error())
		}
	}
	return &engine.TerminalError{Reason: reason, Message: msg}
}

// updateDispute applies fn to the Dispute's status, re-reading on conflicts.
func (a *disputeAnswer) updateDispute(ctx context.Context, fn func(*v1.Dispute)) error {
	key := types.NamespacedName{Namespace: a.dispute.Namespace, Name: a.dispute.Name}
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		var d v1.Dispute
		if err := a.deps.APIReader.Get(ctx, key, &d); err != nil {
			return err
		}
		before := d.Status.DeepCopy()
		fn(&d)
		transition.SetDisputeConditions(&d)
		if equality.Semantic.DeepEqual(before, &d.Status) {
			return nil
		}
		return a.deps.Client.Status().Update(ctx, &d)
	})
}
