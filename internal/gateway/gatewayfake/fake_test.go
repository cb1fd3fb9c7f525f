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

// call invokes api's method on c with an empty request, by the method's
// name (the API with its first letter upper-cased).
func call(t *testing.T, ctx context.Context, c *Client, api gateway.API) error {
	t.Helper()
	m := reflect.ValueOf(c).MethodByName(strings.ToUpper(string(api[:1])) + string(api[1:]))
	if !m.IsValid() {
		t.Fatalf("Client has no method for %s", api)
	}
	out := m.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.New(m.Type().In(1).Elem())})
	err, _ := out[1].Interface().(error)
	return err
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
	ctx := context.Background()
	for _, api := range gateway.AllAPIs {
		t.Run(string(api), func(t *testing.T) {
			var unset Client
			err := call(t, ctx, &unset, api)
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
			if err := call(t, ctx, &set, api); err != want {
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
