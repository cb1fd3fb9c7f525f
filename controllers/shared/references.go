package shared

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// This file reads what an object refers to outside itself: the Secrets it
// names (card data, buyer certificates, SFTP credentials) and its
// GatewayConfig's connection.

// RefWait is how long an object waits for a Secret or a GatewayConfig it
// names to exist or become ready.
const RefWait = 15 * time.Second

var (
	// ErrSecretNotFound is wrapped by the error of a referenced Secret that
	// does not exist.
	ErrSecretNotFound = errors.New("not found")
	// ErrSecretKeyMissing is wrapped by the error of a referenced Secret
	// that lacks a key the object needs (or holds only white space in it).
	ErrSecretKeyMissing = errors.New("lacks")
)

// SecretKeys reads the Secret key uncached (the manager caches no Secrets)
// and returns the values of keys, "" for those it does not hold. what names
// the Secret in errors ("card secret"): "<what> <ns>/<name> not found"
// (ErrSecretNotFound), or "get <what> <ns>/<name>: <cause>".
func SecretKeys(ctx context.Context, r client.Reader, what string, key types.NamespacedName, keys ...string) (map[string]string, error) {
	var s corev1.Secret
	if err := r.Get(ctx, key, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s %s %w", what, key, ErrSecretNotFound)
		}
		return nil, fmt.Errorf("get %s %s: %w", what, key, err)
	}
	vals := make(map[string]string, len(keys))
	for _, k := range keys {
		vals[k] = string(s.Data[k])
	}
	return vals, nil
}

// RequireKeys checks that vals (from SecretKeys) holds more than white
// space under each of keys: else "<what> <ns>/<name> lacks <keys>"
// (ErrSecretKeyMissing), the keys in sorted order.
func RequireKeys(vals map[string]string, what string, key types.NamespacedName, keys ...string) error {
	var missing []string
	for _, k := range keys {
		if strings.TrimSpace(vals[k]) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return fmt.Errorf("%s %s %w %s", what, key, ErrSecretKeyMissing, strings.Join(missing, ", "))
}

// SecretError turns an error of SecretKeys or RequireKeys into the engine's
// terms: a missing Secret is a wait with reason missing (it may yet be
// created), a missing key a refusal with reason invalid (the Secret must be
// fixed and the object re-created); other errors are returned as they are.
func SecretError(err error, missing, invalid string) error {
	switch {
	case errors.Is(err, ErrSecretNotFound):
		return &engine.WaitError{Reason: missing, Message: err.Error(), RequeueAfter: RefWait, Cause: err}
	case errors.Is(err, ErrSecretKeyMissing):
		return &engine.TerminalError{Reason: invalid, Message: err.Error(), Cause: err}
	}
	return err
}

// CredentialsWait is how long a call the gateway refused for its
// credentials waits before it is tried again (the Secret is re-read then).
const CredentialsWait = 10 * time.Second

// CredentialsError turns the gateway refusing conn's credentials (a revoked
// API key, a withdrawn key version: gateway.CredentialsRejected) into a
// CredentialsRejected wait: nothing was processed, and the call is made
// again with the same id once the Secret holds valid credentials. Other
// errors are returned as they are.
func CredentialsError(conn *connection.Connection, err error) error {
	if !gateway.CredentialsRejected(err) {
		return err
	}
	ref := conn.Config.Spec.CredentialsSecretRef
	return &engine.WaitError{Reason: v1.ReasonCredentialsRejected, RequeueAfter: CredentialsWait, Cause: err,
		Message: fmt.Sprintf("the gateway refused the credentials of GatewayConfig %s (%v); nothing was processed; "+
			"it is sent again with the same id once Secret %s/%s holds valid credentials", conn.Config.Name, err, ref.Namespace, ref.Name)}
}

// GatewayConnection returns the connection of GatewayConfig name; a
// GatewayConfig that is not ready (missing, its Secret unreadable or
// invalid) is a GatewayNotReady wait.
func GatewayConnection(ctx context.Context, deps *Deps, name string) (*connection.Connection, error) {
	conn, err := deps.Registry.Get(ctx, name)
	if err != nil {
		if errors.Is(err, connection.ErrNotReady) {
			return nil, &engine.WaitError{Reason: v1.ReasonGatewayNotReady, Message: err.Error(), RequeueAfter: RefWait, Cause: err}
		}
		return nil, err
	}
	return conn, nil
}

// WireAddress is a registered address (a MerchantRegistration's) as the
// gateway takes it; nil for none. The registration call and the pay call
// that names the merchant send it the same way.
func WireAddress(a *v1.RegistrationAddress) *gateway.Address {
	if a == nil {
		return nil
	}
	return &gateway.Address{Region: a.Region, State: a.State, City: a.City, Address1: a.Address1, Address2: a.Address2, ZipCode: a.ZipCode}
}

// protocolCodes are F answers about the request's credentials or shape, not
// about what it asks: nothing was processed, the GatewayConfig needs fixing.
var protocolCodes = map[string]bool{
	gateway.CodeAccessDenied: true, gateway.CodeAPIInvalid: true, gateway.CodeClientInvalid: true,
	gateway.CodeSignatureInvalid: true, gateway.CodeKeyNotFound: true, gateway.CodeMethodNotSupported: true,
	gateway.CodeMediaTypeNotAcceptable: true,
}

// ProtocolRefusal reports whether err is the gateway refusing a call for
// its credentials or its shape (protocol codes, gateway.CredentialsRejected)
// rather than for what it asks: the call is made again with the same id,
// never failed (see CredentialsError).
func ProtocolRefusal(err error) bool {
	return protocolCodes[gateway.Code(err)] || gateway.CredentialsRejected(err)
}
