// Package transition is the one place where the status of a Payment or of an
// operation (Capture, Refund, CustomsDeclaration) moves. The controllers
// (after pay, capture, refund, declare and inquiry calls) and the
// notification receiver (after a verified notification) describe what the
// gateway said as Facts and call Apply; Apply decides the new phase.
//
// Rules:
//   - Status never moves backwards. Phases only move along the allowed edges
//     (see allowedPayment / allowedOperation); a fact that would move a
//     phase back, or out of a final phase, is ignored (it is stale or a
//     duplicate), not an error.
//   - Facts are checked against the object before anything is applied: a
//     gateway id or amount that does not match what the object already
//     records is refused with ErrMismatch and changes nothing.
//   - Running totals (captured, refunded) only grow.
//   - Apply is pure: same object and facts, same result. It reports whether
//     anything changed and which transition happened, so callers write
//     status only when needed and emit one event per transition.
package transition
