package main

import (
	"fmt"

	"go.uber.org/zap/zapcore"
)

// maxLogVerbosity caps --zap-log-level. client-go logs request and response
// bodies at verbosity 8 (Secrets among them: card numbers, merchant private
// keys) and request headers at 7; 5 keeps every message of the operator's
// own and none of those. The chart's schema enforces the same maximum.
const maxLogVerbosity = 5

// checkLogLevel refuses a level more verbose than maxLogVerbosity (zap level
// -N is logr verbosity N).
func checkLogLevel(l zapcore.LevelEnabler) error {
	if l != nil && l.Enabled(zapcore.Level(-(maxLogVerbosity + 1))) {
		return fmt.Errorf("--zap-log-level above %d is refused: from 7 on client-go writes API request headers and bodies, Secrets included, to the log", maxLogVerbosity)
	}
	return nil
}
