#!/usr/bin/env bash
# Builds the kustomize CLI from the Go module proxy into the project cache, once.
# kustomize renders k8s/overlays/* in test/unit/deploy-k8s.test.ts; nothing downloads at test time.
#   scripts/kustomize.sh          build if missing, print the binary's path
#   KUSTOMIZE_VERSION=v5.x.y ...   another pinned version (the cached binary is per version)
set -euo pipefail

KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.8.1}"
CACHE="${CXR_SYNTH_CACHE:-$HOME/.cache/cxr-synth}"
BIN_DIR="$CACHE/bin"
TARGET="$BIN_DIR/kustomize"
STAMP="$BIN_DIR/.kustomize-version"

if [[ -x "$TARGET" && -f "$STAMP" && "$(cat "$STAMP")" == "$KUSTOMIZE_VERSION" ]]; then
  echo "$TARGET"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "scripts/kustomize.sh: Go is needed to build kustomize (apt-get install golang-go, or /usr/local/go/bin on PATH)" >&2
  exit 1
fi

mkdir -p "$BIN_DIR"
# Build into a scratch GOBIN, then move into place, so an interrupted build never leaves a half binary.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "scripts/kustomize.sh: building sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION (a few minutes, once)" >&2
GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
  go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
mv -f "$tmp/kustomize" "$TARGET"
echo "$KUSTOMIZE_VERSION" > "$STAMP"
"$TARGET" version >&2 || true
echo "$TARGET"
