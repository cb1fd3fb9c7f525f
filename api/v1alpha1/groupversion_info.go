// Package v1alpha1 holds the cashier-operator API: Payment, Capture, Refund,
// CustomsDeclaration and GatewayConfig in group payments.cashier-operator.io.
//
// +kubebuilder:object:generate=true
// +groupName=payments.cashier-operator.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "payments.cashier-operator.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this API with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this API to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
