package chaos

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// TestForgeriesAreForgeries checks the forgery builder without the system:
// the control verifies as the gateway's, and every forgery differs from it;
// those that keep POST and JSON fail gateway.VerifyNotification when the
// documented refusal is a signature or time one (401).
func TestForgeriesAreForgeries(t *testing.T) {
	gw, err := gateway.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	evil, err := gateway.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	f := &forger{clientID: clientID, gw: gw, evil: evil}
	for _, file := range []string{"notify_payment.json", "notify_capture.json", "notify_refund.json"} {
		body, err := os.ReadFile(filepath.Join("..", "..", "internal", "gateway", "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		n := realNotif{kind: file, path: "/notify/payment/default/p-1", body: body}
		vs := f.variants(n, "/notify/payment/default/p-2", "/notify/refund/default/r-1")
		control := vs[0]
		verify := func(fg forgery) error {
			_, err := gateway.VerifyNotification(&gw.PublicKey, gateway.NotificationRequest{Method: fg.method, Path: fg.path,
				Header: fg.header, Body: fg.body}, time.Now(), 5*time.Minute)
			return err
		}
		if control.want != http.StatusOK || verify(control) != nil {
			t.Fatalf("%s: the control does not verify: %v", file, verify(control))
		}
		if len(vs)-1 < 20 {
			t.Errorf("%s: only %d variants", file, len(vs)-1)
		}
		for _, fg := range vs[1:] {
			if fingerprint(fg) == fingerprint(control) {
				t.Errorf("%s: %q is the authentic request", file, fg.variant)
			}
			if fg.want == http.StatusUnauthorized && fg.method == http.MethodPost && verify(fg) == nil &&
				fg.header.Get(gateway.HeaderClientID) == clientID {
				t.Errorf("%s: %q verifies as the gateway's", file, fg.variant)
			}
		}
	}
}
