// Package events records the Kubernetes events of the controllers (through
// the engine) and of the notification-receiver, so that both say a phase
// transition the same way: reason the new phase, Warning when it is Failed
// or Expired, note "<Kind> <from> → <to>".
package events

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kevents "k8s.io/client-go/tools/events"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// Emit records one event on obj; a nil recorder records nothing. rec is
// the controller-runtime recorder (or a fake in tests).
func Emit(rec kevents.EventRecorder, obj runtime.Object, typ, reason, action, note string, args ...any) {
	if rec == nil {
		return
	}
	rec.Eventf(obj, nil, typ, reason, action, note, args...)
}

// Transition records the event of a phase transition of obj, a kind: none
// when the phase did not move, or moved only into flight (see Announced).
// via, when set, names what moved it (a notification) and closes the note
// in parentheses.
func Transition(rec kevents.EventRecorder, obj runtime.Object, action, kind string, ch transition.Change, via string) {
	if !ch.Transitioned() || !Announced(ch.To) {
		return
	}
	Emit(rec, obj, TransitionType(ch.To), ch.To, action, "%s", TransitionNote(kind, ch, via))
}

// Announced reports whether a move to phase to is recorded as an event:
// every phase a person may act on or wants to know of (Authorized,
// Succeeded, Failed, Cancelled, Expired, a dispute's phases), not the
// in-flight Pending and Processing, which the Ready condition already says
// and which would double the Events every payment leaves in etcd for an
// hour. The transition metric counts every move.
func Announced(to string) bool {
	return to != string(v1.PaymentPending) && to != string(v1.PaymentProcessing)
}

// TransitionType is the event type of a move to phase to: Warning for
// Failed and Expired, else Normal.
func TransitionType(to string) string {
	if to == string(v1.PaymentFailed) || to == string(v1.PaymentExpired) {
		return corev1.EventTypeWarning
	}
	return corev1.EventTypeNormal
}

// TransitionNote is "<kind> <from> → <to>" (from "new" for a first phase),
// followed by " (<via>)" when via is set.
func TransitionNote(kind string, ch transition.Change, via string) string {
	from := ch.From
	if from == "" {
		from = "new"
	}
	note := fmt.Sprintf("%s %s → %s", kind, from, ch.To)
	if via != "" {
		note += " (" + via + ")"
	}
	return note
}
