package gateway

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const notifyPath = "/notify/payment"
const notifyClientID = "SANDBOX_5YBZ1Z2ZAG0S07036"

// signedNotification builds a notification as the gateway sends it.
func signedNotification(t *testing.T, body []byte, reqTime string) NotificationRequest {
	t.Helper()
	_, g, _ := testKeys(t)
	sig, err := Sign(g, "1", http.MethodPost, notifyPath, notifyClientID, reqTime, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Client-Id", notifyClientID)
	h.Set("Request-Time", reqTime)
	h.Set("Signature", sig)
	return NotificationRequest{Method: http.MethodPost, Path: notifyPath, Header: h, Body: body}
}

func TestVerifyNotification(t *testing.T) {
	_, g, other := testKeys(t)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	body := mustRead(t, "testdata/notify_payment.json")
	fresh := FormatRequestTime(now.Add(-10 * time.Second))
	const window = 5 * time.Minute

	resign := func(r *NotificationRequest, key string) {
		var k = g
		if key == "other" {
			k = other
		}
		sig, err := Sign(k, "1", http.MethodPost, notifyPath, r.Header.Get("Client-Id"), r.Header.Get("Request-Time"), r.Body)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Signature", sig)
	}
	tests := []struct {
		name    string
		mod     func(r *NotificationRequest)
		window  time.Duration
		wantErr error
		reason  string
	}{
		{"good", func(*NotificationRequest) {}, window, nil, ""},
		{"good, content type without charset", func(r *NotificationRequest) { r.Header.Set("Content-Type", "application/json") }, window, nil, ""},
		{"good, lower-case charset", func(r *NotificationRequest) { r.Header.Set("Content-Type", "application/json;charset=utf-8") }, window, nil, ""},
		{"good, ISO-8601 Request-Time", func(r *NotificationRequest) {
			r.Header.Set("Request-Time", "2024-05-01T11:59:00Z")
			resign(r, "")
		}, window, nil, ""},
		{"good, old but no window", func(r *NotificationRequest) {
			r.Header.Set("Request-Time", FormatRequestTime(now.Add(-48*time.Hour)))
			resign(r, "")
		}, 0, nil, ""},
		{"wrong method", func(r *NotificationRequest) { r.Method = http.MethodGet }, window, ErrNotificationMethod, "method"},
		{"wrong content type", func(r *NotificationRequest) { r.Header.Set("Content-Type", "text/plain") }, window, ErrNotificationContentType, "content_type"},
		{"form content type", func(r *NotificationRequest) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, window, ErrNotificationContentType, "content_type"},
		{"wrong charset", func(r *NotificationRequest) { r.Header.Set("Content-Type", "application/json; charset=ISO-8859-1") }, window, ErrNotificationContentType, "content_type"},
		{"no content type", func(r *NotificationRequest) { r.Header.Del("Content-Type") }, window, ErrNotificationContentType, "content_type"},
		{"missing Client-Id", func(r *NotificationRequest) { r.Header.Del("Client-Id") }, window, ErrNotificationMissingHeader, "missing_header"},
		{"missing Request-Time", func(r *NotificationRequest) { r.Header.Del("Request-Time") }, window, ErrNotificationMissingHeader, "missing_header"},
		{"missing Signature", func(r *NotificationRequest) { r.Header.Del("Signature") }, window, ErrNotificationMissingHeader, "missing_header"},
		{"unparsable Request-Time", func(r *NotificationRequest) {
			r.Header.Set("Request-Time", "yesterday")
			resign(r, "")
		}, window, ErrNotificationBadTime, "bad_time"},
		{"stale Request-Time", func(r *NotificationRequest) {
			r.Header.Set("Request-Time", FormatRequestTime(now.Add(-10*time.Minute)))
			resign(r, "")
		}, window, ErrNotificationStale, "stale"},
		{"future Request-Time", func(r *NotificationRequest) {
			r.Header.Set("Request-Time", FormatRequestTime(now.Add(10*time.Minute)))
			resign(r, "")
		}, window, ErrNotificationFuture, "future"},
		{"bad signature", func(r *NotificationRequest) {
			h, _ := ParseSignatureHeader(r.Header.Get("Signature"))
			h.Signature[0] ^= 0x01
			r.Header.Set("Signature", h.String())
		}, window, ErrNotificationSignature, "signature"},
		{"malformed signature header", func(r *NotificationRequest) { r.Header.Set("Signature", "algorithm=RSA256,keyVersion=1") }, window, ErrNotificationSignature, "signature"},
		{"signed with another key", func(r *NotificationRequest) { resign(r, "other") }, window, ErrNotificationSignature, "signature"},
		{"tampered body", func(r *NotificationRequest) {
			r.Body = bytes.Replace(r.Body, []byte(`"value":"100"`), []byte(`"value":"900"`), 1)
		}, window, ErrNotificationSignature, "signature"},
		{"other path", func(r *NotificationRequest) { r.Path = "/notify/refund" }, window, ErrNotificationSignature, "signature"},
		{"tampered Client-Id", func(r *NotificationRequest) { r.Header.Set("Client-Id", "SANDBOX_OTHER") }, window, ErrNotificationSignature, "signature"},
		{"tampered Request-Time", func(r *NotificationRequest) {
			r.Header.Set("Request-Time", FormatRequestTime(now.Add(-11*time.Second)))
		}, window, ErrNotificationSignature, "signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := signedNotification(t, append([]byte(nil), body...), fresh)
			tt.mod(&r)
			cid, err := VerifyNotification(&g.PublicKey, r, now, tt.window)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("VerifyNotification: %v", err)
				}
				if cid != notifyClientID {
					t.Errorf("client id = %q", cid)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if cid != "" {
				t.Errorf("client id %q returned with an error", cid)
			}
			if got := NotificationRejectReason(err); got != tt.reason {
				t.Errorf("reason = %q, want %q", got, tt.reason)
			}
		})
	}
}

func TestNotificationRequestFromHTTP(t *testing.T) {
	_, g, _ := testKeys(t)
	now := time.Now()
	body := mustRead(t, "testdata/notify_refund.json")
	n := signedNotification(t, body, FormatRequestTime(now))

	req := httptest.NewRequest(http.MethodPost, "http://merchant.example.com"+notifyPath, bytes.NewReader(body))
	req.Header = n.Header
	got, err := NotificationRequestFromHTTP(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Path != notifyPath || !bytes.Equal(got.Body, body) {
		t.Fatalf("got %+v", got)
	}
	if _, err := VerifyNotification(&g.PublicKey, got, now, time.Minute); err != nil {
		t.Fatalf("verify: %v", err)
	}

	big := httptest.NewRequest(http.MethodPost, notifyPath, strings.NewReader(strings.Repeat("x", 100)))
	if _, err := NotificationRequestFromHTTP(big, 10); err == nil {
		t.Error("oversized body accepted")
	}
}

func TestParseNotification(t *testing.T) {
	tests := []struct {
		name     string
		body     []byte
		wantKind string
		wantErr  error
		check    func(t *testing.T, v any)
	}{
		{"payment", mustRead(t, "testdata/notify_payment.json"), KindNotifyPayment, nil, func(t *testing.T, v any) {
			n := v.(*NotifyPayment)
			if n.PaymentID != "20240101123456789012" || n.Result.ResultStatus != StatusSuccess || n.PaymentResultInfo == nil {
				t.Errorf("%+v", n)
			}
		}},
		{"payment pending", []byte(`{"notifyType":"PAYMENT_PENDING","result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentRequestId":"p"}`), KindNotifyPayment, nil, nil},
		{"capture", mustRead(t, "testdata/notify_capture.json"), KindNotifyCapture, nil, func(t *testing.T, v any) {
			if n := v.(*NotifyCapture); n.CaptureID != "20240102000000000001" || n.CaptureAmount.Value != "500" {
				t.Errorf("%+v", n)
			}
		}},
		{"refund", mustRead(t, "testdata/notify_refund.json"), KindNotifyRefund, nil, func(t *testing.T, v any) {
			if n := v.(*NotifyRefund); n.RefundStatus != RefundStatusSuccess || n.RefundRequestID != "ref-req-0001" {
				t.Errorf("%+v", n)
			}
		}},
		{"dispute", mustRead(t, "testdata/notify_dispute.json"), KindNotifyDispute, nil, func(t *testing.T, v any) {
			n := v.(*NotifyDispute)
			if n.DisputeNotificationType != DisputeCreated || n.Defendable == nil || !bool(*n.Defendable) {
				t.Errorf("%+v", n)
			}
		}},
		{"failed payment", []byte(`{"notifyType":"PAYMENT_RESULT","result":{"resultCode":"ORDER_IS_CLOSED","resultStatus":"F"},"paymentId":"p"}`), KindNotifyPayment, nil, nil},
		{"unknown notifyType", []byte(`{"notifyType":"SOMETHING_ELSE","result":{"resultCode":"SUCCESS","resultStatus":"S"}}`), "", ErrNotificationUnknown, nil},
		{"no type at all", []byte(`{"paymentId":"p"}`), "", ErrNotificationUnknown, nil},
		{"not JSON", []byte(`notifyType=PAYMENT_RESULT`), "", ErrNotificationMalformed, nil},
		{"U result", []byte(`{"notifyType":"PAYMENT_RESULT","result":{"resultCode":"PAYMENT_IN_PROCESS","resultStatus":"U"},"paymentId":"p"}`), "", ErrNotificationMalformed, nil},
		{"payment without ids", []byte(`{"notifyType":"PAYMENT_RESULT","result":{"resultCode":"SUCCESS","resultStatus":"S"}}`), "", ErrNotificationMalformed, nil},
		{"refund without id", []byte(`{"notifyType":"REFUND_RESULT","result":{"resultCode":"SUCCESS","resultStatus":"S"}}`), "", ErrNotificationMalformed, nil},
		{"capture without id", []byte(`{"notifyType":"CAPTURE_RESULT","result":{"resultCode":"SUCCESS","resultStatus":"S"}}`), "", ErrNotificationMalformed, nil},
		{"dispute without id", []byte(`{"disputeNotificationType":"DISPUTE_CREATED","paymentId":"p"}`), "", ErrNotificationMalformed, nil},
		{"bad field type", []byte(`{"notifyType":"REFUND_RESULT","refundRequestId":7}`), "", ErrNotificationMalformed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, v, err := ParseNotification(tt.body)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || kind != tt.wantKind {
				t.Fatalf("ParseNotification = %q, %v; want %q", kind, err, tt.wantKind)
			}
			if tt.check != nil {
				tt.check(t, v)
			}
		})
	}
}
