package manifests

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// rendering is one way of installing cashier-operator, rendered to objects.
type rendering struct {
	name string
	// namespace is where the operator is installed.
	namespace string
	objs      []*unstructured.Unstructured
}

type renderer struct {
	name   string
	render func(t *testing.T) rendering
	// serviceMonitor: the rendering holds monitoring.coreos.com objects
	// (ServiceMonitor, PrometheusRule).
	serviceMonitor bool
}

// renderers are the three installations the tests check: the kustomize
// base, the chart with its defaults, and the chart with every option set.
var renderers = []renderer{
	{name: "kustomize config/default", render: func(t *testing.T) rendering {
		out := run(t, kubectl(t), "kustomize", path(t, "config/default"))
		return rendering{name: "kustomize", namespace: "cashier-operator-system", objs: decode(t, "kubectl kustomize config/default", out)}
	}},
	{name: "helm default values", render: func(t *testing.T) rendering {
		return helmTemplate(t, "cashier-operator", "cashier-default")
	}},
	{name: "helm full values", serviceMonitor: true, render: func(t *testing.T) rendering {
		return helmTemplate(t, "payments", "cashier-full", "--values", path(t, chartFullValues))
	}},
}

func helmTemplate(t *testing.T, release, namespace string, extra ...string) rendering {
	t.Helper()
	args := append([]string{"template", release, path(t, chartDir), "--namespace", namespace, "--include-crds"}, extra...)
	out := run(t, helm(t), args...)
	return rendering{name: "helm " + release, namespace: namespace, objs: decode(t, "helm template "+release, out)}
}

func (r rendering) byKind(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range r.objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func (r rendering) find(kind, namespace, name string) *unstructured.Unstructured {
	for _, o := range r.objs {
		if o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
			return o
		}
	}
	return nil
}
