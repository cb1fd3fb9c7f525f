package connection

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

func TestParseSecret(t *testing.T) {
	k, err := gateway.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := gateway.EncodePrivateKey(k)
	pub, _ := gateway.EncodePublicKey(&k.PublicKey)
	good := map[string]string{v1.SecretKeyClientID: "SANDBOX_X", v1.SecretKeyMerchantPrivateKey: priv, v1.SecretKeyGatewayPublicKey: pub}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name    string
		data    map[string]string
		wantErr []string // substrings; empty = valid
		version string
	}{
		{"valid", good, nil, "1"},
		{"key version", with(v1.SecretKeyKeyVersion, "3"), nil, "3"},
		{"no client id", with(v1.SecretKeyClientID, ""), []string{`"clientId" is missing`}, ""},
		{"bad private key", with(v1.SecretKeyMerchantPrivateKey, "garbage"), []string{`"merchantPrivateKey"`}, ""},
		{"public key as private", with(v1.SecretKeyMerchantPrivateKey, pub), []string{`"merchantPrivateKey"`}, ""},
		{"no gateway key", with(v1.SecretKeyGatewayPublicKey, ""), []string{`"gatewayPublicKey" is missing`}, ""},
		{"everything missing", map[string]string{}, []string{"clientId", "merchantPrivateKey", "gatewayPublicKey"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &corev1.Secret{Data: map[string][]byte{}}
			s.Namespace, s.Name = "ns", "creds"
			for k, v := range tc.data {
				s.Data[k] = []byte(v)
			}
			c, err := ParseSecret(s)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if c.KeyVersion != tc.version || c.PrivateKey == nil || c.GatewayPublicKey == nil {
					t.Fatalf("credentials = %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not name %s", err, w)
				}
			}
			if strings.Contains(err.Error(), priv[:40]) {
				t.Fatal("the error repeats key material")
			}
		})
	}
}
