#!/usr/bin/env bash
# Installs what the integration tests need, pinned, on a fresh Debian 12 machine.
# Safe to run repeatedly: each step is skipped when its tool is already at the pinned version.
# With --bench it also builds MinIO (about 2 minutes), which the large-upload benchmarks use
# (ALAYA_TEST_S3_SERVER=minio); the test suite itself needs only versitygw.
set -euo pipefail

VERSITYGW_VERSION=v1.8.0
NATS_SERVER_VERSION=v2.15.2
HELM_VERSION=v3.22.0 # deploy/helm tests: lint and template the chart (about 2 min CPU to build)
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
GOBIN_DIR=${GOBIN:-$(go env GOPATH)/bin}

apt_pkgs=()
command -v /usr/sbin/sshd >/dev/null || apt_pkgs+=(openssh-server openssh-client)
command -v haproxy >/dev/null || apt_pkgs+=(haproxy)
command -v openssl >/dev/null || apt_pkgs+=(openssl)
command -v chromium >/dev/null || apt_pkgs+=(chromium)
command -v ip >/dev/null || apt_pkgs+=(iproute2)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to apt-get install ${apt_pkgs[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
  # Debian enables and starts sshd/haproxy on install where systemd runs; tests start their own.
fi

want() { # want BINARY MODULE@VERSION
  local bin=$1 mod=$2 ver=${2##*@}
  if [ -x "$GOBIN_DIR/$bin" ] && [ "$(cat "$GOBIN_DIR/.$bin.version" 2>/dev/null)" = "$ver" ]; then
    return
  fi
  echo "install-deps: go install $mod" >&2
  GOFLAGS=-buildvcs=false go install "$mod"
  echo "$ver" >"$GOBIN_DIR/.$bin.version"
}
want versitygw "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
want nats-server "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION"
want helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
if [ "${1:-}" = "--bench" ]; then
  want minio "github.com/minio/minio@$MINIO_VERSION"
fi
