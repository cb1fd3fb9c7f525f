package gatewaysim

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// Notification kinds.
const (
	KindNotifyPayment = "notifyPayment"
	KindNotifyCapture = "notifyCapture"
	KindNotifyRefund  = "notifyRefund"
	KindNotifyDispute = "notifyDispute"
)

// Notification states.
const (
	NotificationPending   = "PENDING"   // waiting for its next attempt
	NotificationHeld      = "HELD"      // held back by the reorder fault
	NotificationDelivered = "DELIVERED" // acknowledged with gateway.NotificationAck
	NotificationGaveUp    = "GAVE_UP"   // 8 attempts unacknowledged
	NotificationNoURL     = "NO_URL"    // neither the request nor the merchant gave a URL
)

// Notification is one notification and its delivery history.
type Notification struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	ClientID  string          `json:"clientId"`
	URL       string          `json:"url,omitempty"`
	PaymentID string          `json:"paymentId,omitempty"`
	RequestID string          `json:"requestId,omitempty"` // paymentRequestId, captureRequestId, refundRequestId or disputeId
	Body      json.RawMessage `json:"body"`
	CreatedAt time.Time       `json:"createdAt"`
	State     string          `json:"state"`
	Attempts  []Attempt       `json:"attempts,omitempty"`
}

// Attempt is one send of a notification.
type Attempt struct {
	N          int       `json:"n"`    // 1..8
	Time       time.Time `json:"time"` // simulated
	StatusCode int       `json:"statusCode,omitempty"`
	Acked      bool      `json:"acked"`
	Error      string    `json:"error,omitempty"`
	Fault      string    `json:"fault,omitempty"` // dropped, duplicate, delayed, reordered
	Response   string    `json:"response,omitempty"`
}

type notif struct {
	Notification
	m        *merchant
	attempts int // sends scheduled so far
	fault    string
}

type job struct {
	n   *notif
	due time.Time
}

type dqueue struct {
	jobs    []job
	running bool
}

type notifier struct {
	s       *Simulator
	mu      sync.Mutex
	list    []*notif
	queues  map[string]*dqueue
	held    map[string][]*notif
	pending int
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newNotifier(s *Simulator) *notifier {
	ctx, cancel := context.WithCancel(context.Background())
	return &notifier{s: s, queues: map[string]*dqueue{}, held: map[string][]*notif{}, ctx: ctx, cancel: cancel}
}

func (nt *notifier) close() {
	nt.cancel()
	nt.wg.Wait()
}

func (nt *notifier) idle() bool {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	return nt.pending == 0
}

func (nt *notifier) waitIdle() {
	_ = nt.s.bc.waitUntil(nt.ctx, nt.idle, nil)
}

// enqueue creates a notification and schedules its first send. It may be
// called with the merchant's lock held.
func (nt *notifier) enqueue(m *merchant, kind, target, paymentID, requestID string, body any) {
	s := nt.s
	raw, _ := json.Marshal(body)
	now := s.clock.Now()
	n := &notif{m: m, Notification: Notification{
		ID: s.newID(idNotify), Kind: kind, ClientID: m.clientID, URL: target, PaymentID: paymentID,
		RequestID: requestID, Body: raw, CreatedAt: now, State: NotificationPending,
	}}
	nt.mu.Lock()
	nt.list = append(nt.list, n)
	nt.mu.Unlock()
	if target == "" {
		n.State = NotificationNoURL
		return
	}
	f := s.Faults()
	due := now
	if f.NotifyDelayRate > 0 && s.chance(f.NotifyDelayRate) {
		due = now.Add(time.Duration(f.NotifyDelay))
		n.fault = "delayed"
	} else if f.NotifyReorder > 0 && s.chance(f.NotifyReorder) {
		hold := time.Duration(f.NotifyReorderHold)
		if hold <= 0 {
			hold = time.Minute
		}
		nt.mu.Lock()
		n.State = NotificationHeld
		n.fault = "reordered"
		nt.held[m.clientID] = append(nt.held[m.clientID], n)
		nt.mu.Unlock()
		s.sched.at(now.Add(hold), "notify-release", func(at time.Time) { nt.release(m.clientID, n, at) })
		return
	}
	n.attempts = 1
	s.sched.at(due, "notify", func(at time.Time) { nt.dispatch(n, at, true) })
}

// release sends a held notification whose hold time ran out.
func (nt *notifier) release(clientID string, n *notif, at time.Time) {
	nt.mu.Lock()
	list := nt.held[clientID]
	idx := -1
	for i, h := range list {
		if h == n {
			idx = i
		}
	}
	if idx < 0 {
		nt.mu.Unlock()
		return
	}
	nt.held[clientID] = append(list[:idx:idx], list[idx+1:]...)
	n.State = NotificationPending
	n.attempts = 1
	nt.mu.Unlock()
	nt.dispatch(n, at, false)
}

// deliveryLanes is how many notifications of one merchant may be in flight
// at once. A real gateway delivers concurrently; one lane per merchant made
// a slow receiver queue everything behind it. A payment's notifications
// always share a lane, so they still arrive in the order they were made.
const deliveryLanes = 16

// lane picks the delivery queue of a notification: its merchant and a hash
// of its payment.
func lane(n *notif) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(n.PaymentID))
	return n.ClientID + "#" + strconv.Itoa(int(h.Sum32()%deliveryLanes))
}

// dispatch puts a send on its lane's delivery queue. A first send of a
// notification releases the merchant's held ones after it.
func (nt *notifier) dispatch(n *notif, due time.Time, releaseHeld bool) {
	nt.mu.Lock()
	q := nt.queue(lane(n))
	q.jobs = append(q.jobs, job{n: n, due: due})
	nt.pending++
	nt.start(lane(n), q)
	if releaseHeld && n.attempts == 1 {
		// Held (reordered) notifications go out strictly after this one:
		// behind it in its lane.
		for _, h := range nt.held[n.ClientID] {
			h.State = NotificationPending
			h.attempts = 1
			q.jobs = append(q.jobs, job{n: h, due: due})
			nt.pending++
		}
		delete(nt.held, n.ClientID)
	}
	nt.mu.Unlock()
}

// queue returns a lane's queue; nt.mu must be held.
func (nt *notifier) queue(key string) *dqueue {
	q := nt.queues[key]
	if q == nil {
		q = &dqueue{}
		nt.queues[key] = q
	}
	return q
}

// start runs a lane's worker unless it runs; nt.mu must be held.
func (nt *notifier) start(key string, q *dqueue) {
	if !q.running {
		q.running = true
		nt.wg.Add(1)
		go nt.work(key, q)
	}
}

func (nt *notifier) work(_ string, q *dqueue) {
	defer nt.wg.Done()
	for {
		nt.mu.Lock()
		if len(q.jobs) == 0 || nt.ctx.Err() != nil {
			nt.pending -= len(q.jobs)
			q.jobs = nil
			q.running = false
			nt.mu.Unlock()
			nt.s.bc.signal()
			return
		}
		j := q.jobs[0]
		q.jobs = q.jobs[1:]
		nt.mu.Unlock()

		nt.attempt(j)

		nt.mu.Lock()
		nt.pending--
		nt.mu.Unlock()
		nt.s.bc.signal()
	}
}

// attempt performs one scheduled send (two with the duplicate fault) and
// schedules the next one unless acknowledged.
func (nt *notifier) attempt(j job) {
	s := nt.s
	n := j.n
	f := s.Faults()
	nt.mu.Lock()
	num := n.attempts
	first := n.fault
	n.fault = ""
	nt.mu.Unlock()

	var acked bool
	if f.NotifyDrop > 0 && s.chance(f.NotifyDrop) {
		nt.record(n, Attempt{N: num, Time: s.clock.Now(), Fault: "dropped", Error: "lost in transit (fault)"})
	} else {
		sends := 1
		if f.NotifyDuplicate > 0 && s.chance(f.NotifyDuplicate) {
			sends = 2
		}
		for i := 0; i < sends; i++ {
			a := nt.send(n)
			a.N = num
			if i == 0 {
				a.Fault = first
			} else {
				a.Fault = "duplicate"
			}
			acked = acked || a.Acked
			nt.record(n, a)
		}
	}

	nt.mu.Lock()
	defer nt.mu.Unlock()
	if acked {
		n.State = NotificationDelivered
		return
	}
	sched := gateway.NotificationRetrySchedule
	if num >= len(sched) {
		n.State = NotificationGaveUp
		s.log.Warn("notification given up", "kind", n.Kind, "clientId", n.ClientID, "id", n.ID, "attempts", num)
		return
	}
	n.attempts = num + 1
	n.State = NotificationPending
	next := j.due.Add(sched[num])
	s.sched.at(next, "notify-retry", func(at time.Time) { nt.dispatch(n, at, false) })
}

func (nt *notifier) record(n *notif, a Attempt) {
	nt.mu.Lock()
	n.Attempts = append(n.Attempts, a)
	nt.mu.Unlock()
	nt.s.log.Info("notification", "kind", n.Kind, "clientId", n.ClientID, "id", n.ID, "attempt", a.N,
		"status", a.StatusCode, "acked", a.Acked, "fault", a.Fault, "error", a.Error)
}

func (nt *notifier) send(n *notif) Attempt {
	s := nt.s
	now := s.clock.Now()
	a := Attempt{Time: now}
	u, err := url.Parse(n.URL)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	// The signed path is the notify URL's path (plus its query, if any),
	// domain excluded, as gateway.NotificationRequestFromHTTP expects.
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	rt := gateway.FormatTime(now)
	sig, err := gateway.Sign(s.gwKey, s.gwKeyVersion, http.MethodPost, path, n.ClientID, rt, n.Body)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	req, err := http.NewRequestWithContext(nt.ctx, http.MethodPost, n.URL, bytes.NewReader(n.Body))
	if err != nil {
		a.Error = err.Error()
		return a
	}
	req.Header.Set(gateway.HeaderContentType, gateway.ContentTypeJSON)
	req.Header.Set(gateway.HeaderClientID, n.ClientID)
	req.Header.Set(gateway.HeaderRequestTime, rt)
	req.Header.Set(gateway.HeaderSignature, sig)
	resp, err := s.httpClient.Do(req)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	a.StatusCode = resp.StatusCode
	a.Acked = resp.StatusCode == http.StatusOK && string(body) == gateway.NotificationAck
	if len(body) > 256 {
		body = body[:256]
	}
	a.Response = string(body)
	return a
}

// Notifications returns a copy of the notification log, oldest first.
func (s *Simulator) Notifications() []Notification {
	nt := s.nt
	nt.mu.Lock()
	defer nt.mu.Unlock()
	out := make([]Notification, len(nt.list))
	for i, n := range nt.list {
		c := n.Notification
		c.Attempts = append([]Attempt(nil), n.Attempts...)
		c.Body = append(json.RawMessage(nil), n.Body...)
		out[i] = c
	}
	return out
}
