# cashier-operator. `make help` lists the targets.
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

# The approved toolchain: the go command downloads it from the module proxy
# (go1.26.x has reachable standard-library vulnerabilities; see `make vuln`).
export GOTOOLCHAIN := go1.27.3

BIN            := $(CURDIR)/bin
CONTROLLER_GEN := $(BIN)/controller-gen
GO_TEST_FLAGS  ?= -count=1
MODULE         := github.com/cashier-operator/cashier-operator
# Packages that run goroutines are tested with the race detector (and only
# with it: the plain run skips them). The simulator's load test would time
# out under the race detector's slowdown, so it runs on its own without it.
RACE_PKGS      := internal/gateway internal/engine internal/gatewaysim internal/receiver
RACE_SKIP      := -skip '^TestConcurrentLoad$$'
# KUBEBUILDER_ASSETS may point at your own kube-apiserver/etcd; otherwise
# hack/control-plane.sh builds the pinned ones into bin/ (once, ~8 min).
KUBEBUILDER_ASSETS ?=

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN{FS=":.*##"} /^[a-zA-Z_-]+:.*##/{printf "  %-16s %s\n",$$1,$$2}' $(MAKEFILE_LIST)

$(CONTROLLER_GEN): hack/tools/go.mod
	@echo ">> building controller-gen (pinned in hack/tools/go.mod)"
	@cd hack/tools && go build -o $(CONTROLLER_GEN) sigs.k8s.io/controller-tools/cmd/controller-gen

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code for api/.
	$(CONTROLLER_GEN) object paths=./api/...

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and the three ClusterRoles (manager, receiver, secret-reader) into config/.
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=manager-role paths="{./controllers/...,./cmd/manager/...}" \
		output:rbac:artifacts:config=config/rbac
	$(CONTROLLER_GEN) rbac:roleName=notification-receiver-role paths="{./internal/receiver/...,./cmd/notification-receiver/...}" \
		output:rbac:artifacts:config=config/rbac/receiver
	$(CONTROLLER_GEN) rbac:roleName=secret-reader paths=./internal/connection/... \
		output:rbac:artifacts:config=config/rbac/secret-reader

.PHONY: verify-generated
verify-generated: $(CONTROLLER_GEN) ## Fail when committed generated files are stale.
	@hack/verify-generated.sh

.PHONY: fmt
fmt: ## gofmt the tree.
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: funclen
funclen: ## Fail on functions over 80 lines (hack/funclen); hack/funclen-allow.txt lists the ones still to split.
	go run ./hack/funclen -allow hack/funclen-allow.txt

.PHONY: vuln
vuln: ## govulncheck against a database built from the golang.org/x/vulndb module (pinned in hack/vuln.sh).
	@hack/vuln.sh

.PHONY: build
build: ## Build the binaries into bin/.
	go build -o $(BIN)/ ./cmd/...

.PHONY: control-plane
control-plane: ## Build the pinned kube-apiserver, etcd and kubectl into bin/ (skipped when cached).
	@hack/control-plane.sh >/dev/null

.PHONY: demo
demo: build ## Run the whole system locally on the embedded defaults and show payments flow.
	@assets="$(KUBEBUILDER_ASSETS)"; [ -n "$$assets" ] || assets="$$(hack/control-plane.sh)"; \
	KUBEBUILDER_ASSETS="$$assets" go run ./hack/demo

.PHONY: dev
dev: build ## Like demo, but leave the system running (prints KUBECONFIG); Ctrl-C stops it. DEV_FLAGS=--retain-for=1m adds a local PostgreSQL archive and retention.
	@assets="$(KUBEBUILDER_ASSETS)"; [ -n "$$assets" ] || assets="$$(hack/control-plane.sh)"; \
	go build -o $(BIN)/demo ./hack/demo && \
	KUBEBUILDER_ASSETS="$$assets" exec $(BIN)/demo --keep $(DEV_FLAGS)

.PHONY: bench
bench: build ## Benchmarks: Go micro-benchmarks, then N payments through the whole local system (BENCH_FLAGS=-n 10000).
	@assets="$(KUBEBUILDER_ASSETS)"; [ -n "$$assets" ] || assets="$$(hack/control-plane.sh)"; \
	KUBEBUILDER_ASSETS="$$assets" go test -run '^$$' -bench . -benchmem ./internal/... && \
	KUBEBUILDER_ASSETS="$$assets" go run ./hack/bench $(BENCH_FLAGS)

.PHONY: test-chaos
test-chaos: build ## The full chaos suite (faults, SIGKILLs, an apiserver restart); make test runs a smaller profile.
	@assets="$(KUBEBUILDER_ASSETS)"; [ -n "$$assets" ] || assets="$$(hack/control-plane.sh)"; \
	KUBEBUILDER_ASSETS="$$assets" CHAOS_PROFILE=full go test -count=1 -timeout 60m -v -run . ./test/chaos/...

.PHONY: test
test: verify-generated vet funclen ## Run every test, envtest included, against a real kube-apiserver + etcd.
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	@assets="$(KUBEBUILDER_ASSETS)"; [ -n "$$assets" ] || assets="$$(hack/control-plane.sh)"; \
	echo ">> go test with KUBEBUILDER_ASSETS=$$assets"; \
	KUBEBUILDER_ASSETS="$$assets" go test $(GO_TEST_FLAGS) $$(go list ./... | grep -v -x -F $(addprefix -e $(MODULE)/,$(RACE_PKGS))) && \
	echo ">> go test -race $(RACE_PKGS) (the packages that run goroutines)" && \
	KUBEBUILDER_ASSETS="$$assets" go test -race $(GO_TEST_FLAGS) $(RACE_SKIP) $(addprefix ./,$(RACE_PKGS)) && \
	go test $(GO_TEST_FLAGS) -run '^TestConcurrentLoad$$' ./internal/gatewaysim

##@ Packaging: Dockerfile, config/ (kustomize), charts/cashier-operator (Helm)

IMG ?= cashier-operator:latest
SIM_IMG ?= alipay-sim:latest

.PHONY: helm
helm: ## Build the pinned helm CLI into bin/ (skipped when cached; first build ~1.5 min).
	@hack/helm.sh >/dev/null

.PHONY: chart-crds
chart-crds: ## Copy the CRDs and the ClusterRole rules from config/ into the Helm chart (a test fails when they drift).
	@rm -f charts/cashier-operator/crds/*.yaml
	cp config/crd/bases/*.yaml charts/cashier-operator/crds/
	cp config/rbac/role.yaml charts/cashier-operator/files/manager-role.yaml
	cp config/rbac/receiver/role.yaml charts/cashier-operator/files/receiver-role.yaml
	cp config/rbac/secret-reader/role.yaml charts/cashier-operator/files/secret-reader-role.yaml

.PHONY: chart-lint
chart-lint: helm ## helm lint the chart with its default and its full values.
	@h="$$(hack/helm.sh 2>/dev/null)"; \
	"$$h" lint --strict charts/cashier-operator && \
	"$$h" lint --strict charts/cashier-operator --values charts/cashier-operator/ci/full-values.yaml

.PHONY: chart-template
chart-template: helm ## Render the chart with its default values to stdout.
	@"$$(hack/helm.sh 2>/dev/null)" template cashier-operator charts/cashier-operator --namespace cashier-operator-system

.PHONY: kustomize-build
kustomize-build: ## Render config/default (CRDs, RBAC, manager, receiver) to stdout.
	@assets="$(KUBEBUILDER_ASSETS)"; [ -n "$$assets" ] || assets="$$(hack/control-plane.sh)"; \
	"$$assets/kubectl" kustomize config/default

.PHONY: docker-build
docker-build: ## Build the production image (manager, notification-receiver) as $(IMG), and alipay-sim as $(SIM_IMG).
	docker build -t $(IMG) .
	docker build --target simulator -t $(SIM_IMG) .

# `make test` builds the pinned helm before `go test` (test/manifests uses it),
# so a first build shows its progress here instead of inside a silent go test.
test: helm
