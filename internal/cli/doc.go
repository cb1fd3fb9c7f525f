// Package cli is kubectl-cashier, the kubectl plugin for cashier-operator:
// the one screen an on-call engineer needs for a payment (status), money by
// currency (summary), Refund and Capture manifests checked before anything is
// written (refund, capture), the user's checkout action with a QR code
// (checkout) and a redacted support bundle (report).
//
// Each command is a small function pair: one gathers what it needs from the
// cluster into a plain struct, one renders that struct. Rendering takes the
// clock as an argument, so the output is reproducible and tested against
// golden files.
package cli
