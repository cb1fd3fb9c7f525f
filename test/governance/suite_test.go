// Package governance_test proves, against a real apiserver (its own admission
// policies and RBAC, real distinct users) and alipay-sim, who may move money:
// a namespace's MoneyPolicy holds back what is over its limit, over a budget
// or waiting for an approval, and nothing it holds reaches the gateway.
package governance_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers"
	"github.com/cashier-operator/cashier-operator/controllers/retention"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/pgtest"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

const timeout = 45 * time.Second

// The users: alice asks, bob approves, eve is neither; the GitOps
// controller's ServiceAccount applies from git.
const (
	requester = "alice"
	approver  = "bob"
	outsider  = "eve"
	gitops    = "system:serviceaccount:argocd:argocd-application-controller"
)

var (
	sys    *testenv.System
	pg     *pgtest.Server // the archive's PostgreSQL
	k8s    client.Client  // the administrator
	as     map[string]client.Client
	offset atomic.Int64 // the operator's clock: now + offset
	nsSeq  atomic.Int32
)

func now() time.Time { return time.Now().Add(time.Duration(offset.Load())) }

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctrl.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	if pg, err = pgtest.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = pg.Stop() }()
	env, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	k8s = env.Client
	sys, err = testenv.StartSystem(env, testenv.SystemOptions{
		Sim:         gatewaysim.Options{Clock: gatewaysim.NewScaledClock(time.Now().UTC().Truncate(time.Second), 1), Seed: 20},
		Now:         now,
		Controllers: controllers.Options{Retention: retention.Options{RetryInterval: 200 * time.Millisecond}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer sys.Stop()
	if err := users(env); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// users creates the four identities and lets each create and read the
// money kinds and Approvals (RBAC alone: the policy decides the rest).
func users(env *testenv.Env) error {
	ctx := context.Background()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "money-mover"}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{v1.GroupVersion.Group}, Resources: []string{"refunds", "captures", "approvals", "payments"},
		Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}}}}
	if err := k8s.Create(ctx, role); err != nil {
		return err
	}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "money-movers"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: requester},
			{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: approver},
			{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: outsider},
			{Kind: rbacv1.ServiceAccountKind, Namespace: "argocd", Name: "argocd-application-controller"}}}
	if err := k8s.Create(ctx, binding); err != nil {
		return err
	}
	as = map[string]client.Client{}
	for _, u := range []struct{ name, group string }{{requester, "shop-staff"}, {approver, "payments-leads"}, {outsider, "shop-staff"}} {
		c, err := env.AddUser(u.name, u.group)
		if err != nil {
			return err
		}
		as[u.name] = c
	}
	c, err := env.AsServiceAccount("argocd", "argocd-application-controller")
	as[gitops] = c
	return err
}

// shop is one test's namespace with a merchant and its policy.
type shop struct {
	ctx context.Context
	ns  string
	m   *testenv.Merchant
}

// newShop makes a namespace, a merchant and the namespace's MoneyPolicy.
func newShop(t *testing.T, spec v1.MoneyPolicySpec) *shop {
	return newShopWith(t, spec, nil)
}

// newArchivingShop is newShop with retention on: finished payments and
// their operations go to a PostgreSQL archive of their own after retainFor.
func newArchivingShop(t *testing.T, spec v1.MoneyPolicySpec, retainFor time.Duration) *shop {
	t.Helper()
	ctx := context.Background()
	db := fmt.Sprintf("governance_%d", nsSeq.Load()+1)
	must(t, pg.CreateDatabase(ctx, db))
	return newShopWith(t, spec, func(ns string) func(*v1.GatewayConfigSpec) {
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "archive"}, StringData: map[string]string{
			v1.ArchiveSecretKeyURL:      fmt.Sprintf("postgres://%s@%s:%d/%s", pgtest.User, pg.Host, pg.Port, db),
			v1.ArchiveSecretKeyPassword: pgtest.Password}}
		must(t, k8s.Create(ctx, sec))
		return func(s *v1.GatewayConfigSpec) {
			s.Retention = &v1.Retention{RetainFor: metav1.Duration{Duration: retainFor},
				Archive: v1.ArchiveConnection{SecretRef: v1.NamespacedSecretReference{Namespace: ns, Name: sec.Name}, SSLMode: v1.ArchiveSSLDisable}}
		}
	})
}

func newShopWith(t *testing.T, spec v1.MoneyPolicySpec, gateway func(ns string) func(*v1.GatewayConfigSpec)) *shop {
	t.Helper()
	ctx := context.Background()
	ns := fmt.Sprintf("g%d", nsSeq.Add(1))
	must(t, sys.Env.CreateNamespace(ctx, ns))
	var mutate func(*v1.GatewayConfigSpec)
	if gateway != nil {
		mutate = gateway(ns)
	}
	m, err := sys.AddMerchant(ctx, "m-"+ns, ns, "", mutate)
	must(t, err)
	must(t, k8s.Create(ctx, &v1.MoneyPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1.MoneyPolicyName}, Spec: spec}))
	return &shop{ctx: ctx, ns: ns, m: m}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// paid creates a wallet Payment, pays it at the simulator and waits for Succeeded.
func (s *shop) paid(t *testing.T, name, value string) *v1.Payment {
	t.Helper()
	return s.paidWith(t, name, value, nil)
}

// paidWith is paid with the Payment's annotations.
func (s *shop) paidWith(t *testing.T, name, value string, annotations map[string]string) *v1.Payment {
	t.Helper()
	p := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns, Annotations: annotations},
		Spec: v1.PaymentSpec{GatewayRef: v1.GatewayReference{Name: s.m.GatewayConfig}, Amount: v1.Money{Currency: "HKD", Value: value},
			PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"}, Env: v1.TerminalEnv{TerminalType: "WEB"},
			RedirectURL: "https://shop.example.com/done"}}
	must(t, k8s.Create(s.ctx, p))
	waitFor(t, p, "payment "+name+" at the gateway", func() bool { return p.Status.PaymentID != "" })
	must(t, sys.Sim.Complete(p.Status.PaymentID))
	waitFor(t, p, "payment "+name+" Succeeded", func() bool { return p.Status.Phase == v1.PaymentSucceeded })
	return p
}

// refund is a Refund of payment p (not yet created).
func (s *shop) refund(name string, p *v1.Payment, value string) *v1.Refund {
	return &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns},
		Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: p.Name}, Amount: v1.Money{Currency: "HKD", Value: value}}}
}

// waitFor re-reads obj until cond holds.
func waitFor[T client.Object](t *testing.T, obj T, what string, cond func() bool) T {
	t.Helper()
	testenv.Eventually(t, timeout, what, func() (bool, string) {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, err.Error()
		}
		return cond(), fmt.Sprintf("%+v", obj)
	})
	return obj
}

// succeeded waits for r to succeed.
func succeeded(t *testing.T, r *v1.Refund) *v1.Refund {
	t.Helper()
	return waitFor(t, r, "refund "+r.Name+" Succeeded", func() bool { return r.Status.Phase == v1.OperationSucceeded })
}

// heldFor waits until r is Blocked with reason and returns the condition's message.
func heldFor(t *testing.T, r *v1.Refund, reason string) string {
	t.Helper()
	var msg string
	waitFor(t, r, "refund "+r.Name+" Blocked "+reason, func() bool {
		for _, c := range r.Status.Conditions {
			if c.Type == v1.ConditionBlocked && c.Status == metav1.ConditionTrue && c.Reason == reason {
				msg = c.Message
				return true
			}
		}
		return false
	})
	return msg
}

// refundsSent counts the refund calls the gateway received for the merchant
// (the ledger of every refund request id, whatever its outcome).
func (s *shop) refundsSent() int {
	n := 0
	for _, r := range sys.Sim.Ledger(s.m.ClientID).Requests {
		if r.Kind == "refund" {
			n += r.Calls
		}
	}
	return n
}

// gone waits until obj is no longer in the cluster.
func gone(t *testing.T, obj client.Object, what string) {
	t.Helper()
	testenv.Eventually(t, timeout, what, func() (bool, string) {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		return apierrors.IsNotFound(err), fmt.Sprintf("still there (%v)", err)
	})
}
