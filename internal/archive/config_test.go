package archive

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

func selfSigned(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "archive-ca"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestConfigFromSecret(t *testing.T) {
	ca := selfSigned(t)
	const url = "postgres://cashier@db.example.com:5432/payments"
	for _, tc := range []struct {
		name    string
		data    map[string]string
		mode    string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "no url", data: map[string]string{}, wantErr: `no "url" key`},
		{name: "cert without key", data: map[string]string{"url": url, "tls.crt": string(ca)}, wantErr: "tls.crt and tls.key go together"},
		{name: "bad ca", data: map[string]string{"url": url, "ca.crt": "garbage"}, wantErr: "ca.crt holds no PEM certificate"},
		{name: "bad mode", data: map[string]string{"url": url}, mode: "prefer", wantErr: `sslMode "prefer"`},
		{name: "bad url", data: map[string]string{"url": "postgres://%zz"}, wantErr: "archive url"},
		{name: "verify-full by default", data: map[string]string{"url": url, "password": "s3cret", "ca.crt": string(ca)},
			check: func(t *testing.T, c Config) {
				pc, err := c.poolConfig()
				if err != nil {
					t.Fatal(err)
				}
				tc := pc.ConnConfig.TLSConfig
				if tc == nil || tc.InsecureSkipVerify || tc.ServerName != "db.example.com" || tc.RootCAs == nil {
					t.Fatalf("verify-full TLS config: %+v", tc)
				}
				if pc.ConnConfig.Password != "s3cret" || len(pc.ConnConfig.Fallbacks) != 0 {
					t.Fatalf("password %q fallbacks %d", pc.ConnConfig.Password, len(pc.ConnConfig.Fallbacks))
				}
			}},
		{name: "require encrypts without verifying", data: map[string]string{"url": url}, mode: v1.ArchiveSSLRequire,
			check: func(t *testing.T, c Config) {
				pc, _ := c.poolConfig()
				if tc := pc.ConnConfig.TLSConfig; tc == nil || !tc.InsecureSkipVerify || tc.VerifyPeerCertificate != nil {
					t.Fatalf("require TLS config: %+v", tc)
				}
			}},
		{name: "verify-ca checks the chain only", data: map[string]string{"url": url, "ca.crt": string(ca)}, mode: v1.ArchiveSSLVerifyCA,
			check: func(t *testing.T, c Config) {
				pc, _ := c.poolConfig()
				tc := pc.ConnConfig.TLSConfig
				if tc == nil || tc.VerifyPeerCertificate == nil {
					t.Fatalf("verify-ca TLS config: %+v", tc)
				}
				if err := tc.VerifyPeerCertificate(nil, nil); err == nil {
					t.Fatal("verify-ca accepted a server without a certificate")
				}
			}},
		{name: "disable", data: map[string]string{"url": url + "?sslmode=require"}, mode: v1.ArchiveSSLDisable,
			check: func(t *testing.T, c Config) {
				pc, _ := c.poolConfig()
				if pc.ConnConfig.TLSConfig != nil {
					t.Fatal("sslMode disable still uses TLS")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "archive"}, Data: map[string][]byte{}}
			for k, v := range tc.data {
				s.Data[k] = []byte(v)
			}
			c, err := ConfigFromSecret(s, tc.mode)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

// TestTLSAgainstPostgreSQL: every sslMode against the real server, which
// has a certificate for 127.0.0.1 signed by its own CA.
func TestTLSAgainstPostgreSQL(t *testing.T) {
	_, base := open(t)
	ctx := context.Background()
	other := selfSigned(t)
	for _, tc := range []struct {
		mode    string
		ca      []byte
		host    string
		wantTLS bool
		wantErr bool
	}{
		{mode: v1.ArchiveSSLVerifyFull, ca: server.CA, host: server.Host, wantTLS: true},
		{mode: v1.ArchiveSSLVerifyFull, ca: other, host: server.Host, wantErr: true},
		{mode: v1.ArchiveSSLVerifyCA, ca: server.CA, host: server.Host, wantTLS: true},
		{mode: v1.ArchiveSSLVerifyCA, ca: other, host: server.Host, wantErr: true},
		{mode: v1.ArchiveSSLRequire, host: server.Host, wantTLS: true},
		{mode: v1.ArchiveSSLDisable, host: server.Host},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			c := base
			c.SSLMode, c.CA = tc.mode, tc.ca
			c.URL = strings.Replace(c.URL, "@"+server.Host+":", "@"+tc.host+":", 1)
			a, err := Open(ctx, c)
			if tc.wantErr {
				if err == nil {
					a.Close()
					t.Fatal("connected although the server's certificate is not signed by the CA given")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			var ssl bool
			if err := a.pool.QueryRow(ctx, `SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&ssl); err != nil {
				t.Fatal(err)
			}
			if ssl != tc.wantTLS {
				t.Fatalf("connection TLS = %v, want %v", ssl, tc.wantTLS)
			}
		})
	}
}
