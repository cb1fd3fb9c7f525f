package payment

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// payRequest builds the pay request. The expiry time is derived from the
// object's creation time, so a re-sent pay is byte-for-byte the same request.
func (e *paymentExternal) payRequest(ctx context.Context, p *v1.Payment) (*gateway.PayRequest, *time.Time, error) {
	id := e.requestID(p)
	s := p.Spec
	req := &gateway.PayRequest{
		ProductCode:        gateway.ProductCodeCashierPayment,
		PaymentRequestID:   id,
		PaymentAmount:      gateway.Amount{Currency: e.amount.Currency(), Value: e.amount.MinorString()},
		PaymentMethod:      gateway.PaymentMethod{PaymentMethodType: s.PaymentMethod.Type},
		PaymentRedirectURL: s.RedirectURL,
		PaymentNotifyURL:   ids.NotifyURL(e.conn.Config.Spec.NotificationBaseURL, ids.KindPayment, p.Namespace, p.Name),
		Env: &gateway.Env{TerminalType: s.Env.TerminalType, OsType: s.Env.OSType, ClientIP: s.Env.ClientIP,
			UserAgent: s.Env.UserAgent},
		UserRegion:     s.UserRegion,
		MerchantRegion: s.MerchantRegion,
	}
	var expiry *time.Time
	if s.ExpiresAfter != nil && s.ExpiresAfter.Duration > 0 {
		t := p.CreationTimestamp.Add(s.ExpiresAfter.Duration)
		expiry = &t
		req.PaymentExpiryTime = gateway.FormatTime(t)
	}
	if s.SettlementCurrency != "" {
		req.SettlementStrategy = &gateway.SettlementStrategy{SettlementCurrency: s.SettlementCurrency}
	}
	if s.Authorization {
		// The operator captures itself in captureMode Automatic (with its
		// own idempotency id), so the gateway is always told MANUAL.
		req.PaymentFactor = &gateway.PaymentFactor{IsAuthorization: gateway.BoolPtr(true), CaptureMode: "MANUAL"}
	}
	if c := s.CreditPayPlan; c != nil {
		req.CreditPayPlan = &gateway.CreditPayPlan{InstallmentNum: gateway.Int(c.Installments)}
		if c.FeePercentage != nil {
			fee := gateway.Int(*c.FeePercentage)
			req.CreditPayPlan.CreditPayFeeType = "PERCENTAGE"
			req.CreditPayPlan.FeePercentage = &fee
		}
	}
	if o := s.Order; o != nil {
		order, err := orderToWire(o)
		if err != nil {
			return nil, nil, &engine.TerminalError{Reason: v1.ReasonInvalidAmount, Message: err.Error(), Cause: err}
		}
		req.Order = order
	}
	if e.merchant != nil {
		if req.Order == nil {
			req.Order = &gateway.Order{}
		}
		req.Order.Merchant = orderMerchant(e.merchant)
	}
	if ref := s.PaymentMethod.CardSecretRef; ref != nil {
		meta, token, err := e.cardData(ctx, p.Namespace, ref.Name)
		if err != nil {
			return nil, nil, err
		}
		req.PaymentMethod.PaymentMethodMetaData = meta
		req.PaymentMethod.PaymentMethodID = token
	}
	if s.PaymentMethod.ThreeDS != nil {
		if req.PaymentMethod.PaymentMethodMetaData == nil {
			req.PaymentMethod.PaymentMethodMetaData = map[string]any{}
		}
		req.PaymentMethod.PaymentMethodMetaData[gateway.CardMetaIs3DS] = *s.PaymentMethod.ThreeDS
	}
	return req, expiry, nil
}

// cardData reads the card Secret. Its contents go only into the signed pay
// body, never into logs, events or status.
func (e *paymentExternal) cardData(ctx context.Context, ns, name string) (map[string]any, string, error) {
	key := types.NamespacedName{Namespace: ns, Name: name}
	wires := map[string]string{v1.CardSecretKeyNumber: gateway.CardMetaNumber, v1.CardSecretKeyCVV: gateway.CardMetaCVV,
		v1.CardSecretKeyExpiryMonth: gateway.CardMetaExpiryMonth, v1.CardSecretKeyExpiryYear: gateway.CardMetaExpiryYear}
	card := []string{v1.CardSecretKeyNumber, v1.CardSecretKeyCVV, v1.CardSecretKeyExpiryMonth, v1.CardSecretKeyExpiryYear}
	vals, err := shared.SecretKeys(ctx, e.deps.APIReader, "card secret", key, append(card, v1.CardSecretKeyToken, v1.CardSecretKeyHolderName)...)
	if err != nil {
		return nil, "", shared.SecretError(err, v1.ReasonCardSecretMissing, v1.ReasonCardSecretInvalid)
	}
	if tok := vals[v1.CardSecretKeyToken]; tok != "" {
		return nil, tok, nil
	}
	if err := shared.RequireKeys(vals, "card secret", key, card...); err != nil {
		return nil, "", shared.SecretError(fmt.Errorf("%w (or a %s)", err, v1.CardSecretKeyToken), v1.ReasonCardSecretMissing, v1.ReasonCardSecretInvalid)
	}
	meta := map[string]any{}
	for _, k := range card {
		meta[wires[k]] = strings.TrimSpace(vals[k])
	}
	if h := vals[v1.CardSecretKeyHolderName]; h != "" {
		meta[gateway.CardMetaHolderName] = map[string]string{"fullName": h}
	}
	return meta, "", nil
}

// orderToWire is spec.order as the pay call sends it; an amount that does
// not parse is an error naming the field, never left out.
func orderToWire(o *v1.Order) (*gateway.Order, error) {
	w := &gateway.Order{ReferenceOrderID: o.ReferenceOrderID, OrderDescription: o.Description}
	if o.Amount != nil {
		a, err := transition.WireFromMoney(*o.Amount)
		if err != nil {
			return nil, fmt.Errorf("spec.order.amount: %w", err)
		}
		w.OrderAmount = &a
	}
	for i, g := range o.Goods {
		wg := gateway.Goods{ReferenceGoodsID: g.ID, GoodsName: g.Name, GoodsCategory: g.Category, GoodsBrand: g.Brand, GoodsURL: g.URL}
		if g.Quantity > 0 {
			wg.GoodsQuantity = fmt.Sprint(g.Quantity)
		}
		if g.UnitAmount != nil {
			a, err := transition.WireFromMoney(*g.UnitAmount)
			if err != nil {
				return nil, fmt.Errorf("spec.order.goods[%d].unitAmount: %w", i, err)
			}
			wg.GoodsUnitAmount = &a
		}
		w.Goods = append(w.Goods, wg)
	}
	if b := o.Buyer; b != nil {
		w.Buyer = &gateway.Buyer{ReferenceBuyerID: b.ID, BuyerEmail: b.Email, BuyerPhoneNo: b.Phone}
		if b.Name != "" {
			w.Buyer.BuyerName = &gateway.UserName{FullName: b.Name}
		}
	}
	if m := o.Merchant; m != nil {
		w.Merchant = &gateway.Merchant{ReferenceMerchantID: m.ID, MerchantName: m.Name, MerchantMCC: m.MCC}
		if m.Region != "" {
			w.Merchant.MerchantAddress = &gateway.Address{Region: m.Region}
		}
	}
	if sh := o.Shipping; sh != nil {
		w.Shipping = &gateway.Shipping{ShippingCarrier: sh.Carrier,
			ShippingAddress: &gateway.Address{Region: sh.Region, City: sh.City, Address1: sh.Address, ZipCode: sh.ZipCode}}
		if sh.Name != "" {
			w.Shipping.ShippingName = &gateway.UserName{FullName: sh.Name}
		}
	}
	return w, nil
}
