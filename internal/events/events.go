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
// when the phase did not move. via, when set, names what moved it (a
// notification) and closes the note in parentheses.
func Transition(rec kevents.EventRecorder, obj runtime.Object, action, kind string, ch transition.Change, via string) {
	if !ch.Transitioned() {
		return
	}
	Emit(rec, obj, TransitionType(ch.To), ch.To, action, "%s", TransitionNote(kind, ch, via))
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
