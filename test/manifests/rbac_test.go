package manifests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// access is one question to the apiserver's authorizer: may this
// ServiceAccount do verb on resource (or GET a non-resource path)?
type access struct {
	verb, group, resource, subresource, namespace, name string
	path                                                string // non-resource URL
	allowed                                             bool
	why                                                 string
}

func (a access) String() string {
	if a.path != "" {
		return fmt.Sprintf("%s %s", a.verb, a.path)
	}
	res := a.resource
	if a.group != "" {
		res += "." + a.group
	}
	if a.subresource != "" {
		res += "/" + a.subresource
	}
	where := "cluster-wide"
	if a.namespace != "" {
		where = "in " + a.namespace
	}
	if a.name != "" {
		res += " " + a.name
	}
	return fmt.Sprintf("%s %s %s", a.verb, res, where)
}

const group = "payments.cashier-operator.io"

// TestRBACSubjectAccess applies each rendering's RBAC (chart default and full
// values, kustomize) to the real kube-apiserver and asks its RBAC authorizer,
// with SubjectAccessReviews, what the manager's and the
// notification-receiver's ServiceAccounts may do: what the code needs is
// allowed, the rest denied (Secrets beyond the credentials for the receiver,
// kube-system Secrets with watchNamespaces, GatewayConfig updates, Leases
// outside the manager's leader-election namespace).
func TestRBACSubjectAccess(t *testing.T) {
	e := apiserver(t)
	for _, rr := range renderers {
		t.Run(rr.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			r := rr.render(t)
			c, _ := dryRunClient(t, e)
			ensureNamespaces(ctx, t, c, r)
			applyRBAC(ctx, t, c, r)
			sas := r.serviceAccounts(t)
			checks := map[string][]access{
				sas["manager"]:               managerAccess(t, r),
				sas["notification-receiver"]: receiverAccess(t, r),
			}
			for _, sub := range r.metricsReaderSubjects() {
				checks[sub] = append(checks[sub], access{verb: "get", path: "/metrics", allowed: true, why: "bound to the metrics-reader ClusterRole"})
			}
			checks[sas["notification-receiver"]] = append(checks[sas["notification-receiver"]],
				access{verb: "get", path: "/metrics", why: "only metrics readers scrape"})
			for sa, list := range checks {
				assertAccess(ctx, t, c, sa, list)
			}
		})
	}
}

// applyRBAC creates the rendering's RBAC objects for real (server-side apply)
// and deletes the cluster-scoped ones when the test ends, so renderings do not
// see each other's grants.
func applyRBAC(ctx context.Context, t *testing.T, c client.Client, r rendering) {
	t.Helper()
	n := 0
	for _, o := range r.objs {
		switch o.GetKind() {
		case "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
		default:
			continue
		}
		obj := o.DeepCopy()
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.ForceOwnership, fieldOwner); err != nil {
			t.Fatalf("%s: applying %s: %v", r.name, ref(o), err)
		}
		n++
		t.Cleanup(func() {
			if err := c.Delete(context.Background(), o.DeepCopy()); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("deleting %s: %v", ref(o), err)
			}
		})
	}
	if n < 4 {
		t.Fatalf("%s: only %d RBAC objects rendered", r.name, n)
	}
}

// assertAccess asks every question for sa. The allowed ones are polled until
// the authorizer's informers have seen the new roles (the denials are checked
// after that, so a denial is never just a stale cache).
func assertAccess(ctx context.Context, t *testing.T, c client.Client, sa string, list []access) {
	t.Helper()
	ns, name, _ := strings.Cut(sa, "/")
	ask := func(a access) (bool, string, error) {
		sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
			User:   "system:serviceaccount:" + ns + ":" + name,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		}}
		if a.path != "" {
			sar.Spec.NonResourceAttributes = &authzv1.NonResourceAttributes{Verb: a.verb, Path: a.path}
		} else {
			sar.Spec.ResourceAttributes = &authzv1.ResourceAttributes{Verb: a.verb, Group: a.group,
				Resource: a.resource, Subresource: a.subresource, Namespace: a.namespace, Name: a.name}
		}
		if err := c.Create(ctx, sar); err != nil {
			return false, "", err
		}
		return sar.Status.Allowed, sar.Status.Reason, nil
	}
	for _, a := range list {
		if !a.allowed {
			continue
		}
		var last string
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			ok, reason, err := ask(a)
			last = reason
			return ok, err
		})
		if err != nil {
			t.Errorf("%s may not %s (%s; needed: %s)", sa, a, last, a.why)
		}
	}
	for _, a := range list {
		if a.allowed {
			continue
		}
		ok, reason, err := ask(a)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			t.Errorf("%s may %s (%s); want denied: %s", sa, a, reason, a.why)
		}
	}
}

// installation is what the checks need to know about a rendering.
type installation struct {
	namespace       string
	watch           []string // --watch-namespace of the manager; empty: all
	leaseNamespace  string
	credentials     map[string][]string // namespace -> Secret names the receiver may read
	otherNamespaces []string            // namespaces no grant should reach
}

func describe(t *testing.T, r rendering) installation {
	t.Helper()
	in := installation{namespace: r.namespace, leaseNamespace: r.namespace, credentials: map[string][]string{},
		otherNamespaces: []string{"kube-system", "kube-node-lease", "default"}}
	for _, d := range r.byKind("Deployment") {
		if d.GetLabels()["app.kubernetes.io/component"] != "manager" {
			continue
		}
		for _, c := range containers(podTemplate(d)) {
			for _, arg := range stringSlice(c, "args") {
				if v, ok := strings.CutPrefix(arg, "--watch-namespace="); ok {
					in.watch = strings.Split(v, ",")
				}
				if v, ok := strings.CutPrefix(arg, "--leader-election-namespace="); ok {
					in.leaseNamespace = v
				}
			}
		}
	}
	for _, gw := range r.byKind("GatewayConfig") {
		ns, name := str(gw.Object, "spec", "credentialsSecretRef", "namespace"), str(gw.Object, "spec", "credentialsSecretRef", "name")
		in.credentials[ns] = append(in.credentials[ns], name)
	}
	if len(in.credentials) == 0 {
		// No GatewayConfig rendered (kustomize: the documented default name;
		// chart defaults: none, the receiver reads no Secret at all).
		if name := credentialsNameIn(r); name != "" {
			in.credentials[r.namespace] = []string{name}
		}
	}
	return in
}

// credentialsNameIn returns the first resourceName of the rendering's Role on
// Secrets (kustomize's credentials_role.yaml), or "".
func credentialsNameIn(r rendering) string {
	for _, role := range r.byKind("Role") {
		rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
		for _, rule := range rules {
			if names := stringSlice(rule.(map[string]any), "resourceNames"); len(names) > 0 {
				return names[0]
			}
		}
	}
	return ""
}

func managerAccess(t *testing.T, r rendering) []access {
	in := describe(t, r)
	workNS := "shop"
	if len(in.watch) > 0 {
		workNS = in.watch[0]
	}
	list := []access{
		{verb: "watch", group: group, resource: "payments", namespace: workNS, allowed: true, why: "the cache"},
		{verb: "update", group: group, resource: "payments", namespace: workNS, allowed: true, why: "adding and releasing the finalizer"},
		{verb: "update", group: group, resource: "payments", subresource: "finalizers", namespace: workNS, allowed: true, why: "finalizer"},
		{verb: "list", group: group, resource: "gatewayconfigs", allowed: true, why: "the cache"},
		{verb: "create", group: "events.k8s.io", resource: "events", namespace: workNS, allowed: true, why: "events on objects"},
		{verb: "get", resource: "secrets", namespace: workNS, name: "card-4242", allowed: true, why: "card data and buyer certificates"},
		{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: in.leaseNamespace, allowed: true, why: "leader election"},
		{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: in.leaseNamespace, allowed: true, why: "leader election"},
		{verb: "create", group: "authentication.k8s.io", resource: "tokenreviews", allowed: true, why: "metrics authentication"},
		{verb: "create", group: "authorization.k8s.io", resource: "subjectaccessreviews", allowed: true, why: "metrics authorization"},
		{verb: "update", group: group, resource: "gatewayconfigs", why: "GatewayConfigs belong to the platform team"},
		{verb: "patch", group: group, resource: "gatewayconfigs", why: "GatewayConfigs belong to the platform team"},
		{verb: "update", group: group, resource: "captures", namespace: workNS, why: "operations have no finalizer"},
		{verb: "patch", group: group, resource: "payments", subresource: "status", namespace: workNS, why: "status is written with Update"},
		{verb: "create", group: group, resource: "payments", namespace: workNS, allowed: true, why: "restoring an archived payment (as an Observe import) for a refund that names it"},
		{verb: "delete", group: group, resource: "payments", namespace: workNS, allowed: true, why: "retention deletes what it archived"},
		{verb: "watch", group: group, resource: "paymentrestores", namespace: r.namespace, allowed: true, why: "the receiver's restore requests"},
		{verb: "update", group: group, resource: "paymentrestores", subresource: "status", namespace: r.namespace, allowed: true, why: "the restore's outcome"},
		{verb: "delete", group: group, resource: "paymentrestores", namespace: r.namespace, allowed: true, why: "expiring decided restores"},
		{verb: "create", group: group, resource: "paymentrestores", namespace: r.namespace, why: "only the receiver asks for restores"},
		{verb: "list", resource: "secrets", namespace: workNS, why: "Secrets are read one by one, uncached"},
		{verb: "watch", resource: "secrets", why: "Secrets are read one by one, uncached"},
		{verb: "create", resource: "secrets", namespace: workNS, why: "the operator never writes Secrets"},
	}
	for _, kind := range []string{"payments", "captures", "refunds", "customsdeclarations", "gatewayconfigs"} {
		ns := workNS
		if kind == "gatewayconfigs" {
			ns = ""
		}
		list = append(list, access{verb: "update", group: group, resource: kind, subresource: "status", namespace: ns, allowed: true, why: "status writes"})
	}
	for ns, names := range in.credentials {
		list = append(list, access{verb: "get", resource: "secrets", namespace: ns, name: names[0], allowed: true, why: "the GatewayConfig's credentials"})
	}
	for _, ns := range in.otherNamespaces {
		if ns != in.leaseNamespace {
			list = append(list,
				access{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: ns, why: "Leases only in the leader-election namespace"},
				access{verb: "delete", group: "coordination.k8s.io", resource: "leases", namespace: ns, why: "Leases only in the leader-election namespace"})
		}
		if len(in.watch) > 0 {
			list = append(list, access{verb: "get", resource: "secrets", namespace: ns, name: "x", why: "with watchNamespaces, Secrets only there"})
		}
	}
	return list
}

func receiverAccess(t *testing.T, r rendering) []access {
	in := describe(t, r)
	list := []access{
		{verb: "watch", group: group, resource: "payments", namespace: "shop", allowed: true, why: "the cache"},
		{verb: "list", group: group, resource: "refunds", namespace: "shop", allowed: true, why: "uncached re-reads"},
		{verb: "get", group: group, resource: "gatewayconfigs", name: "gw", allowed: true, why: "the Client-Id lookup"},
		{verb: "update", group: group, resource: "payments", subresource: "status", namespace: "shop", allowed: true, why: "applying notifications"},
		{verb: "update", group: group, resource: "captures", subresource: "status", namespace: "shop", allowed: true, why: "applying notifications"},
		{verb: "update", group: group, resource: "refunds", subresource: "status", namespace: "shop", allowed: true, why: "applying notifications"},
		{verb: "create", group: "events.k8s.io", resource: "events", namespace: "shop", allowed: true, why: "events on objects"},
		{verb: "update", group: group, resource: "gatewayconfigs", name: "gw", why: "redirecting a merchant's endpoint or credentials"},
		{verb: "patch", group: group, resource: "gatewayconfigs", name: "gw", why: "redirecting a merchant's endpoint or credentials"},
		{verb: "update", group: group, resource: "gatewayconfigs", subresource: "status", name: "gw", why: "the manager's job"},
		{verb: "update", group: group, resource: "payments", namespace: "shop", why: "only status is the receiver's"},
		{verb: "delete", group: group, resource: "payments", namespace: "shop", why: "only status is the receiver's"},
		{verb: "update", group: group, resource: "customsdeclarations", subresource: "status", namespace: "shop", why: "no declaration notifications"},
		{verb: "get", resource: "secrets", namespace: "shop", name: "card-4242", why: "card data is the manager's"},
		{verb: "list", resource: "secrets", why: "no listing Secrets"},
		{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: r.namespace, why: "no leader election"},
		{verb: "create", resource: "events", namespace: "shop", why: "events go through events.k8s.io"},
		{verb: "create", group: group, resource: "paymentrestores", namespace: r.namespace, allowed: true, why: "asking for a restore of an archived payment"},
		{verb: "get", group: group, resource: "paymentrestores", namespace: r.namespace, name: "restore-x", allowed: true, why: "reading the restore's outcome on a re-send"},
		{verb: "update", group: group, resource: "paymentrestores", subresource: "status", namespace: r.namespace, why: "the outcome is the manager's"},
		{verb: "delete", group: group, resource: "paymentrestores", namespace: r.namespace, why: "the manager expires restores"},
		{verb: "list", group: group, resource: "paymentrestores", namespace: r.namespace, why: "one restore by name is all it reads"},
		{verb: "create", group: group, resource: "payments", namespace: "shop", why: "restoring is the manager's: the receiver has no archive"},
	}
	for ns, names := range in.credentials {
		for _, n := range names {
			list = append(list, access{verb: "get", resource: "secrets", namespace: ns, name: n, allowed: true, why: "verifying signatures with the gateway public key"})
		}
		list = append(list,
			access{verb: "get", resource: "secrets", namespace: ns, name: "another-secret", why: "credentials only, by name"},
			access{verb: "list", resource: "secrets", namespace: ns, why: "credentials only, by name"},
			access{verb: "update", resource: "secrets", namespace: ns, name: names[0], why: "read only"})
	}
	for _, ns := range in.otherNamespaces {
		list = append(list,
			access{verb: "get", resource: "secrets", namespace: ns, name: "x", why: "no Secrets beyond the credentials"},
			access{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: ns, why: "no leader election"},
			access{verb: "delete", group: "coordination.k8s.io", resource: "leases", namespace: ns, why: "no leader election"})
	}
	return list
}

// metricsReaderSubjects lists namespace/name of the ServiceAccounts bound to
// the metrics-reader ClusterRole.
func (r rendering) metricsReaderSubjects() []string {
	var out []string
	name := r.metricsReader()
	for _, b := range r.byKind("ClusterRoleBinding") {
		if str(b.Object, "roleRef", "name") != name {
			continue
		}
		subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
		for _, s := range subjects {
			sm := s.(map[string]any)
			out = append(out, str(sm, "namespace")+"/"+str(sm, "name"))
		}
	}
	return out
}
