package receiver

// Unexported pieces the tests of package receiver_test table-drive.

// ParseRoute is parseRoute.
var ParseRoute = parseRoute

// RouteAccepts is routeAccepts.
var RouteAccepts = routeAccepts

// Refusal returns the HTTP status and resultCode a refusal reason is
// answered with; ok is false for an unmapped reason.
func Refusal(reason string) (status int, code string, ok bool) {
	r, ok := refusals[reason]
	return r.status, r.code, ok
}

// CheckPaymentIDs is checkPaymentIDs.
var CheckPaymentIDs = checkPaymentIDs

// Worst returns the outcome and status chosen among answers given as
// (status, outcome) pairs.
func Worst(pairs ...any) (int, string) {
	var as []answer
	for i := 0; i+1 < len(pairs); i += 2 {
		as = append(as, answer{status: pairs[i].(int), outcome: pairs[i+1].(string)})
	}
	a := worst(as)
	return a.status, a.outcome
}
