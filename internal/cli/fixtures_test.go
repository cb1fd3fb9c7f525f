package cli_test

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// The fixtures are what the operator would have written: objects with
// their status, and events on them. No controller runs in these tests, so
// nothing changes under the commands.

func at(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }

func m(cur, v string) *v1.Money { return &v1.Money{Currency: cur, Value: v} }

func cond(typ string, status metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: *at(-time.Hour)}
}

var (
	readyTrue   = cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonSucceeded, "")
	syncedTrue  = cond(v1.ConditionSynced, metav1.ConditionTrue, v1.ReasonReconcileSuccess, "")
	notStalled  = cond(v1.ConditionStalled, metav1.ConditionFalse, v1.ReasonReconcileSuccess, "")
	fineFinal   = []metav1.Condition{readyTrue, syncedTrue, notStalled}
	reconciling = cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProcessing, "")
)

func payment(ns, name, method, cur, value string, mutate func(*v1.Payment)) *v1.Payment {
	p := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: v1.PaymentSpec{
		GatewayRef: v1.GatewayReference{Name: "alipay-sim"}, Amount: v1.Money{Currency: cur, Value: value},
		PaymentMethod: v1.PaymentMethod{Type: method}, Env: v1.TerminalEnv{TerminalType: "WAP", OSType: "IOS"},
	}}
	if mutate != nil {
		mutate(p)
	}
	return p
}

type fixture struct {
	obj    client.Object
	status func(client.Object)
	events []event
}

type event struct {
	ago          time.Duration
	typ, reason  string
	message      string
	reportingCtl string
}

func fixtures() []fixture {
	card := "4111 1111 1111 1111"
	return []fixture{
		{obj: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}},
		{obj: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "outlet"}}},
		{obj: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "alipay-sim-credentials", Namespace: "default"},
			StringData: map[string]string{v1.SecretKeyClientID: "SANDBOX_DEMO0001", v1.SecretKeyMerchantPrivateKey: "TUlJRXZRSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NCS2N3Z2dTakFnRUFBb0lCQVFD",
				v1.SecretKeyGatewayPublicKey: "TUlJQklqQU5CZ2txaGtpRzl3MEJBUUVGQUFPQ0FROEFNSUlCQ2dLQ0FRRUF"}}},
		{obj: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "card-auth-card", Namespace: "shop"},
			StringData: map[string]string{v1.CardSecretKeyNumber: card, v1.CardSecretKeyCVV: "737", v1.CardSecretKeyHolderName: "Jane Doe"}}},
		{obj: &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: "alipay-sim"}, Spec: v1.GatewayConfigSpec{Endpoint: "http://127.0.0.1:46313",
			CredentialsSecretRef: v1.NamespacedSecretReference{Namespace: "default", Name: "alipay-sim-credentials"}}}},

		{obj: payment("shop", "wallet-hk", "ALIPAY_HK", "HKD", "88.00", nil), status: func(o client.Object) {
			p := o.(*v1.Payment)
			p.Status = v1.PaymentStatus{Phase: v1.PaymentSucceeded, GatewayStatus: "SUCCESS", PaymentRequestID: "pay-shop-wallet-hk", PaymentID: "202611231100000000000005",
				Amounts:    v1.PaymentAmounts{Captured: m("HKD", "88.00"), Refunded: m("HKD", "44.00"), Refundable: &v1.Total{Currency: "HKD", Value: "44.00"}},
				CreateTime: at(-3 * time.Hour), PaymentTime: at(-170 * time.Minute),
				Dispute: &v1.PaymentDispute{ID: "2026112319000001", State: v1.DisputeOpen, Type: "CHARGEBACK", Amount: m("HKD", "44.00"),
					ReasonCode: "4853", ReasonMessage: "Goods not as described", DefenseDueTime: at(72 * time.Hour)},
				Conditions: fineFinal}
		}, events: []event{
			{ago: 3 * time.Hour, typ: "Normal", reason: "Processing", message: "pay accepted; waiting for the user", reportingCtl: "cashier-operator"},
			{ago: 170 * time.Minute, typ: "Normal", reason: "Succeeded", message: "paid 88.00 HKD", reportingCtl: "notification-receiver"},
			{ago: 2 * time.Hour, typ: "Warning", reason: "DisputeOpened", message: "chargeback 2026112319000001 for 44.00 HKD", reportingCtl: "notification-receiver"},
		}},
		{obj: &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: "wallet-hk-one-pair", Namespace: "shop"},
			Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: "wallet-hk"}, Amount: v1.Money{Currency: "HKD", Value: "44.00"}, Reason: "One pair returned"}},
			status: func(o client.Object) {
				approved := metav1.NewTime(now.Add(-155 * time.Minute))
				o.(*v1.Refund).Status = v1.OperationStatus{Phase: v1.OperationSucceeded, RequestID: "ref-1", GatewayID: "2026112311000000000000R1", Conditions: fineFinal,
					Audit: &v1.Audit{Requester: "alice", Policy: "shop/default", Approver: "bob", ApprovedAt: &approved, Approval: "refund-wallet-hk-one-pair"}}
			}, events: []event{{ago: 150 * time.Minute, typ: "Normal", reason: "Succeeded", message: "refunded 44.00 HKD", reportingCtl: "cashier-operator"}}},
		{obj: &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: "wallet-hk-second-pair", Namespace: "shop"},
			Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: "wallet-hk"}, Amount: v1.Money{Currency: "HKD", Value: "10.00"}}},
			status: func(o client.Object) {
				o.(*v1.Refund).Status = v1.OperationStatus{Phase: v1.OperationPending, Conditions: []metav1.Condition{
					cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonDisputeOpen, "waiting for dispute 2026112319000001 to be judged"),
					cond(v1.ConditionBlocked, metav1.ConditionTrue, v1.ReasonDisputeOpen, "chargeback 2026112319000001 on payment wallet-hk is Open: refunds wait until it is judged"),
					reconciling}}
			}},

		{obj: payment("shop", "card-auth", "CARD", "USD", "120.00", func(p *v1.Payment) {
			p.Spec.Authorization, p.Spec.CaptureMode = true, v1.CaptureManual
			p.Spec.PaymentMethod.CardSecretRef = &v1.SecretReference{Name: "card-auth-card"}
		}), status: func(o client.Object) {
			p := o.(*v1.Payment)
			p.Status = v1.PaymentStatus{Phase: v1.PaymentAuthorized, GatewayStatus: "SUCCESS", PaymentRequestID: "pay-shop-card-auth", PaymentID: "202611231100000000000003",
				Amounts:    v1.PaymentAmounts{Authorized: m("USD", "120.00"), Captured: m("USD", "70.00"), Refundable: &v1.Total{Currency: "USD", Value: "70.00"}},
				CreateTime: at(-2 * time.Hour), ExpiryTime: at(-110 * time.Minute), AuthExpiryTime: at(6 * 24 * time.Hour),
				Card:       &v1.CardSummary{MaskedNumber: "************1111", Brand: "VISA", Funding: "CREDIT", IssuingCountry: "US"},
				Conditions: []metav1.Condition{cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonAuthorized, ""), syncedTrue, notStalled, reconciling}}
		}, events: []event{{ago: 2 * time.Hour, typ: "Normal", reason: "Authorized", message: "authorized 120.00 USD on card " + card, reportingCtl: "cashier-operator"}}},
		{obj: &v1.Capture{ObjectMeta: metav1.ObjectMeta{Name: "card-auth-first-shipment", Namespace: "shop"},
			Spec: v1.CaptureSpec{PaymentRef: v1.LocalObjectReference{Name: "card-auth"}, Amount: v1.Money{Currency: "USD", Value: "70.00"}}},
			status: func(o client.Object) {
				o.(*v1.Capture).Status = v1.OperationStatus{Phase: v1.OperationSucceeded, GatewayID: "2026112311000000000000C1", Conditions: fineFinal}
			}},
		{obj: &v1.Capture{ObjectMeta: metav1.ObjectMeta{Name: "card-auth-second-shipment", Namespace: "shop"},
			Spec: v1.CaptureSpec{PaymentRef: v1.LocalObjectReference{Name: "card-auth"}, Amount: v1.Money{Currency: "USD", Value: "20.00"}}},
			status: func(o client.Object) {
				o.(*v1.Capture).Status = v1.OperationStatus{Phase: v1.OperationProcessing, Conditions: []metav1.Condition{
					cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonProcessing, "capture sent; waiting for the gateway"),
					cond(v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonGatewayError, "capture: timeout after 5s; retrying with the same captureRequestId"), reconciling}}
			}},

		{obj: payment("shop", "wallet-declined", "GCASH", "PHP", "250.00", nil), status: func(o client.Object) {
			p := o.(*v1.Payment)
			p.Status = v1.PaymentStatus{Phase: v1.PaymentFailed, GatewayStatus: "FAIL", PaymentRequestID: "pay-shop-wallet-declined", PaymentID: "202611231100000000000002",
				CreateTime: at(-time.Hour), PaymentTime: at(-50 * time.Minute),
				LastResult: &v1.GatewayResult{API: "inquiryPayment", Code: "USER_BALANCE_NOT_ENOUGH", Status: "F", Message: "The user balance is not enough."},
				Conditions: []metav1.Condition{
					cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonFailed, "the gateway declined the payment: USER_BALANCE_NOT_ENOUGH (The user balance is not enough.)"),
					syncedTrue, cond(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonFailed, "final: create a new Payment to charge again")}}
		}, events: []event{{ago: 50 * time.Minute, typ: "Warning", reason: "Failed", message: "USER_BALANCE_NOT_ENOUGH: The user balance is not enough.", reportingCtl: "cashier-operator"}}},

		{obj: payment("shop", "alipay-cn", "ALIPAY_CN", "CNY", "399.00", nil), status: func(o client.Object) {
			p := o.(*v1.Payment)
			p.Status = v1.PaymentStatus{Phase: v1.PaymentProcessing, GatewayStatus: "PROCESSING", PaymentRequestID: "pay-shop-alipay-cn", PaymentID: "202611231100000000000001",
				CreateTime: at(-5 * time.Minute), ExpiryTime: at(9 * time.Minute),
				UserAction: &v1.UserAction{Type: "Redirect", URL: "http://127.0.0.1:46313/checkout/202611231100000000000001", Method: "GET",
					ApplinkURL: "https://render.alipay.com/p/s/i?scheme=alipays%3A%2F%2Fcheckout%2F202611231100000000000001"},
				Conditions: []metav1.Condition{cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonAwaitingUser, "waiting for the user to pay at the checkout page"), syncedTrue, reconciling}}
		}},
		{obj: payment("shop", "jpy-order", "PAYPAY", "JPY", "1200", nil), status: func(o client.Object) {
			p := o.(*v1.Payment)
			p.Status = v1.PaymentStatus{Phase: v1.PaymentSucceeded, Amounts: v1.PaymentAmounts{Captured: m("JPY", "1200"),
				Refundable: &v1.Total{Currency: "JPY", Value: "1200"}}, Conditions: fineFinal}
		}},
		{obj: payment("outlet", "outlet-1", "ALIPAY_HK", "HKD", "12.30", nil), status: func(o client.Object) {
			o.(*v1.Payment).Status = v1.PaymentStatus{Phase: v1.PaymentPending}
		}},
		{obj: payment("outlet", "outlet-2", "ALIPAY_HK", "HKD", "7.70", nil), status: func(o client.Object) {
			o.(*v1.Payment).Status = v1.PaymentStatus{Phase: v1.PaymentExpired, Conditions: []metav1.Condition{
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonExpired, "the user did not pay in time")}}
		}},
	}
}

// createFixtures creates every fixture, writes its status and its events.
func createFixtures(ctx context.Context, c client.Client) error {
	for _, f := range fixtures() {
		if f.status != nil {
			// Status is set after create (the status subresource ignores it on create).
			if err := c.Create(ctx, f.obj); err != nil {
				return fmt.Errorf("create %s: %w", f.obj.GetName(), err)
			}
			f.status(f.obj)
			if err := c.Status().Update(ctx, f.obj); err != nil {
				return fmt.Errorf("status of %s: %w", f.obj.GetName(), err)
			}
		} else if err := c.Create(ctx, f.obj); err != nil {
			return fmt.Errorf("create %s: %w", f.obj.GetName(), err)
		}
		for i, e := range f.events {
			if err := createEvent(ctx, c, f.obj, i, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func createEvent(ctx context.Context, c client.Client, obj client.Object, i int, e event) error {
	gvk, err := c.GroupVersionKindFor(obj)
	if err != nil {
		return err
	}
	when := metav1.NewTime(now.Add(-e.ago))
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%d", obj.GetName(), i), Namespace: obj.GetNamespace()},
		InvolvedObject: corev1.ObjectReference{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: obj.GetName(),
			Namespace: obj.GetNamespace(), UID: obj.GetUID()},
		Type: e.typ, Reason: e.reason, Message: e.message, FirstTimestamp: when, LastTimestamp: when, Count: 1,
		Source: corev1.EventSource{Component: e.reportingCtl},
	}
	return c.Create(ctx, ev)
}
