package receiver_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/receiver"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

func TestParseRoute(t *testing.T) {
	cases := []struct {
		path      string
		ok        bool
		kind      string
		namespace string
		name      string
	}{
		{"/notify", true, "", "", ""},
		{"/notify/", true, "", "", ""},
		{"/notify/payment/shop/p-1", true, ids.KindPayment, "shop", "p-1"},
		{"/notify/refund/shop/r-1", true, ids.KindRefund, "shop", "r-1"},
		{"/notify/payment/notify/notify", true, ids.KindPayment, "notify", "notify"},
		{"/notify/capture/shop/c-1", false, "", "", ""},
		{"/notify/dispute/shop/p-1", false, "", "", ""},
		{"/notify/payment/shop", false, "", "", ""},
		{"/notify/payment/shop/p-1/extra", false, "", "", ""},
		{"/notify/payment//p-1", false, "", "", ""},
		{"/notify/payment/shop/p-1/", false, "", "", ""},
		{"/notifyx", false, "", "", ""},
		{"/other/notify/payment/shop/p-1", false, "", "", ""},
		{"/", false, "", "", ""},
	}
	for _, tc := range cases {
		kind, key, ok := receiver.ParseRoute(tc.path)
		if ok != tc.ok || kind != tc.kind || key.Namespace != tc.namespace || key.Name != tc.name {
			t.Errorf("%s: got (%q, %v, %v), want (%q, %s/%s, %v)", tc.path, kind, key, ok, tc.kind, tc.namespace, tc.name, tc.ok)
		}
	}
}

func TestRouteAccepts(t *testing.T) {
	kinds := []string{gateway.KindNotifyPayment, gateway.KindNotifyCapture, gateway.KindNotifyRefund, gateway.KindNotifyDispute}
	want := map[string][]string{
		"":              kinds,
		ids.KindPayment: {gateway.KindNotifyPayment, gateway.KindNotifyCapture, gateway.KindNotifyDispute},
		ids.KindRefund:  {gateway.KindNotifyRefund},
		"capture":       nil,
	}
	for route, accepted := range want {
		for _, k := range kinds {
			exp := false
			for _, a := range accepted {
				exp = exp || a == k
			}
			if got := receiver.RouteAccepts(route, k); got != exp {
				t.Errorf("route %q, %s: accepts = %v, want %v", route, k, got, exp)
			}
		}
	}
}

// TestRefusalMapping: every refusal reason has the documented HTTP status
// and a failure resultCode; none is answered 200.
func TestRefusalMapping(t *testing.T) {
	cases := []struct {
		reason string
		status int
		code   string
	}{
		{receiver.ReasonMethod, http.StatusMethodNotAllowed, gateway.CodeMethodNotSupported},
		{receiver.ReasonContentType, http.StatusUnsupportedMediaType, gateway.CodeMediaTypeNotAcceptable},
		{receiver.ReasonBodyTooLarge, http.StatusRequestEntityTooLarge, gateway.CodeParamIllegal},
		{receiver.ReasonReadBody, http.StatusBadRequest, gateway.CodeParamIllegal},
		{receiver.ReasonMissingHeader, http.StatusUnauthorized, gateway.CodeSignatureInvalid},
		{receiver.ReasonBadTime, http.StatusBadRequest, gateway.CodeParamIllegal},
		{receiver.ReasonStale, http.StatusUnauthorized, gateway.CodeSignatureInvalid},
		{receiver.ReasonFuture, http.StatusUnauthorized, gateway.CodeSignatureInvalid},
		{receiver.ReasonSignature, http.StatusUnauthorized, gateway.CodeSignatureInvalid},
		{receiver.ReasonUnknownClient, http.StatusUnauthorized, gateway.CodeClientInvalid},
		{receiver.ReasonGatewayMismatch, http.StatusUnauthorized, gateway.CodeAccessDenied},
		{receiver.ReasonRoute, http.StatusNotFound, gateway.CodeAPIInvalid},
		{receiver.ReasonNamespace, http.StatusNotFound, gateway.CodeAPIInvalid},
		{receiver.ReasonMalformed, http.StatusBadRequest, gateway.CodeParamIllegal},
		{receiver.ReasonUnknownType, http.StatusBadRequest, gateway.CodeParamIllegal},
		{receiver.ReasonRouteKind, http.StatusBadRequest, gateway.CodeParamIllegal},
		{receiver.ReasonMismatch, http.StatusUnprocessableEntity, gateway.CodeParamIllegal},
	}
	for _, tc := range cases {
		status, code, ok := receiver.Refusal(tc.reason)
		if !ok || status != tc.status || code != tc.code {
			t.Errorf("%s: (%d, %s, %v), want (%d, %s)", tc.reason, status, code, ok, tc.status, tc.code)
		}
		if info, known := gateway.Codes[code]; !known || info.Status != gateway.StatusFail {
			t.Errorf("%s: resultCode %s is not a known F code", tc.reason, code)
		}
	}
	// The verification errors of package gateway map onto the same labels.
	for _, err := range []error{gateway.ErrNotificationMethod, gateway.ErrNotificationContentType, gateway.ErrNotificationMissingHeader,
		gateway.ErrNotificationBadTime, gateway.ErrNotificationStale, gateway.ErrNotificationFuture, gateway.ErrNotificationSignature} {
		if _, _, ok := receiver.Refusal(gateway.NotificationRejectReason(err)); !ok {
			t.Errorf("%v maps to %q, which has no refusal", err, gateway.NotificationRejectReason(err))
		}
	}
}

// TestRefusedBeforeAuthentication: requests refused before any key or
// object is looked at, through ServeHTTP.
func TestRefusedBeforeAuthentication(t *testing.T) {
	f := newFixture(t)
	big := strings.Repeat("x", receiver.DefaultMaxBodyBytes+1)
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"GET", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/notify", nil) }, http.StatusMethodNotAllowed},
		{"form post", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader("a=b"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, http.StatusUnsupportedMediaType},
		{"no content type", func() *http.Request { return httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader("{}")) }, http.StatusUnsupportedMediaType},
		{"too large", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(big))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, http.StatusRequestEntityTooLarge},
		{"too large, chunked", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(big))
			r.ContentLength = -1
			r.Header.Set("Content-Type", "application/json")
			return r
		}, http.StatusRequestEntityTooLarge},
		{"no signature headers", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader("{}"))
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
			r.Header.Set("Client-Id", f.clientID)
			return r
		}, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			f.recv.ServeHTTP(w, tc.req())
			if w.Code != tc.status {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tc.status, w.Body.String())
			}
			if w.Body.String() == gateway.NotificationAck || !strings.Contains(w.Body.String(), `"resultStatus":"F"`) {
				t.Fatalf("body = %s", w.Body.String())
			}
			if tc.status == http.StatusMethodNotAllowed && w.Header().Get("Allow") != http.MethodPost {
				t.Fatalf("Allow = %q", w.Header().Get("Allow"))
			}
		})
	}
}

func TestWorstOutcome(t *testing.T) {
	cases := []struct {
		in   []any
		code int
		out  string
	}{
		{[]any{200, receiver.OutcomeDuplicate, 200, receiver.OutcomeApplied}, 200, receiver.OutcomeApplied},
		{[]any{200, receiver.OutcomeApplied, 422, receiver.OutcomeMismatch}, 422, receiver.OutcomeMismatch},
		{[]any{422, receiver.OutcomeMismatch, 503, receiver.OutcomeError, 200, receiver.OutcomeApplied}, 503, receiver.OutcomeError},
		{[]any{200, receiver.OutcomeUnknownObject, 200, receiver.OutcomeStale}, 200, receiver.OutcomeStale},
	}
	for i, tc := range cases {
		if code, out := receiver.Worst(tc.in...); code != tc.code || out != tc.out {
			t.Errorf("case %d: (%d, %s), want (%d, %s)", i, code, out, tc.code, tc.out)
		}
	}
}

func TestCheckPaymentIDs(t *testing.T) {
	uid := types.UID("3f1c2a9e-8b7d-4c6e-9f01-23456789abcd")
	meta := metav1.ObjectMeta{UID: uid, Namespace: "shop", Name: "order-1"}
	derived := ids.Derived(ids.KindNamePayment, "", "shop", "order-1")
	scoped := ids.Derived(ids.KindNamePayment, "prod", "shop", "order-1")
	legacy, _ := ids.LegacyPaymentRequestID(uid)
	full := &v1.Payment{ObjectMeta: meta}
	withStatus := full.DeepCopy()
	withStatus.Status.PaymentID = "P1"
	oldScheme := full.DeepCopy()
	oldScheme.Status.PaymentRequestID = legacy
	observed := &v1.Payment{ObjectMeta: meta, Spec: v1.PaymentSpec{ManagementPolicy: v1.ManagementObserve, PaymentID: "P9"}}
	cases := []struct {
		name, scope string
		p           *v1.Payment
		pid, rid    string
		mismatch    bool
	}{
		{"derived request id", "", full, "", derived, false},
		{"derived under the GatewayConfig's scope", "prod", full, "", scoped, false},
		{"default-scope id under another scope", "prod", full, "", derived, true},
		{"recorded legacy id wins", "", oldScheme, "", legacy, false},
		{"other request id", "", full, "", "pay-other", true},
		{"no status yet: any paymentId", "", full, "P7", derived, false},
		{"status paymentId", "", withStatus, "P1", "", false},
		{"other paymentId", "", withStatus, "P2", "", true},
		{"observed: its paymentId", "", observed, "P9", "whatever", false},
		{"observed: another paymentId", "", observed, "P8", "", true},
	}
	for _, tc := range cases {
		err := receiver.CheckPaymentIDs(tc.p, tc.scope, tc.pid, tc.rid)
		if errors.Is(err, transition.ErrMismatch) != tc.mismatch {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}

// TestRefusalFloodLogsSampled: 20,000 notifications with a forged signature
// are all refused and counted, but only a handful of lines are logged (before
// sampling, each one wrote a ~300-byte line: 5.9 MB for such a flood).
func TestRefusalFloodLogsSampled(t *testing.T) {
	var lines, bytes int
	var mu sync.Mutex
	sink := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		lines++
		bytes += len(prefix) + len(args) + 1
	}, funcr.Options{})
	f := newFixture(t, func(o *receiver.Options) {
		o.Logger = sink
		o.RefreshInterval = time.Hour // a forged signature must not rebuild connections each time
	})
	const flood = 20000
	before := f.metric("cashier_receiver_rejected_total", map[string]string{"reason": receiver.ReasonSignature})
	body := `{"notifyType":"PAYMENT_RESULT","paymentRequestId":"x","paymentId":"y"}`
	start := time.Now()
	for i := range flood {
		r := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(gateway.HeaderClientID, f.clientID)
		r.Header.Set(gateway.HeaderRequestTime, gateway.FormatTime(f.sim.Now()))
		r.Header.Set(gateway.HeaderSignature, fmt.Sprintf("algorithm=RSA256,keyVersion=1,signature=Zm9yZ2Vk%08d", i))
		w := httptest.NewRecorder()
		f.recv.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d, want 401 (%s)", i, w.Code, w.Body.String())
		}
	}
	elapsed := time.Since(start)
	got := f.metric("cashier_receiver_rejected_total", map[string]string{"reason": receiver.ReasonSignature}) - before
	if got != flood {
		t.Errorf("rejected_total{reason=signature} grew by %v, want %d: every refusal is counted", got, flood)
	}
	mu.Lock()
	defer mu.Unlock()
	// A burst of 5, then one per second of the flood.
	if limit := 5 + int(elapsed/receiver.DefaultRefusalLogInterval) + 1; lines > limit || lines == 0 {
		t.Errorf("%d refusals in %v logged %d lines (%d bytes); want between 1 and %d", flood, elapsed.Round(time.Millisecond), lines, bytes, limit)
	}
	t.Logf("%d forged notifications in %v: %d log lines, %d bytes", flood, elapsed.Round(time.Millisecond), lines, bytes)
}
