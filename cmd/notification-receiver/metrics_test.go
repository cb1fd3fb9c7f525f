package main

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// checkSecureMetrics scrapes the receiver's /metrics at addr as served by
// default (--metrics-secure): HTTPS; no token or a forged one is refused, a
// ServiceAccount token without GET /metrics is 403, one bound to a
// metrics-reader ClusterRole gets the metrics. Tokens are real
// (TokenRequest), checked by the real API server. TestBinaryWiring calls it
// (one receiver per process: its metrics live in the global registry).
func checkSecureMetrics(ctx context.Context, t *testing.T, addr string) {
	t.Helper()
	k8s := env.Client
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "metrics-"}}
	must(t, k8s.Create(ctx, ns))
	token := func(name string) string {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns.Name}}
		must(t, k8s.Create(ctx, sa))
		tr := &authnv1.TokenRequest{}
		must(t, k8s.SubResource("token").Create(ctx, sa, tr))
		return tr.Status.Token
	}
	reader, nobody := token("prometheus"), token("nobody")
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{GenerateName: "metrics-reader-"},
		Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
	must(t, k8s.Create(ctx, role))
	must(t, k8s.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{GenerateName: "metrics-reader-"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "prometheus", Namespace: ns.Name}}}))
	// The certificate is self-signed (controller-runtime makes one); what
	// is checked here is who may read, not the certificate.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	scrape := func(bearer string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/metrics", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var body string
	eventually(t, "the metrics-reader token scrapes /metrics", func() bool {
		var code int
		code, body = scrape(reader)
		return code == http.StatusOK
	})
	if !strings.Contains(body, "cashier_receiver_notifications_total") {
		t.Errorf("/metrics has no cashier_receiver_notifications_total:\n%.500s", body)
	}
	if code, b := scrape(""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d %.200s, want 401", code, b)
	}
	if code, b := scrape(nobody); code != http.StatusForbidden {
		t.Errorf("token without GET /metrics: %d %.200s, want 403", code, b)
	}
	if code, b := scrape("not-a-token"); code == http.StatusOK {
		t.Errorf("forged token: %d %.200s, want a refusal", code, b)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("/metrics answered plain HTTP")
		}
	}
}
