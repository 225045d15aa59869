# Alaya's container image: alaya-receiver (the default command), alaya-worker and alaya.
# Static binaries on distroless/static: CA certificates, a non-root user (65532), no shell.
#
#   docker build -t alaya .
#   docker run --rm alaya alaya-worker -version
#
# Without a daemon, `go run ./deploy/image/build -o alaya-oci` writes the equivalent image (same
# files, same user, same command) as an OCI layout, reproducibly; CI builds and inspects that one.
# The Go version below must match go.mod's (deploy/image tests check it).
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# No -ldflags: with .git in the build context the toolchain records version and commit, which
# -version prints. A context without .git can pass them in with --build-arg.
ARG VERSION=""
ARG COMMIT=""
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-X github.com/alaya-sre/alaya/internal/version.Version=${VERSION} -X github.com/alaya-sre/alaya/internal/version.Commit=${COMMIT}" \
      -o /out/ ./cmd/receiver ./cmd/worker ./cmd/alaya \
 && mv /out/receiver /out/alaya-receiver && mv /out/worker /out/alaya-worker

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/alaya-receiver /out/alaya-worker /out/alaya /usr/local/bin/
USER 65532:65532
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
EXPOSE 8080 9090
CMD ["/usr/local/bin/alaya-receiver"]
