// Package disputes holds the end-to-end tests of chargebacks: a real
// kube-apiserver and etcd (envtest), alipay-sim over HTTP with real
// signatures, the operator's manager and the notification-receiver (each
// with its own manager, as in production), from the gateway's notifyDispute
// to a Dispute object, its DisputeResponse and the money in the simulator's
// ledger.
package disputes
