package main

import (
	"flag"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// TestLogLevelCap parses --zap-log-level as the binary does and checks the
// cap: up to 5 is accepted, anything more verbose refused.
func TestLogLevelCap(t *testing.T) {
	for _, tc := range []struct {
		level string
		ok    bool
	}{
		{"", true}, {"info", true}, {"debug", true}, {"error", true}, {"1", true}, {"5", true},
		{"6", false}, {"8", false}, {"10", false},
	} {
		t.Run("level="+tc.level, func(t *testing.T) {
			fs := flag.NewFlagSet("manager", flag.ContinueOnError)
			var opts zap.Options
			opts.BindFlags(fs)
			var args []string
			if tc.level != "" {
				args = []string{"--zap-log-level=" + tc.level}
			}
			if err := fs.Parse(args); err != nil {
				t.Fatal(err)
			}
			err := checkLogLevel(opts.Level)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && (err == nil || !strings.Contains(err.Error(), "Secrets")) {
				t.Fatalf("want a refusal saying why, got %v", err)
			}
		})
	}
}
