package testenv

import (
	"fmt"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// AddUser adds a user the apiserver authenticates (by client certificate)
// as name in groups, and returns a direct client acting as that user. What
// the user may do is what RBAC grants name or groups.
func (e *Env) AddUser(name string, groups ...string) (client.Client, error) {
	u, err := e.env.ControlPlane.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("add user %s: %w", name, err)
	}
	return client.New(u.Config(), client.Options{Scheme: e.Scheme})
}

// AsServiceAccount returns a direct client acting as the ServiceAccount
// namespace/name (impersonated by the administrator), as a GitOps controller
// in the cluster would.
func (e *Env) AsServiceAccount(namespace, name string) (client.Client, error) {
	cfg := rest.CopyConfig(e.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + namespace + ":" + name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}}
	return client.New(cfg, client.Options{Scheme: e.Scheme})
}
