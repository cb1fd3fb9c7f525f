package gatewayfake

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// calls invokes every API once on c with an empty request.
var calls = map[gateway.API]func(context.Context, *Client) error{
	gateway.APIConsult: func(ctx context.Context, c *Client) error {
		_, err := c.Consult(ctx, &gateway.ConsultRequest{})
		return err
	},
	gateway.APIPay: func(ctx context.Context, c *Client) error { _, err := c.Pay(ctx, &gateway.PayRequest{}); return err },
	gateway.APICapture: func(ctx context.Context, c *Client) error {
		_, err := c.Capture(ctx, &gateway.CaptureRequest{})
		return err
	},
	gateway.APIInquiryPayment: func(ctx context.Context, c *Client) error {
		_, err := c.InquiryPayment(ctx, &gateway.InquiryPaymentRequest{})
		return err
	},
	gateway.APICancel: func(ctx context.Context, c *Client) error {
		_, err := c.Cancel(ctx, &gateway.CancelRequest{})
		return err
	},
	gateway.APIRefund: func(ctx context.Context, c *Client) error {
		_, err := c.Refund(ctx, &gateway.RefundRequest{})
		return err
	},
	gateway.APIInquiryRefund: func(ctx context.Context, c *Client) error {
		_, err := c.InquiryRefund(ctx, &gateway.InquiryRefundRequest{})
		return err
	},
	gateway.APIDeclare: func(ctx context.Context, c *Client) error {
		_, err := c.Declare(ctx, &gateway.DeclareRequest{})
		return err
	},
	gateway.APIInquiryDeclarationRequests: func(ctx context.Context, c *Client) error {
		_, err := c.InquiryDeclarationRequests(ctx, &gateway.InquiryDeclarationRequestsRequest{})
		return err
	},
	gateway.APIAcceptDispute: func(ctx context.Context, c *Client) error {
		_, err := c.AcceptDispute(ctx, &gateway.AcceptDisputeRequest{})
		return err
	},
	gateway.APISupplyDefenseDocument: func(ctx context.Context, c *Client) error {
		_, err := c.SupplyDefenseDocument(ctx, &gateway.SupplyDefenseDocumentRequest{})
		return err
	},
	gateway.APIDownloadDisputeEvidence: func(ctx context.Context, c *Client) error {
		_, err := c.DownloadDisputeEvidence(ctx, &gateway.DownloadDisputeEvidenceRequest{})
		return err
	},
}

// setAll sets every Fake field to a function that answers with want.
func setAll(c *Client, want error) {
	v := reflect.ValueOf(c).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !strings.HasPrefix(v.Type().Field(i).Name, "Fake") {
			continue
		}
		out := []reflect.Type{f.Type().Out(0), f.Type().Out(1)}
		f.Set(reflect.MakeFunc(f.Type(), func([]reflect.Value) []reflect.Value {
			return []reflect.Value{reflect.Zero(out[0]), reflect.ValueOf(&want).Elem()}
		}))
	}
}

func TestEveryAPI(t *testing.T) {
	if len(calls) != len(gateway.AllAPIs) {
		t.Fatalf("%d APIs called here, gateway has %d", len(calls), len(gateway.AllAPIs))
	}
	ctx := context.Background()
	for _, api := range gateway.AllAPIs {
		t.Run(string(api), func(t *testing.T) {
			var unset Client
			err := calls[api](ctx, &unset)
			if !errors.Is(err, ErrNotImplemented) {
				t.Fatalf("unset field: err = %v, want ErrNotImplemented", err)
			}
			// The message names the field to set, and that field exists.
			field := err.Error()[strings.Index(err.Error(), "Client.")+len("Client.") : len(err.Error())-1]
			if _, ok := reflect.TypeFor[Client]().FieldByName(field); !ok || !strings.Contains(err.Error(), string(api)) {
				t.Fatalf("unset field: %q names no field of Client or not the API", err)
			}
			if got := unset.APIs(); !reflect.DeepEqual(got, []gateway.API{api}) {
				t.Fatalf("unset field: recorded %v, want [%s]", got, api)
			}

			var set Client
			want := errors.New("answer of " + string(api))
			setAll(&set, want)
			if err := calls[api](ctx, &set); err != want {
				t.Fatalf("set field: err = %v, want the field's answer", err)
			}
			if got := set.Calls(); len(got) != 1 || got[0].API != api || got[0].Request == nil {
				t.Fatalf("set field: recorded %+v", got)
			}
		})
	}
}

func TestRefuse(t *testing.T) {
	tests := []struct {
		code         string
		status       string
		terminal     bool
		inProcess    bool
		wantsUnknown bool
	}{
		{gateway.CodeOrderIsClosed, gateway.StatusFail, true, false, false},
		{gateway.CodePaymentInProcess, gateway.StatusUnknown, false, true, true},
		{gateway.CodeUnknownException, gateway.StatusUnknown, false, false, true},
		{"NOT_A_LISTED_CODE", gateway.StatusFail, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			err := Refuse(gateway.APIPay, tt.code)
			if err.Code != tt.code || err.Status != tt.status || err.Terminal != tt.terminal || err.API != gateway.APIPay {
				t.Fatalf("Refuse = %+v", err)
			}
			if gateway.IsInProcess(err) != tt.inProcess || gateway.IsUnknown(err) != tt.wantsUnknown || gateway.Code(err) != tt.code {
				t.Fatalf("classified as inProcess=%v unknown=%v", gateway.IsInProcess(err), gateway.IsUnknown(err))
			}
		})
	}
}

func TestConcurrentCalls(t *testing.T) {
	c := &Client{FakeInquiryPayment: func(context.Context, *gateway.InquiryPaymentRequest) (*gateway.InquiryPaymentResponse, error) {
		return &gateway.InquiryPaymentResponse{}, nil
	}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { _, _ = c.InquiryPayment(context.Background(), &gateway.InquiryPaymentRequest{PaymentID: "p"}) })
	}
	wg.Wait()
	if n := len(c.Calls()); n != 8 {
		t.Fatalf("%d calls recorded, want 8", n)
	}
}
