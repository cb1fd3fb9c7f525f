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
	const apiKey = "isak_TEST_U0FOREJPWF9Y_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	goodAPI := map[string]string{v1.SecretKeyClientID: "SANDBOX_X", v1.SecretKeyAPIKey: apiKey, v1.SecretKeyGatewayPublicKey: pub}
	with := func(k, v string) map[string]string { return withKey(good, k, v) }
	withAPI := func(k, v string) map[string]string { return withKey(goodAPI, k, v) }
	cases := []struct {
		name    string
		data    map[string]string
		wantErr []string // substrings; empty = valid
		version string
		typ     v1.CredentialType
	}{
		{"valid", good, nil, "1", v1.CredentialPrivateKey},
		{"key version", with(v1.SecretKeyKeyVersion, "3"), nil, "3", v1.CredentialPrivateKey},
		{"no client id", with(v1.SecretKeyClientID, ""), []string{`"clientId" is missing`}, "", ""},
		{"bad private key", with(v1.SecretKeyMerchantPrivateKey, "garbage"), []string{`"merchantPrivateKey"`}, "", ""},
		{"public key as private", with(v1.SecretKeyMerchantPrivateKey, pub), []string{`"merchantPrivateKey"`}, "", ""},
		{"no gateway key", with(v1.SecretKeyGatewayPublicKey, ""), []string{`"gatewayPublicKey" is missing`}, "", ""},
		{"everything missing", map[string]string{}, []string{"clientId", `neither "merchantPrivateKey" nor "apiKey"`, "gatewayPublicKey"}, "", ""},
		{"API key", goodAPI, nil, "", v1.CredentialAPIKey},
		{"API key with a trailing newline", withAPI(v1.SecretKeyAPIKey, apiKey+"\n"), nil, "", v1.CredentialAPIKey},
		{"API key and private key", withAPI(v1.SecretKeyMerchantPrivateKey, priv), []string{`"merchantPrivateKey" and "apiKey" are both set`}, "", ""},
		{"neither key", with(v1.SecretKeyMerchantPrivateKey, ""), []string{`neither "merchantPrivateKey" nor "apiKey" is set`}, "", ""},
		{"malformed API key", withAPI(v1.SecretKeyAPIKey, "sk_live_9f8e7d6c5b4a39281706f5e4"), []string{`key "apiKey": not an API key`}, "", ""},
		{"API key without the gateway key", withAPI(v1.SecretKeyGatewayPublicKey, ""), []string{`"gatewayPublicKey" is missing`}, "", ""},
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
				if c.KeyVersion != tc.version || (c.PrivateKey == nil) == c.APIKey.IsZero() || c.GatewayPublicKey == nil || c.Type() != tc.typ {
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
			if strings.Contains(err.Error(), priv[:40]) || strings.Contains(err.Error(), "9f8e7d6c5b4a") {
				t.Fatal("the error repeats key material")
			}
		})
	}
}

func withKey(good map[string]string, k, v string) map[string]string {
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
