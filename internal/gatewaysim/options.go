package gatewaysim

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// Options configures a Simulator. The zero value is usable: a manual clock at
// DefaultStart, a fresh gateway key, seed 0, no faults, synchronous captures
// and refunds, no automatic completion.
type Options struct {
	// GatewayKey signs responses and notifications; nil generates one.
	GatewayKey *rsa.PrivateKey
	// GatewayKeyVersion is the keyVersion in the gateway's signatures ("1").
	GatewayKeyVersion string
	// Clock drives all timers. Nil means NewManualClock(Start).
	Clock Clock
	// Start is the starting time of the default manual clock (DefaultStart).
	Start time.Time
	// Seed makes faults, AutoComplete.DeclineRate and ids deterministic.
	Seed uint64
	// PublicURL is the base URL put in normalUrl (e.g. "http://127.0.0.1:8080").
	// Empty means derived from each pay request's Host header.
	PublicURL string
	// Logger receives one line per API call; nil discards.
	Logger *slog.Logger
	// HTTPClient delivers notifications; nil means a client with NotifyTimeout.
	HTTPClient *http.Client
	// NotifyTimeout bounds one notification attempt in wall time (10s).
	NotifyTimeout time.Duration
	// DefaultPaymentExpiry closes unpaid cashier payments (14 minutes).
	DefaultPaymentExpiry time.Duration
	// AuthValidity is how long a card authorization can be captured (7 days).
	AuthValidity time.Duration
	// RefundWindow is how long after payment a refund is accepted (365 days).
	RefundWindow time.Duration
	// DefaultCaptureMode applies when paymentFactor.captureMode is absent:
	// "AUTOMATIC" (default) or "MANUAL".
	DefaultCaptureMode string
	// AllowRemoteControl serves /_sim/ to non-loopback clients too.
	AllowRemoteControl bool
	// PaymentOptions are the consult options of merchants added without their
	// own (DefaultPaymentOptions when nil).
	PaymentOptions []PaymentOptionConfig
	// Behavior and Faults are the initial runtime settings.
	Behavior Behavior
	Faults   FaultProfile
	// Reports configures the reconciliation reports and their SFTP server
	// (reports.go).
	Reports ReportOptions
}

// Behavior holds runtime-switchable processing choices (SetBehavior, PUT /_sim/behavior).
type Behavior struct {
	// CaptureAsync makes capture answer U CAPTURE_IN_PROCESS and finish after
	// CaptureDelay (then notifyCapture). Default: synchronous S.
	CaptureAsync bool     `json:"captureAsync"`
	CaptureDelay Duration `json:"captureDelay,omitempty"` // default 30s
	// RefundAsync makes every refund answer U REFUND_IN_PROCESS and finish
	// after RefundDelay. A request with isAsyncRefund=true is asynchronous
	// regardless.
	RefundAsync bool     `json:"refundAsync"`
	RefundDelay Duration `json:"refundDelay,omitempty"` // default 2m
	// DeclarationStep is the time a declaration spends in
	// WAITING_FOR_PROCESSING and then in PROCESSING (default 1m each).
	DeclarationStep Duration `json:"declarationStep,omitempty"`
	// AutoComplete settles in-process payments without a person.
	AutoComplete AutoComplete `json:"autoComplete"`
	// RegistrationAutoApprove > 0 reviews a merchant registration that long
	// (simulated) after it was submitted: every PSP still PENDING is
	// APPROVED, or REJECTED when listed in RegistrationRejectPSPs (both as
	// set at submission). 0: reviews come from the control API only.
	RegistrationAutoApprove Duration `json:"registrationAutoApprove,omitempty"`
	RegistrationRejectPSPs  []string `json:"registrationRejectPsps,omitempty"`
	// RequireMerchantRegistration refuses a pay for a secondary merchant
	// (order.merchant.referenceMerchantId) with F PAYMENT_NOT_QUALIFIED
	// unless the merchant's latest registration has the payment method
	// approved. Pays without a secondary merchant are unaffected.
	RequireMerchantRegistration bool `json:"requireMerchantRegistration"`
}

// AutoComplete is the policy for unattended runs: After (simulated) time
// after pay, a payment still in process is completed as if the user had
// paid (3-D Secure passed), unless a magic value says decline, or the seeded
// random draw against DeclineRate says decline (USER_BALANCE_NOT_ENOUGH).
// After == 0 disables it.
type AutoComplete struct {
	After       Duration `json:"after,omitempty"`
	DeclineRate float64  `json:"declineRate,omitempty"`
	// Methods restricts the policy to these paymentMethodTypes (empty: all).
	Methods []string `json:"methods,omitempty"`
}

func (b Behavior) captureDelay() time.Duration {
	if b.CaptureDelay > 0 {
		return time.Duration(b.CaptureDelay)
	}
	return 30 * time.Second
}

func (b Behavior) refundDelay() time.Duration {
	if b.RefundDelay > 0 {
		return time.Duration(b.RefundDelay)
	}
	return 2 * time.Minute
}

func (b Behavior) declarationStep() time.Duration {
	if b.DeclarationStep > 0 {
		return time.Duration(b.DeclarationStep)
	}
	return time.Minute
}

// FaultProfile injects failures. Probabilities are in [0,1] and drawn from the
// simulator's seeded generator, so a run is reproducible for a given seed and
// request order. Faults apply to the gateway APIs only (never to /_sim/ or the
// checkout page).
type FaultProfile struct {
	// Name is informational (set by NamedFaultProfile).
	Name string `json:"name,omitempty"`
	// APIs limits the API faults to these API names ("pay", "refund", ...);
	// empty means every API.
	APIs []string `json:"apis,omitempty"`
	// Latency is added (wall time) before every answer, plus a uniform random
	// part below LatencyJitter.
	Latency       Duration `json:"latency,omitempty"`
	LatencyJitter Duration `json:"latencyJitter,omitempty"`
	// UnknownException answers U UNKNOWN_EXCEPTION without doing anything.
	UnknownException float64 `json:"unknownException,omitempty"`
	// ServerError answers HTTP 503 (unsigned, plain text) without doing anything.
	ServerError float64 `json:"serverError,omitempty"`
	// ResponseLost performs the operation, then loses the answer: the
	// connection is closed without a response (ResponseLostMode "drop",
	// default) or an empty HTTP 502 is sent ("502").
	ResponseLost     float64 `json:"responseLost,omitempty"`
	ResponseLostMode string  `json:"responseLostMode,omitempty"`
	// RateLimitQPS > 0 enables a token bucket per Client-Id on the simulated
	// clock; requests above it get U REQUEST_TRAFFIC_EXCEED_LIMIT. Burst is
	// the bucket size (default: QPS rounded up, at least 1).
	RateLimitQPS   float64 `json:"rateLimitQps,omitempty"`
	RateLimitBurst int     `json:"rateLimitBurst,omitempty"`
	// Notification faults, per attempt: NotifyDrop loses the attempt (it
	// counts as unacknowledged, so the retry schedule goes on), NotifyDuplicate
	// sends it twice, NotifyReorder holds it back until the merchant's next
	// notification has been sent (or NotifyReorderHold passes, default 1m),
	// NotifyDelayRate adds NotifyDelay (simulated time) before the first send.
	NotifyDrop        float64  `json:"notifyDrop,omitempty"`
	NotifyDuplicate   float64  `json:"notifyDuplicate,omitempty"`
	NotifyReorder     float64  `json:"notifyReorder,omitempty"`
	NotifyReorderHold Duration `json:"notifyReorderHold,omitempty"`
	NotifyDelayRate   float64  `json:"notifyDelayRate,omitempty"`
	NotifyDelay       Duration `json:"notifyDelay,omitempty"`
}

func (f FaultProfile) appliesTo(api string) bool {
	if len(f.APIs) == 0 {
		return true
	}
	for _, a := range f.APIs {
		if a == api {
			return true
		}
	}
	return false
}

// Validate checks probabilities and modes.
func (f FaultProfile) Validate() error {
	for name, p := range map[string]float64{
		"unknownException": f.UnknownException, "serverError": f.ServerError, "responseLost": f.ResponseLost,
		"notifyDrop": f.NotifyDrop, "notifyDuplicate": f.NotifyDuplicate, "notifyReorder": f.NotifyReorder,
		"notifyDelayRate": f.NotifyDelayRate,
	} {
		if p < 0 || p > 1 {
			return fmt.Errorf("fault %s = %v is not a probability in [0,1]", name, p)
		}
	}
	switch f.ResponseLostMode {
	case "", "drop", "502":
	default:
		return fmt.Errorf("responseLostMode %q: want \"drop\" or \"502\"", f.ResponseLostMode)
	}
	if f.RateLimitQPS < 0 || f.RateLimitBurst < 0 {
		return fmt.Errorf("rate limit must not be negative")
	}
	for _, a := range f.APIs {
		if _, ok := apiByName[a]; !ok {
			return fmt.Errorf("fault apis: unknown API %q", a)
		}
	}
	return nil
}

// NamedFaultProfiles are the profiles --fault-profile and PUT /_sim/faults
// accept by name.
var NamedFaultProfiles = map[string]FaultProfile{
	"none": {},
	// flaky: occasional transport and gateway trouble.
	"flaky": {UnknownException: 0.05, ServerError: 0.02, ResponseLost: 0.02, NotifyDrop: 0.1, NotifyDuplicate: 0.05},
	// chaos: everything, often.
	"chaos": {Latency: Duration(20 * time.Millisecond), LatencyJitter: Duration(50 * time.Millisecond),
		UnknownException: 0.15, ServerError: 0.1, ResponseLost: 0.1, RateLimitQPS: 50,
		NotifyDrop: 0.3, NotifyDuplicate: 0.2, NotifyReorder: 0.2, NotifyDelayRate: 0.2, NotifyDelay: Duration(5 * time.Minute)},
	// slow: latency only.
	"slow": {Latency: Duration(300 * time.Millisecond), LatencyJitter: Duration(200 * time.Millisecond)},
	// lossy-notify: notification trouble only.
	"lossy-notify": {NotifyDrop: 0.5, NotifyDuplicate: 0.25, NotifyReorder: 0.25},
	// lost-responses: every answer is lost after the operation committed.
	"lost-responses": {ResponseLost: 1},
	// throttled: 5 requests per simulated second per client.
	"throttled": {RateLimitQPS: 5, RateLimitBurst: 5},
}

// ParseFaultProfile reads a profile name (see NamedFaultProfiles) or a JSON
// FaultProfile.
func ParseFaultProfile(s string) (FaultProfile, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return FaultProfile{}, nil
	}
	if !strings.HasPrefix(s, "{") {
		p, ok := NamedFaultProfiles[s]
		if !ok {
			return FaultProfile{}, fmt.Errorf("unknown fault profile %q", s)
		}
		p.Name = s
		return p, nil
	}
	var p FaultProfile
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return FaultProfile{}, fmt.Errorf("fault profile JSON: %w", err)
	}
	if p.Name != "" && !hasSettings(p) {
		named, ok := NamedFaultProfiles[p.Name]
		if !ok {
			return FaultProfile{}, fmt.Errorf("unknown fault profile %q", p.Name)
		}
		named.Name = p.Name
		p = named
	}
	return p, p.Validate()
}

func hasSettings(p FaultProfile) bool {
	p.Name = ""
	b, _ := json.Marshal(p)
	return string(b) != "{}"
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("90s", "15m") and also reads a number of nanoseconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "1m30s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration: want a string like \"1m30s\" or nanoseconds")
	}
	*d = Duration(n)
	return nil
}

// PaymentOptionConfig is one consult payment option of a merchant.
type PaymentOptionConfig struct {
	PaymentMethodType     string   `json:"paymentMethodType"`
	PaymentMethodCategory string   `json:"paymentMethodCategory,omitempty"` // WALLET, CARD, ...
	Regions               []string `json:"regions,omitempty"`               // ISO-2 or GLOBAL
	Currencies            []string `json:"currencies,omitempty"`            // empty: any currency
	CardBrands            []string `json:"cardBrands,omitempty"`            // CARD only
	Disabled              bool     `json:"disabled,omitempty"`
}

func (o PaymentOptionConfig) supports(currency string) bool {
	if len(o.Currencies) == 0 {
		return true
	}
	for _, c := range o.Currencies {
		if c == currency {
			return true
		}
	}
	return false
}

// DefaultPaymentOptions is what a merchant offers unless configured otherwise.
func DefaultPaymentOptions() []PaymentOptionConfig {
	return []PaymentOptionConfig{
		{PaymentMethodType: "CARD", PaymentMethodCategory: "CARD", Regions: []string{"GLOBAL"},
			CardBrands: []string{"VISA", "MASTERCARD", "AMEX", "UNIONPAY", "JCB", "DINERS", "DISCOVER"}},
		{PaymentMethodType: "ALIPAY_CN", PaymentMethodCategory: "WALLET", Regions: []string{"CN"}},
		{PaymentMethodType: "ALIPAY_HK", PaymentMethodCategory: "WALLET", Regions: []string{"HK"}, Currencies: []string{"HKD"}},
		{PaymentMethodType: "GCASH", PaymentMethodCategory: "WALLET", Regions: []string{"PH"}, Currencies: []string{"PHP"}},
		{PaymentMethodType: "DANA", PaymentMethodCategory: "WALLET", Regions: []string{"ID"}, Currencies: []string{"IDR"}},
		{PaymentMethodType: "TRUEMONEY", PaymentMethodCategory: "WALLET", Regions: []string{"TH"}, Currencies: []string{"THB"}},
		{PaymentMethodType: "TNG", PaymentMethodCategory: "WALLET", Regions: []string{"MY"}, Currencies: []string{"MYR"}},
		{PaymentMethodType: "KAKAOPAY", PaymentMethodCategory: "WALLET", Regions: []string{"KR"}, Currencies: []string{"KRW"}},
		{PaymentMethodType: "BKASH", PaymentMethodCategory: "WALLET", Regions: []string{"BD"}, Currencies: []string{"BDT"}},
		{PaymentMethodType: "EASYPAISA", PaymentMethodCategory: "WALLET", Regions: []string{"PK"}, Currencies: []string{"PKR"}},
		{PaymentMethodType: "JKOPAY", PaymentMethodCategory: "WALLET", Regions: []string{"TW"}, Currencies: []string{"TWD"}},
		{PaymentMethodType: "OCTOPUS", PaymentMethodCategory: "WALLET", Regions: []string{"HK"}, Currencies: []string{"HKD"}},
	}
}

// fillDefaults sets every option left zero to its default (a fresh gateway
// key, a manual clock at DefaultStart, the gateway's windows) and checks the
// ones given.
func (o *Options) fillDefaults() error {
	if o.GatewayKey == nil {
		k, err := gateway.GenerateKey()
		if err != nil {
			return err
		}
		o.GatewayKey = k
	}
	if o.GatewayKeyVersion == "" {
		o.GatewayKeyVersion = "1"
	}
	if o.Clock == nil {
		start := o.Start
		if start.IsZero() {
			start = DefaultStart
		}
		o.Clock = NewManualClock(start)
	}
	if o.NotifyTimeout <= 0 {
		o.NotifyTimeout = 10 * time.Second
	}
	if o.DefaultPaymentExpiry <= 0 {
		o.DefaultPaymentExpiry = 14 * time.Minute
	}
	if o.AuthValidity <= 0 {
		o.AuthValidity = 7 * 24 * time.Hour
	}
	if o.RefundWindow <= 0 {
		o.RefundWindow = 365 * 24 * time.Hour
	}
	switch o.DefaultCaptureMode {
	case "":
		o.DefaultCaptureMode = captureAutomatic
	case captureAutomatic, captureManual:
	default:
		return fmt.Errorf("DefaultCaptureMode %q: want AUTOMATIC or MANUAL", o.DefaultCaptureMode)
	}
	if err := o.Faults.Validate(); err != nil {
		return err
	}
	if o.PaymentOptions == nil {
		o.PaymentOptions = DefaultPaymentOptions()
	}
	return nil
}
