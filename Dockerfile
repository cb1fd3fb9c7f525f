# Two images from one build:
#   default target (production): /manager (the entrypoint) and
#     /notification-receiver (command: ["/notification-receiver"]); no simulator
#   --target simulator: /alipay-sim, the local gateway simulator (demos, tests)
# Build: docker build -t cashier-operator:latest .
#        docker build --target simulator -t alipay-sim:latest .
# Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 .

# The Go version must satisfy go.mod's go directive (a test checks the minor version).
FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS=linux
ARG TARGETARCH
# The approved toolchain: the image's go fetches it from the module proxy.
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
# Dependencies first, so they stay cached while the source changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w" -o /out/ \
      ./cmd/manager ./cmd/notification-receiver ./cmd/alipay-sim

# The simulator alone: it holds no payment keys of a real merchant and has no
# place in the production image.
FROM gcr.io/distroless/static:nonroot AS simulator
WORKDIR /
COPY --from=builder /out/alipay-sim /alipay-sim
USER 65532:65532
ENTRYPOINT ["/alipay-sim"]

# Production (the last stage, so the default target).
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /out/manager /manager
COPY --from=builder /out/notification-receiver /notification-receiver
USER 65532:65532
ENTRYPOINT ["/manager"]
