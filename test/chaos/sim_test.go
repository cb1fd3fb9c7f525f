package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
)

// simClient speaks alipay-sim's control API (docs/simulator.md), which
// faults never touch.
type simClient struct {
	base string
	hc   *http.Client
}

// errSimNotFound is a 404 of the control API.
var errSimNotFound = errors.New("not found at the simulator")

func newSimClient(base string) *simClient {
	return &simClient{base: strings.TrimRight(base, "/"), hc: &http.Client{Timeout: 30 * time.Second}}
}

func (s *simClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		switch v := in.(type) {
		case string:
			body = strings.NewReader(v)
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			body = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s %s: %w: %s", method, path, errSimNotFound, bytes.TrimSpace(raw))
	case resp.StatusCode >= 300:
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

func (s *simClient) setFaults(ctx context.Context, f gatewaysim.FaultProfile) error {
	return s.do(ctx, http.MethodPut, "/_sim/faults", f, nil)
}

func (s *simClient) faultsOff(ctx context.Context) error {
	return s.do(ctx, http.MethodPut, "/_sim/faults", "none", nil)
}

func (s *simClient) setBehavior(ctx context.Context, b gatewaysim.Behavior) error {
	return s.do(ctx, http.MethodPut, "/_sim/behavior", b, nil)
}

func (s *simClient) ledger(ctx context.Context) (gatewaysim.Ledger, error) {
	var l gatewaysim.Ledger
	err := s.do(ctx, http.MethodGet, "/_sim/ledger", nil, &l)
	return l, err
}

func (s *simClient) notifications(ctx context.Context) ([]gatewaysim.Notification, error) {
	var ns []gatewaysim.Notification
	err := s.do(ctx, http.MethodGet, "/_sim/notifications", nil, &ns)
	return ns, err
}

// paymentView is the part of GET /_sim/payments/{ref} the driver needs.
type paymentView struct {
	NormalURL string                  `json:"normalUrlPath"`
	Ledger    gatewaysim.PaymentEntry `json:"ledger"`
}

func (s *simClient) payment(ctx context.Context, ref string) (paymentView, error) {
	var v paymentView
	err := s.do(ctx, http.MethodGet, "/_sim/payments/"+url.PathEscape(ref), nil, &v)
	return v, err
}

func (s *simClient) complete(ctx context.Context, ref string) error {
	return s.do(ctx, http.MethodPost, "/_sim/payments/"+url.PathEscape(ref)+"/complete", "", nil)
}

func (s *simClient) decline(ctx context.Context, ref string) error {
	return s.do(ctx, http.MethodPost, "/_sim/payments/"+url.PathEscape(ref)+"/decline", `{"resultCode":"USER_BALANCE_NOT_ENOUGH"}`, nil)
}

// checkout opens the checkout page and presses button ("pay" or
// "decline") as a browser would, without following the redirect to the
// merchant's site.
func (s *simClient) checkout(ctx context.Context, pagePath, button string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+pagePath, nil)
	if err != nil {
		return err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(`id="`+button+`"`)) {
		return fmt.Errorf("checkout page %s: %s, no %q button", pagePath, resp.Status, button)
	}
	noFollow := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, s.base+pagePath+"/"+button, strings.NewReader(url.Values{}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = noFollow.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("POST %s/%s: %s", pagePath, button, resp.Status)
	}
	return nil
}

var faultRE = regexp.MustCompile(`\bfault=(\w+)`)

// apiFaults counts the API faults alipay-sim logged (one line per API call).
func apiFaults(logPath string) map[string]int {
	out := map[string]int{}
	b, err := os.ReadFile(logPath)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, `msg="api call"`) {
			continue
		}
		if m := faultRE.FindStringSubmatch(line); m != nil {
			out[m[1]]++
		}
	}
	return out
}
