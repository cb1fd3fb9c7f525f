// Package gateway is the merchant side of the Cashier Payment (AMS) API:
// a signed HTTP client, the wire types, result classification, and
// notification verification. The controllers, the notification receiver and
// the simulator (internal/gatewaysim) share it.
//
// Where each concern lives:
//
//	api.go           the interfaces callers depend on (Payments, Disputes, Interface)
//	client.go        Client: sign, send, retry, verify, decode; the nine payment APIs
//	dispute.go       the three dispute APIs
//	wire.go          request, response and notification bodies
//	classify.go      results and errors: S/F/U, Terminal, Unknown, InProcess
//	codes.go         result codes and what they mean
//	signature.go     RSA-SHA256 signing and verification, key parsing
//	notification.go  reading, verifying and parsing notifications
//	ratelimit.go     the per-merchant token bucket and throttle pause
//	redact.go        masking card and personal data in what is logged
//	timefmt.go       the gateway's body and Request-Time formats
//	gatewayfake/     a gateway.Interface with function fields, for unit tests
package gateway
