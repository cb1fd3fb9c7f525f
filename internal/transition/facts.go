package transition

import (
	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// The functions below turn gateway messages into facts. Controllers (API
// responses) and the receiver (notifications) use the same ones.

// FromPayResponse reads a pay response. The caller has classified the
// result: S means the payment is done (paid, or authorized for cards),
// PAYMENT_IN_PROCESS means the user must act.
func FromPayResponse(r *gateway.PayResponse) PaymentFacts {
	f := PaymentFacts{Source: SourcePay, Result: &r.Result, PaymentRequestID: r.PaymentRequestID, PaymentID: r.PaymentID,
		Amount: r.PaymentAmount, CreateTime: r.PaymentCreateTime, PaymentTime: r.PaymentTime, AuthExpiryTime: r.AuthExpiryTime,
		UserAction: userAction(r), Card: card(r.PaymentResultInfo)}
	if r.Result.ResultStatus == gateway.StatusSuccess {
		f.GatewayStatus = gateway.PaymentStatusSuccess
	}
	return f
}

func userAction(r *gateway.PayResponse) *v1.UserAction {
	switch {
	case r.OrderCodeForm != nil && len(r.OrderCodeForm.CodeDetails) > 0:
		ua := &v1.UserAction{Type: "OrderCode"}
		for _, c := range r.OrderCodeForm.CodeDetails {
			ua.OrderCodes = append(ua.OrderCodes, c.CodeValue)
		}
		return ua
	case r.ChallengeActionForm != nil:
		return &v1.UserAction{Type: "Challenge", ChallengeType: r.ChallengeActionForm.ChallengeType}
	case r.RedirectActionForm != nil:
		return &v1.UserAction{Type: "Redirect", URL: r.RedirectActionForm.RedirectURL, Method: r.RedirectActionForm.Method,
			Parameters: r.RedirectActionForm.Parameters, SchemeURL: r.SchemeURL, ApplinkURL: r.ApplinkURL}
	case r.NormalURL != "":
		return &v1.UserAction{Type: "Redirect", URL: r.NormalURL, Method: "GET", SchemeURL: r.SchemeURL, ApplinkURL: r.ApplinkURL}
	}
	return nil
}

func card(c *gateway.CardInfo) *v1.CardSummary {
	if c == nil || (c.CardNo == "" && c.CardBrand == "") {
		return nil
	}
	return &v1.CardSummary{MaskedNumber: c.CardNo, Brand: c.CardBrand, Funding: c.Funding, IssuingCountry: c.IssuingCountry}
}

// FromInquiryPayment reads an inquiryPayment response whose query succeeded,
// including the running totals from transactions[].
func FromInquiryPayment(r *gateway.InquiryPaymentResponse) PaymentFacts {
	f := PaymentFacts{Source: SourceInquiry, GatewayStatus: r.PaymentStatus, PaymentRequestID: r.PaymentRequestID,
		PaymentID: r.PaymentID, Amount: r.PaymentAmount, CreateTime: r.PaymentCreateTime, PaymentTime: r.PaymentTime,
		AuthExpiryTime: r.AuthExpiryTime, Card: card(r.CardInfo)}
	// customsDeclarationAmount is what may be declared (the payment in CNY),
	// not what was declared: the declared total follows the succeeded
	// CustomsDeclaration objects instead.
	if r.PaymentResultCode != "" {
		res := gateway.NewResult(r.PaymentResultCode)
		if r.PaymentResultMessage != "" {
			res.ResultMessage = r.PaymentResultMessage
		}
		f.Result = &res
	}
	f.Captured = sumTransactions(r.Transactions, gateway.TransactionCapture)
	f.Refunded = sumTransactions(r.Transactions, gateway.TransactionRefund)
	return f
}

// sumTransactions totals the succeeded transactions of one type; nil when there are none.
func sumTransactions(txs []gateway.Transaction, typ string) *gateway.Amount {
	var total money.Amount
	found := false
	for _, t := range txs {
		if t.TransactionType != typ || t.TransactionStatus != gateway.PaymentStatusSuccess || t.TransactionAmount == nil {
			continue
		}
		a, err := money.ParseMinor(t.TransactionAmount.Currency, t.TransactionAmount.Value)
		if err != nil {
			continue
		}
		if !found {
			total, found = a, true
			continue
		}
		if s, err := total.Add(a); err == nil {
			total = s
		}
	}
	if !found {
		return nil
	}
	w := gateway.Amount{Currency: total.Currency(), Value: total.MinorString()}
	return &w
}

// FromNotifyPayment reads a verified notifyPayment. PAYMENT_PENDING means
// the user paid and the final state follows.
func FromNotifyPayment(n *gateway.NotifyPayment) PaymentFacts {
	f := PaymentFacts{Source: SourceNotification, Result: &n.Result, PaymentRequestID: n.PaymentRequestID, PaymentID: n.PaymentID,
		Amount: n.PaymentAmount, CreateTime: n.PaymentCreateTime, PaymentTime: n.PaymentTime, AuthExpiryTime: n.AuthExpiryTime,
		Card: card(n.PaymentResultInfo)}
	switch {
	case n.NotifyType == gateway.NotifyTypePaymentPending:
		f.GatewayStatus = gateway.PaymentStatusPending
	case n.Result.ResultStatus == gateway.StatusSuccess:
		f.GatewayStatus = gateway.PaymentStatusSuccess
	case n.Result.ResultStatus == gateway.StatusFail:
		f.GatewayStatus = gateway.PaymentStatusFail
	}
	return f
}

// resultPhase maps an operation call's result to a phase: S succeeded, F
// failed, *_IN_PROCESS processing; other U codes imply nothing.
func resultPhase(r gateway.Result) v1.OperationPhase {
	switch r.ResultStatus {
	case gateway.StatusSuccess:
		return v1.OperationSucceeded
	case gateway.StatusFail:
		return v1.OperationFailed
	}
	switch r.ResultCode {
	case gateway.CodeCaptureInProcess, gateway.CodeRefundInProcess, gateway.CodePaymentInProcess:
		return v1.OperationProcessing
	}
	return ""
}

// FromCaptureResponse reads a capture response.
func FromCaptureResponse(r *gateway.CaptureResponse) OperationFacts {
	return OperationFacts{Source: SourceCapture, Phase: resultPhase(r.Result), Result: &r.Result, RequestID: r.CaptureRequestID,
		PaymentID: r.PaymentID, GatewayID: r.CaptureID, Amount: r.CaptureAmount, CompletionTime: r.CaptureTime}
}

// FromNotifyCapture reads a verified notifyCapture.
func FromNotifyCapture(n *gateway.NotifyCapture) OperationFacts {
	return OperationFacts{Source: SourceNotification, Phase: resultPhase(n.Result), Result: &n.Result, RequestID: n.CaptureRequestID,
		PaymentID: n.PaymentID, GatewayID: n.CaptureID, Amount: n.CaptureAmount, CompletionTime: n.CaptureTime}
}

// FromCaptureTransaction reads the CAPTURE transaction of an inquiryPayment.
func FromCaptureTransaction(paymentID string, t gateway.Transaction) OperationFacts {
	f := OperationFacts{Source: SourceInquiry, RequestID: t.TransactionRequestID, PaymentID: paymentID, GatewayID: t.TransactionID,
		Amount: t.TransactionAmount, CompletionTime: t.TransactionTime, Result: t.TransactionResult}
	switch t.TransactionStatus {
	case gateway.PaymentStatusSuccess:
		f.Phase = v1.OperationSucceeded
	case gateway.PaymentStatusFail:
		f.Phase = v1.OperationFailed
	case gateway.PaymentStatusProcessing:
		f.Phase = v1.OperationProcessing
	}
	return f
}

// FromRefundResponse reads a refund response. S means the refund is accepted
// and, for synchronous refunds, done.
func FromRefundResponse(r *gateway.RefundResponse) OperationFacts {
	return OperationFacts{Source: SourceRefund, Phase: resultPhase(r.Result), Result: &r.Result, RequestID: r.RefundRequestID,
		PaymentID: r.PaymentID, GatewayID: r.RefundID, Amount: r.RefundAmount, CompletionTime: r.RefundTime}
}

// refundPhase maps refundStatus to a phase.
func refundPhase(s string) v1.OperationPhase {
	switch s {
	case gateway.RefundStatusSuccess:
		return v1.OperationSucceeded
	case gateway.RefundStatusFail:
		return v1.OperationFailed
	case gateway.RefundStatusProcessing:
		return v1.OperationProcessing
	}
	return ""
}

// FromInquiryRefund reads an inquiryRefund response whose query succeeded.
func FromInquiryRefund(r *gateway.InquiryRefundResponse) OperationFacts {
	return OperationFacts{Source: SourceInquiry, Phase: refundPhase(r.RefundStatus), RequestID: r.RefundRequestID,
		GatewayID: r.RefundID, Amount: r.RefundAmount, CompletionTime: r.RefundTime}
}

// FromNotifyRefund reads a verified notifyRefund (it carries no paymentId).
func FromNotifyRefund(n *gateway.NotifyRefund) OperationFacts {
	return OperationFacts{Source: SourceNotification, Phase: refundPhase(n.RefundStatus), Result: &n.Result,
		RequestID: n.RefundRequestID, GatewayID: n.RefundID, Amount: n.RefundAmount, CompletionTime: n.RefundTime}
}

// FromDeclarationRecord reads one record of inquiryDeclarationRequests.
func FromDeclarationRecord(r gateway.DeclarationRecord) OperationFacts {
	f := OperationFacts{Source: SourceInquiry, RequestID: r.DeclarationRequestID, GatewayID: r.CustomsPaymentID,
		Amount: r.DeclarationAmount, CompletionTime: r.CustomsDeclarationReturnTime}
	switch r.DeclarationRequestStatus {
	case gateway.DeclarationSuccess:
		f.Phase = v1.OperationSucceeded
	case gateway.DeclarationFail:
		f.Phase = v1.OperationFailed
		res := gateway.Result{ResultCode: r.CustomsDeclarationResultCode, ResultStatus: gateway.StatusFail, ResultMessage: r.CustomsDeclarationResultDesc}
		f.Result = &res
	case gateway.DeclarationWaiting, gateway.DeclarationProcessing:
		f.Phase = v1.OperationProcessing
	}
	return f
}
