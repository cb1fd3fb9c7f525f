package cli_test

import (
	"archive/zip"
	"context"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

func TestRefund(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		golden  string // output golden file, when it succeeds
		wantErr string
	}{
		{name: "manifest", args: []string{"refund", "wallet-hk", "--amount", "34", "--reason", "Second pair returned"}, golden: "refund-wallet-hk"},
		{name: "json", args: []string{"refund", "wallet-hk", "--amount", "0.5", "-o", "json", "--name", "wallet-hk-goodwill"}, golden: "refund-wallet-hk-json"},
		{name: "in flight counted", args: []string{"refund", "wallet-hk", "--amount", "34.01"},
			wantErr: "--amount 34.01 HKD is more than payment wallet-hk can take: 44.00 HKD refundable, minus 10.00 HKD in operations not final yet, leaves 34.00 HKD"},
		{name: "too precise", args: []string{"refund", "jpy-order", "--amount", "10.5"}, wantErr: "--amount: "},
		{name: "whole yen", args: []string{"refund", "jpy-order", "--amount", "1200"}, golden: "refund-jpy-order"},
		{name: "not paid", args: []string{"refund", "card-auth", "--amount", "1"},
			wantErr: "payment shop/card-auth is Authorized: only a Succeeded payment can be refunded"},
		{name: "not a number", args: []string{"refund", "wallet-hk", "--amount", "1,000"}, wantErr: "--amount: "},
		{name: "no amount", args: []string{"refund", "wallet-hk"}, wantErr: `required flag(s) "amount" not set`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(t, now, tt.args...)
			checkResult(t, out, err, tt.golden, tt.wantErr)
		})
	}
}

func TestCapture(t *testing.T) {
	tests := []struct {
		name, golden, wantErr string
		args                  []string
	}{
		{name: "rest of the authorization", args: []string{"capture", "card-auth", "--amount", "30.00", "--last"}, golden: "capture-card-auth"},
		{name: "in flight counted", args: []string{"capture", "card-auth", "--amount", "30.01"},
			wantErr: "--amount 30.01 USD is more than payment card-auth can take: 50.00 USD capturable, minus 20.00 USD in operations not final yet, leaves 30.00 USD"},
		{name: "too precise", args: []string{"capture", "card-auth", "--amount", "1.001"}, wantErr: "--amount: "},
		{name: "wallet", args: []string{"capture", "wallet-hk", "--amount", "1"},
			wantErr: "payment shop/wallet-hk is not an authorization with captureMode Manual"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(t, now, tt.args...)
			checkResult(t, out, err, tt.golden, tt.wantErr)
		})
	}
}

func checkResult(t *testing.T, out string, err error, goldenName, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want it to contain %q", err, wantErr)
		}
		if out != "" {
			t.Errorf("nothing may be printed when the check fails; got %q", out)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	golden(t, goldenName, out)
}

// TestApply creates a refund and shows that a second --apply with the same
// name cannot refund twice.
func TestApply(t *testing.T) {
	ctx := context.Background()
	out, _, err := run(t, now, "refund", "jpy-order", "--amount", "200", "--apply", "--name", "jpy-order-applied")
	if err != nil {
		t.Fatal(err)
	}
	if out != "Refund shop/jpy-order-applied created\n" {
		t.Errorf("out = %q", out)
	}
	var r v1.Refund
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "jpy-order-applied"}, &r); err != nil {
		t.Fatal(err)
	}
	if r.Spec.Amount != (v1.Money{Currency: "JPY", Value: "200"}) || r.Spec.PaymentRef.Name != "jpy-order" {
		t.Errorf("created spec = %+v", r.Spec)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, &r) })
	_, _, err = run(t, now, "refund", "jpy-order", "--amount", "200", "--apply", "--name", "jpy-order-applied")
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second --apply: err = %v, want AlreadyExists", err)
	}
}

func TestCheckout(t *testing.T) {
	out, _, err := run(t, now, "checkout", "alipay-cn")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "checkout-alipay-cn", out)
	if !strings.Contains(out, "█") {
		t.Error("no QR code drawn")
	}
	for name, want := range map[string]string{
		"wallet-hk": "payment shop/wallet-hk is Succeeded: the user has nothing left to do",
		"outlet-1":  "has no user action yet",
	} {
		args := []string{"checkout", name}
		if strings.HasPrefix(name, "outlet") {
			args = append(args, "-n", "outlet")
		}
		if _, _, err := run(t, now, args...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checkout %s: err = %v, want %q", name, err, want)
		}
	}
}

// TestReport writes a bundle and checks what is in it, what is redacted and
// that no secret value, card number or key reached it.
func TestReport(t *testing.T) {
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "cashier-operator-manager-0", Namespace: "default",
		Labels: map[string]string{"app.kubernetes.io/part-of": "cashier-operator"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "manager", Image: "cashier-operator:test",
			Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 8080}}}}}}
	if err := env.Client.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, pod) })

	file := filepath.Join(t.TempDir(), "bundle.zip")
	out, _, err := run(t, now, "report", "--file", file)
	if err != nil {
		t.Fatal(err)
	}
	files := readZip(t, file)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	golden(t, "report-files", strings.Join(names, "\n")+"\n")
	golden(t, "report-readme", files["README.txt"])
	golden(t, "report-audit", files["audit.txt"])
	if !strings.HasPrefix(out, "wrote "+file+": 15 files\n") || !strings.Contains(out, "redacted: Secret shop/card-auth-card: the values of cardNo, cardholderName, cvv") {
		t.Errorf("summary:\n%s", out)
	}
	for name, body := range files {
		for _, secret := range []string{"4111 1111 1111 1111", "4111111111111111", "737", "Jane Doe", "TUlJRXZRSUJBREFO", "SANDBOX_DEMO0001"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s holds %q", name, secret)
			}
		}
	}
	for _, want := range []string{"name: wallet-hk-one-pair", "kind: Payment", "name: card-auth-second-shipment"} {
		if !strings.Contains(files["payments.yaml"]+files["captures.yaml"]+files["refunds.yaml"]+files["events.yaml"], want) {
			t.Errorf("bundle lacks %q", want)
		}
	}

	unredacted := filepath.Join(t.TempDir(), "unredacted.zip")
	if _, errOut, err := run(t, now, "report", "--file", unredacted, "--unredacted"); err != nil || !strings.Contains(errOut, "warning: --unredacted") {
		t.Fatalf("err = %v, stderr %q", err, errOut)
	}
	if got := readZip(t, unredacted)["secrets.yaml"]; !strings.Contains(got, "NzM3") { // base64 of the cvv 737
		t.Errorf("--unredacted secrets.yaml lacks the card data:\n%s", got)
	}
}

func readZip(t *testing.T, file string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

// TestHelp keeps the help texts in golden files, so a change to them is
// reviewed like any other output.
func TestHelp(t *testing.T) {
	for _, cmd := range []string{"status", "summary", "refund", "capture", "checkout", "report"} {
		t.Run(cmd, func(t *testing.T) {
			out, _, err := run(t, now, cmd, "--help")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "help-"+cmd, out)
		})
	}
}
