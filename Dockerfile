# One image, three binaries:
#   /manager                (the default entrypoint: the controllers)
#   /notification-receiver  (command: ["/notification-receiver"])
#   /alipay-sim             (command: ["/alipay-sim"]; the local gateway simulator)
# Build: docker build -t cashier-operator:latest .
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

FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /out/manager /manager
COPY --from=builder /out/notification-receiver /notification-receiver
COPY --from=builder /out/alipay-sim /alipay-sim
USER 65532:65532
ENTRYPOINT ["/manager"]
