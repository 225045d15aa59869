#!/usr/bin/env bash
# Runs Alaya's whole test suite on a fresh Debian 12 machine, as CI does.
# Installs what the integration tests need (scripts/install-deps.sh), then runs vet, the
# runbook examples through `alaya lint` and `alaya test`, and every Go test. Integration tests
# build their own bastion/target network namespaces, S3 server, NATS, HAProxy and JVM, and
# remove them afterwards. With CI set, a missing prerequisite fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
export PATH="$(go env GOPATH)/bin:$PATH"

echo "== go vet"
go vet ./...

echo "== example runbooks and sources"
go run ./cmd/alaya lint --inventory examples/inventory.yaml --sources examples/sources examples/runbooks
go run ./cmd/alaya test --inventory examples/inventory.yaml examples/runbooks

echo "== go test (race detector on: the worker, queue and executor are concurrent by design)"
go test -race -count=1 -timeout 25m "$@" ./...
