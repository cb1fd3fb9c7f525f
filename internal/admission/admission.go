// Package admission installs the operator's in-apiserver admission policies
// (config/admission: the requester and approver recorded from userInfo) into
// a local control plane, for the tests, the demo and the benchmark, and
// waits until the apiserver enforces them.
package admission

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// Install creates the admission policies of dir (config/admission: every
// YAML file but the kustomize ones) with c, an administrator's client, and
// waits until the apiserver enforces them, so that nothing races the
// policies' start.
func Install(c client.Client, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "kustomiz") {
			continue
		}
		if err := createAll(ctx, c, f); err != nil {
			return fmt.Errorf("admission policies %s: %w", f, err)
		}
	}
	return waitEnforced(ctx, c)
}

// createAll creates every object of a multi-document YAML file.
func createAll(ctx context.Context, c client.Client, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := c.Create(ctx, &u); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
}

// waitEnforced waits until a dry-run Refund comes back with its requester
// recorded (the mutating policy runs) and one carrying another requester
// is refused (the validating policy runs).
func waitEnforced(ctx context.Context, c client.Client) error {
	probe := func(requester string) *v1.Refund {
		r := &v1.Refund{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "admission-probe"},
			Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: "probe"}, Amount: v1.Money{Currency: "HKD", Value: "1.00"}}}
		if requester != "" {
			r.Annotations = map[string]string{v1.RequesterAnnotation: requester}
		}
		return r
	}
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		r := probe("")
		if err := c.Create(ctx, r, client.DryRunAll); err != nil {
			return false, nil
		}
		return r.Annotations[v1.RequesterAnnotation] != "", nil
	})
	if err != nil {
		return fmt.Errorf("the mutating admission policy never recorded a requester: %w", err)
	}
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		p := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "admission-probe"},
			Spec: v1.PaymentSpec{GatewayRef: v1.GatewayReference{Name: "probe"}, Amount: v1.Money{Currency: "HKD", Value: "1.00"},
				PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"}, Env: v1.TerminalEnv{TerminalType: "WEB"},
				RedirectURL: "https://probe.example.com/", Cancel: true}}
		if err := c.Create(ctx, p, client.DryRunAll); err != nil {
			return false, nil
		}
		return p.Annotations[v1.CancelRequesterAnnotation] != "", nil
	})
	if err != nil {
		return fmt.Errorf("the mutating admission policy never recorded a cancel requester: %w", err)
	}
	// An Approval in a namespace without a MoneyPolicy is refused once the
	// validating policies run.
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		a := &v1.Approval{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "admission-probe"},
			Spec: v1.ApprovalSpec{TargetRef: v1.ApprovalTarget{Kind: v1.MoneyKindRefund, Name: "probe"}, Requester: "nobody",
				PaymentRef: v1.LocalObjectReference{Name: "probe"}, Amount: v1.Money{Currency: "HKD", Value: "1.00"}}}
		return apierrors.IsInvalid(c.Create(ctx, a, client.DryRunAll)) ||
			apierrors.IsForbidden(c.Create(ctx, a, client.DryRunAll)), nil
	})
	if err != nil {
		return fmt.Errorf("the validating admission policies never refused an Approval without a MoneyPolicy: %w", err)
	}
	return nil
}
