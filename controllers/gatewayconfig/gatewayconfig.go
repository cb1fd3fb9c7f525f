package gatewayconfig

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// gatewayConfigReconciler checks a GatewayConfig's Secret and endpoint,
// keeps its connection in the registry fresh (a rotated Secret takes effect
// at the next resync), and, as a data source, consults the payment methods
// of its profiles on an interval and publishes them in status.
type gatewayConfigReconciler struct {
	deps *shared.Deps
	// Resync is how often the Secret is re-read (default 5m).
	resync time.Duration
}

const defaultConsultInterval = time.Hour

func (r *gatewayConfigReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var gwc v1.GatewayConfig
	if err := r.deps.Client.Get(ctx, req.NamespacedName, &gwc); err != nil {
		if apierrors.IsNotFound(err) {
			r.deps.Registry.Forget(req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	before := gwc.Status.DeepCopy()
	gen := gwc.Generation
	// A spec the controller has not acted on yet makes every consult
	// profile due now (an edited profile keeps its name).
	specChanged := gwc.Status.ObservedGeneration != gen
	gwc.Status.ObservedGeneration = gen
	requeue := r.resync

	conn, err := r.deps.Registry.Refresh(ctx, &gwc)
	switch {
	case err == nil:
		gwc.Status.ClientID, gwc.Status.KeyVersion, gwc.Status.Credentials = conn.ClientID, conn.KeyVersion, conn.Credentials
		if next := r.consult(ctx, &gwc, conn, specChanged); next < requeue {
			requeue = next
		}
		if rejected := credentialsRejected(&gwc, conn); rejected != nil {
			transition.SetReady(&gwc.Status.Conditions, gen, false, v1.ReasonCredentialsRejected, rejected.Error())
			transition.SetSynced(&gwc.Status.Conditions, gen, rejected, v1.ReasonCredentialsRejected)
			requeue = min(requeue, 30*time.Second)
			break
		}
		transition.SetReady(&gwc.Status.Conditions, gen, true, v1.ReasonAvailable, "credentials parse; payments can use this gateway")
		transition.SetSynced(&gwc.Status.Conditions, gen, nil, "")
	case errors.Is(err, connection.ErrNotReady):
		transition.SetReady(&gwc.Status.Conditions, gen, false, v1.ReasonSecretInvalid, err.Error())
		transition.SetSynced(&gwc.Status.Conditions, gen, err, v1.ReasonSecretInvalid)
		requeue = 30 * time.Second
	default:
		return ctrl.Result{}, err
	}
	if !equality.Semantic.DeepEqual(before, &gwc.Status) {
		if err := r.deps.Client.Status().Update(ctx, &gwc); err != nil {
			if apierrors.IsConflict(err) {
				return ctrl.Result{RequeueAfter: time.Second}, nil
			}
			return ctrl.Result{}, fmt.Errorf("write GatewayConfig status: %w", err)
		}
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// credentialsRejected says, when the gateway's last answer on conn refused
// its credentials, what happened and what to do; nil otherwise.
func credentialsRejected(gwc *v1.GatewayConfig, conn *connection.Connection) error {
	msg := conn.Rejected()
	if msg == "" {
		return nil
	}
	what := "merchant private key (keyVersion " + conn.KeyVersion + ")"
	if conn.Credentials == v1.CredentialAPIKey {
		what = "API key"
	}
	ref := gwc.Spec.CredentialsSecretRef
	return fmt.Errorf("the gateway refuses this GatewayConfig's %s (%s): calls wait and resume with the same ids once Secret %s/%s holds valid credentials",
		what, msg, ref.Namespace, ref.Name)
}

// consult refreshes the profiles that are due (all of them when the spec
// changed) and returns when the next one is.
func (r *gatewayConfigReconciler) consult(ctx context.Context, gwc *v1.GatewayConfig, conn *connection.Connection, specChanged bool) time.Duration {
	interval := defaultConsultInterval
	if gwc.Spec.ConsultInterval != nil && gwc.Spec.ConsultInterval.Duration > 0 {
		interval = gwc.Spec.ConsultInterval.Duration
	}
	now := r.deps.Time()
	results := map[string]v1.ProfilePaymentMethods{}
	for _, res := range gwc.Status.PaymentMethods {
		results[res.Profile] = res
	}
	next := interval
	var out []v1.ProfilePaymentMethods
	for _, prof := range gwc.Spec.ConsultProfiles {
		res, ok := results[prof.Name]
		due := !ok || res.ConsultTime == nil || now.Sub(res.ConsultTime.Time) >= interval || specChanged
		if !due {
			if left := interval - now.Sub(res.ConsultTime.Time); left < next {
				next = left
			}
			out = append(out, res)
			continue
		}
		out = append(out, r.consultProfile(ctx, conn, prof, now))
	}
	gwc.Status.PaymentMethods = out
	return shared.ClampMin(next, time.Second)
}

func (r *gatewayConfigReconciler) consultProfile(ctx context.Context, conn *connection.Connection, prof v1.ConsultProfile, now time.Time) v1.ProfilePaymentMethods {
	res := v1.ProfilePaymentMethods{Profile: prof.Name, ConsultTime: shared.MetaTime(now)}
	amount, err := transition.WireFromMoney(prof.Amount)
	if err != nil {
		res.Error = "amount: " + err.Error()
		return res
	}
	req := &gateway.ConsultRequest{ProductCode: gateway.ProductCodeCashierPayment, PaymentAmount: amount,
		Env: &gateway.Env{TerminalType: prof.TerminalType, OsType: prof.OSType}, UserRegion: prof.UserRegion}
	if prof.SettlementCurrency != "" {
		req.SettlementStrategy = &gateway.SettlementStrategy{SettlementCurrency: prof.SettlementCurrency}
	}
	resp, err := conn.Client.Consult(ctx, req)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	for _, o := range resp.PaymentOptions {
		m := v1.OfferedPaymentMethod{Type: o.PaymentMethodType, Category: o.PaymentMethodCategory, Enabled: bool(o.Enabled),
			DisableReason: o.DisableReason, Currencies: o.SupportedCurrencies}
		if d := o.PaymentOptionDetail; d != nil {
			for _, b := range d.SupportCardBrands {
				m.CardBrands = append(m.CardBrands, b.CardBrand)
			}
		}
		res.Methods = append(res.Methods, m)
	}
	return res
}
