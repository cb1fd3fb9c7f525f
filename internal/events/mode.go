package events

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
)

// Mode is which Events a process records (its --events flag).
type Mode string

const (
	// All records every Event: the phase transitions people act on
	// (Authorized, Succeeded, …) and every warning. The default.
	All Mode = "all"
	// Warnings records only Warning Events (Failed, Expired, gateway
	// errors, refusals), dropping the Normal ones: one Event POST per
	// payment less on a shared apiserver. The transitions stay in the
	// conditions and in cashier_transitions_total.
	Warnings Mode = "warnings"
)

// FlagUsage is the help of the --events flag of both binaries.
const FlagUsage = "which Events to record: all, or warnings (no Normal Events such as Succeeded: one apiserver write per payment less; transitions stay in the conditions and metrics)"

// ParseMode reads an --events value; "" is All.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "", All:
		return All, nil
	case Warnings:
		return m, nil
	}
	return "", fmt.Errorf("--events=%q: want %q or %q", s, All, Warnings)
}

// Filter returns the recorder of mode m over rec: rec itself for All, a
// recorder that drops Normal Events for Warnings.
func Filter(rec recorder.EventRecorder, m Mode) recorder.EventRecorder {
	if m != Warnings || rec == nil {
		return rec
	}
	return warningsOnly{rec}
}

// warningsOnly passes Warning Events to its recorder and drops the rest.
type warningsOnly struct{ recorder.EventRecorder }

func (w warningsOnly) Eventf(regarding, related runtime.Object, typ, reason, action, note string, args ...any) {
	if typ != corev1.EventTypeWarning {
		return
	}
	w.EventRecorder.Eventf(regarding, related, typ, reason, action, note, args...)
}

func (w warningsOnly) AnnotatedEventf(regarding, related runtime.Object, annotations map[string]string, typ, reason, action, note string, args ...any) {
	if typ != corev1.EventTypeWarning {
		return
	}
	w.EventRecorder.AnnotatedEventf(regarding, related, annotations, typ, reason, action, note, args...)
}
