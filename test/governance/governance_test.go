package governance_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

// A policy with an approval threshold of 100.00 HKD, bob and the
// payments-leads group as approvers.
func thresholdPolicy() v1.MoneyPolicySpec {
	return v1.MoneyPolicySpec{
		Rules:     []v1.MoneyRule{{Kind: v1.MoneyKindRefund, Currency: "HKD", ApprovalAbove: "100.00", MaxAmount: "800.00"}},
		Approvers: v1.Subjects{Users: []string{approver}, Groups: []string{"payments-leads"}},
	}
}

// approvalOf is the Approval `kubectl cashier approve` makes for r.
func approvalOf(r *v1.Refund, requestedBy string) *v1.Approval {
	return &v1.Approval{ObjectMeta: metav1.ObjectMeta{Namespace: r.Namespace, Name: "refund-" + r.Name},
		Spec: v1.ApprovalSpec{TargetRef: v1.ApprovalTarget{Kind: v1.MoneyKindRefund, Name: r.Name}, Amount: r.Spec.Amount,
			PaymentRef: r.Spec.PaymentRef, Requester: requestedBy}}
}

func refused(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)) || !strings.Contains(err.Error(), want) {
		t.Fatalf("want a refusal at admission saying %q, got %v", want, err)
	}
}

func TestUnderTheThresholdGoesStraightThrough(t *testing.T) {
	s := newShop(t, thresholdPolicy())
	p := s.paid(t, "p", "500.00")
	r := s.refund("small", p, "50.00")
	must(t, as[requester].Create(s.ctx, r))
	succeeded(t, r)
	if a := r.Status.Audit; a == nil || a.Requester != requester || a.Policy != s.ns+"/default" || a.Approver != "" {
		t.Fatalf("audit %+v", r.Status.Audit)
	}
}

func TestAboveTheThresholdWaitsForAnApprover(t *testing.T) {
	s := newShop(t, thresholdPolicy())
	p := s.paid(t, "p", "500.00")
	r := s.refund("big", p, "250.00")
	must(t, as[requester].Create(s.ctx, r))
	msg := heldFor(t, r, v1.ReasonApprovalRequired)
	if !strings.Contains(msg, "Refund big (250.00 HKD, requested by alice) is above the approvalAbove 100.00 HKD of MoneyPolicy "+s.ns+"/default") {
		t.Fatalf("message %q", msg)
	}
	if n := s.refundsSent(); n != 0 {
		t.Fatalf("a held refund reached the gateway: %d refund calls", n)
	}
	s.event(t, r, v1.ReasonApprovalRequired)

	refused(t, as[requester].Create(s.ctx, approvalOf(r, requester)), "you cannot approve your own request")
	refused(t, as[outsider].Create(s.ctx, approvalOf(r, requester)), "eve is not an approver of MoneyPolicy "+s.ns+"/default")
	forged := approvalOf(r, requester)
	forged.Spec.Approver = approver
	refused(t, as[outsider].Create(s.ctx, forged), "spec.approver is recorded at admission from your own identity (eve)")
	if n := s.refundsSent(); n != 0 {
		t.Fatalf("refused approvals moved money: %d refund calls", n)
	}

	a := approvalOf(r, requester)
	must(t, as[approver].Create(s.ctx, a))
	if a.Spec.Approver != approver {
		t.Fatalf("the apiserver recorded approver %q", a.Spec.Approver)
	}
	succeeded(t, r)
	if au := r.Status.Audit; au == nil || au.Requester != requester || au.Approver != approver || au.Approval != a.Name ||
		au.ApprovedAt == nil || !au.ApprovedAt.Equal(&a.CreationTimestamp) {
		t.Fatalf("audit %+v", r.Status.Audit)
	}
	a.Spec.Comment = "changed my mind"
	refused(t, as[approver].Update(s.ctx, a), "an Approval is immutable")
	s.reapplied(t, r)
}

// reapplied deletes r and applies the same manifest again, as a GitOps
// tool or a restore would: still approved, it adopts what the gateway did
// and moves nothing.
func (s *shop) reapplied(t *testing.T, r *v1.Refund) {
	t.Helper()
	id := r.Status.RequestID
	must(t, k8s.Delete(s.ctx, r))
	again := s.refund(r.Name, &v1.Payment{ObjectMeta: metav1.ObjectMeta{Name: r.Spec.PaymentRef.Name}}, r.Spec.Amount.Value)
	testenv.Eventually(t, timeout, "re-create "+r.Name, func() (bool, string) {
		err := as[requester].Create(s.ctx, again)
		return err == nil, "create: " + errString(err)
	})
	succeeded(t, again)
	if e := sys.Sim.Ledger(s.m.ClientID).Request("refund", id); e.Calls != 1 || e.Operations != 1 {
		t.Fatalf("the re-applied refund moved money again: %+v", e)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestRequesterCannotBeForged(t *testing.T) {
	s := newShop(t, thresholdPolicy())
	p := s.paid(t, "p", "500.00")
	r := s.refund("forged", p, "250.00")
	r.Annotations = map[string]string{v1.RequesterAnnotation: approver}
	refused(t, as[requester].Create(s.ctx, r), "is recorded at admission from your own identity (alice); it cannot be set to bob")

	r = s.refund("mine", p, "20.00")
	must(t, as[requester].Create(s.ctx, r))
	if got := r.Annotations[v1.RequesterAnnotation]; got != requester {
		t.Fatalf("requester recorded as %q", got)
	}
	// The controller writes the object too (its finalizer), so the edit is
	// made on the latest version: a conflict is not the refusal asked for.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		latest := &v1.Refund{}
		if err := as[requester].Get(s.ctx, client.ObjectKeyFromObject(r), latest); err != nil {
			return err
		}
		latest.Annotations[v1.RequesterAnnotation] = approver
		return as[requester].Update(s.ctx, latest)
	})
	refused(t, err, "is immutable: it stays alice")
}

func TestBudgetExhaustedUntilTheNextDay(t *testing.T) {
	s := newShop(t, v1.MoneyPolicySpec{Rules: []v1.MoneyRule{{Kind: v1.MoneyKindRefund, Currency: "HKD", NamespaceBudget: "100.00"}}})
	p := s.paid(t, "p", "500.00")
	first := s.refund("first", p, "60.00")
	must(t, as[requester].Create(s.ctx, first))
	succeeded(t, first)
	second := s.refund("second", p, "60.00")
	must(t, as[requester].Create(s.ctx, second))
	msg := heldFor(t, second, v1.ReasonBudgetExhausted)
	if !strings.Contains(msg, "does not fit in the namespace budget 100.00 HKD per CalendarDay of MoneyPolicy "+s.ns+"/default: 60.00 HKD used") {
		t.Fatalf("message %q", msg)
	}
	if n := s.refundsSent(); n != 1 {
		t.Fatalf("%d refund calls, want the first one's only", n)
	}
	// The next day by the operator's clock: the budget is whole again.
	offset.Add(int64(24 * time.Hour))
	defer offset.Add(-int64(24 * time.Hour))
	succeeded(t, second)
}

// TestArchivedRefundsCountInTheBudget: a refund retention has archived and
// removed from the cluster still counts against the day's budget.
func TestArchivedRefundsCountInTheBudget(t *testing.T) {
	s := newArchivingShop(t, v1.MoneyPolicySpec{Rules: []v1.MoneyRule{{Kind: v1.MoneyKindRefund, Currency: "HKD", NamespaceBudget: "100.00"}}}, time.Second)
	p := s.paid(t, "p", "500.00")
	first := s.refund("first", p, "60.00")
	must(t, as[requester].Create(s.ctx, first))
	succeeded(t, first)
	gone(t, first, "refund first archived and deleted by retention")
	gone(t, p, "payment p archived and deleted by retention")

	q := s.paidWith(t, "q", "500.00", map[string]string{v1.RetainForAnnotation: v1.RetainKeep})
	second := s.refund("second", q, "60.00")
	must(t, as[requester].Create(s.ctx, second))
	msg := heldFor(t, second, v1.ReasonBudgetExhausted)
	if !strings.Contains(msg, "does not fit in the namespace budget 100.00 HKD per CalendarDay of MoneyPolicy "+s.ns+"/default: 60.00 HKD used") {
		t.Fatalf("message %q", msg)
	}
	if n := s.refundsSent(); n != 1 {
		t.Fatalf("%d refund calls, want the archived one's only", n)
	}
	offset.Add(int64(24 * time.Hour))
	defer offset.Add(-int64(24 * time.Hour))
	succeeded(t, second)
}

func TestTrustedApplier(t *testing.T) {
	spec := thresholdPolicy()
	spec.TrustedAppliers = v1.TrustedAppliers{Users: []string{gitops}, CountsAsApproval: true}
	s := newShop(t, spec)
	p := s.paid(t, "p", "800.00")
	r := s.refund("from-git", p, "250.00")
	must(t, as[gitops].Create(s.ctx, r))
	succeeded(t, r)
	if a := r.Status.Audit; a == nil || a.Requester != gitops || a.Approver != gitops || a.Approval != "" {
		t.Fatalf("audit %+v", r.Status.Audit)
	}

	var mp v1.MoneyPolicy
	must(t, k8s.Get(s.ctx, client.ObjectKey{Namespace: s.ns, Name: v1.MoneyPolicyName}, &mp))
	mp.Spec.TrustedAppliers.CountsAsApproval = false
	must(t, k8s.Update(s.ctx, &mp))
	r2 := s.refund("from-git-2", p, "250.00")
	must(t, as[gitops].Create(s.ctx, r2))
	heldFor(t, r2, v1.ReasonApprovalRequired)
	must(t, as[approver].Create(s.ctx, approvalOf(r2, gitops)))
	succeeded(t, r2)
}

func TestOverTheLimit(t *testing.T) {
	s := newShop(t, thresholdPolicy())
	p := s.paid(t, "p", "900.00")
	r := s.refund("huge", p, "850.00")
	must(t, as[requester].Create(s.ctx, r))
	msg := heldFor(t, r, v1.ReasonLimitExceeded)
	if !strings.Contains(msg, "is above the maxAmount 800.00 HKD of MoneyPolicy "+s.ns+"/default") {
		t.Fatalf("message %q", msg)
	}
	must(t, as[approver].Create(s.ctx, approvalOf(r, requester)))
	heldFor(t, r, v1.ReasonLimitExceeded) // an approval does not lift a limit
	if n := s.refundsSent(); n != 0 {
		t.Fatalf("%d refund calls", n)
	}
}

// event waits for the Warning Event of reason about obj.
func (s *shop) event(t *testing.T, obj client.Object, reason string) {
	t.Helper()
	testenv.Eventually(t, timeout, "a "+reason+" event", func() (bool, string) {
		var list corev1.EventList
		if err := k8s.List(s.ctx, &list, client.InNamespace(s.ns)); err != nil {
			return false, err.Error()
		}
		for _, e := range list.Items {
			if e.InvolvedObject.Name == obj.GetName() && e.Reason == reason && e.Type == corev1.EventTypeWarning {
				return true, ""
			}
		}
		return false, "no such event"
	})
}

// TestCancelOfAPaidPaymentIsGoverned: cancelling a paid payment refunds it
// in full, so it passes the Refund rule like a refund of the whole amount:
// above the threshold it waits with no cancel call until an approver
// approves it; the cancel's requester is recorded at admission.
func TestCancelOfAPaidPaymentIsGoverned(t *testing.T) {
	s := newShop(t, thresholdPolicy())
	p := s.paid(t, "p", "500.00")
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := as[requester].Get(s.ctx, client.ObjectKeyFromObject(p), p); err != nil {
			return err
		}
		p.Spec.Cancel = true
		return as[requester].Update(s.ctx, p)
	}))
	if got := p.Annotations[v1.CancelRequesterAnnotation]; got != requester {
		t.Fatalf("cancel requester recorded as %q", got)
	}
	waitFor(t, p, "payment p Blocked ApprovalRequired", func() bool {
		for _, c := range p.Status.Conditions {
			if c.Type == v1.ConditionBlocked && c.Status == metav1.ConditionTrue && c.Reason == v1.ReasonApprovalRequired {
				return strings.Contains(c.Message, "Cancel p (500.00 HKD, requested by alice) is above the approvalAbove 100.00 HKD")
			}
		}
		return false
	})
	if v, err := sys.Sim.Payment(p.Status.PaymentID); err != nil || v.Inquiry.PaymentStatus != "SUCCESS" {
		t.Fatalf("the held cancel reached the gateway: %+v %v", v.Inquiry, err)
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := as[requester].Get(s.ctx, client.ObjectKeyFromObject(p), p); err != nil {
			return err
		}
		p.Annotations[v1.CancelRequesterAnnotation] = approver
		return as[requester].Update(s.ctx, p)
	})
	refused(t, err, "cancel-requester] is immutable: it stays alice")

	a := &v1.Approval{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "cancel-p"},
		Spec: v1.ApprovalSpec{TargetRef: v1.ApprovalTarget{Kind: v1.MoneyKindCancel, Name: "p"}, Amount: p.Spec.Amount,
			PaymentRef: v1.LocalObjectReference{Name: "p"}, Requester: requester}}
	refused(t, as[requester].Create(s.ctx, a.DeepCopy()), "you cannot approve your own request")
	must(t, as[approver].Create(s.ctx, a))
	waitFor(t, p, "payment p Cancelled", func() bool { return p.Status.Phase == v1.PaymentCancelled })
	if au := p.Status.CancelAudit; au == nil || au.Requester != requester || au.Approver != approver || au.Approval != a.Name {
		t.Fatalf("cancel audit %+v", p.Status.CancelAudit)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == v1.ConditionBlocked {
			t.Fatalf("a cancelled payment still shows %+v", c)
		}
	}
}

// TestCancelRequesterCannotBeForged: nobody writes someone else's name as
// who cancelled, nor a cancel requester without a cancel.
func TestCancelRequesterCannotBeForged(t *testing.T) {
	s := newShop(t, thresholdPolicy())
	p := s.paid(t, "p", "50.00")
	edit := func(user string, change func(*v1.Payment)) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := as[user].Get(s.ctx, client.ObjectKeyFromObject(p), p); err != nil {
				return err
			}
			change(p)
			return as[user].Update(s.ctx, p)
		})
	}
	refused(t, edit(requester, func(p *v1.Payment) { p.Annotations[v1.CancelRequesterAnnotation] = requester }),
		"cannot be set without it")
	refused(t, edit(requester, func(p *v1.Payment) {
		p.Spec.Cancel = true
		p.Annotations[v1.CancelRequesterAnnotation] = approver
	}), "is recorded at admission from your own identity (alice); it cannot be set to bob")
	must(t, edit(requester, func(p *v1.Payment) { p.Spec.Cancel = true }))
	waitFor(t, p, "payment p Cancelled (under the threshold)", func() bool { return p.Status.Phase == v1.PaymentCancelled })
}
