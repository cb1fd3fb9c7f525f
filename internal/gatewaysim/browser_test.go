package gatewaysim

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// The checkout page in a real browser: headless Chromium (Debian's chromium
// package; .ci/run installs it) driven by chromedp. Nothing here downloads a
// browser: a missing binary fails the test with the command to install it.

// chromiumPath is $CHROMIUM or the first chromium on the PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on the PATH: apt-get install -y chromium (or set CHROMIUM to the browser binary)")
	return ""
}

// browserTab starts a fresh headless Chromium (its own profile directory)
// and returns a tab whose steps are screenshotted; on failure the
// screenshots are written to the test's output directory.
type browserTab struct {
	t    *testing.T
	ctx  context.Context
	mu   sync.Mutex
	shot map[string][]byte
	n    int
}

func newBrowserTab(t *testing.T) *browserTab {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // tests run as root in containers
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(800, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	b := &browserTab{t: t, ctx: ctx, shot: map[string][]byte{}}
	t.Cleanup(func() {
		b.saveScreenshots()
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", chromiumPath(t), err)
	}
	return b
}

// step runs actions, then screenshots the page under the step's name.
func (b *browserTab) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	err := chromedp.Do(b.ctx, actions...)
	if png, serr := chromedp.Run(b.ctx, chromedp.FullScreenshot(80)); serr == nil {
		b.mu.Lock()
		b.n++
		b.shot[fmt.Sprintf("%02d-%s.jpg", b.n, strings.ReplaceAll(name, " ", "-"))] = png
		b.mu.Unlock()
	}
	if err != nil {
		b.t.Fatalf("step %q: %v", name, err)
	}
}

// text returns the text of the element matching sel.
func (b *browserTab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// location is the page's current URL.
func (b *browserTab) location() string {
	b.t.Helper()
	u, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// saveScreenshots writes the screenshots when the test failed: under
// -artifacts into the test's artifact directory, else into a directory
// that is kept and logged.
func (b *browserTab) saveScreenshots() {
	if !b.t.Failed() || len(b.shot) == 0 {
		return
	}
	var dir string
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		dir = b.t.ArtifactDir()
	} else {
		var err error
		if dir, err = os.MkdirTemp("", "checkout-screenshots-"); err != nil {
			b.t.Logf("screenshots not saved: %v", err)
			return
		}
	}
	for name, png := range b.shot {
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			b.t.Logf("screenshot %s: %v", name, err)
		}
	}
	b.t.Logf("screenshots of each step: %s", dir)
}

// merchant is the shop the browser returns to after paying.
type merchantSite struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []string
}

func newMerchant(t *testing.T) *merchantSite {
	m := &merchantSite{}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/return" { // the browser's own requests (favicon.ico)
			http.NotFound(w, r)
			return
		}
		m.mu.Lock()
		m.hits = append(m.hits, r.URL.RequestURI())
		m.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>shop</title><h1 id="thanks">Thank you for order %s</h1>`, r.URL.Query().Get("order"))
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *merchantSite) returned() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.hits...)
}

// checkoutPayment makes a pay call whose user comes back to the merchant
// and returns the checkout URL.
func checkoutPayment(t *testing.T, e *env, req *gateway.PayRequest, m *merchantSite) string {
	t.Helper()
	req.PaymentRedirectURL = m.srv.URL + "/return?order=" + req.PaymentRequestID
	resp, c := e.pay(req)
	if c != gateway.CodePaymentInProcess || resp.NormalURL == "" {
		t.Fatalf("pay %s: %s, normalUrl %q", req.PaymentRequestID, c, resp.NormalURL)
	}
	return resp.NormalURL
}

func TestCheckoutInBrowser(t *testing.T) {
	chromiumPath(t) // fail early, with the install command
	t.Run("pay and return to the merchant", browserPay)
	t.Run("decline", browserDecline)
	t.Run("3-D Secure", browser3DS)
	t.Run("expired", browserExpired)
}

// browserPay: a wallet payment paid on the page returns the browser to the merchant.
func browserPay(t *testing.T) {
	e, m, b := newEnv(t), newMerchant(t), newBrowserTab(t)
	u := checkoutPayment(t, e, walletPay("b-pay", hkd("1050"), "ALIPAY_HK"), m)
	b.step("checkout", chromedp.Navigate(u), chromedp.WaitVisible(chromedp.ID("pay")))
	if got := b.text("#amount"); got != "HKD 10.50" {
		t.Errorf("amount shown %q, want HKD 10.50", got)
	}
	if got := b.text("#status"); got != gateway.PaymentStatusProcessing {
		t.Errorf("status shown %q", got)
	}
	b.step("paid", chromedp.Click(chromedp.ID("pay")), chromedp.WaitVisible(chromedp.ID("thanks")))
	if got := b.text("#thanks"); got != "Thank you for order b-pay" {
		t.Errorf("merchant page says %q", got)
	}
	if got := m.returned(); len(got) != 1 || got[0] != "/return?order=b-pay" {
		t.Errorf("merchant saw %v, want one return to /return?order=b-pay", got)
	}
	e.wantStatus("b-pay", gateway.PaymentStatusSuccess)
}

// browserDecline: Decline with a chosen code fails the payment with it.
func browserDecline(t *testing.T) {
	e, m, b := newEnv(t), newMerchant(t), newBrowserTab(t)
	u := checkoutPayment(t, e, walletPay("b-decline", hkd("2000"), "ALIPAY_HK"), m)
	b.step("checkout", chromedp.Navigate(u), chromedp.WaitVisible(chromedp.ID("decline")))
	b.step("declined",
		chromedp.SetValue(chromedp.CSS(`select[name="resultCode"]`), gateway.CodeRiskReject),
		chromedp.Click(chromedp.ID("decline")), chromedp.WaitVisible(chromedp.ID("thanks")))
	inq := e.inquiry("b-decline")
	if inq.PaymentStatus != gateway.PaymentStatusFail || inq.PaymentResultCode != gateway.CodeRiskReject {
		t.Errorf("after Decline with %s: status %s code %s", gateway.CodeRiskReject, inq.PaymentStatus, inq.PaymentResultCode)
	}
	if got := m.returned(); len(got) != 1 {
		t.Errorf("merchant saw %v, want one return", got)
	}
}

// browser3DS: a card payment goes through the challenge; a wrong code asks again.
func browser3DS(t *testing.T) {
	e, m, b := newEnv(t), newMerchant(t), newBrowserTab(t)
	u := checkoutPayment(t, e, cardPay("b-3ds", gateway.Amount{Currency: "USD", Value: "4200"}, "4111111111111111", true, "AUTOMATIC"), m)
	b.step("checkout", chromedp.Navigate(u), chromedp.WaitVisible(chromedp.ID("pay")))
	b.step("challenge", chromedp.Click(chromedp.ID("pay")), chromedp.WaitVisible(chromedp.ID("submit-3ds")))
	if loc := b.location(); !strings.HasSuffix(loc, "/3ds") {
		t.Errorf("after Pay the browser is at %s, want the 3-D Secure page", loc)
	}
	b.step("wrong code",
		chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), "000000"),
		chromedp.Click(chromedp.ID("submit-3ds")), chromedp.WaitVisible(chromedp.ID("error")))
	if got := b.text("#error"); got != "Wrong code, try again." {
		t.Errorf("after a wrong code: %q", got)
	}
	e.wantStatus("b-3ds", gateway.PaymentStatusProcessing)
	b.step("right code",
		chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), Magic3DSCode),
		chromedp.Click(chromedp.ID("submit-3ds")), chromedp.WaitVisible(chromedp.ID("thanks")))
	e.wantStatus("b-3ds", gateway.PaymentStatusSuccess)
	if got := m.returned(); len(got) != 1 || got[0] != "/return?order=b-3ds" {
		t.Errorf("merchant saw %v", got)
	}
}

// browserExpired: a page left open past the expiry cannot pay, and reopened offers nothing.
func browserExpired(t *testing.T) {
	e, m, b := newEnv(t), newMerchant(t), newBrowserTab(t)
	u := checkoutPayment(t, e, walletPay("b-expired", hkd("500"), "ALIPAY_HK"), m)
	b.step("checkout", chromedp.Navigate(u), chromedp.WaitVisible(chromedp.ID("pay")))
	e.sim.Advance(15 * time.Minute) // past the 14 minutes a cashier payment stays open
	// The page the user still has open: pressing Pay now changes nothing.
	b.step("pay too late", chromedp.Click(chromedp.ID("pay")), chromedp.WaitVisible(chromedp.ID("thanks")))
	inq := e.inquiry("b-expired")
	if inq.PaymentStatus != gateway.PaymentStatusFail || inq.PaymentResultCode != gateway.CodeOrderIsClosed {
		t.Errorf("after expiry: status %s code %s, want FAIL %s", inq.PaymentStatus, inq.PaymentResultCode, gateway.CodeOrderIsClosed)
	}
	// Opened again, the page offers neither Pay nor Decline.
	b.step("reopened", chromedp.Navigate(u), chromedp.WaitVisible(chromedp.ID("status")))
	if got := b.text("#status"); !strings.Contains(got, gateway.CodeOrderIsClosed) {
		t.Errorf("status shown %q, want it to name %s", got, gateway.CodeOrderIsClosed)
	}
	payButtons, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#pay, #decline").length`))
	if err != nil {
		t.Fatal(err)
	}
	if payButtons != 0 {
		t.Errorf("an expired payment shows %d Pay/Decline buttons", payButtons)
	}
}
