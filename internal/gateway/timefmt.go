package gateway

import (
	"fmt"
	"strconv"
	"time"
)

// TimeLayout is the gateway's date-time format: ISO 8601 with offset, seconds precision.
const TimeLayout = "2006-01-02T15:04:05-07:00"

// FormatTime renders t in the gateway's date-time format.
func FormatTime(t time.Time) string { return t.Format(TimeLayout) }

// ParseTime parses a gateway date-time (ISO 8601 with offset or Z, optional fraction).
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q is not ISO 8601 with offset: %w", s, err)
	}
	return t, nil
}

// FormatRequestTime renders a Request-Time / Response-Time header value as
// the official SDK sends it: Unix epoch milliseconds.
func FormatRequestTime(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// ParseRequestTime reads a Request-Time or Response-Time header. The value is
// opaque to the signature, and its format has drifted: the SDK sends epoch
// milliseconds (older SDKs nanoseconds), the documentation ISO 8601. All three
// are accepted; a bare number is read as milliseconds unless it is too large
// to be a plausible millisecond timestamp, then as nanoseconds.
func ParseRequestTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("request time is empty")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 {
			return time.Time{}, fmt.Errorf("request time %q is not a positive timestamp", s)
		}
		const maxMillis = 1e14 // year 5138
		if n > maxMillis {
			return time.Unix(0, n), nil
		}
		return time.UnixMilli(n), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("request time %q is neither epoch milliseconds nor ISO 8601", s)
	}
	return t, nil
}
