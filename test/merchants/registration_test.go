package merchants

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

// review records a review decision at alipay-sim for reg's current request.
func review(t *testing.T, reg *v1.MerchantRegistration, psp, status, why string) {
	t.Helper()
	_, err := sys.Sim.ReviewRegistration(reg.Status.RegistrationRequestID, gatewaysim.RegistrationReview{PSPName: psp, Status: status, RejectReasons: why})
	must(t, err)
}

// TestRegisterThenPay: payments for a secondary merchant wait, with no
// gateway call, until it is registered and approved for their method; a
// method the gateway rejected keeps its payments waiting with the reason
// while the others flow; the fixed registration is a new request (the old
// result kept) whose approval lets the waiting payments go, each paid
// exactly once.
func TestRegisterThenPay(t *testing.T) {
	f := setup(t)
	early := f.payment("early", "acme", "ALIPAY_HK", "10.00")
	must(t, k8s.Create(f.ctx, early))
	f.waitBlocked(t, early, "MerchantRegistration "+f.ns+"/acme does not exist")

	reg := f.registration("acme", "acme-1")
	must(t, k8s.Create(f.ctx, reg))
	reg = f.waitRegistration(t, reg, v1.RegistrationPending)
	first := reg.Status.RegistrationRequestID
	if v, err := sys.Sim.Registration(first); err != nil || v.Status != gateway.RegistrationPending || v.ReferenceMerchantID != "acme-1" ||
		!strings.HasSuffix(v.NotifyURL, "/notify/registration/"+f.ns+"/acme") {
		t.Fatalf("the gateway holds %+v (%v)", v, err)
	}
	f.waitBlocked(t, early, "under review for ALIPAY_HK")

	review(t, reg, "ALIPAY_CN", gateway.RegistrationRejected, "business licence unreadable")
	review(t, reg, "*", gateway.RegistrationApproved, "")
	reg = f.waitRegistration(t, reg, v1.RegistrationPartiallyApproved)
	if m, _ := reg.MethodStatus("ALIPAY_CN"); m.Status != v1.MethodRejected || m.RejectReasons != "business licence unreadable" {
		t.Fatalf("ALIPAY_CN: %+v", m)
	}
	view, err := sys.Sim.Registration(first)
	must(t, err)
	if want := fmt.Sprintf("%d/%d", len(view.PSPs)-1, len(view.PSPs)); reg.Status.Approved != want || reg.Status.RejectedMethods != "ALIPAY_CN" ||
		len(reg.Status.PaymentMethods) != len(view.PSPs) {
		t.Fatalf("approved %q (want %q), rejected %q, %d methods", reg.Status.Approved, want, reg.Status.RejectedMethods, len(reg.Status.PaymentMethods))
	}
	ready := meta.FindStatusCondition(reg.Status.Conditions, v1.ConditionReady)
	if ready.Status != metav1.ConditionTrue || ready.Reason != v1.ReasonPartiallyApproved || !strings.Contains(ready.Message, "rejected for ALIPAY_CN") {
		t.Fatalf("Ready: %+v", ready)
	}
	waitFor(t, f, early, "early Processing", func() bool { return early.Status.Phase == v1.PaymentProcessing })
	cn := f.payment("cn", "acme", "ALIPAY_CN", "20.00")
	must(t, k8s.Create(f.ctx, cn))
	f.waitBlocked(t, cn, "was rejected for ALIPAY_CN: business licence unreadable")
	if n := operations(ids.Payment(cn, "")); n != 0 {
		t.Fatalf("a payment for a rejected method made %d gateway operations", n)
	}
	t.Logf("$ kubectl get merchantregistrations -n %s\n%s", f.ns, sys.Env.Kubectl(t, "get", "merchantregistrations", "-n", f.ns))

	// The fix: a new licence number is a new request; the old result stays.
	reg.Spec.Legal.RegistrationNo = "7654322"
	must(t, k8s.Update(f.ctx, reg))
	reg = f.waitRegistration(t, reg, v1.RegistrationPending)
	if reg.Status.RegistrationRequestID == first || reg.Status.Previous == nil || reg.Status.Previous.RegistrationRequestID != first ||
		reg.Status.Previous.Phase != v1.RegistrationPartiallyApproved {
		t.Fatalf("re-registration: current %s, previous %+v", reg.Status.RegistrationRequestID, reg.Status.Previous)
	}
	late := f.payment("late", "acme", "ALIPAY_HK", "30.00")
	must(t, k8s.Create(f.ctx, late))
	f.waitBlocked(t, late, "under review for ALIPAY_HK")
	review(t, reg, "*", gateway.RegistrationApproved, "")
	reg = f.waitRegistration(t, reg, v1.RegistrationApproved)
	for _, p := range []*v1.Payment{cn, late} {
		waitFor(t, f, p, p.Name+" Processing", func() bool {
			return p.Status.Phase == v1.PaymentProcessing && meta.FindStatusCondition(p.Status.Conditions, v1.ConditionBlocked) == nil
		})
	}
	for _, p := range []*v1.Payment{early, cn, late} {
		if n := operations(ids.Payment(p, "")); n != 1 {
			t.Errorf("payment %s: %d gateway operations, want exactly 1", p.Name, n)
		}
	}
	t.Logf("$ kubectl get merchantregistrations -n %s\n%s", f.ns, sys.Env.Kubectl(t, "get", "merchantregistrations", "-n", f.ns))
	t.Logf("$ kubectl get payments -n %s\n%s", f.ns, sys.Env.Kubectl(t, "get", "payments", "-n", f.ns))
}

// TestReceiverDownThenReplayAndForgery: with the receiver down the result
// of the review still arrives, by the inquiry of the (restarted) manager;
// with the receiver up it arrives by notification; that notification sent
// again (a replay) changes nothing; a forged one (the body changed under
// the gateway's signature, or routed to another registration) is refused
// and changes nothing.
func TestReceiverDownThenReplayAndForgery(t *testing.T) {
	f := setup(t)
	recv.Down.Store(true)
	down := f.registration("down", "shop-down")
	must(t, k8s.Create(f.ctx, down))
	down = f.waitRegistration(t, down, v1.RegistrationPending)
	review(t, down, "*", gateway.RegistrationApproved, "")
	testenv.Eventually(t, timeout, "the notification to fail", func() (bool, string) {
		for _, n := range sys.Sim.Notifications() {
			if n.Kind == gateway.KindNotifyRegistrationStatus && bytes.Contains(n.Body, []byte(down.Status.RegistrationRequestID)) && len(n.Attempts) > 0 {
				return true, ""
			}
		}
		return false, "not sent yet"
	})
	must(t, k8s.Get(f.ctx, client.ObjectKeyFromObject(down), down))
	if down.Status.Phase != v1.RegistrationPending {
		t.Fatalf("the result arrived although the receiver was down and no inquiry was due: %s", down.Status.Phase)
	}
	must(t, sys.RestartManager())
	down = f.waitRegistration(t, down, v1.RegistrationApproved)
	recv.Down.Store(false)

	up := f.registration("up", "shop-up")
	must(t, k8s.Create(f.ctx, up))
	up = f.waitRegistration(t, up, v1.RegistrationPending)
	review(t, up, "*", gateway.RegistrationRejected, "not a registered business")
	up = f.waitRegistration(t, up, v1.RegistrationRejected)
	var note testenv.Seen
	testenv.Eventually(t, timeout, "the receiver to be notified", func() (bool, string) {
		var ok bool
		note, ok = recv.Sent(up.Status.RegistrationRequestID, gateway.RegistrationRejected)
		return ok, "nothing sent yet"
	})
	pending := f.registration("pending", "shop-pending")
	must(t, k8s.Create(f.ctx, pending))
	pending = f.waitRegistration(t, pending, v1.RegistrationPending)
	before := map[string]string{}
	for _, r := range []*v1.MerchantRegistration{down, up, pending} {
		must(t, k8s.Get(f.ctx, client.ObjectKeyFromObject(r), r))
		before[r.Name] = r.ResourceVersion
	}

	if status := testenv.Post(t, recvURL, note.Path, note.Header, note.Body); status != http.StatusOK {
		t.Fatalf("replayed notification: HTTP %d", status)
	}
	approved := bytes.Replace(note.Body, []byte(`"`+gateway.RegistrationRejected+`"`), []byte(`"`+gateway.RegistrationApproved+`"`), -1)
	if status := testenv.Post(t, recvURL, note.Path, note.Header, approved); status == http.StatusOK {
		t.Fatal("a forged approval (body changed under the gateway's signature) was accepted")
	}
	other := strings.Replace(note.Path, "/up", "/pending", 1)
	if status := testenv.Post(t, recvURL, other, note.Header, note.Body); status == http.StatusOK {
		t.Fatal("a notification of another registration, routed to this one, was accepted")
	}
	for _, r := range []*v1.MerchantRegistration{down, up, pending} {
		must(t, k8s.Get(f.ctx, client.ObjectKeyFromObject(r), r))
		if r.ResourceVersion != before[r.Name] {
			t.Errorf("MerchantRegistration %s changed: %+v", r.Name, r.Status)
		}
	}
	if up.Status.Phase != v1.RegistrationRejected || pending.Status.Phase != v1.RegistrationPending {
		t.Fatalf("up %s, pending %s", up.Status.Phase, pending.Status.Phase)
	}
}

// TestReRegisterWhileUnderReview: a change while the gateway still reviews
// the first request is refused by the gateway (REPEAT_REGISTRATION); the
// new request waits, and is sent as soon as the first review ends (its
// notification wakes the manager: no poll is due within the test), and
// payments wait for the new request's approval.
func TestReRegisterWhileUnderReview(t *testing.T) {
	f := setup(t)
	reg := f.registration("busy", "shop-busy")
	must(t, k8s.Create(f.ctx, reg))
	reg = f.waitRegistration(t, reg, v1.RegistrationPending)
	first := reg.Status.RegistrationRequestID

	reg.Spec.DisplayName = "Busy Shop Electronics"
	must(t, k8s.Update(f.ctx, reg))
	reg = waitFor(t, f, reg, "the new request waiting for the first review", func() bool {
		c := meta.FindStatusCondition(reg.Status.Conditions, v1.ConditionReady)
		return c != nil && c.Reason == v1.ReasonRegistrationInProgress && reg.Status.Phase == v1.RegistrationSubmitting &&
			reg.Status.Previous != nil && reg.Status.Previous.RegistrationRequestID == first && reg.Status.Previous.Phase == v1.RegistrationPending
	})
	second := reg.Status.RegistrationRequestID
	if _, err := sys.Sim.Registration(second); err == nil {
		t.Fatalf("the gateway holds request %s although it refused it", second)
	}
	p := f.payment("waits", "busy", "ALIPAY_HK", "15.00")
	must(t, k8s.Create(f.ctx, p))
	f.waitBlocked(t, p, "is not registered yet (phase Submitting)")

	_, err := sys.Sim.ReviewRegistration(first, gatewaysim.RegistrationReview{PSPName: "*", Status: gateway.RegistrationApproved})
	must(t, err)
	reg = f.waitRegistration(t, reg, v1.RegistrationPending)
	if reg.Status.RegistrationRequestID != second || reg.Status.Previous.Phase != v1.RegistrationApproved {
		t.Fatalf("after the first review: current %s (want %s), previous %+v", reg.Status.RegistrationRequestID, second, reg.Status.Previous)
	}
	f.waitBlocked(t, p, "under review for ALIPAY_HK")
	review(t, reg, "*", gateway.RegistrationApproved, "")
	f.waitRegistration(t, reg, v1.RegistrationApproved)
	waitFor(t, f, p, "waits Processing", func() bool { return p.Status.Phase == v1.PaymentProcessing })
	if n := operations(ids.Payment(p, "")); n != 1 {
		t.Fatalf("payment: %d gateway operations, want 1", n)
	}
}

// TestRecreatedFromGitAdopts: a MerchantRegistration deleted and applied
// again from git (new UID, empty status) derives the same request id and
// adopts the gateway's result; nothing is registered again, and deleting
// it unregistered nothing.
func TestRecreatedFromGitAdopts(t *testing.T) {
	f := setup(t)
	reg := f.registration("restored", "shop-restored")
	must(t, k8s.Create(f.ctx, reg))
	reg = f.waitRegistration(t, reg, v1.RegistrationPending)
	id := reg.Status.RegistrationRequestID
	review(t, reg, "*", gateway.RegistrationApproved, "")
	f.waitRegistration(t, reg, v1.RegistrationApproved)

	must(t, k8s.Delete(f.ctx, reg))
	testenv.Eventually(t, timeout, "the MerchantRegistration gone", func() (bool, string) {
		err := k8s.Get(f.ctx, client.ObjectKeyFromObject(reg), &v1.MerchantRegistration{})
		return err != nil, "still there"
	})
	if v, err := sys.Sim.Registration(id); err != nil || v.Status != gateway.RegistrationApproved || !v.Latest {
		t.Fatalf("after the delete the gateway holds %+v (%v)", v, err)
	}
	again := f.registration("restored", "shop-restored")
	must(t, k8s.Create(f.ctx, again))
	again = f.waitRegistration(t, again, v1.RegistrationApproved)
	adopted := meta.FindStatusCondition(again.Status.Conditions, v1.ConditionAdopted)
	if again.Status.RegistrationRequestID != id || adopted == nil || adopted.Status != metav1.ConditionTrue {
		t.Fatalf("re-created: request %s (want %s), Adopted %+v", again.Status.RegistrationRequestID, id, adopted)
	}
	if v, err := sys.Sim.Registration(id); err != nil || !v.Latest {
		t.Fatalf("a second registration was sent: %+v (%v)", v, err)
	}
}
