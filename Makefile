# cashier-operator. `make help` lists the targets.
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

BIN            := $(CURDIR)/bin
CONTROLLER_GEN := $(BIN)/controller-gen
GO_TEST_FLAGS  ?= -count=1
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
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC into config/.
	$(CONTROLLER_GEN) crd rbac:roleName=manager-role paths=./... \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: verify-generated
verify-generated: $(CONTROLLER_GEN) ## Fail when committed generated files are stale.
	@hack/verify-generated.sh

.PHONY: fmt
fmt: ## gofmt the tree.
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: build
build: ## Build the binaries into bin/.
	go build -o $(BIN)/ ./cmd/...

.PHONY: control-plane
control-plane: ## Build the pinned kube-apiserver, etcd and kubectl into bin/ (skipped when cached).
	@hack/control-plane.sh >/dev/null

.PHONY: test
test: verify-generated vet ## Run every test, envtest included, against a real kube-apiserver + etcd.
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	@assets="$(KUBEBUILDER_ASSETS)"; [ -n "$$assets" ] || assets="$$(hack/control-plane.sh)"; \
	echo ">> go test with KUBEBUILDER_ASSETS=$$assets"; \
	KUBEBUILDER_ASSETS="$$assets" go test $(GO_TEST_FLAGS) ./...
