package gatewaysim

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// TestKeyRotationControl walks a merchant key rotation over the control
// API: a second key version is issued, requests under either version are
// answered, the first is revoked (then refused with KEY_NOT_FOUND), and
// the control API refuses bad input with the documented statuses. After
// each control step a signed inquiry shows what the gateway accepts.
func TestKeyRotationControl(t *testing.T) {
	e := newEnv(t)
	pub2, err := gateway.EncodePublicKey(&otherKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(version, key string) string {
		b, _ := json.Marshal(map[string]string{"keyVersion": version, "publicKey": key})
		return string(b)
	}
	base := "/_sim/merchants/" + testClientID + "/keys"
	inq := rawReq{path: gateway.PrefixProduction + gateway.PathInquiryPayment, clientID: testClientID, body: `{"paymentRequestId":"nope"}`}
	v1, v2 := inq, inq
	v1.keyVersion = "1"
	v2.keyVersion, v2.key = "2", otherKey
	steps := []struct {
		name, method, path, body string
		status                   int
		// what a request signed under each version is answered with afterwards
		v1Code, v2Code string
		versions       []string
	}{
		{"only the first version", "GET", base, "", 200, gateway.CodeOrderNotExist, gateway.CodeKeyNotFound, []string{"1"}},
		{"issue version 2", "POST", base, issue("2", pub2), 200, gateway.CodeOrderNotExist, gateway.CodeOrderNotExist, []string{"1", "2"}},
		{"issue without a key", "POST", base, issue("3", ""), 400, gateway.CodeOrderNotExist, gateway.CodeOrderNotExist, []string{"1", "2"}},
		{"issue without a version", "POST", base, issue("", pub2), 400, gateway.CodeOrderNotExist, gateway.CodeOrderNotExist, []string{"1", "2"}},
		{"issue for an unknown merchant", "POST", "/_sim/merchants/SANDBOX_NOBODY/keys", issue("2", pub2), 404, gateway.CodeOrderNotExist, gateway.CodeOrderNotExist, []string{"1", "2"}},
		{"revoke version 1", "DELETE", base + "/1", "", 200, gateway.CodeKeyNotFound, gateway.CodeOrderNotExist, []string{"2"}},
		{"revoke version 1 again", "DELETE", base + "/1", "", 404, gateway.CodeKeyNotFound, gateway.CodeOrderNotExist, []string{"2"}},
		{"revoke for an unknown merchant", "DELETE", "/_sim/merchants/SANDBOX_NOBODY/keys/2", "", 404, gateway.CodeKeyNotFound, gateway.CodeOrderNotExist, []string{"2"}},
		{"revoke the last version", "DELETE", base + "/2", "", 200, gateway.CodeKeyNotFound, gateway.CodeKeyNotFound, []string{}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if got := e.control(s.method, s.path, s.body, nil); got != s.status {
				t.Fatalf("%s %s: HTTP %d, want %d", s.method, s.path, got, s.status)
			}
			for _, c := range []struct {
				req  rawReq
				want string
			}{{v1, s.v1Code}, {v2, s.v2Code}} {
				status, res, hdr := e.raw(c.req)
				if status != http.StatusOK || res.ResultCode != c.want {
					t.Errorf("keyVersion %s: HTTP %d %+v, want %s", c.req.keyVersion, status, res, c.want)
				}
				if gateway.Codes[c.want].Status != res.ResultStatus || hdr.Get("Signature") == "" {
					t.Errorf("keyVersion %s: status %s (want %s), signed response %t", c.req.keyVersion, res.ResultStatus,
						gateway.Codes[c.want].Status, hdr.Get("Signature") != "")
				}
			}
			var got struct{ KeyVersions []string }
			if st := e.control("GET", base, "", &got); st != 200 || !slices.Equal(got.KeyVersions, s.versions) {
				t.Errorf("key versions: HTTP %d %v, want %v", st, got.KeyVersions, s.versions)
			}
		})
	}
}
