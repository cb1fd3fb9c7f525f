package chaos

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
)

// profile sizes a run.
type profile struct {
	name     string
	payments int
	// Payments are created in waves of waveSize, waveGap apart.
	waveSize int
	waveGap  time.Duration
	// Kills and restarts, at random points of [chaosFrom, chaosTo] after
	// the first wave.
	managerKills, receiverKills, apiserverRestarts int
	chaosFrom, chaosTo                             time.Duration
	// faults are on from the first wave until every object is created and
	// every kill is done.
	faults gatewaysim.FaultProfile
	// forgeFrom is how many real notifications are forged from.
	forgeFrom int
	// driveTimeout bounds one payment's script; settleTimeout the wait for
	// every object's final state once the faults are off.
	driveTimeout, settleTimeout time.Duration
	// timeout bounds the whole test.
	timeout time.Duration
}

func faultProfile(qps float64) gatewaysim.FaultProfile {
	return gatewaysim.FaultProfile{
		Name:    "chaos-suite",
		Latency: gatewaysim.Duration(2 * time.Millisecond), LatencyJitter: gatewaysim.Duration(15 * time.Millisecond),
		UnknownException: 0.07, ServerError: 0.05, ResponseLost: 0.07,
		RateLimitQPS: qps, RateLimitBurst: int(qps),
		NotifyDrop: 0.07, NotifyDuplicate: 0.07,
		NotifyReorder: 0.07, NotifyReorderHold: gatewaysim.Duration(20 * time.Second),
		NotifyDelayRate: 0.07, NotifyDelay: gatewaysim.Duration(10 * time.Second),
	}
}

func loadProfile(t *testing.T) profile {
	t.Helper()
	switch p := os.Getenv("CHAOS_PROFILE"); p {
	case "", "small":
		return profile{name: "small", payments: 30, waveSize: 6, waveGap: 5 * time.Second,
			managerKills: 2, receiverKills: 1, apiserverRestarts: 1,
			chaosFrom: 3 * time.Second, chaosTo: 35 * time.Second,
			faults: faultProfile(8), forgeFrom: 6,
			driveTimeout: 4 * time.Minute, settleTimeout: 4 * time.Minute, timeout: 9 * time.Minute}
	case "full":
		return profile{name: "full", payments: 220, waveSize: 10, waveGap: 6 * time.Second,
			managerKills: 6, receiverKills: 3, apiserverRestarts: 1,
			chaosFrom: 5 * time.Second, chaosTo: 150 * time.Second,
			faults: faultProfile(15), forgeFrom: 20,
			driveTimeout: 15 * time.Minute, settleTimeout: 15 * time.Minute, timeout: 55 * time.Minute}
	default:
		t.Fatalf("CHAOS_PROFILE=%q: want small or full", p)
		return profile{}
	}
}

func loadSeed(t *testing.T) uint64 {
	t.Helper()
	s := os.Getenv("CHAOS_SEED")
	if s == "" {
		return 1
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("CHAOS_SEED=%q: %v", s, err)
	}
	return n
}

// payKind is the shape of a payment's script.
type payKind string

const (
	kindWallet payKind = "wallet" // ALIPAY_HK in HKD, paid or declined by the user
	kindCard   payKind = "card"   // a card authorization, captureMode Manual
	kindCN     payKind = "cn"     // ALIPAY_CN in CNY, completed by the simulator, then declared to customs
)

// How the payment is finished at the gateway.
const (
	viaControl  = "control"  // POST /_sim/payments/{ref}/complete|decline
	viaCheckout = "checkout" // the checkout page's Pay / Decline buttons
	viaAuto     = "auto"     // the simulator's AutoComplete (amount magic declines)
	via2D       = "2d"       // card data in the request: the answer is final at once
)

// paymentPlan is one payment's script and what it must end as.
type paymentPlan struct {
	Name     string
	Kind     payKind
	Method   string
	Currency string
	Amount   int64 // minor units
	Declined bool
	Via      string
	CardNo   string
	// Eager children are created right after the Payment (they wait for
	// it); the others once the Payment reached its phase. Card refunds are
	// always created once every capture succeeded.
	Eager bool
	// Reapply deletes the Payment right after it is created (while its pay
	// call may be in flight) and applies its manifest again, as a GitOps
	// tool's self-heal does: the new object must adopt, never pay again.
	Reapply      bool
	Captures     []opPlan
	Refunds      []opPlan
	Declarations []opPlan
}

// opPlan is one Capture, Refund or CustomsDeclaration.
type opPlan struct {
	Name       string
	Amount     int64
	CaptureRef string // refunds: spec.captureRef
	Customs    string // declarations: customs office
	SubOrder   string // declarations: sub-order id when split
	Expect     v1.OperationPhase
	// Reapply deletes the operation right after it is created and applies
	// its manifest again.
	Reapply bool
}

// expectPhase is the Payment's final phase.
func (p *paymentPlan) expectPhase() v1.PaymentPhase {
	switch {
	case p.Declined:
		return v1.PaymentFailed
	case p.Kind == kindCard && p.capturedPlanned() < p.Amount:
		return v1.PaymentAuthorized
	}
	return v1.PaymentSucceeded
}

func (p *paymentPlan) capturedPlanned() int64 {
	var s int64
	for _, c := range p.Captures {
		if c.Expect == v1.OperationSucceeded {
			s += c.Amount
		}
	}
	return s
}

func sumOps(ops []opPlan, phase v1.OperationPhase) (sum int64, n int) {
	for _, o := range ops {
		if o.Expect == phase {
			sum += o.Amount
			n++
		}
	}
	return sum, n
}

// received is what the gateway receives for a successful payment: its
// amount, or for a card authorization what its captures take.
func (p *paymentPlan) received() int64 {
	if p.Kind == kindCard {
		capSum, _ := sumOps(p.Captures, v1.OperationSucceeded)
		return capSum
	}
	return p.Amount
}

// major renders minor units of a 2-decimal currency.
func major(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }

// magic reports whether an amount's last four digits trigger simulator
// magic (declines, pending, failing refunds).
func magic(minor int64) bool { m := minor % 10000; return m >= 9950 && m <= 9959 }

// unmagic moves an amount off the magic endings.
func unmagic(minor int64) int64 {
	for magic(minor) {
		minor += 10
	}
	return minor
}

// split divides total into n parts of at least min each (total >= n*min),
// none with a magic amount.
func split(r *rand.Rand, total int64, n int, min int64) []int64 {
	parts := make([]int64, n)
	left := total
	for i := 0; i < n-1; i++ {
		rest := int64(n - i)
		hi := left - (rest-1)*min // leave min for each later part
		if avg := 2 * left / rest; avg < hi {
			hi = avg
		}
		if hi < min {
			hi = min
		}
		parts[i] = min + r.Int64N(hi-min+1)
		left -= parts[i]
	}
	parts[n-1] = left
	for i := range parts {
		for magic(parts[i]) {
			parts[i] -= 10
			if n > 1 {
				parts[(i+1)%n] += 10
			}
		}
	}
	return parts
}

// makePlan draws the payments' scripts from seed: about 40% wallets, 35%
// card authorizations, 25% ALIPAY_CN; each kind has declined payments.
func makePlan(seed uint64, n int) []*paymentPlan {
	r := rand.New(rand.NewPCG(seed, 0xC4A05))
	seen := map[payKind]int{}
	var plans []*paymentPlan
	for i, k := range drawKinds(r, n) {
		seen[k]++
		p := &paymentPlan{Kind: k, Eager: r.IntN(2) == 0}
		// The second payment of each kind is declined, then about one in ten.
		p.Declined = seen[k] == 2 || r.IntN(10) == 0
		switch k {
		case kindWallet:
			planWallet(r, p, i)
		case kindCard:
			planCard(r, p, i)
		case kindCN:
			planCN(r, p, i)
		}
		plans = append(plans, p)
	}
	drawReapply(seed, plans)
	return plans
}

// drawKinds is n payment kinds in the plan's proportions, shuffled.
func drawKinds(r *rand.Rand, n int) []payKind {
	kinds := make([]payKind, 0, n)
	nCard, nCN := n*35/100, n*25/100
	for i := 0; i < n; i++ {
		switch {
		case i < nCard:
			kinds = append(kinds, kindCard)
		case i < nCard+nCN:
			kinds = append(kinds, kindCN)
		default:
			kinds = append(kinds, kindWallet)
		}
	}
	r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	return kinds
}

// planWallet: an ALIPAY_HK payment paid through the control API or the
// checkout page, then maybe refunded in one or two parts (a declined one
// may get a refund that must fail).
func planWallet(r *rand.Rand, p *paymentPlan, i int) {
	p.Name = fmt.Sprintf("w-%03d", i)
	p.Method, p.Currency = "ALIPAY_HK", "HKD"
	p.Amount = unmagic(1000 + r.Int64N(99000))
	p.Via = viaControl
	if r.IntN(2) == 0 {
		p.Via = viaCheckout
	}
	if p.Declined {
		if r.IntN(2) == 0 {
			p.Refunds = append(p.Refunds, opPlan{Name: p.Name + "-ref1", Amount: p.Amount / 2, Expect: v1.OperationFailed})
		}
		return
	}
	if r.IntN(5) < 3 {
		n := 1 + r.IntN(2)
		total := p.Amount * int64(30+r.IntN(71)) / 100
		if r.IntN(8) == 0 {
			total = p.Amount // refunded in full
		}
		if total < int64(n)*100 {
			total = int64(n) * 100
		}
		for j, a := range split(r, total, n, 100) {
			p.Refunds = append(p.Refunds, opPlan{Name: fmt.Sprintf("%s-ref%d", p.Name, j+1), Amount: a, Expect: v1.OperationSucceeded})
		}
	}
}

// planCard: a 2D card authorization captured in one to three parts (in
// full or in part), then maybe refunded; a declined card may get a capture
// that must fail.
func planCard(r *rand.Rand, p *paymentPlan, i int) {
	p.Name = fmt.Sprintf("c-%03d", i)
	p.Method, p.Currency, p.Via = "CARD", "USD", via2D
	p.Amount = unmagic(2000 + r.Int64N(48000))
	p.CardNo = []string{"4111111111111111", "5555555555554444"}[r.IntN(2)]
	if p.Declined {
		p.CardNo = "4000000000000002" // USER_BALANCE_NOT_ENOUGH
		if r.IntN(2) == 0 {
			p.Captures = append(p.Captures, opPlan{Name: p.Name + "-cap1", Amount: p.Amount, Expect: v1.OperationFailed})
		}
		return
	}
	n := 1 + r.IntN(3)
	total := p.Amount
	if r.IntN(5) >= 2 {
		total = p.Amount * int64(40+r.IntN(56)) / 100
	}
	for j, a := range split(r, total, n, 100) {
		p.Captures = append(p.Captures, opPlan{Name: fmt.Sprintf("%s-cap%d", p.Name, j+1), Amount: a, Expect: v1.OperationSucceeded})
	}
	if r.IntN(5) < 3 {
		n := 1 + r.IntN(2)
		rt := total * int64(20+r.IntN(81)) / 100
		if rt < int64(n)*100 {
			rt = int64(n) * 100
		}
		for j, a := range split(r, rt, n, 100) {
			p.Refunds = append(p.Refunds, opPlan{Name: fmt.Sprintf("%s-ref%d", p.Name, j+1), Amount: a, Expect: v1.OperationSucceeded})
		}
		// A lone refund may name the capture it refunds.
		if n == 1 && p.Refunds[0].Amount <= p.Captures[0].Amount && r.IntN(2) == 0 {
			p.Refunds[0].CaptureRef = p.Captures[0].Name
		}
	}
}

// planCustoms are the customs offices the declarations go to.
var planCustoms = []string{"ZONGSHU", "HANGZHOU", "NINGBO", "SHANGHAI_CBT"}

// planCN: an ALIPAY_CN payment the simulator completes, declared to customs
// in one part or two sub-orders; a declined one (magic amount) may get a
// declaration that must fail.
func planCN(r *rand.Rand, p *paymentPlan, i int) {
	p.Name = fmt.Sprintf("cn-%03d", i)
	p.Method, p.Currency, p.Via = "ALIPAY_CN", "CNY", viaAuto
	p.Amount = unmagic(5000 + r.Int64N(95000))
	if p.Declined {
		p.Amount = p.Amount/10000*10000 + 9951 // completion declines USER_BALANCE_NOT_ENOUGH
		if r.IntN(2) == 0 {
			p.Declarations = append(p.Declarations, opPlan{Name: p.Name + "-dcl1", Amount: p.Amount,
				Customs: planCustoms[r.IntN(len(planCustoms))], Expect: v1.OperationFailed})
		}
		return
	}
	n := 1 + r.IntN(2)
	total := p.Amount * int64(50+r.IntN(51)) / 100
	for j, a := range split(r, total, n, 100) {
		d := opPlan{Name: fmt.Sprintf("%s-dcl%d", p.Name, j+1), Amount: a, Customs: planCustoms[r.IntN(len(planCustoms))], Expect: v1.OperationSucceeded}
		if n > 1 {
			d.SubOrder = fmt.Sprintf("%s-sub%d", p.Name, j+1)
		}
		p.Declarations = append(p.Declarations, d)
	}
}

// ---- objects -------------------------------------------------------------------

func amountOf(currency string, minor int64) v1.Money {
	return v1.Money{Currency: currency, Value: major(minor)}
}

func (p *paymentPlan) payment(ns, gwc string) *v1.Payment {
	obj := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: ns}, Spec: v1.PaymentSpec{
		GatewayRef: v1.GatewayReference{Name: gwc}, Amount: amountOf(p.Currency, p.Amount),
		PaymentMethod: v1.PaymentMethod{Type: p.Method}, Env: v1.TerminalEnv{TerminalType: "WEB"},
		RedirectURL: "https://shop.example.com/done",
		Order:       &v1.Order{ReferenceOrderID: "order-" + p.Name, Description: "chaos " + string(p.Kind)},
	}}
	if p.Kind == kindCard {
		obj.Spec.PaymentMethod.CardSecretRef = &v1.SecretReference{Name: p.Name + "-card"}
		obj.Spec.PaymentMethod.ThreeDS = new(bool)
		obj.Spec.Authorization = true
		obj.Spec.CaptureMode = v1.CaptureManual
	}
	return obj
}

func (p *paymentPlan) cardSecret(ns string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: p.Name + "-card", Namespace: ns}, StringData: map[string]string{
		v1.CardSecretKeyNumber: p.CardNo, v1.CardSecretKeyCVV: "123", v1.CardSecretKeyExpiryMonth: "12",
		v1.CardSecretKeyExpiryYear: "2031", v1.CardSecretKeyHolderName: "Chaos Monkey"}}
}

func (p *paymentPlan) capture(ns string, o opPlan) *v1.Capture {
	return &v1.Capture{ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: ns},
		Spec: v1.CaptureSpec{PaymentRef: v1.LocalObjectReference{Name: p.Name}, Amount: amountOf(p.Currency, o.Amount)}}
}

func (p *paymentPlan) refund(ns string, o opPlan) *v1.Refund {
	r := &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: ns},
		Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: p.Name}, Amount: amountOf(p.Currency, o.Amount), Reason: "returned goods"}}
	if o.CaptureRef != "" {
		r.Spec.CaptureRef = &v1.LocalObjectReference{Name: o.CaptureRef}
	}
	return r
}

func (p *paymentPlan) declaration(ns string, o opPlan) *v1.CustomsDeclaration {
	return &v1.CustomsDeclaration{ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: ns},
		Spec: v1.CustomsDeclarationSpec{PaymentRef: v1.LocalObjectReference{Name: p.Name}, Amount: amountOf("CNY", o.Amount),
			Customs: v1.CustomsOffice{Code: o.Customs, Region: "CN"}, MerchantCustomsCode: "SHOP001", MerchantCustomsName: "Chaos Shop",
			SplitOrder: o.SubOrder != "", SubOrderID: o.SubOrder}}
}

// drawReapply marks about one payment in five and one operation in six for
// deletion and re-apply mid-flight, from a stream of its own so that the
// rest of the plan does not depend on it.
func drawReapply(seed uint64, plans []*paymentPlan) {
	r := rand.New(rand.NewPCG(seed, 0x6E7A99))
	for _, p := range plans {
		p.Reapply = r.IntN(5) == 0
		for _, l := range [][]opPlan{p.Captures, p.Refunds, p.Declarations} {
			for i := range l {
				l[i].Reapply = r.IntN(6) == 0
			}
		}
	}
}

// ---- kill schedule -------------------------------------------------------------

type chaosEvent struct {
	at     time.Duration // after the first wave
	target string        // manager, notification-receiver, kube-apiserver
	down   time.Duration // how long a killed process stays down
}

func schedule(seed uint64, prof profile) []chaosEvent {
	r := rand.New(rand.NewPCG(seed, 0x5EED))
	var evs []chaosEvent
	add := func(n int, target string) {
		for i := 0; i < n; i++ {
			at := prof.chaosFrom + time.Duration(r.Int64N(int64(prof.chaosTo-prof.chaosFrom)))
			evs = append(evs, chaosEvent{at: at, target: target, down: time.Duration(200+r.IntN(2300)) * time.Millisecond})
		}
	}
	add(prof.managerKills, "manager")
	add(prof.receiverKills, "notification-receiver")
	add(prof.apiserverRestarts, "kube-apiserver")
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].at < evs[j-1].at; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	return evs
}
