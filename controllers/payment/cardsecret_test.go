package payment

import (
	"context"
	"errors"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// The card Secret through the one Secret reader: a missing Secret waits, a
// missing key refuses (both with the wrapped cause), a token or the card
// fields go to the pay body.
func TestCardDataSecret(t *testing.T) {
	card := map[string]string{v1.CardSecretKeyNumber: "4111111111111111", v1.CardSecretKeyCVV: " 123\n",
		v1.CardSecretKeyExpiryMonth: "12", v1.CardSecretKeyExpiryYear: "2031"}
	with := func(extra map[string]string, drop ...string) map[string]string {
		out := map[string]string{}
		for k, v := range card {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		for _, k := range drop {
			delete(out, k)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		data      map[string]string // nil: no Secret
		wantMeta  map[string]any
		wantToken string
		// wantReason and wantMsg describe the error; wantIs is its cause.
		wantReason, wantMsg string
		wantIs              error
	}{
		{name: "no secret", wantReason: v1.ReasonCardSecretMissing, wantMsg: "card secret shop/c not found", wantIs: shared.ErrSecretNotFound},
		{name: "missing keys", data: with(nil, v1.CardSecretKeyCVV, v1.CardSecretKeyExpiryYear), wantReason: v1.ReasonCardSecretInvalid,
			wantMsg: "card secret shop/c lacks " + v1.CardSecretKeyCVV + ", " + v1.CardSecretKeyExpiryYear + " (or a " + v1.CardSecretKeyToken + ")",
			wantIs:  shared.ErrSecretKeyMissing},
		{name: "blank key", data: with(map[string]string{v1.CardSecretKeyNumber: "  "}), wantReason: v1.ReasonCardSecretInvalid,
			wantMsg: "card secret shop/c lacks " + v1.CardSecretKeyNumber + " (or a " + v1.CardSecretKeyToken + ")", wantIs: shared.ErrSecretKeyMissing},
		{name: "token", data: map[string]string{v1.CardSecretKeyToken: "tok-1"}, wantToken: "tok-1"},
		{name: "card fields", data: with(map[string]string{v1.CardSecretKeyHolderName: "Ada Lovelace"}), wantMeta: map[string]any{
			gateway.CardMetaNumber: "4111111111111111", gateway.CardMetaCVV: "123", gateway.CardMetaExpiryMonth: "12",
			gateway.CardMetaExpiryYear: "2031", gateway.CardMetaHolderName: map[string]string{"fullName": "Ada Lovelace"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := runtime.NewScheme()
			if err := corev1.AddToScheme(s); err != nil {
				t.Fatal(err)
			}
			b := fake.NewClientBuilder().WithScheme(s)
			if tc.data != nil {
				b = b.WithObjects(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "c"}, Data: bytesOf(tc.data)})
			}
			e := &paymentExternal{deps: &shared.Deps{APIReader: b.Build()}}
			meta, token, err := e.cardData(context.Background(), "shop", "c")
			if tc.wantReason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(meta, tc.wantMeta) || token != tc.wantToken {
					t.Errorf("token %q, meta %v; want %q, %v", token, meta, tc.wantToken, tc.wantMeta)
				}
				return
			}
			if got := shared.ReasonOf(err); got != tc.wantReason {
				t.Errorf("reason %q, want %q (%v)", got, tc.wantReason, err)
			}
			var cm interface{ ConditionMessage() string }
			if !errors.As(err, &cm) || cm.ConditionMessage() != tc.wantMsg {
				t.Errorf("message of %v, want %q", err, tc.wantMsg)
			}
			if !errors.Is(err, tc.wantIs) {
				t.Errorf("%v does not wrap %v", err, tc.wantIs)
			}
			var w *engine.WaitError
			if errors.Is(tc.wantIs, shared.ErrSecretNotFound) && (!errors.As(err, &w) || w.RequeueAfter != shared.RefWait) {
				t.Errorf("a missing Secret is not a wait of %v: %#v", shared.RefWait, err)
			}
		})
	}
}

func bytesOf(m map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}
