package dispute

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// DefaultAlertWindow is how long before a defense deadline an
// unanswered Dispute raises DefenseDue.
const DefaultAlertWindow = 72 * time.Hour

// Evidence ConfigMap keys.
const (
	EvidenceTemplateKey = "template.pdf"
	evidenceKeyPrefix   = "evidence."
)

// disputeReconciler keeps what a person needs next to each Dispute: the
// gateway's evidence template in a ConfigMap, the supplied document read
// back into another, and the DefenseDue condition, event and metric while
// an answer is due soon and none exists. The Dispute's gateway facts come
// from notifications (receiver) and answers (DisputeResponse); this
// reconciler makes no call that changes anything at the gateway, so it is a
// plain reconciler rather than an engine adapter.
type disputeReconciler struct {
	deps   *shared.Deps
	rec    recorder.EventRecorder
	window time.Duration
}

func (r *disputeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var d v1.Dispute
	if err := r.deps.Client.Get(ctx, req.NamespacedName, &d); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := d.Status.DeepCopy()
	docErr := r.documents(ctx, &d)
	transition.SetDisputeConditions(&d)
	due, requeue, err := r.defenseDue(ctx, &d)
	if err != nil {
		return ctrl.Result{}, err
	}
	wasDue := meta.IsStatusConditionTrue(before.Conditions, v1.ConditionDefenseDue)
	transition.SetDefenseDue(&d, due)
	if !equality.Semantic.DeepEqual(before, &d.Status) {
		if err := r.deps.Client.Status().Update(ctx, &d); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	if due.Status == metav1.ConditionTrue && !wasDue {
		r.rec.Eventf(&d, nil, corev1.EventTypeWarning, "DefenseDue", "Alert", "%s", due.Message)
	}
	if docErr != nil {
		return ctrl.Result{}, docErr
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// defenseDue computes the DefenseDue condition and when to look again.
func (r *disputeReconciler) defenseDue(ctx context.Context, d *v1.Dispute) (metav1.Condition, time.Duration, error) {
	c := metav1.Condition{Type: v1.ConditionDefenseDue, Status: metav1.ConditionFalse, ObservedGeneration: d.Generation}
	st := d.Status
	if st.Phase != v1.DisputePhaseOpen || st.DefenseDueTime == nil {
		c.Reason, c.Message = v1.ReasonAnswered, "no answer is due"
		if st.Response != "" {
			c.Message = "answered by DisputeResponse " + st.Response
		}
		return c, 0, nil
	}
	answered, err := r.hasResponse(ctx, d)
	if err != nil {
		return c, 0, err
	}
	if answered != "" {
		c.Reason, c.Message = v1.ReasonAnswered, "DisputeResponse "+answered+" answers it"
		return c, 0, nil
	}
	now := r.deps.Time()
	due := st.DefenseDueTime.Time
	left := due.Sub(now)
	switch {
	case left <= 0:
		c.Status, c.Reason = metav1.ConditionTrue, v1.ReasonDeadlinePassed
		c.Message = fmt.Sprintf("the defense of dispute %s (%s %s) was due at %s and no DisputeResponse answered it: the gateway accepts it by timeout",
			st.PaymentID, amountText(st.Amount), st.ReasonCode, fmtDue(st.DefenseDueTime))
		return c, 0, nil
	case left <= r.window:
		c.Status, c.Reason = metav1.ConditionTrue, v1.ReasonDefenseDueSoon
		c.Message = fmt.Sprintf("the defense of chargeback %s on payment %s (%s, reason %s) is due at %s, in %s; create a DisputeResponse (Accept, or Defend with evidence)",
			d.Spec.DisputeID, d.Spec.PaymentRef.Name, amountText(st.Amount), st.ReasonCode, fmtDue(st.DefenseDueTime), left.Round(time.Minute))
		return c, left + time.Second, nil
	}
	c.Reason, c.Message = v1.ReasonNotDue, fmt.Sprintf("the defense is due at %s; the alert starts %s before", fmtDue(st.DefenseDueTime), r.window)
	return c, left - r.window + time.Second, nil
}

func amountText(m *v1.Money) string {
	if m == nil {
		return "amount unknown"
	}
	return m.Currency + " " + m.Value
}

// hasResponse names a DisputeResponse that answers d and has not failed.
func (r *disputeReconciler) hasResponse(ctx context.Context, d *v1.Dispute) (string, error) {
	var list v1.DisputeResponseList
	if err := r.deps.Client.List(ctx, &list, client.InNamespace(d.Namespace), client.MatchingFields{shared.IndexDisputeRef: d.Name}); err != nil {
		return "", fmt.Errorf("list responses of dispute %s: %w", d.Name, err)
	}
	for _, resp := range list.Items {
		if resp.Status.Phase != v1.OperationFailed {
			return resp.Name, nil
		}
	}
	return "", nil
}

// documents downloads the evidence template once, and the supplied
// document once the dispute is defended.
func (r *disputeReconciler) documents(ctx context.Context, d *v1.Dispute) error {
	st := &d.Status
	wantTemplate := st.EvidenceTemplate == "" && !st.Phase.IsFinal()
	wantFile := st.SuppliedEvidence == "" && (st.Phase == v1.DisputePhaseDefended ||
		((st.Phase == v1.DisputePhaseWon || st.Phase == v1.DisputePhaseLost) && st.Response != ""))
	if !wantTemplate && !wantFile {
		return nil
	}
	conn, err := r.connection(ctx, d)
	if err != nil || conn == nil {
		return err
	}
	if wantTemplate {
		name, err := r.download(ctx, conn, d, gateway.EvidenceTemplate, "-evidence-template")
		if err != nil {
			return err
		}
		st.EvidenceTemplate = name
	}
	if wantFile {
		name, err := r.download(ctx, conn, d, gateway.EvidenceFile, "-evidence-supplied")
		if err != nil {
			return err
		}
		st.SuppliedEvidence = name
	}
	return nil
}

func (r *disputeReconciler) connection(ctx context.Context, d *v1.Dispute) (*connection.Connection, error) {
	var p v1.Payment
	if err := r.deps.Client.Get(ctx, types.NamespacedName{Namespace: d.Namespace, Name: d.Spec.PaymentRef.Name}, &p); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	conn, err := r.deps.Registry.Get(ctx, p.Spec.GatewayRef.Name)
	if errors.Is(err, connection.ErrNotReady) {
		return nil, nil // the GatewayConfig controller reports it; look again later
	}
	return conn, err
}

// download stores one evidence document in a ConfigMap owned by d.
func (r *disputeReconciler) download(ctx context.Context, conn *connection.Connection, d *v1.Dispute, typ, suffix string) (string, error) {
	resp, err := conn.Client.DownloadDisputeEvidence(ctx, &gateway.DownloadDisputeEvidenceRequest{DisputeID: d.Spec.DisputeID, DisputeEvidenceType: typ})
	if err != nil {
		return "", fmt.Errorf("downloadDisputeEvidence %s of dispute %s: %w", typ, d.Name, err)
	}
	doc, err := base64.StdEncoding.DecodeString(resp.DisputeEvidence)
	if err != nil {
		return "", fmt.Errorf("downloadDisputeEvidence %s of dispute %s: not Base64: %w", typ, d.Name, err)
	}
	key := EvidenceTemplateKey
	if typ == gateway.EvidenceFile {
		key = evidenceKeyPrefix + strings.ToLower(resp.DisputeEvidenceFormat)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: evidenceConfigMapName(d.Name, suffix), Namespace: d.Namespace,
		Labels: map[string]string{v1.LabelPayment: v1.PaymentLabelValue(d.Spec.PaymentRef.Name), v1.LabelDisputeID: d.Labels[v1.LabelDisputeID]}},
		BinaryData: map[string][]byte{key: doc}}
	if err := controllerutil.SetControllerReference(d, cm, r.deps.Client.Scheme()); err != nil {
		return "", err
	}
	// Read uncached: the operator keeps no cache of every ConfigMap.
	var old corev1.ConfigMap
	switch err := r.deps.APIReader.Get(ctx, client.ObjectKeyFromObject(cm), &old); {
	case apierrors.IsNotFound(err):
		err = r.deps.Client.Create(ctx, cm)
		if err != nil {
			return "", fmt.Errorf("store %s of dispute %s: %w", typ, d.Name, err)
		}
	case err != nil:
		return "", fmt.Errorf("read ConfigMap %s: %w", cm.Name, err)
	default:
		old.BinaryData, old.Labels, old.OwnerReferences = cm.BinaryData, cm.Labels, cm.OwnerReferences
		if err := r.deps.Client.Update(ctx, &old); err != nil {
			return "", fmt.Errorf("store %s of dispute %s: %w", typ, d.Name, err)
		}
	}
	return cm.Name, nil
}

// evidenceConfigMapName fits "<dispute><suffix>" into 253 characters.
func evidenceConfigMapName(dispute, suffix string) string {
	if len(dispute)+len(suffix) > 253 {
		dispute = dispute[:253-len(suffix)]
	}
	return dispute + suffix
}

// paymentDisputeReconciler makes sure every chargeback a Payment's status
// shows (status.dispute, written by the receiver) is also a Dispute object:
// for chargebacks recorded before Dispute objects existed, or whose Dispute
// was deleted by hand. It creates and fills; it never moves a phase back.
type paymentDisputeReconciler struct{ deps *shared.Deps }

func (r *paymentDisputeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var p v1.Payment
	if err := r.deps.Client.Get(ctx, req.NamespacedName, &p); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	pd := p.Status.Dispute
	if pd == nil || pd.ID == "" || !p.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	want := v1.NewDisputeFor(&p, pd.ID)
	var d v1.Dispute
	err := r.deps.Client.Get(ctx, client.ObjectKeyFromObject(want), &d)
	if apierrors.IsNotFound(err) {
		if err := r.deps.Client.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
			return ctrl.Result{}, fmt.Errorf("create dispute %s: %w", want.Name, err)
		}
		return ctrl.Result{RequeueAfter: shared.ConflictRetry}, nil // once the cache has it
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	before := d.Status.DeepCopy()
	if _, err := transition.ApplyDisputeNotification(&d, transition.NoteFromPaymentDispute(&p), p.Spec.Amount.Currency, r.deps.Time()); err != nil {
		return ctrl.Result{}, nil // facts that contradict the Dispute: the receiver's record wins
	}
	transition.SetDisputeConditions(&d)
	if equality.Semantic.DeepEqual(before, &d.Status) {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, client.IgnoreNotFound(r.deps.Client.Status().Update(ctx, &d))
}
