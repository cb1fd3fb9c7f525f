// Package gatewaysim is alipay-sim, a local, deterministic simulator of the
// Antom / Alipay AMS Cashier Payment gateway. Every test of the operator and
// the demo use it instead of the real gateway.
//
// It serves the fifteen APIs (consult, pay, capture, inquiryPayment, cancel,
// refund, inquiryRefund, declare, inquiryDeclarationRequests, for disputes
// acceptDispute, supplyDefenseDocument, downloadDisputeEvidence, and for
// secondary merchants registration, inquiryRegistrationStatus,
// inquiryRegistrationInfo) under
// /ams/api, /ams/sandbox/api and /aps/api, verifying each request's
// RSA-SHA256 signature against the merchant's registered key and signing
// every response (errors included) with the gateway key, using the shared
// wire types and signing code of package gateway. It keeps payments,
// captures, refunds, declarations and disputes with the gateway's
// idempotency rules, sends signed notifications (notifyPayment,
// notifyCapture, notifyRefund, notifyDispute, notifyRegistrationStatus)
// with the documented retry schedule, and serves a checkout page at
// normalUrl where a person or a test pays, declines or passes a 3-D Secure
// challenge.
//
// Everything time-dependent runs on a simulated Clock: a ManualClock (the
// default) that tests move with Simulator.Advance, or a ScaledClock for
// real-time runs. Simulator.Quiesce waits until every due notification has
// been attempted, so tests never sleep to synchronise. Faults (latency,
// UNKNOWN_EXCEPTION, HTTP 5xx, lost responses, rate limiting, dropped /
// duplicated / reordered / delayed notifications) are injected from a
// seeded generator via a FaultProfile. The Ledger proves that money moved
// exactly once per idempotency id.
//
// A typical test:
//
//	sim, _ := gatewaysim.New(gatewaysim.Options{})
//	defer sim.Close()
//	sim.AddMerchant("SANDBOX_TEST", &merchantKey.PublicKey, "1", receiver.URL)
//	srv := httptest.NewServer(sim.Handler())
//	// ... call pay through the client, then:
//	sim.Complete(paymentRequestID)
//	sim.Quiesce(ctx)
//	sim.Advance(15 * time.Minute)
//
// Every behaviour, with whether it is confirmed by a source (product docs,
// SDK, seed documents) or inferred, is listed in one table in
// docs/simulator.md, together with the control API (/_sim/...), the magic
// card numbers, amounts and 3-D Secure code, and the fault profiles.
//
// Where each concern lives: http.go routes a call, admits it (API, method,
// content type, signature), injects the faults and signs the answer; a
// request check refuses with a *refusal (result code and message).
// api_pay.go is pay (its checks in the gateway's order, recording, a 2D
// card's immediate result, completion and expiry); api_ops.go capture,
// cancel and refund; api_query.go the inquiries and customs declarations;
// api_dispute.go and dispute.go chargebacks; checkout.go the checkout page;
// notify.go the notifications; control.go the control operations and the
// Ledger, and control_http.go their routes, one group per concern;
// reports*.go the settlement reports and their SFTP server; model.go the
// books; amount.go amounts and method rules; clock.go the clocks and
// timers; options.go the Options and Behavior with their defaults.
package gatewaysim
