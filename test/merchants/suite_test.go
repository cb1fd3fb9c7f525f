// Package merchants tests secondary merchant registration end to end: the
// real apiserver, alipay-sim over signed HTTP (requiring registered
// merchants), the manager and the notification-receiver behind a switch.
package merchants

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/receiver"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

const timeout = 20 * time.Second

var (
	sys     *testenv.System
	k8s     client.Client
	recv    *testenv.Switch
	recvURL string
	nsSeq   atomic.Int64
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctrl.SetLogger(logr.Discard())
	env, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	k8s = env.Client
	// Registrations are inquired once an hour: within a test their results
	// come by notification, or by the inquiry of a restarted manager.
	cadence := testenv.FastCadence
	cadence.OperationPoll = time.Hour
	sys, err = testenv.StartSystem(env, testenv.SystemOptions{
		Sim:         gatewaysim.Options{Clock: gatewaysim.NewScaledClock(time.Now().UTC().Truncate(time.Second), 1), Seed: 21},
		Controllers: controllers.Options{Cadence: &cadence}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer sys.Stop()
	b := sys.Sim.Behavior()
	b.RequireMerchantRegistration = true
	sys.Sim.SetBehavior(b)
	r, err := testenv.StartReceiver(env, receiver.Options{Now: sys.Sim.Now, RefreshInterval: time.Nanosecond},
		func(h http.Handler) http.Handler { recv = testenv.NewSwitch(h); return recv })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer r.Stop()
	recvURL = r.URL
	return m.Run()
}

// platform is one test's namespace and merchant (the platform that sells
// for secondary merchants), notified through the receiver.
type platform struct {
	ctx context.Context
	ns  string
	m   *testenv.Merchant
}

func setup(t *testing.T) *platform {
	t.Helper()
	ctx := context.Background()
	ns := fmt.Sprintf("r%d", nsSeq.Add(1))
	m, err := sys.AddTenant(ctx, ns, recvURL, nil)
	must(t, err)
	return &platform{ctx: ctx, ns: ns, m: m}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// registration is a MerchantRegistration of a shop for cashier payments.
func (f *platform) registration(name, merchantID string) *v1.MerchantRegistration {
	return &v1.MerchantRegistration{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: v1.MerchantRegistrationSpec{GatewayRef: v1.GatewayReference{Name: f.m.GatewayConfig}, ReferenceMerchantID: merchantID,
			DisplayName: "Acme Electronics", MCC: "5732",
			Address:  v1.RegistrationAddress{Region: "HK", City: "Hong Kong", Address1: "1 Harbour Road"},
			Websites: []v1.MerchantWebsite{{URL: "https://acme.example.com", Name: "Acme"}},
			Legal: v1.LegalRegistration{LegalName: "Acme Electronics Limited", BusinessType: "ENTERPRISE",
				RegistrationType: "ENTERPRISE_REGISTRATION_NO", RegistrationNo: "7654321", RegistrationRegion: "HK",
				Contacts: []v1.MerchantContact{{Type: "EMAIL", Value: "ops@acme.example.com"}}},
			ProductCodes: []v1.ProductCode{"CASHIER_PAYMENT"}}}
}

// payment is a wallet Payment for the secondary merchant registered as reg.
func (f *platform) payment(name, reg, method, value string) *v1.Payment {
	return &v1.Payment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: v1.PaymentSpec{GatewayRef: v1.GatewayReference{Name: f.m.GatewayConfig}, Amount: v1.Money{Currency: "HKD", Value: value},
			PaymentMethod: v1.PaymentMethod{Type: method}, Env: v1.TerminalEnv{TerminalType: "WEB"},
			RedirectURL: "https://shop.example.com/done", MerchantRef: &v1.LocalObjectReference{Name: reg}}}
}

// waitFor re-reads obj until cond holds.
func waitFor[T client.Object](t *testing.T, f *platform, obj T, what string, cond func() bool) T {
	t.Helper()
	return testenv.WaitFor(t, k8s, timeout, obj, what, cond, statusOf)
}

func statusOf(obj client.Object) any {
	switch o := obj.(type) {
	case *v1.MerchantRegistration:
		return o.Status
	case *v1.Payment:
		return o.Status
	}
	return obj
}

// waitRegistration waits until reg's current request is in phase.
func (f *platform) waitRegistration(t *testing.T, reg *v1.MerchantRegistration, phase string) *v1.MerchantRegistration {
	t.Helper()
	return waitFor(t, f, reg, reg.Name+" "+phase, func() bool {
		return reg.Status.Phase == phase && reg.Status.ObservedGeneration == reg.Generation
	})
}

// waitBlocked waits until p waits Blocked MerchantNotRegistered with a
// message containing msg.
func (f *platform) waitBlocked(t *testing.T, p *v1.Payment, msg string) {
	t.Helper()
	waitFor(t, f, p, p.Name+" blocked: "+msg, func() bool {
		c := meta.FindStatusCondition(p.Status.Conditions, v1.ConditionBlocked)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == v1.ReasonMerchantNotRegistered &&
			bytes.Contains([]byte(c.Message), []byte(msg)) && p.Status.PaymentRequestID == ""
	})
}

// operations counts the gateway operations alipay-sim created for a
// request id (exactly-once proofs; 0 for a payment never sent).
func operations(requestID string) int {
	n := 0
	for _, r := range sys.Sim.Ledger().Requests {
		if r.RequestID == requestID {
			n += r.Operations
		}
	}
	return n
}
