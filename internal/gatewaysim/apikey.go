package gatewaysim

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// API keys: a merchant may authenticate with "Authorization: Bearer <key>"
// instead of signing (docs/simulator.md, rows 69–72). The simulator is a
// sandbox: it issues TEST keys, accepts them only under the sandbox prefix,
// and refuses every PROD key as a key of the other environment.

// APIKeyInfo describes one issued API key without its secret.
type APIKeyInfo struct {
	// KeyID names the key in the control API (revoke it by KeyID).
	KeyID string `json:"keyId"`
	// Hint is the key as it may be shown: kind, environment, last 4 characters.
	Hint string `json:"hint"`
	// Revoked is true once the key was revoked; it is refused from then on.
	Revoked bool `json:"revoked"`
}

type apiKeyEntry struct {
	clientID string
	info     APIKeyInfo
}

// apiKeyStore holds every key issued, revoked ones included (so that a
// revoked key is refused as revoked, not as unknown).
type apiKeyStore struct {
	mu    sync.Mutex
	byKey map[string]*apiKeyEntry // by the whole key
	seq   int
}

// IssueAPIKey issues a new Standard TEST API key for a registered merchant
// and returns it with its id: "isak_TEST_<base64 client id>_<secret>". The
// key is shown only here. A merchant may hold several keys at once (the
// first half of a rotation).
func (s *Simulator) IssueAPIKey(clientID string) (keyID, apiKey string, err error) {
	if s.merchant(clientID) == nil {
		return "", "", ErrUnknownClient
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return "", "", err
	}
	account := base64.RawStdEncoding.EncodeToString([]byte(clientID))
	apiKey = gateway.APIKeyStandard + "_" + gateway.APIKeyEnvTest + "_" + account + "_" + hex.EncodeToString(secret)
	st := &s.apiKeys
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.byKey == nil {
		st.byKey = map[string]*apiKeyEntry{}
	}
	st.seq++
	keyID = fmt.Sprintf("ak-%d", st.seq)
	st.byKey[apiKey] = &apiKeyEntry{clientID: clientID, info: APIKeyInfo{KeyID: keyID, Hint: gateway.APIKeyHint(apiKey)}}
	return keyID, apiKey, nil
}

// RevokeAPIKey revokes one of a merchant's API keys by its id: requests
// carrying it are refused with OAUTH_FAIL from then on. Revoking it again
// is ErrInvalidState.
func (s *Simulator) RevokeAPIKey(clientID, keyID string) error {
	if s.merchant(clientID) == nil {
		return ErrUnknownClient
	}
	st := &s.apiKeys
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, e := range st.byKey {
		if e.clientID != clientID || e.info.KeyID != keyID {
			continue
		}
		if e.info.Revoked {
			return fmt.Errorf("%w: API key %s of client %q is already revoked", ErrInvalidState, keyID, clientID)
		}
		e.info.Revoked = true
		return nil
	}
	return fmt.Errorf("%w: client %q has no API key %q", ErrNotFound, clientID, keyID)
}

// APIKeys lists a merchant's API keys (without secrets), by id.
func (s *Simulator) APIKeys(clientID string) ([]APIKeyInfo, error) {
	if s.merchant(clientID) == nil {
		return nil, ErrUnknownClient
	}
	st := &s.apiKeys
	st.mu.Lock()
	defer st.mu.Unlock()
	out := []APIKeyInfo{}
	for _, e := range st.byKey {
		if e.clientID == clientID {
			out = append(out, e.info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return keySeq(out[i].KeyID) < keySeq(out[j].KeyID) })
	return out, nil
}

func keySeq(id string) int {
	n := 0
	_, _ = fmt.Sscanf(id, "ak-%d", &n)
	return n
}

// lookupAPIKey finds an issued key.
func (s *Simulator) lookupAPIKey(key string) (apiKeyEntry, bool) {
	st := &s.apiKeys
	st.mu.Lock()
	defer st.mu.Unlock()
	e, ok := st.byKey[key]
	if !ok {
		return apiKeyEntry{}, false
	}
	return *e, true
}

// keyRefusal refuses a request's API key: HTTP 401 with F OAUTH_FAIL and a
// message that names what is wrong, never the key.
func keyRefusal(msg string) answer {
	a := fail(gateway.CodeOAuthFail, msg)
	a.status = http.StatusUnauthorized
	return a
}

// authenticateAPIKey admits a request that carries an Authorization header:
// a Bearer API key the simulator issued, not revoked, of the sandbox (TEST)
// environment, under the sandbox prefix. Client-Id, Request-Time and
// Signature are not needed; a Client-Id that names another merchant than
// the key's is refused.
func (s *Simulator) authenticateAPIKey(r *http.Request, c *call) answer {
	tok, ok := gateway.BearerToken(r.Header.Get(gateway.HeaderAuthorization))
	if !ok {
		return keyRefusal(`the Authorization header must be "Bearer <API key>"`)
	}
	key, err := gateway.ParseAPIKey(tok)
	if err != nil {
		return keyRefusal("the Bearer credential is " + err.Error())
	}
	if key.Env != gateway.APIKeyEnvTest {
		return keyRefusal("a live (PROD) API key was sent to the sandbox: alipay-sim accepts test (TEST) keys only")
	}
	if !strings.HasPrefix(r.URL.Path, gateway.PrefixSandbox+"/") {
		return keyRefusal(fmt.Sprintf("a test (TEST) API key is valid under %s only, not under %s", gateway.PrefixSandbox, r.URL.Path))
	}
	e, found := s.lookupAPIKey(tok)
	switch {
	case !found:
		return keyRefusal("the API key is not known (never issued, or mistyped)")
	case e.info.Revoked:
		c.clientID = e.clientID
		return keyRefusal(fmt.Sprintf("the API key %s (%s) was revoked", e.info.KeyID, e.info.Hint))
	case c.clientID != "" && c.clientID != e.clientID:
		return keyRefusal(fmt.Sprintf("the Client-Id header %q is not the API key's merchant", c.clientID))
	}
	c.clientID = e.clientID
	if c.m = s.merchant(e.clientID); c.m == nil {
		return fail(gateway.CodeClientInvalid, fmt.Sprintf("client %q is not registered", e.clientID))
	}
	return answer{}
}

// unsignedWriter answers a request authenticated by an API key: the
// gateway signs no response under an API key, so the Signature header
// writeSigned sets is dropped.
type unsignedWriter struct{ http.ResponseWriter }

func (u unsignedWriter) WriteHeader(code int) {
	u.Header().Del(gateway.HeaderSignature)
	u.ResponseWriter.WriteHeader(code)
}

// Hijack lets the responseLost fault close the connection.
func (u unsignedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := u.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return hj.Hijack()
}

// apiKeyRoutes: issue, list and revoke a merchant's API keys.
func (s *Simulator) apiKeyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /_sim/merchants/{clientId}/api-keys", func(w http.ResponseWriter, r *http.Request) {
		id, key, err := s.IssueAPIKey(r.PathValue("clientId"))
		reply(w, err, map[string]string{"keyId": id, "apiKey": key, "hint": gateway.APIKeyHint(key)})
	})
	mux.HandleFunc("GET /_sim/merchants/{clientId}/api-keys", func(w http.ResponseWriter, r *http.Request) {
		keys, err := s.APIKeys(r.PathValue("clientId"))
		reply(w, err, map[string][]APIKeyInfo{"apiKeys": keys})
	})
	mux.HandleFunc("DELETE /_sim/merchants/{clientId}/api-keys/{keyId}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.RevokeAPIKey(r.PathValue("clientId"), r.PathValue("keyId")), nil)
	})
}
