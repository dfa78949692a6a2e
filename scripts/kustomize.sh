#!/usr/bin/env bash
# Builds the Kubernetes tools the deploy tests use, from the Go module proxy, into the project cache, once:
#   kustomize         renders k8s/overlays/* and k8s/jobs/* (test/unit/deploy-k8s.test.ts)
#   grpc_health_probe the readiness probe the images ship; test/unit/deploy-probe.test.ts runs the exact
#                     probe command from the manifests against a real TLS service
# Nothing downloads at test time; the tests skip (saying why) when a binary is missing.
#   scripts/kustomize.sh            build what is missing, print the kustomize path
#   KUSTOMIZE_VERSION=v5.x.y ...    other pinned versions (each binary is cached per version)
#   GRPC_HEALTH_PROBE_VERSION=v0.4.x
set -euo pipefail

KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.8.1}"
# Keep in step with deploy/docker/Dockerfile.* (ARG GRPC_HEALTH_PROBE_VERSION).
GRPC_HEALTH_PROBE_VERSION="${GRPC_HEALTH_PROBE_VERSION:-v0.4.63}"
CACHE="${CXR_SYNTH_CACHE:-$HOME/.cache/cxr-synth}"
BIN_DIR="$CACHE/bin"

# build <binary name> <module path> <version> <name go install produces>
build() {
  local name=$1 module=$2 version=$3 produced=$4
  local target="$BIN_DIR/$name" stamp="$BIN_DIR/.$name-version"
  if [[ -x "$target" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "scripts/kustomize.sh: Go is needed to build $name (apt-get install golang-go, or /usr/local/go/bin on PATH)" >&2
    return 1
  fi
  mkdir -p "$BIN_DIR"
  # Build into a scratch GOBIN, then move into place, so an interrupted build never leaves a half binary.
  # GOTOOLCHAIN=local: use the installed Go rather than fetching the newer toolchain a go.mod may suggest.
  local tmp
  tmp="$(mktemp -d)"
  echo "scripts/kustomize.sh: building $module@$version (a minute or two, once)" >&2
  if ! GOBIN="$tmp" CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -trimpath" go install "$module@$version"; then
    rm -rf "$tmp"
    return 1
  fi
  mv -f "$tmp/$produced" "$target"
  rm -rf "$tmp"
  echo "$version" > "$stamp"
}

build kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION" kustomize
build grpc_health_probe github.com/grpc-ecosystem/grpc-health-probe "$GRPC_HEALTH_PROBE_VERSION" grpc-health-probe
echo "$BIN_DIR/kustomize"
