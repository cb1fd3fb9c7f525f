package testenv

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// AddAPIKeyMerchant registers a merchant at the simulator, issues it an API
// key, and creates its credentials Secret (clientId, apiKey,
// gatewayPublicKey: no private key) in ns and a GatewayConfig named name.
// It returns the merchant (Key is its unused RSA key: the simulator
// registers every merchant with one) and the key's id at the simulator.
func (s *System) AddAPIKeyMerchant(ctx context.Context, name, ns string) (*Merchant, string, error) {
	key, err := gateway.GenerateKey()
	if err != nil {
		return nil, "", err
	}
	clientID := "SIM_" + name
	if err := s.Sim.AddMerchant(clientID, &key.PublicKey, "1", ""); err != nil {
		return nil, "", err
	}
	keyID, apiKey, err := s.Sim.IssueAPIKey(clientID)
	if err != nil {
		return nil, "", err
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-credentials", Namespace: ns},
		Data: map[string][]byte{
			v1.SecretKeyClientID:         []byte(clientID),
			v1.SecretKeyAPIKey:           []byte(apiKey),
			v1.SecretKeyGatewayPublicKey: []byte(s.Sim.GatewayPublicKeyString()),
		}}
	if err := s.Env.Client.Create(ctx, secret); err != nil {
		return nil, "", fmt.Errorf("secret: %w", err)
	}
	gwc := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.GatewayConfigSpec{Endpoint: s.SimURL,
			CredentialsSecretRef: v1.NamespacedSecretReference{Name: secret.Name, Namespace: ns}}}
	if err := s.Env.Client.Create(ctx, gwc); err != nil {
		return nil, "", fmt.Errorf("gatewayconfig: %w", err)
	}
	return &Merchant{ClientID: clientID, Key: key, GatewayConfig: name}, keyID, nil
}
