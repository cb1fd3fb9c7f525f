package main

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"time"
)

// ledgerSummary is what the simulator's ledger and notification log say
// about the operator run.
type ledgerSummary struct {
	Err                  string
	PaymentRequestIDs    int
	PayCalls, Operations int
	MaxOperations        int
	// Notifications (notifyPayment).
	Notifications, Delivered, Attempts int
	// QueueDelay is from the notification's creation to its first send
	// (simulated time, which runs at wall speed here), sorted.
	QueueDelay []time.Duration
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

func readLedger(ctx context.Context, simURL string) ledgerSummary {
	var s ledgerSummary
	var ledger struct {
		Requests []struct {
			Kind       string `json:"kind"`
			Calls      int    `json:"calls"`
			Operations int    `json:"operations"`
		} `json:"requests"`
	}
	if err := getJSON(ctx, simURL+"/_sim/ledger", &ledger); err != nil {
		s.Err = err.Error()
		return s
	}
	for _, r := range ledger.Requests {
		if r.Kind != "payment" {
			continue
		}
		s.PaymentRequestIDs++
		s.PayCalls += r.Calls
		s.Operations += r.Operations
		s.MaxOperations = max(s.MaxOperations, r.Operations)
	}
	var notes []struct {
		CreatedAt time.Time `json:"createdAt"`
		State     string    `json:"state"`
		Attempts  []struct {
			Time time.Time `json:"time"`
		} `json:"attempts"`
	}
	if err := getJSON(ctx, simURL+"/_sim/notifications?kind=notifyPayment", &notes); err != nil {
		s.Err = err.Error()
		return s
	}
	for _, n := range notes {
		s.Notifications++
		s.Attempts += len(n.Attempts)
		if n.State == "DELIVERED" {
			s.Delivered++
		}
		if len(n.Attempts) > 0 {
			s.QueueDelay = append(s.QueueDelay, n.Attempts[0].Time.Sub(n.CreatedAt))
		}
	}
	sort.Slice(s.QueueDelay, func(a, b int) bool { return s.QueueDelay[a] < s.QueueDelay[b] })
	return s
}
