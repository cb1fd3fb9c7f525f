// Package manifests holds the checks that the shipped deployment artefacts —
// the Dockerfile, the kustomize bases in config/ and the Helm chart in
// charts/cashier-operator — are consistent with the code and are accepted by
// a real kube-apiserver (server-side dry-run apply against envtest).
//
// The tests need KUBEBUILDER_ASSETS (kube-apiserver, etcd and kubectl; `make
// test` points it at hack/control-plane.sh's build) and the pinned helm from
// hack/helm.sh (built on first use, cached in bin/). HELM and KUBECTL override
// the binaries. A missing binary fails the tests; nothing is skipped.
package manifests
