package gateway

import (
	"errors"
	"net/http"
	"strings"
	"time"
)

// API-key authentication: the gateway's newer credential, beside the RSA key
// pair. A request carries "Authorization: Bearer <key>" instead of Client-Id,
// Request-Time and Signature, its body is not signed and its response is not
// signed either; notifications keep their RSA signature (the gateway public
// key verifies them). Source: the official SDKs' API-key clients (Java
// 3.1.0, Go 1.4.0), recorded in docs/simulator.md.
const (
	// HeaderAuthorization carries the API key as a Bearer credential.
	HeaderAuthorization = "Authorization"
	// BearerScheme is the Authorization scheme of an API key, with its space.
	BearerScheme = "Bearer "
)

// API-key kinds and environments: the first two "_"-separated parts of a key.
const (
	APIKeyStandard   = "isak" // a Standard key: every API the merchant may call
	APIKeyRestricted = "irak" // a Restricted key: the APIs chosen on the dashboard
	APIKeyEnvTest    = "TEST" // test mode: the sandbox paths (/ams/sandbox/api)
	APIKeyEnvLive    = "PROD" // live mode: the production paths (/ams/api)
)

// APIKey is a parsed API key. Its String never shows the secret.
type APIKey struct {
	// Kind is APIKeyStandard or APIKeyRestricted.
	Kind string
	// Env is APIKeyEnvTest or APIKeyEnvLive.
	Env   string
	value string
}

// ErrAPIKeyFormat means a string is not an API key. Its message never holds
// the string itself.
var ErrAPIKeyFormat = errors.New("not an API key: expected <isak|irak>_<TEST|PROD>_<account>_<secret>")

// ParseAPIKey checks the shape the official SDKs check:
// <isak|irak>_<TEST|PROD>_<account part without "_">_<secret>, printable
// ASCII without spaces. The gateway alone knows whether the key is valid.
func ParseAPIKey(s string) (APIKey, error) {
	parts := strings.SplitN(s, "_", 4)
	if len(parts) != 4 || parts[2] == "" || parts[3] == "" || !validHeaderToken(s) {
		return APIKey{}, ErrAPIKeyFormat
	}
	if parts[0] != APIKeyStandard && parts[0] != APIKeyRestricted {
		return APIKey{}, ErrAPIKeyFormat
	}
	if parts[1] != APIKeyEnvTest && parts[1] != APIKeyEnvLive {
		return APIKey{}, ErrAPIKeyFormat
	}
	return APIKey{Kind: parts[0], Env: parts[1], value: s}, nil
}

// Value is the whole key, for the Authorization header only.
func (k APIKey) Value() string { return k.value }

// IsZero reports whether k holds no key.
func (k APIKey) IsZero() bool { return k.value == "" }

// Prefix is the path prefix the key is valid under: the sandbox one for a
// TEST key, the production one for a PROD key.
func (k APIKey) Prefix() string {
	if k.Env == APIKeyEnvTest {
		return PrefixSandbox
	}
	return PrefixProduction
}

// String shows the kind and environment and hides the rest.
func (k APIKey) String() string {
	if k.value == "" {
		return "<no API key>"
	}
	return k.Kind + "_" + k.Env + "_" + redactedMark
}

// GoString is String, so that %#v does not print the secret either.
func (k APIKey) GoString() string { return k.String() }

// APIKeyHint is what a key may be shown as: its kind, environment and the
// last four characters of its secret, e.g. "isak_TEST_…a1b2".
func APIKeyHint(s string) string {
	k, err := ParseAPIKey(s)
	if err != nil {
		return redactedMark
	}
	secret := s[strings.LastIndex(s, "_")+1:]
	if len(secret) <= 8 {
		return k.String()
	}
	return k.Kind + "_" + k.Env + "_…" + secret[len(secret)-4:]
}

// BearerToken returns the credential of an Authorization header value
// "Bearer <token>" (scheme case-insensitive, as RFC 6750 allows), and false
// for any other value.
func BearerToken(header string) (string, bool) {
	if len(header) <= len(BearerScheme) || !strings.EqualFold(header[:len(BearerScheme)], BearerScheme) {
		return "", false
	}
	tok := strings.TrimSpace(header[len(BearerScheme):])
	return tok, tok != ""
}

// apiKey checks the API-key mode of cfg and returns the path prefix: the
// key's (TEST: sandbox, PROD: production), as the official SDKs choose it.
// A PathPrefix of /ams/api or /ams/sandbox/api is overridden by the key;
// any other prefix (Alipay+) cannot take an API key.
func (v *configCheck) apiKey(cfg Config) string {
	if cfg.PrivateKey != nil {
		v.add("PrivateKey and APIKey are both set; a connection authenticates with exactly one of them")
	}
	if _, err := ParseAPIKey(cfg.APIKey.Value()); err != nil {
		v.add("APIKey: %v", err)
	}
	switch cfg.PathPrefix {
	case "", PrefixProduction, PrefixSandbox:
	default:
		v.add("PathPrefix %q: API keys authenticate the Antom APIs (%s, %s) only", cfg.PathPrefix, PrefixProduction, PrefixSandbox)
	}
	return cfg.APIKey.Prefix()
}

// authorize puts the request's credentials into h: the API key as a Bearer
// credential, or Client-Id, Request-Time and the RSA signature over
// "POST <path>\n<Client-Id>.<Request-Time>.<body>".
func (c *Client) authorize(h http.Header, path string, start time.Time, body []byte) error {
	if !c.apiKey.IsZero() {
		h.Set(HeaderAuthorization, BearerScheme+c.apiKey.Value())
		return nil
	}
	reqTime := FormatRequestTime(start)
	sig, err := Sign(c.key, c.keyVersion, http.MethodPost, path, c.clientID, reqTime, body)
	if err != nil {
		return err
	}
	h.Set(HeaderClientID, c.clientID)
	h.Set(HeaderRequestTime, reqTime)
	h.Set(HeaderSignature, sig)
	h.Set("Key-Version", c.keyVersion)
	return nil
}

// UsesAPIKey reports whether the client authenticates with an API key.
func (c *Client) UsesAPIKey() bool { return !c.apiKey.IsZero() }

// String names the client without its credentials.
func (c *Client) String() string {
	mode := "rsa keyVersion=" + c.keyVersion
	if !c.apiKey.IsZero() {
		mode = "apiKey=" + c.apiKey.String()
	}
	return "gateway.Client{" + c.clientID + " " + c.baseURL + c.prefix + " " + mode + "}"
}

// GoString is String: %#v does not print credentials either.
func (c *Client) GoString() string { return c.String() }
