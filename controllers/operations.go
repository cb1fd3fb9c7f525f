package controllers

import (
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
)

// setupOperations registers the Capture, Refund and CustomsDeclaration
// controllers (added in the next step).
func setupOperations(mgr ctrl.Manager, deps *Deps, opts Options, rec recorder.EventRecorder,
	workers func(string) int, limiter func() workqueue.TypedRateLimiter[reconcile.Request]) error {
	return nil
}
